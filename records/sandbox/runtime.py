"""Lambda's asynchronous invocation semantics, run in-process on the sandbox's event loop.

Each function has its own event queue and a few workers. An event is tried once, then retried up
to MaximumRetryAttempts (0-2, default 2) times after AWS's back-off (about 1 and 2 minutes) scaled by
the time factor; an event older than MaximumEventAgeInSeconds (also scaled) is dropped with
condition EventAgeExceeded. Each outcome becomes an execution record in AWS's shape, handed to the
`deliver` callback with the destination ARN the function's event-invoke config names.

Handlers run in worker threads (`handler(event, context)` with a Lambda-like context). A handler
that runs past its timeout is reported as `Sandbox.Timedout`; Python cannot stop the thread, so its
late result is ignored.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
import traceback
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from records.sandbox.stack import FunctionSpec, Handler, Stack

if TYPE_CHECKING:
    from records.sandbox.metrics import Metrics

log = logging.getLogger(__name__)

DEFAULT_RETRIES = 2
DEFAULT_EVENT_AGE = 21600
BACKOFF_SECONDS = (60.0, 120.0)  # AWS's delays before the first and the second retry
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
    handler: Handler
    config: EventInvokeConfig | None = None
    dead_letter: str | None = None  # DeadLetterConfig.TargetArn (function_config.py, dead_letter.py)
    description: str = "run by the lambdest-tui sandbox"
    last_modified: str = field(
        default_factory=lambda: datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"
    )

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def qualified_arn(self) -> str:
        return f"{self.arn}:$LATEST"

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
    body: str | None = None  # the event as it was sent (the dead-letter message's body), when known


@dataclass(slots=True)
class RuntimeStats:
    accepted: int = 0
    attempts: int = 0
    retries: int = 0
    succeeded: int = 0
    failed: int = 0
    records: int = 0


class LambdaContext:
    """The `context` a handler gets, with the attributes of Lambda's Python runtime."""

    def __init__(self, function: Function, request_id: str, deadline: float) -> None:
        self.aws_request_id = request_id
        self.function_name = function.name
        self.function_version = "$LATEST"
        self.invoked_function_arn = function.arn
        self.memory_limit_in_mb = "128"
        self.log_group_name = f"/aws/lambda/{function.name}"
        self.log_stream_name = f"{datetime.now(UTC):%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}"
        self._deadline = deadline

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _error_payload(exc: BaseException, request_id: str) -> dict[str, Any]:
    frames = traceback.extract_tb(exc.__traceback__)[1:]  # drop the sandbox's own call frame
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "requestId": request_id,
        "stackTrace": traceback.format_list(frames),
    }


def _call(handler: Handler, event: Any, context: LambdaContext) -> Outcome:
    try:
        result = handler(event, context)
    except Exception as exc:
        return Outcome(_error_payload(exc, context.aws_request_id), "Unhandled")
    except BaseException as exc:  # sys.exit() in a handler ends its "runtime", as on Lambda
        status = exc.code if isinstance(exc, SystemExit) and isinstance(exc.code, int) else 1
        message = f"RequestId: {context.aws_request_id} Error: Runtime exited with error: exit status {status}"
        return Outcome({"errorType": "Runtime.ExitError", "errorMessage": message}, "Unhandled")
    try:
        json.dumps(result)
    except (TypeError, ValueError) as exc:
        return Outcome(
            {
                "errorMessage": f"Unable to marshal response: {exc}",
                "errorType": "Runtime.MarshalError",
                "requestId": context.aws_request_id,
                "stackTrace": [],
            },
            "Unhandled",
        )
    return Outcome(result)


def _in_thread(loop: asyncio.AbstractEventLoop, name: str, call: Callable[[], Outcome]) -> asyncio.Future[Outcome]:
    """Run `call` in a daemon thread: a handler that never returns cannot hold the interpreter's exit."""
    future: asyncio.Future[Outcome] = loop.create_future()

    def settle(outcome: Outcome) -> None:
        if not future.done():
            future.set_result(outcome)

    def target() -> None:
        outcome = call()
        with contextlib.suppress(RuntimeError):  # RuntimeError: the sandbox stopped meanwhile
            loop.call_soon_threadsafe(settle, outcome)

    threading.Thread(target=target, name=name, daemon=True).start()
    return future


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
        context: dict[str, Any] = {"statusCode": event.last.status_code, "executedVersion": "$LATEST"}
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
        handlers: dict[str, Handler] | None = None,
    ) -> None:
        self.stack = stack
        self.time_factor = time_factor
        self.concurrency = concurrency
        self.stats = RuntimeStats()
        self.metrics: Metrics | None = None  # CloudWatch's counts (metrics.py), set by the sandbox
        self.dead_letter: DeadLetter | None = None  # dead_letter.py's sender, set by the sandbox
        self._deliver = deliver
        self.functions: dict[str, Function] = {}
        for spec in stack.functions:
            config = None
            if spec.has_event_invoke_config:
                config = EventInvokeConfig(
                    spec.maximum_retry_attempts, spec.maximum_event_age, spec.on_success, spec.on_failure
                )
            handler = handlers[spec.name] if handlers and spec.name in handlers else stack.load_handler(spec)
            self.functions[spec.name] = Function(
                spec, stack.function_arn(spec.name), handler, config, dead_letter=spec.dead_letter
            )
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
        """Look a function up by name, name:qualifier, or (partial) ARN."""
        name = name_or_arn
        if name.startswith("arn:"):
            parts = name.split(":")
            name = parts[6] if len(parts) > 6 else ""
        else:
            name = name.split(":")[0]
        return self.functions.get(name)

    async def start(self) -> None:
        for function in self.functions.values():
            queue: asyncio.Queue[PendingEvent] = asyncio.Queue()
            self._queues[function.name] = queue
            reserved = function.spec.reserved_concurrency
            workers = min(self.concurrency, reserved) if reserved else self.concurrency
            for n in range(workers):
                self._tasks.append(asyncio.create_task(self._worker(function, queue), name=f"{function.name}-{n}"))

    async def stop(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    async def idle(self) -> None:
        """Wait until every accepted event has reached its final outcome and was delivered."""
        await self._idle.wait()

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def enqueue(self, function: Function, payload: Any, request_id: str | None = None, body: str | None = None) -> str:
        """Accept an asynchronous invocation (InvocationType Event); returns its request id. `body`:
        the event's JSON text as sent (what a dead-letter queue gets back)."""
        event = PendingEvent(request_id or str(uuid.uuid4()), payload, time.monotonic(), body=body)
        self.stats.accepted += 1
        self.count(function, "AsyncEventsReceived")
        self._in_flight += 1
        self._idle.clear()
        self._queues[function.name].put_nowait(event)
        return event.request_id

    async def run_once(self, function: Function, payload: Any, request_id: str) -> Outcome:
        """One run of the handler with its timeout (RequestResponse, and each async attempt)."""
        loop = asyncio.get_running_loop()
        timeout = function.spec.timeout
        context = LambdaContext(function, request_id, time.monotonic() + timeout)
        future = _in_thread(
            loop, f"lambda {function.name} {request_id}", lambda: _call(function.handler, payload, context)
        )
        try:
            outcome = await asyncio.wait_for(asyncio.shield(future), timeout)
        except TimeoutError:
            outcome = Outcome(
                {
                    "errorType": "Sandbox.Timedout",
                    "errorMessage": f"RequestId: {request_id} Error: Task timed out after {timeout:.2f} seconds",
                },
                "Unhandled",
            )
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
        if function.spec.reserved_concurrency == 0:  # throttled before any attempt
            self.count(function, "Throttles")
            await self._finish(function, event, "ZeroReservedConcurrency")
            return
        age_limit = function.event_age * self.time_factor
        if time.monotonic() - event.enqueued >= age_limit:
            await self._finish(function, event, "EventAgeExceeded")
            return
        self.count(function, "AsyncEventAge", (time.monotonic() - event.enqueued) * 1000)
        event.attempts += 1
        self.stats.attempts += 1
        event.last = await self.run_once(function, event.payload, event.request_id)
        if event.last.ok:
            await self._finish(function, event, "Success")
            return
        if event.attempts > function.retries:
            await self._finish(function, event, "RetriesExhausted")
            return
        self.stats.retries += 1
        delay = BACKOFF_SECONDS[min(event.attempts - 1, len(BACKOFF_SECONDS) - 1)] * self.time_factor
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
