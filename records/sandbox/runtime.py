"""Lambda's asynchronous invocation semantics, run in-process on the sandbox's event loop.

Each function has its own event queue and a few workers. An event is tried once, then retried up
to MaximumRetryAttempts (0-2, default 2) times after AWS's back-off (about 1 and 2 minutes) scaled by
the time factor; an event whose next retry could not start within MaximumEventAgeInSeconds (also
scaled) ends at once with condition EventAgeExceeded (as does one found too old when dequeued).
Each outcome becomes an execution record in AWS's shape, handed to the `deliver` callback with
the destination ARN the function's event-invoke config names.

Handlers run in worker processes, a pool per function (`handler_process.py`): a handler past its
timeout is killed and reported as `Sandbox.Timedout`, an exit or crash as `Runtime.ExitError`. A
function whose reserved concurrency is reached throttles: a synchronous invoke gets 429, an async
event goes back to the queue with AWS's throttle back-off (1 s doubling to 5 min, scaled by the time
factor; not counted against MaximumRetryAttempts, bounded by MaximumEventAgeInSeconds). With
`duplicates` > 0 an accepted event is, with that probability, delivered twice with the same request id,
as Lambda's at-least-once async queue may.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from records.sandbox import qualifiers, recursion
from records.sandbox.handler_process import Call, Environment, WorkerPool
from records.sandbox.stack import FunctionSpec, Stack

if TYPE_CHECKING:
    from records.sandbox.metrics import Metrics

log = logging.getLogger(__name__)

DEFAULT_RETRIES = 2
DEFAULT_EVENT_AGE = 21600
BACKOFF_SECONDS = (60.0, 120.0)  # AWS's delays before the first and the second retry
# A throttled event's back-off: "The retry interval increases exponentially from 1 second after the
# first attempt to a maximum of 5 minutes" (AWS Lambda Developer Guide, "How Lambda handles errors and
# retries with asynchronous invocation").
THROTTLE_BACKOFF = (1.0, 300.0)
DEFAULT_TIME_FACTOR = 1 / 60  # so the back-offs take ~1 s and ~2 s

Deliver = Callable[[str, dict[str, Any], "Function"], Awaitable[None]]
# Sends a discarded event to the function's dead-letter queue (dead_letter.py): (function, event, condition)
DeadLetter = Callable[["Function", "PendingEvent", str], Awaitable[None]]


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(slots=True)
class EventInvokeConfig:
    """A function's FunctionEventInvokeConfig (None fields: not set, Lambda's defaults apply)."""

    maximum_retry_attempts: int | None = None
    maximum_event_age: int | None = None
    on_success: str | None = None
    on_failure: str | None = None
    last_modified: float = field(default_factory=time.time)

    def to_api(self, function_arn: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "LastModified": self.last_modified,
            "FunctionArn": function_arn,
            "DestinationConfig": {
                "OnSuccess": {"Destination": self.on_success} if self.on_success else {},
                "OnFailure": {"Destination": self.on_failure} if self.on_failure else {},
            },
        }
        if self.maximum_retry_attempts is not None:
            body["MaximumRetryAttempts"] = self.maximum_retry_attempts
        if self.maximum_event_age is not None:
            body["MaximumEventAgeInSeconds"] = self.maximum_event_age
        return body


@dataclass(slots=True)
class Function:
    spec: FunctionSpec
    arn: str  # unqualified
    config: EventInvokeConfig | None = None
    recursive_loop: str | None = None  # set by PutFunctionRecursionConfig (recursion.py)
    dead_letter: str | None = None  # DeadLetterConfig.TargetArn (function_config.py, dead_letter.py)
    last_modified: str = field(
        default_factory=lambda: datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"
    )
    # Versions and aliases (qualifiers.py): a function invoked through `name:qualifier` is a view
    # of it with `qualifier` set, the version that runs and that version's configuration.
    qualifier: str | None = None  # the version number or alias invoked; None: unqualified
    version: str = qualifiers.LATEST  # the version that runs
    description: str = qualifiers.DESCRIPTION
    published: qualifiers.Qualifiers[FunctionSpec, EventInvokeConfig] = field(
        default_factory=qualifiers.Qualifiers
    )  # its versions, aliases and their configs: shared by its views

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def qualified_arn(self) -> str:
        """The ARN records name: `...:function:order:$LATEST` unqualified, else with the qualifier
        invoked (`...:order:1`, `...:order:live`)."""
        return f"{self.arn}:{self.qualifier or qualifiers.LATEST}"

    def at(self, qualifier: str | None) -> Function | None:
        """The function as invoked through a version or alias (itself for none or "$LATEST"):
        that version's configuration and `qualifier`'s event-invoke config. None: no such qualifier."""
        if qualifier is None or qualifier == qualifiers.LATEST:
            return self
        found = qualifiers.resolve(self.published, qualifier)
        if found is None:
            return None
        version, published = found
        view = dataclasses.replace(
            self, config=self.published.configs.get(qualifier), qualifier=qualifier, version=version
        )
        if published is not None:  # reserved concurrency is the function's, not the version's
            view.spec = dataclasses.replace(published.spec, reserved_concurrency=self.spec.reserved_concurrency)
            view.description, view.last_modified = published.description, published.last_modified
        return view

    @property
    def retries(self) -> int:
        value = self.config.maximum_retry_attempts if self.config else None
        return DEFAULT_RETRIES if value is None else value

    @property
    def event_age(self) -> int:
        value = self.config.maximum_event_age if self.config else None
        return DEFAULT_EVENT_AGE if value is None else value


@dataclass(slots=True)
class Outcome:
    """One run of a handler: the response payload and, on error, Lambda's functionError."""

    payload: Any
    function_error: str | None = None
    status_code: int = 200

    @property
    def ok(self) -> bool:
        return self.function_error is None

    def body(self) -> bytes:
        return json.dumps(self.payload).encode()


@dataclass(slots=True)
class PendingEvent:
    request_id: str
    payload: Any
    enqueued: float  # monotonic
    attempts: int = 0
    last: Outcome | None = None
    lineage: recursion.Lineage = ()  # the chain of requests it belongs to (recursion.py)
    qualifier: str | None = None  # the version or alias invoked (qualifiers.py)
    throttles: int = 0  # times throttled (reserved concurrency reached); sets the next back-off
    body: str | None = None  # the event as it was sent (the dead-letter message's body), when known


@dataclass(slots=True)
class RuntimeStats:
    accepted: int = 0
    attempts: int = 0
    retries: int = 0
    succeeded: int = 0
    failed: int = 0
    records: int = 0
    throttles: int = 0  # async events and sync invokes refused because reserved concurrency was reached
    duplicates: int = 0  # events delivered a second time (`duplicates`)


def make_record(function: Function, event: PendingEvent, condition: str) -> dict[str, Any]:
    """An execution record exactly as Lambda shapes it."""
    record: dict[str, Any] = {
        "version": "1.0",
        "timestamp": now_iso(),
        "requestContext": {
            "requestId": event.request_id,
            "functionArn": function.qualified_arn,
            "condition": condition,
            "approximateInvokeCount": event.attempts,
        },
        "requestPayload": event.payload,
    }
    if event.last is not None:
        context: dict[str, Any] = {"statusCode": event.last.status_code, "executedVersion": function.version}
        if event.last.function_error is not None:
            context["functionError"] = event.last.function_error
        record["responseContext"] = context
        record["responsePayload"] = event.last.payload
    return record


class Runtime:
    """Runs the stack's functions with Lambda's async semantics on the current event loop."""

    def __init__(
        self,
        stack: Stack,
        deliver: Deliver,
        time_factor: float = DEFAULT_TIME_FACTOR,
        concurrency: int = 8,
        duplicates: float = 0.0,
        rng: random.Random | None = None,
    ) -> None:
        """Handlers run in worker processes, which import them by reference (`Sandbox` imports them
        once at construction, so a broken stack fails early). `duplicates`: the probability (0-1)
        that an accepted event is delivered twice; `rng` draws it."""
        if not 0.0 <= duplicates <= 1.0:
            raise ValueError("duplicates must be between 0 and 1")
        self.stack = stack
        self.time_factor = time_factor
        self.concurrency = concurrency
        self.duplicates = duplicates
        self._rng = rng or random.Random()
        self.stats = RuntimeStats()
        self.metrics: Metrics | None = None  # CloudWatch's counts (metrics.py), set by the sandbox
        self.dead_letter: DeadLetter | None = None  # dead_letter.py's sender, set by the sandbox
        self._deliver = deliver
        self.functions: dict[str, Function] = {}
        self.pools: dict[str, WorkerPool] = {}
        for spec in stack.functions:
            config = None
            if spec.has_event_invoke_config:
                config = EventInvokeConfig(
                    spec.maximum_retry_attempts, spec.maximum_event_age, spec.on_success, spec.on_failure
                )
            self.functions[spec.name] = Function(
                spec, stack.function_arn(spec.name), config, dead_letter=spec.dead_letter
            )
            qualifiers.set_up(self.functions[spec.name].published, spec, spec.versions, spec.aliases)
            reserved = spec.reserved_concurrency
            environment = Environment(spec.name, spec.handler, stack.base_dir, stack.region)
            self.pools[spec.name] = WorkerPool(environment, min(concurrency, reserved) if reserved else concurrency)
        self._queues: dict[str, asyncio.Queue[PendingEvent]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._timers: set[asyncio.TimerHandle] = set()
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def count(self, function: Function, metric: str, value: float = 1.0) -> None:
        """Count a CloudWatch metric of the function (see metrics.py), when metrics are published."""
        if self.metrics is not None:
            self.metrics.count(function.name, metric, value)

    def function(self, name_or_arn: str) -> Function | None:
        """Look a function up by name, name:qualifier, or (partial) ARN; with a qualifier, the
        function as invoked through that version or alias (None when it has no such one)."""
        name, qualifier = qualifiers.split_name(name_or_arn)
        function = self.functions.get(name)
        return function.at(qualifier) if function is not None else None

    def set_worker_env(self, env: dict[str, str]) -> None:
        """Variables every worker process starts with (the sandbox's endpoint and dummy credentials,
        so a handler's own AWS calls reach the sandbox)."""
        for pool in self.pools.values():
            pool.environment.env = dict(env)

    def throttled(self, function: Function) -> bool:
        """Whether the function's reserved concurrency is reached (every slot busy; always at 0)."""
        reserved = function.spec.reserved_concurrency
        return reserved is not None and self.pools[function.name].busy >= reserved

    def throttle(self, function: Function) -> None:
        """Count a throttle (CloudWatch's Throttles and the stats)."""
        self.count(function, "Throttles")
        self.stats.throttles += 1

    async def start(self) -> None:
        for function in self.functions.values():
            queue: asyncio.Queue[PendingEvent] = asyncio.Queue()
            self._queues[function.name] = queue
            # As many pollers as the pool has room for; with reserved concurrency below that, the
            # extra events are throttled (and retried) rather than left waiting in the queue.
            for n in range(self.concurrency):
                self._tasks.append(asyncio.create_task(self._worker(function, queue), name=f"{function.name}-{n}"))

    async def stop(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        await asyncio.gather(*(pool.close() for pool in self.pools.values()), return_exceptions=True)

    async def idle(self) -> None:
        """Wait until every accepted event has reached its final outcome and was delivered."""
        await self._idle.wait()

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def enqueue(
        self,
        function: Function,
        payload: Any,
        request_id: str | None = None,
        *,
        lineage: recursion.Lineage = (),
        body: str | None = None,
    ) -> str:
        """Accept an asynchronous invocation (InvocationType Event); returns its request id.
        `lineage`: the chain of requests the invocation belongs to (recursion.py); `body`: the
        event's JSON text as sent (what a dead-letter queue gets back)."""
        event = PendingEvent(
            request_id or str(uuid.uuid4()),
            payload,
            time.monotonic(),
            lineage=lineage,
            qualifier=function.qualifier,
            body=body,
        )
        self.stats.accepted += 1
        self.count(function, "AsyncEventsReceived")
        self._in_flight += 1
        self._idle.clear()
        self._queues[function.name].put_nowait(event)
        if self.duplicates and self._rng.random() < self.duplicates:
            # Lambda's async queue delivers at least once: the same event (same request id) again.
            self.stats.duplicates += 1
            self._in_flight += 1
            self._queues[function.name].put_nowait(dataclasses.replace(event))  # its chain, qualifier, body
        return event.request_id

    async def run_once(
        self,
        function: Function,
        payload: Any,
        request_id: str,
        *,
        trace_header: str | None = None,
        client_context: dict[str, Any] | None = None,
    ) -> Outcome:
        """One run of the handler with its timeout (RequestResponse, and each async attempt), in a
        worker process of the function's pool; waits for a free process when all are busy (callers
        check `throttled` first where reserved concurrency applies). `trace_header`: the
        _X_AMZN_TRACE_ID the handler sees (a fresh one when None); `client_context`: the decoded
        X-Amz-Client-Context of a synchronous invoke."""
        pool = self.pools[function.name]
        waiter = pool.take()
        if waiter is not None:
            try:
                await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():
                    pool.give_back()
                raise
        # The ARN invoked (unqualified, or with its version or alias) and the version that runs.
        call = Call(
            request_id,
            payload,
            function.spec.timeout,
            function.arn if function.qualifier is None else function.qualified_arn,
            function.version,
            client_context,
            trace_header,
        )
        try:
            ran = await pool.run(call)
        finally:
            pool.give_back()
        outcome = Outcome(ran.payload, ran.function_error)
        self.count(function, "Invocations")
        if not outcome.ok:
            self.count(function, "Errors")
        return outcome

    async def _worker(self, function: Function, queue: asyncio.Queue[PendingEvent]) -> None:
        while True:
            event = await queue.get()
            try:
                await self._process(function, event)
            except asyncio.CancelledError:
                raise
            except Exception:  # a bug of ours must not kill the worker; the event still finishes
                log.exception("sandbox: processing an event of %s failed", function.name)
                self._finished()

    async def _process(self, function: Function, event: PendingEvent) -> None:
        function = function.at(event.qualifier) or function  # (an alias deleted meanwhile: $LATEST)
        recursion.CHAIN.set(event.lineage)  # a record of an event that did not run carries its chain as is
        if recursion.stops(function, event.lineage):  # Lambda stops the invocation: not run, not retried
            self.count(function, recursion.METRIC)
            await self._finish(function, event, recursion.CONDITION)
            return
        if function.spec.reserved_concurrency == 0:  # throttled before any attempt
            self.throttle(function)
            await self._finish(function, event, "ZeroReservedConcurrency")
            return
        age_limit = function.event_age * self.time_factor
        if time.monotonic() - event.enqueued >= age_limit:
            await self._finish(function, event, "EventAgeExceeded")
            return
        if self.throttled(function):  # back to the queue; not an attempt, not a retry
            self.throttle(function)
            first, longest = THROTTLE_BACKOFF
            self._later(function, event, min(first * 2**event.throttles, longest) * self.time_factor)
            event.throttles += 1
            return
        self.count(function, "AsyncEventAge", (time.monotonic() - event.enqueued) * 1000)
        event.attempts += 1
        self.stats.attempts += 1
        chain = recursion.advanced(event.lineage, function.arn)
        recursion.CHAIN.set(chain)  # records of this run start invocations of the same chain
        event.last = await self.run_once(
            function, event.payload, event.request_id, trace_header=recursion.trace_header(chain)
        )
        if event.last.ok:
            await self._finish(function, event, "Success")
            return
        if event.attempts > function.retries:
            await self._finish(function, event, "RetriesExhausted")
            return
        delay = BACKOFF_SECONDS[min(event.attempts - 1, len(BACKOFF_SECONDS) - 1)] * self.time_factor
        if time.monotonic() + delay > event.enqueued + age_limit:
            # The next retry could not start before the event is too old: Lambda gives up now, not
            # after the back-off (AWS-recorded: MaximumEventAgeInSeconds 60 -> EventAgeExceeded with
            # approximateInvokeCount 1, well before the ~60 s back-off; 90 -> after the 2nd attempt).
            await self._finish(function, event, "EventAgeExceeded")
            return
        self.stats.retries += 1
        self._later(function, event, delay)

    def _later(self, function: Function, event: PendingEvent, delay: float) -> None:
        """Put the event back on the function's queue after `delay` seconds."""
        queue = self._queues[function.name]
        timer: asyncio.TimerHandle

        def requeue() -> None:
            self._timers.discard(timer)
            queue.put_nowait(event)

        timer = asyncio.get_running_loop().call_later(delay, requeue)
        self._timers.add(timer)

    async def _finish(self, function: Function, event: PendingEvent, condition: str) -> None:
        try:
            if condition == "Success":
                self.stats.succeeded += 1
            else:
                self.stats.failed += 1
                self.count(function, "AsyncEventsDropped")
            config = function.config
            destination = None
            if config is not None:
                destination = config.on_success if condition == "Success" else config.on_failure
            if destination:
                self.stats.records += 1
                await self._deliver(destination, make_record(function, event, condition), function)
            # A discarded event also goes to the dead-letter queue (AWS sends both when both are set).
            if condition != "Success" and function.dead_letter and self.dead_letter is not None:
                await self.dead_letter(function, event, condition)
        finally:
            self._finished()

    def _finished(self) -> None:
        self._in_flight -= 1
        if self._in_flight <= 0:
            self._in_flight = 0
            self._idle.set()
