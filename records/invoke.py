"""Asynchronous invocations (test orders, re-drive) and following one invocation's flow.

Test orders (`generate_order`, `PRESETS`), an asynchronous invoke (`invoke_event`), the
destinations a function's records reach (`discover_destinations`, or `flow_plan`
from a discovery plan already made), and following one invocation's
flow (`follow_flow`) as `FlowEvent`s.

A record belongs to the flow when its own request id, or that of a record nested in its request
payload (Lambda destinations nest records), is the invocation's request id. Records only arrive at
queues, topics and buses, and nothing flows on from there, so the first one that belongs to the flow
ends it: the flow succeeded when that record and every record nested in it succeeded.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
import uuid
from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from botocore.exceptions import BotoCoreError, ClientError

from records.aws_options import AwsOptions
from records.decode import Decoded, decode
from records.discovery import DiscoveryError, Plan, discover, split_function
from records.message import Message
from records.models import AsyncInvocationRecord
from records.rules import nested_records
from records.sources.base import FactsBatch, Source, SourceStatus
from records.sources.bucket import BucketPoller
from records.store.rows import FlowStatus, Stage, flow_status

__all__ = [
    "ORDER_KINDS",
    "PRESETS",
    "BucketPoller",
    "FlowEnd",
    "FlowEvent",
    "FlowInvoked",
    "FlowPlan",
    "FlowRecord",
    "InvokeError",
    "chain",
    "chain_stages",
    "discover_destinations",
    "follow_flow",
    "generate_order",
    "invoke_event",
]

log = logging.getLogger(__name__)

OrderKind = Literal["good", "out-of-stock", "declined"]
ORDER_KINDS: tuple[OrderKind, ...] = ("good", "out-of-stock", "declined")
"""The kinds of test order; `PRESETS` holds a sample order of each."""
DECLINED_CARD = "4000000000000002"
GOOD_CARDS = ("4242424242424242", "5555555555554444", "4000056655665556")
SKUS = tuple(f"SKU-{n}" for n in range(1, 21))
OUT_OF_STOCK_QTY = 500  # more than the order system ever stocks (100 a SKU)
_MIX: tuple[tuple[OrderKind, float], ...] = (("good", 0.8), ("out-of-stock", 0.1), ("declined", 0.1))


def generate_order(kind: OrderKind | None = None, rng: random.Random | None = None) -> dict[str, Any]:
    """A test order `{"orderId", "customerId", "items": [{"sku", "qty"}], "card"}`.

    `kind` None picks one: mostly good (80 %), some out of stock, some declined. Good orders take
    1-3 items of 1-2 each, so the sandbox's stock lasts for hundreds of orders.
    """
    rng = rng or random.Random()
    if kind is None:
        kind = rng.choices([k for k, _ in _MIX], weights=[w for _, w in _MIX])[0]
    if kind not in ORDER_KINDS:
        raise ValueError(f"unknown order kind {kind!r}: use one of {', '.join(ORDER_KINDS)}")
    skus = rng.sample(SKUS, rng.randint(1, 3))
    items = [{"sku": sku, "qty": rng.randint(1, 2)} for sku in skus]
    if kind == "out-of-stock":
        items[0]["qty"] = OUT_OF_STOCK_QTY + rng.randint(0, 99)
    order_id = f"ord-{uuid.UUID(int=rng.getrandbits(128), version=4).hex[:12]}"
    return {
        "orderId": order_id,
        "customerId": f"cust-{rng.randint(1, 999):03d}",
        "items": items,
        "card": DECLINED_CARD if kind == "declined" else rng.choice(GOOD_CARDS),
    }


PRESETS: Mapping[OrderKind, dict[str, Any]] = {
    "good": {
        "orderId": "ord-good-0001",
        "customerId": "cust-042",
        "items": [{"sku": "SKU-3", "qty": 1}, {"sku": "SKU-7", "qty": 2}],
        "card": "4242424242424242",
    },
    "out-of-stock": {
        "orderId": "ord-oos-0001",
        "customerId": "cust-042",
        "items": [{"sku": "SKU-5", "qty": OUT_OF_STOCK_QTY}],
        "card": "4242424242424242",
    },
    "declined": {
        "orderId": "ord-declined-0001",
        "customerId": "cust-042",
        "items": [{"sku": "SKU-1", "qty": 1}],
        "card": DECLINED_CARD,
    },
}


class InvokeError(RuntimeError):
    """The invocation was refused (unknown function, no permission, bad payload): a sentence."""


def _client_error(exc: ClientError | BotoCoreError, function: str) -> InvokeError:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return InvokeError(f"invoking {function} failed: {error.get('Code', 'Error')}: {error.get('Message', '')}")
    return InvokeError(f"invoking {function} failed: {exc}")


async def invoke_event(function: str, payload: Any, aws: AwsOptions) -> str:
    """Invoke `function` asynchronously (InvocationType Event) and return the request id."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    try:
        async with aws.session().create_client("lambda", **aws.client_kwargs()) as client:
            response = await client.invoke(FunctionName=function, InvocationType="Event", Payload=body)
    except (ClientError, BotoCoreError) as exc:
        raise _client_error(exc, function) from exc
    status = response.get("StatusCode")
    if status != 202:
        raise InvokeError(f"invoking {function} answered {status}, not 202 Accepted")
    request_id = response.get("ResponseMetadata", {}).get("RequestId")
    if not request_id:
        raise InvokeError(f"invoking {function} returned no request id")
    return str(request_id)


# -- where the flow goes ---------------------------------------------------------------------------


@dataclass
class FlowPlan:
    """The destinations of `function`, following Lambda destinations downstream."""

    function: str
    functions: list[str] = field(default_factory=list)  # the functions the flow can pass through
    queues: list[str] = field(default_factory=list)  # ARNs
    topics: list[str] = field(default_factory=list)
    buses: list[str] = field(default_factory=list)
    buckets: dict[str, list[str]] = field(default_factory=dict)  # S3 (failure only): bucket -> functions
    problems: list[str] = field(default_factory=list)  # sentences: no config, FIFO, unsupported...

    @property
    def watchable(self) -> bool:
        return bool(self.queues or self.topics or self.buses or self.buckets)


async def discover_destinations(function: str, aws: AwsOptions) -> FlowPlan:
    """Where an async invocation of `function` leaves records: `records.discovery` (the one place
    that reads destinations), limited to the OnSuccess/OnFailure routes a flow passes through."""
    try:
        found = await discover([function], aws)
    except DiscoveryError as exc:
        raise InvokeError(f"reading the destinations of {function} failed: {exc}") from exc
    return flow_plan(function, found)


def flow_plan(function: str, found: Plan) -> FlowPlan:
    """The FlowPlan of a discovery plan: its on-success/on-failure routes; problems as sentences."""
    routes = [route for route in found.routes if route.route in ("on-success", "on-failure", None)]
    flow = Plan(routes, list(found.notes), dict(found.function_arns))
    plan = FlowPlan(
        split_function(function)[0],
        functions=list(found.function_arns),
        queues=flow.queues(),
        topics=flow.topics(),
        buses=flow.buses(),
        buckets=flow.buckets(),
    )
    for route in flow.problems:
        where = f"{route.function}'s {route.route} destination {route.destination}" if route.destination else ""
        plan.problems.append(f"{where}: {route.problem}" if where else str(route.problem))
    plan.problems.extend(found.notes)
    return plan


# -- following it ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FlowRecord:
    """A record of the followed invocation's flow, as it arrived (`nested`: found inside another)."""

    decoded: Decoded
    source: str  # where it arrived, e.g. "queue:order-failures"; "(nested)" for records inside it
    nested: bool = False


@dataclass(frozen=True)
class FlowInvoked:
    """The invocation was accepted (the taps were live before it)."""

    request_id: str


@dataclass(frozen=True)
class FlowEnd:
    """The flow ended: "succeeded" or "failed" (its last record and every one nested in it), or
    "timeout" with a diagnosis of where no record arrived."""

    outcome: Literal["succeeded", "failed", "timeout"]
    request_id: str | None
    diagnosis: str | None = None
    status: FlowStatus | None = None  # the UI's word for the flow (records.store.rows.flow_status)

    @property
    def words(self) -> str:
        """What to say: "flow completed", "flow rolled back", "flow failed", "flow timeout: ..."."""
        note = f"flow {self.status or self.outcome}"
        return note + (f": {self.diagnosis}" if self.diagnosis else "")


FlowEvent = FlowInvoked | FlowRecord | FlowEnd


def chain(record: AsyncInvocationRecord) -> list[tuple[AsyncInvocationRecord, dict[str, Any] | None]]:
    """The record and every record nested in its request payload (with the nested JSON), innermost
    (the first function's) first."""
    links: list[tuple[AsyncInvocationRecord, dict[str, Any] | None]] = [(record, None)]
    for upstream in nested_records(record.request_payload):
        try:
            inner = AsyncInvocationRecord.model_validate(upstream)
        except ValueError:
            break
        links.append((inner, upstream))
    return list(reversed(links))


def chain_stages(links: list[AsyncInvocationRecord]) -> tuple[Stage, ...]:
    """The flow stages of a chain (innermost first), for `flow_status`: each link handled the one
    before it (a Lambda destination), so the UI and `invoke --wait` use the same words."""
    stages: list[Stage] = []
    parent: str | None = None
    for link in links:
        error_type, _ = link.error_type_and_message()
        stages.append(
            Stage(
                function_name=link.function_name,
                request_id=link.request_id,
                parent_request_id=parent,
                state="succeeded" if link.succeeded else "failed",
                condition=link.condition,
                attempts=link.approximate_invoke_count,
                timestamp=link.timestamp.timestamp(),
                error_type=error_type,
                row=None,
                nested=True,
            )
        )
        parent = link.request_id
    return tuple(stages)


def _sources(plan: FlowPlan, aws: AwsOptions) -> list[Source]:
    from records.sources.eventbridge import EventBridgeTap
    from records.sources.sns import SnsTap
    from records.sources.sqs import SqsQueueSource

    sources: list[Source] = []
    for queue in plan.queues:
        sources.append(SqsQueueSource(queue, mode="peek", aws=aws, pollers=1, wait_time=1, visibility_timeout=5))
    for topic in plan.topics:
        sources.append(SnsTap(topic, aws=aws, wait_time=1, sweep=False))
    for bus in plan.buses:
        sources.append(EventBridgeTap(bus, aws=aws, wait_time=1, sweep=False))
    for bucket, functions in plan.buckets.items():
        sources.append(BucketPoller(bucket, functions, aws))
    return sources


async def _pump(source: Source, out: asyncio.Queue[Message | SourceStatus]) -> None:
    async for event in source:
        if isinstance(event, FactsBatch):  # only a replay asked for facts sends these
            raise TypeError("follow_flow needs a source of messages, not of facts")
        await out.put(event)


async def follow_flow(
    function: str,
    payload: Any,
    aws: AwsOptions,
    wait: float,
    plan: FlowPlan | None = None,
) -> AsyncGenerator[FlowEvent, None]:
    """Invoke `function` and yield the records of its flow as they arrive, then one FlowEnd.

    Taps the plan's topics and buses, peeks its queues and polls its S3 failure buckets
    (BucketPoller) before invoking; yields FlowInvoked (the request id), a FlowRecord for each
    record of this invocation's flow, then a FlowEnd.
    """
    deadline = time.monotonic() + wait
    plan = plan or await discover_destinations(function, aws)
    if not plan.watchable:
        request_id = await invoke_event(function, payload, aws)
        yield FlowInvoked(request_id)
        why = "; ".join(plan.problems) or f"{function}'s destinations cannot be watched"
        yield FlowEnd("timeout", request_id, f"nothing to wait for: {why}")
        return
    sources = _sources(plan, aws)
    events: asyncio.Queue[Message | SourceStatus] = asyncio.Queue()
    tasks = [asyncio.create_task(_pump(source, events)) for source in sources]
    failed: dict[str, str] = {}
    try:
        # Taps must be live before the invocation, or its records would pass them by.
        pending = {source.label for source in sources}
        early: list[Message] = []
        while pending and time.monotonic() < deadline:
            try:
                event = await asyncio.wait_for(events.get(), max(0.01, deadline - time.monotonic()))
            except TimeoutError:
                break
            if isinstance(event, Message):
                early.append(event)
            elif event.state in ("live", "failed", "done"):
                pending.discard(event.source)
                if event.state == "failed":
                    failed[event.source] = event.reason or "failed"
        request_id = await invoke_event(function, payload, aws)
        yield FlowInvoked(request_id)
        for message in early:
            await events.put(message)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                event = await asyncio.wait_for(events.get(), remaining)
            except TimeoutError:
                break
            if isinstance(event, SourceStatus):
                if event.state == "failed":
                    failed[event.source] = event.reason or "failed"
                continue
            for decoded in event.decoded:
                record = decoded.record
                if not isinstance(record, AsyncInvocationRecord):
                    continue
                links = chain(record)
                if all(link.request_id != request_id for link, _ in links):
                    continue
                for _, raw in links[:-1]:
                    yield FlowRecord(decode(raw)[0], event.source, nested=True)
                yield FlowRecord(decoded, event.source)
                succeeded = all(link.succeeded for link, _ in links)
                status = flow_status(chain_stages([link for link, _ in links]))
                yield FlowEnd("succeeded" if succeeded else "failed", request_id, status=status)
                return
        yield FlowEnd("timeout", request_id, _diagnose(plan, wait, failed))
    finally:
        for source in sources:
            try:
                await source.aclose()
            except Exception as exc:  # clean-up trouble must not hide the outcome
                log.warning("closing %s failed: %s", source.label, exc)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


def _diagnose(plan: FlowPlan, wait: float, failed: Mapping[str, str]) -> str:
    watched = [f"queue {_last(arn)}" for arn in plan.queues] + [f"topic {_last(arn)}" for arn in plan.topics]
    watched += [f"bus {_last(arn)}" for arn in plan.buses] + [f"bucket {name}" for name in plan.buckets]
    parts = [f"no record of this invocation arrived at {', '.join(watched)} within {wait:g} s"]
    parts += [f"{label}: {reason}" for label, reason in failed.items()]
    parts += plan.problems
    return "; ".join(parts)


def _last(arn: str) -> str:
    return arn.rsplit(":", 1)[-1].removeprefix("event-bus/")
