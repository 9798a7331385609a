"""Sources for a discovery plan (`watch --function`, `tail --function`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from records.aws_options import AwsOptions
from records.decode import DEFAULT_CORRELATOR, Correlator
from records.discovery import Plan, bucket_name
from records.files import SessionWriter
from records.sources.base import Mode, Source, SourceEvent, SourceStatus
from records.sources.bucket import BucketPoller
from records.sources.eventbridge import DEFAULT_PATTERN, EventBridgeTap
from records.sources.sns import SnsTap
from records.sources.sqs import QueueMode, SqsQueueSource

__all__ = ["NotWatched", "SourceSettings", "function_pattern", "sources_for_plan"]

_NOUN = {"sqs": "queue", "sns": "topic", "events": "bus", "s3": "bucket", "lambda": "function", "kafka": "kafka"}


def function_pattern(function_arns: Sequence[str]) -> dict[str, Any]:
    """The EventBridge pattern of Lambda destination events (source lambda or aws.lambda, Lambda's
    two detail-types) of these functions only: their events name the function's qualified ARN in
    `resources`, so it matches ARNs starting with one of `function_arns` (unqualified) and a colon."""
    pattern = dict(DEFAULT_PATTERN)
    pattern["resources"] = [{"prefix": f"{arn}:"} for arn in function_arns]
    return pattern


def _name(text: str) -> str:
    """The last part of a queue/topic/bus name, URL or ARN (what two spellings of it share)."""
    return text.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]


class NotWatched:
    """A route that cannot be watched, as a source labelled `label`: it yields one SourceStatus
    "done" with the `reason`, and ends."""

    def __init__(self, label: str, reason: str) -> None:
        self.label = label
        self.mode: Mode = "peek"
        self.reason = reason

    async def __aiter__(self) -> AsyncIterator[SourceEvent]:
        yield SourceStatus(self.label, self.mode, "done", self.reason)

    async def aclose(self) -> None:
        return None


def _not_watched(plan: Plan) -> list[Source]:
    sources: list[Source] = []
    seen: set[str] = set()
    for route in plan.problems:
        target = route.destination or route.function
        if target in seen:
            continue
        seen.add(target)
        noun = _NOUN.get(route.destination_type or "", "function")
        label = f"{noun}:{_name(route.destination)}" if route.destination else f"function:{route.function}"
        why = f"not watched: {route.problem}"
        if route.destination:
            why += f" ({route.function} {route.route} destination)"
        sources.append(NotWatched(label, why))
    return sources


@dataclass(frozen=True, slots=True)
class SourceSettings:
    """How every queue, topic and bus source of one command is built: one place for the keyword
    lists (`tail`/`watch` arguments and discovery plans both build through it).

    `aws`, `session`, `correlator`, `wait_time` and `visibility_timeout` go to every queue and tap;
    `mode`, `pollers` and `allow_redrive_peek` to queues; `raw_delivery` to topics."""

    aws: AwsOptions
    session: SessionWriter | None = None
    correlator: Correlator = DEFAULT_CORRELATOR
    mode: QueueMode = "peek"
    pollers: int = 2
    visibility_timeout: int = 30
    wait_time: int = 20
    allow_redrive_peek: bool = False
    raw_delivery: bool = False

    def queue(self, queue: str) -> SqsQueueSource:
        """A source for `queue` (a name, URL or ARN)."""
        return SqsQueueSource(
            queue,
            mode=self.mode,
            pollers=self.pollers,
            visibility_timeout=self.visibility_timeout,
            allow_redrive_peek=self.allow_redrive_peek,
            session=self.session,
            aws=self.aws,
            wait_time=self.wait_time,
            correlator=self.correlator,
        )

    def topic(self, topic: str) -> SnsTap:
        """A tap on `topic` (a name or ARN)."""
        return SnsTap(
            topic,
            raw_delivery=self.raw_delivery,
            session=self.session,
            aws=self.aws,
            wait_time=self.wait_time,
            visibility_timeout=self.visibility_timeout,
            correlator=self.correlator,
        )

    def bus(self, bus: str, pattern: str | Mapping[str, Any] | None) -> EventBridgeTap:
        """A tap on `bus` with `pattern` (None: the tap's default, Lambda destination events)."""
        return EventBridgeTap(
            bus,
            pattern=pattern,
            session=self.session,
            aws=self.aws,
            wait_time=self.wait_time,
            visibility_timeout=self.visibility_timeout,
            correlator=self.correlator,
        )


def sources_for_plan(plan: Plan, settings: SourceSettings, given: Collection[str] = ()) -> list[Source]:
    """The sources that watch what `plan` found, built with `settings`.

    Queues are peeked (or consumed, when the settings say so), topics tapped, buses tapped with
    `function_pattern` of the functions sending there (only their destination events), S3 failure
    buckets polled under `aws/lambda/async/<function>/` (and the mappings' `aws/lambda/<uuid>/<shard>/`
    when a stream-failure route goes there); then each route with a problem becomes a
    `NotWatched` source (one per destination, or per function without one). `given`:
    queues/topics/buses already named on the command line (names, URLs or ARNs), which are not
    added twice."""
    taken = {_name(item) for item in given}
    sources: list[Source] = [settings.queue(queue) for queue in plan.queues() if _name(queue) not in taken]
    sources += [settings.topic(topic) for topic in plan.topics() if _name(topic) not in taken]
    sources += [
        settings.bus(bus.rsplit("/", 1)[-1], function_pattern(plan.senders(bus)))
        for bus in plan.buses()
        if _name(bus) not in taken
    ]
    streamed = {bucket_name(r.destination) for r in plan.routes if r.route == "stream-failure" and r.destination}
    for bucket, functions in plan.buckets().items():
        name = bucket_name(bucket)
        sources.append(BucketPoller(name, functions, settings.aws, mappings=name in streamed))
    return sources + _not_watched(plan)
