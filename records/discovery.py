"""Where a function's records go: the plan of its destinations (no UI, no argparse).

A function the caller may not read, or one that does not exist, is a route with a problem, not an
error. Throttling is retried by botocore's standard retry mode; `concurrency` bounds the calls in
flight.
"""

from __future__ import annotations

import asyncio
import dataclasses
import fnmatch
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
)

from records.aws_options import AwsOptions
from records.aws_reads import DiscoveryError, Reader, fatal, problem

__all__ = [
    "DestinationType",
    "DiscoveryError",
    "Plan",
    "Route",
    "RouteKind",
    "Watch",
    "bucket_name",
    "destination_type",
    "discover",
    "function_routes",
    "is_glob",
    "short_name",
    "split_function",
]

RouteKind = Literal["on-success", "on-failure", "dead-letter", "stream-failure"]
DestinationType = Literal["sqs", "sns", "events", "lambda", "s3", "kafka"]
Watch = Literal["peek", "tap", "bucket", "follow", "none"]

WATCH: dict[str, Watch] = {"sqs": "peek", "sns": "tap", "events": "tap", "lambda": "follow", "s3": "bucket"}
GLOB_CHARS = frozenset("*?[")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Route:
    """One place records go: `function` (its name), `qualifier`, `route` (the kind: on-success,
    on-failure, dead-letter, stream-failure), `destination` (an ARN), `destination_type`, `via`
    (the function whose Lambda destination led here), `watch` (how it can be watched) and `problem`
    (a sentence, None when the destination can be watched). A function that cannot be read, or has
    no destination, is a route with a problem and no destination. These are the fields of
    `lambdest-tui destinations --format jsonl`."""

    function: str
    qualifier: str | None
    route: RouteKind | None
    destination: str | None
    destination_type: DestinationType | None
    via: str | None = None
    watch: Watch = "none"
    problem: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The fields as a dict (a line of `--format jsonl`)."""
        return dataclasses.asdict(self)


@dataclass
class Plan:
    """What `discover` found: `routes`, `notes` (sentences that are not routes, e.g. a qualifier with
    no OnFailure destination), `function_arns` (every function read -> its unqualified ARN), and
    what to watch: `queues()`, `topics()`, `buses()`, `buckets()`, `problems`."""

    routes: list[Route] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # e.g. "f ($LATEST) has no OnFailure destination: ..."
    function_arns: dict[str, str] = field(default_factory=dict)  # every function read -> unqualified ARN

    @property
    def problems(self) -> list[Route]:
        """The routes with a problem."""
        return [route for route in self.routes if route.problem is not None]

    def _watched(self, watch: Watch) -> list[Route]:
        return [route for route in self.routes if route.watch == watch and route.problem is None]

    def _unique(self, watch: Watch, kind: DestinationType) -> list[str]:
        found: dict[str, None] = {}
        for route in self._watched(watch):
            if route.destination_type == kind and route.destination:
                found[route.destination] = None
        return list(found)

    def dead_letter_queues(self) -> dict[str, str]:
        """Dead-letter queue or topic ARN -> the function it is the dead-letter queue of (the UI
        shows their messages as that function's)."""
        return {r.destination: r.function for r in self.routes if r.route == "dead-letter" and r.destination}

    def queues(self) -> list[str]:
        """The SQS queue ARNs to peek at (routes without a problem), each once, in order."""
        return self._unique("peek", "sqs")

    def topics(self) -> list[str]:
        """The SNS topic ARNs to tap (routes without a problem), each once, in order."""
        return self._unique("tap", "sns")

    def buses(self) -> list[str]:
        """The EventBridge bus ARNs to tap (routes without a problem), each once, in order."""
        return self._unique("tap", "events")

    def buckets(self) -> dict[str, list[str]]:
        """Bucket name -> the functions whose failure records land there."""
        found: dict[str, list[str]] = {}
        for route in self._watched("bucket"):
            if route.destination:
                functions = found.setdefault(bucket_name(route.destination), [])
                if route.function not in functions:
                    functions.append(route.function)
        return found

    def senders(self, destination: str) -> list[str]:
        """The unqualified ARNs of the functions whose records go to `destination`."""
        names = dict.fromkeys(r.function for r in self.routes if r.destination == destination)
        return [self.function_arns[name] for name in names if name in self.function_arns]

    @property
    def watchable(self) -> bool:
        """Whether there is anything to watch (a queue, topic, bus or bucket)."""
        return bool(self.queues() or self.topics() or self.buses() or self.buckets())


def is_glob(text: str) -> bool:
    """Whether `text` is a shell-style pattern (holds `*`, `?` or `[`)."""
    return any(char in GLOB_CHARS for char in text)


def split_function(text: str) -> tuple[str, str | None]:
    """`name`, `name:qualifier`, `arn:...:function:name[:qualifier]` -> (name, qualifier or None)."""
    if text.startswith("arn:"):
        parts = text.split(":")
        name = parts[6] if len(parts) > 6 else text
        return name, parts[7] if len(parts) > 7 else None
    name, _, qualifier = text.partition(":")
    return name, qualifier or None


def bucket_name(arn: str) -> str:
    """The bucket's name in an S3 ARN (`arn:aws:s3:::bucket/prefix` -> `bucket`)."""
    return arn.rsplit(":", 1)[-1].split("/", 1)[0]


def destination_type(arn: str) -> DestinationType | None:
    """The service an ARN names (sqs, sns, events, lambda, s3; kafka for `kafka://`), None when
    it is not one Lambda delivers to."""
    if arn.startswith("kafka://"):
        return "kafka"
    service = arn.split(":")[2] if arn.startswith("arn:") and arn.count(":") >= 5 else ""
    return service if service in ("sqs", "sns", "events", "lambda", "s3") else None  # type: ignore[return-value]


async def _all(awaitables: Sequence[Awaitable[T]]) -> list[T]:
    """Like gather, but every one finishes before the first error is raised: nothing is left
    running against clients about to close, and no exception goes unretrieved."""
    results = await asyncio.gather(*awaitables, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results  # type: ignore[return-value]


async def _configuration(reader: Reader, name: str) -> dict[str, Any] | str:
    """The function's configuration, or a sentence saying why it cannot be read."""
    if name not in reader.configs:
        try:
            reader.configs[name] = await reader.call("lambda", "get_function_configuration", FunctionName=name)
        except (ClientError, BotoCoreError) as exc:
            reader.configs[name] = problem(exc, f"function {name}")
    return reader.configs[name]


async def _check(reader: Reader, arn: str, kind: DestinationType) -> str | None:
    """None when the destination exists and can be watched; otherwise the problem."""
    parts = arn.split(":")
    resource = ":".join(parts[5:]) if len(parts) > 5 else ""
    if kind in ("sqs", "sns") and resource.endswith(".fifo"):
        noun = "queue" if kind == "sqs" else "topic"
        return f"FIFO: Lambda does not deliver records to a FIFO {noun}, so nothing arrives"
    try:
        if kind == "sqs":
            owner = {"QueueOwnerAWSAccountId": parts[4]} if parts[4] else {}
            await reader.call("sqs", "get_queue_url", QueueName=resource, **owner)
        elif kind == "sns":
            await reader.call("sns", "get_topic_attributes", TopicArn=arn)
        elif kind == "events":
            await reader.call("events", "describe_event_bus", Name=arn)
        elif kind == "s3":
            await reader.call("s3", "head_bucket", Bucket=bucket_name(arn))
        elif kind == "lambda":
            config = await _configuration(reader, split_function(arn)[0])
            return config if isinstance(config, str) else None
        else:
            return "a Kafka topic cannot be watched by lambdest-tui"
    except (ClientError, BotoCoreError) as exc:
        noun = {"sqs": "queue", "sns": "topic", "events": "event bus", "s3": "bucket"}[kind]
        return problem(exc, f"{noun} {arn}")
    return None


async def _route(
    reader: Reader, function: str, qualifier: str | None, route: RouteKind, arn: str, via: str | None
) -> Route:
    kind = destination_type(arn)
    if kind is None:
        return Route(function, qualifier, route, arn, None, via, "none", f"{arn} is not a service Lambda delivers to")
    found = await reader.once(arn, lambda: _check(reader, arn, kind))
    return Route(function, qualifier, route, arn, kind, via, "none" if found else WATCH.get(kind, "none"), found)


def _qualifier(function_arn: str) -> str:
    parts = function_arn.split(":")
    return parts[7] if len(parts) > 7 else "$LATEST"


async def function_routes(
    reader: Reader, name: str, only: str | None, config: dict[str, Any], via: str | None, explicit: bool
) -> tuple[list[Route], list[str]]:
    """Every route of one function (its qualifier `only`, when given) and notes about it: the
    destinations of every qualifier's event-invoke config (ListFunctionEventInvokeConfigs), its
    dead-letter queue (DeadLetterConfig in `config`, its configuration) and its event source
    mappings' on-failure destinations, each checked once per `reader`. `via`: the function whose
    destination led here. A function named `explicit`ly that has none of these gets a route with
    a problem. Lambda destinations are not followed here (`discover` does that)."""
    routes: list[Route] = []
    notes: list[str] = []
    pending: list[Awaitable[Route]] = []
    try:
        configs = await reader.pages(
            "list_function_event_invoke_configs", "FunctionEventInvokeConfigs", FunctionName=name
        )
        mappings = await reader.pages("list_event_source_mappings", "EventSourceMappings", FunctionName=name)
    except (ClientError, BotoCoreError) as exc:
        return [Route(name, only, None, None, None, via, "none", problem(exc, f"the destinations of {name}"))], []
    for item in configs:
        qualifier = _qualifier(str(item.get("FunctionArn", "")))
        if only is not None and qualifier != only:
            continue
        destinations = item.get("DestinationConfig") or {}
        for key, kind in (("OnSuccess", "on-success"), ("OnFailure", "on-failure")):
            arn = (destinations.get(key) or {}).get("Destination")
            if arn:
                pending.append(_route(reader, name, qualifier, kind, str(arn), via))  # type: ignore[arg-type]
            else:
                notes.append(f"{name} ({qualifier}) has no {key} destination: such records go nowhere")
    dead_letter = (config.get("DeadLetterConfig") or {}).get("TargetArn")
    if dead_letter and only in (None, str(config.get("Version", "$LATEST"))):
        pending.append(_route(reader, name, str(config.get("Version", "$LATEST")), "dead-letter", dead_letter, via))
    for mapping in mappings:
        arn = ((mapping.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
        if arn:
            qualifier = _qualifier(str(mapping.get("FunctionArn", "")))
            pending.append(_route(reader, name, qualifier, "stream-failure", str(arn), via))
    routes.extend(await _all(pending))
    if not routes and explicit:
        nowhere = (
            f"{name} has no event-invoke config with destinations, no dead-letter queue and no stream failure "
            "destination: its records go nowhere (aws lambda put-function-event-invoke-config)"
        )
        routes.append(Route(name, only, None, None, None, via, "none", nowhere))
    return routes, notes


async def _list_functions(reader: Reader) -> dict[str, dict[str, Any]]:
    functions = await reader.pages("list_functions", "Functions")
    return {str(item["FunctionName"]): item for item in functions}


async def _select(
    reader: Reader, specs: Sequence[str], plan: Plan
) -> list[tuple[str, str | None, dict[str, Any], bool]]:
    """(name, qualifier, configuration, named explicitly) of each function asked for, in order."""
    listing = await _list_functions(reader) if not specs or any(is_glob(spec) for spec in specs) else {}
    reader.configs.update(listing)
    chosen: dict[str, tuple[str, str | None, bool]] = {}
    if not specs:
        chosen = {name: (name, None, False) for name in listing}
    for spec in specs:
        if is_glob(spec):
            matched = [name for name in listing if fnmatch.fnmatchcase(name, spec)]
            if not matched:
                plan.routes.append(
                    Route(spec, None, None, None, None, None, "none", f"no function in the region matches {spec!r}")
                )
            for name in matched:
                chosen.setdefault(name, (name, None, False))
        else:
            name, qualifier = split_function(spec)
            chosen[name] = (name, qualifier, True)
    found: list[tuple[str, str | None, dict[str, Any], bool]] = []
    configs = await _all([_configuration(reader, name) for name in chosen])
    for (name, qualifier, explicit), config in zip(chosen.values(), configs, strict=True):
        if isinstance(config, str):
            plan.routes.append(Route(name, qualifier, None, None, None, None, "none", config))
        else:
            found.append((name, qualifier, config, explicit))
    return found


async def discover(
    functions: Sequence[str],
    aws: AwsOptions,
    *,
    concurrency: int = 16,
    follow: bool = True,
    clients: Mapping[str, Any] | None = None,
    session: Any = None,
) -> Plan:
    """The plan of every place the functions' records go.

    `functions`: names, `name:qualifier`, ARNs or shell-style globs (`order*`, fnmatch); empty
    means every function in the region. Reads, for each function, its routes (`function_routes`);
    with `follow`, follows Lambda destinations downstream (`Route.via` names the function whose
    destination led there; a function already read is not read again, so a cycle stops) and checks
    that each destination exists and can be read. `concurrency` bounds the calls in flight.
    `clients`: clients already made, by service name (the caller closes them; tests stub them);
    `session`: an aiobotocore session to share (its loaded service models are reused), else a new
    one. Raises DiscoveryError (a sentence) when nothing can be read at all (no region, no
    credentials, no endpoint)."""
    plan = Plan()
    try:
        reader = Reader(aws, concurrency, clients, session)
        async with reader.stack:
            try:
                await _read(reader, functions, plan, follow)
            finally:
                await reader.settle()  # before the clients close
    except (ClientError, BotoCoreError) as exc:
        raise fatal(exc, aws) or DiscoveryError(f"reading the functions failed: {exc}") from exc
    return plan


async def _read(reader: Reader, functions: Sequence[str], plan: Plan, follow: bool) -> None:
    """Fill `plan`: the functions asked for, then, wave by wave, those their Lambda destinations reach."""
    wave = await _select(reader, functions, plan)
    seen = {name for name, *_ in wave}
    via: dict[str, str | None] = dict.fromkeys(seen)
    while wave:
        results = await _all(
            [function_routes(reader, name, q, config, via[name], explicit) for name, q, config, explicit in wave]
        )
        downstream: list[tuple[str, str | None, dict[str, Any], bool]] = []
        for (name, _, config, _), (routes, notes) in zip(wave, results, strict=True):
            plan.function_arns[name] = str(config.get("FunctionArn", name)).split(":$", 1)[0]
            plan.routes.extend(routes)
            plan.notes.extend(notes)
            for route in routes:
                if not follow or route.watch != "follow" or route.destination is None:
                    continue
                target, qualifier = split_function(route.destination)
                target_config = reader.configs.get(target)
                if target in seen or not isinstance(target_config, dict):
                    continue
                seen.add(target)
                via[target] = name
                downstream.append((target, qualifier or "$LATEST", target_config, False))
        wave = downstream


def short_name(arn: str | None) -> str:
    """The readable end of an ARN: a queue, topic, bus, bucket or function name (with its qualifier)."""
    if not arn:
        return "-"
    if not arn.startswith("arn:"):
        return arn
    parts = arn.split(":")
    if len(parts) > 6 and parts[2] == "lambda":
        return ":".join(parts[6:])
    return parts[-1].removeprefix("event-bus/")
