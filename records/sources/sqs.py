"""An SQS queue as a live source: long polling with several pollers, peek or consume.

`queue` is a name, a queue URL or an ARN (arn:aws:sqs:REGION:ACCOUNT:NAME); the region an ARN or
an AWS queue URL names is used when no region is given.

Modes:
  peek     deletes nothing. Each receive holds the message invisible for `visibility_timeout`
           seconds so one pass sees the whole queue; a message seen again (same MessageId) is not
           shown twice. Every receive counts toward a RedrivePolicy's maxReceiveCount, so a queue
           with one is refused unless `allow_redrive_peek`. On `aclose()` the messages still held
           are made visible again at once.
  consume  deletes in batches, and only after `session.sync()` returned for the batch (the record
           is durably in the session file: at-least-once, a crash loses nothing). Without a session
           messages are deleted as received (used by the temporary tap queues, removed on exit anyway).
           A consumed message is deleted before it is yielded.

Every received message is appended to `session` when one is given, and the `Message` carries the
session file, offset and length. `Message.meta` holds MessageId, Attributes (incl.
ApproximateReceiveCount) and MessageAttributes. Duplicates (same MessageId, e.g. two pollers
receiving the same message) are dropped; in consume mode they are deleted.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, suppress
from typing import Any, Literal

from botocore.exceptions import BotoCoreError, ClientError

from records.aws_options import AwsOptions, config_problem, whereabouts
from records.decode import DEFAULT_CORRELATOR, Correlator, decode
from records.files import SessionWriter, now_iso
from records.message import Message
from records.sources.base import Mode, SourceEvent, SourceStatus, State
from records.sources.faults import Backoff, SourceFailed, classify

try:  # aiohttp is what aiobotocore speaks HTTP with; its errors are network errors.
    from aiohttp import ClientError as AiohttpClientError
except ImportError:  # pragma: no cover
    AiohttpClientError = OSError  # type: ignore[misc,assignment]

QueueMode = Literal["peek", "consume"]
__all__ = [
    "REDRIVE_REFUSAL",
    "RETRYABLE",
    "SqsQueueSource",
    "queue_display_name",
    "queue_region",
]

RETRYABLE: tuple[type[BaseException], ...] = (
    ClientError,
    BotoCoreError,
    OSError,
    TimeoutError,
    AiohttpClientError,
)
MAX_SEEN = 200_000  # MessageIds remembered for dedupe
LIVE_AFTER = 0.5  # a long poll open this long without an error means the queue answers
# The sentence shown when peek is refused (a redrive policy would count every peek as a receive).
REDRIVE_REFUSAL = (
    "queue {name} has a redrive policy (maxReceiveCount {count}, dead-letter queue {dlq}): every peek "
    "counts as a receive, so peeking could push its messages to the dead-letter queue. "
    "Pass --allow-redrive-peek to peek anyway, or use --mode consume if you own the queue."
)


class _End:
    pass


_END = _End()


def queue_display_name(queue: str) -> str:
    """The name a queue is shown by: "order-failures" for its name, URL or ARN."""
    if queue.startswith("arn:"):
        return queue.rsplit(":", 1)[-1]
    if "://" in queue:
        return queue.rstrip("/").rsplit("/", 1)[-1]
    return queue


_URL_REGION = re.compile(
    r"^https?://(?:sqs\.([a-z0-9-]+)\.amazonaws\.com|([a-z0-9-]+)\.queue\.amazonaws\.com)(?:\.cn)?/"
)


def queue_region(queue: str) -> str | None:
    """The region an ARN or an AWS queue URL names (used when no region is given)."""
    if queue.startswith("arn:"):
        parts = queue.split(":")
        return parts[3] if len(parts) >= 6 and parts[3] else None
    match = _URL_REGION.match(queue)
    if match:
        return match.group(1) or match.group(2)
    return None


class SqsQueueSource:
    """A `records.sources.base.Source`: `async for event in source` yields `SourceStatus`
    (connecting, live, reconnecting + reason, failed + reason) and `Message` events;
    `await source.aclose()` stops the pollers and closes the client (see the module for modes)."""

    def __init__(
        self,
        queue: str,
        *,
        mode: QueueMode = "peek",
        pollers: int = 2,
        visibility_timeout: int = 30,
        allow_redrive_peek: bool = False,
        session: SessionWriter | None = None,
        aws: AwsOptions | None = None,
        wait_time: int = 20,
        label: str | None = None,
        source_mode: Mode | None = None,
        correlator: Correlator = DEFAULT_CORRELATOR,
        client: Any = None,
        backoff: Callable[[], Backoff] = Backoff,
        missing_grace: float = 30.0,
        buffer: int = 100,
    ) -> None:
        if mode not in ("peek", "consume"):
            raise ValueError(f"mode must be peek or consume, not {mode!r}")
        if pollers < 1:
            raise ValueError("pollers must be at least 1")
        self.queue = queue
        self.queue_mode: QueueMode = mode
        self.mode: Mode = source_mode or mode
        self.name = queue_display_name(queue)
        self.label = label or f"queue:{self.name}"
        self.pollers = pollers
        self.visibility_timeout = visibility_timeout
        self.allow_redrive_peek = allow_redrive_peek
        self.session = session
        self.aws = aws or AwsOptions()
        self.wait_time = wait_time
        self.correlator = correlator
        self.queue_url: str | None = None
        self._client = client
        self._backoff_factory = backoff
        self._missing_grace = missing_grace
        self._resource = f"queue {self.name}"
        self._events: asyncio.Queue[SourceEvent | _End] = asyncio.Queue(maxsize=buffer)
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._held: dict[str, tuple[str, float]] = {}  # peek: MessageId -> (receipt handle, when received)
        self._state: tuple[State, str | None] | None = None
        self._last_network_fault = float("-inf")
        self._task: asyncio.Task[None] | None = None
        # consume: received batches waiting for fsync + delete (bounded, so pollers wait when it lags)
        self._commits: asyncio.Queue[tuple[list[dict[str, Any]], list[Message], asyncio.Future[None]]] = asyncio.Queue(
            maxsize=2 * pollers
        )
        self._closed = False
        self.failed_missing = False  # it failed because the queue does not exist
        self._region: str | None = None  # the region its client talks to

    # -- the Source protocol ------------------------------------------------------------------
    async def __aiter__(self) -> AsyncIterator[SourceEvent]:
        self._start()
        while True:
            event = await self._events.get()
            if isinstance(event, _End):
                return
            yield event

    async def aclose(self) -> None:
        self._closed = True
        task = self._task
        if task is not None and not task.done():
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task

    # -- internals ----------------------------------------------------------------------------
    def _start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name=f"source {self.label}")

    async def _emit(self, event: SourceEvent | _End) -> None:
        await self._events.put(event)

    async def _status(self, state: State, reason: str | None = None) -> None:
        if self._state == (state, reason):
            return
        self._state = (state, reason)
        await self._emit(SourceStatus(self.label, self.mode, state, reason))

    async def _run(self) -> None:
        try:
            await self._status("connecting")
            async with AsyncExitStack() as stack:
                client = self._client
                if client is None:
                    kwargs = self.aws.source_client_kwargs()
                    region = queue_region(self.queue)
                    if region and "region_name" not in kwargs:
                        kwargs["region_name"] = region
                    client = await stack.enter_async_context(self.aws.session().create_client("sqs", **kwargs))
                self._region = str(client.meta.region_name)
                try:
                    await self._serve(client)
                finally:
                    if self.queue_mode == "peek" and self.queue_url is not None:
                        await self._release_held(client, self.queue_url)
        except SourceFailed as exc:
            self.failed_missing = exc.missing
            await self._status("failed", exc.reason)
        except Exception as error:
            problem = config_problem(error) or f"unexpected error {type(error).__name__}: {error}"
            await self._status("failed", f"{self._resource}: {problem}")
        finally:
            if self._closed:
                with suppress(asyncio.QueueFull):
                    self._events.put_nowait(_END)
            else:
                await self._emit(_END)

    async def _serve(self, client: Any) -> None:
        url = await self._retrying(lambda: self._resolve(client), "sqs:GetQueueUrl")
        self.queue_url = url
        if self.queue_mode == "peek":
            attributes = await self._retrying(
                lambda: client.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"]),
                "sqs:GetQueueAttributes",
            )
            policy = attributes.get("Attributes", {}).get("RedrivePolicy")
            if policy and not self.allow_redrive_peek:
                raise SourceFailed(_redrive_refusal(self.name, policy))
        try:
            async with asyncio.TaskGroup() as group:
                if self.queue_mode == "consume":
                    group.create_task(self._committer(client, url))
                for _ in range(self.pollers):
                    group.create_task(self._poll(client, url))
        except ExceptionGroup as errors:
            raise _first_error(errors) from None

    async def _resolve(self, client: Any) -> str:
        if "://" in self.queue:
            return self.queue
        if self.queue.startswith("arn:"):
            parts = self.queue.split(":")
            if len(parts) < 6 or not parts[5]:
                raise SourceFailed(f"{self.queue!r} is not a queue ARN (arn:aws:sqs:REGION:ACCOUNT:NAME)")
            response = await client.get_queue_url(QueueName=parts[5], QueueOwnerAWSAccountId=parts[4])
        else:
            response = await client.get_queue_url(QueueName=self.queue)
        return str(response["QueueUrl"])

    async def _retrying(self, call: Callable[[], Any], action: str) -> Any:
        backoff = self._backoff_factory()
        while True:
            try:
                return await call()
            except RETRYABLE as exc:
                await self._fault(exc, action, backoff)

    async def _fault(self, exc: BaseException, action: str, backoff: Backoff) -> None:
        """Report a fault: raise SourceFailed when fatal, otherwise report and wait before a retry."""
        fault = classify(exc, self._resource, action)
        if not isinstance(exc, ClientError):
            self._last_network_fault = time.monotonic()
        if fault.fatal:
            recently_down = time.monotonic() - self._last_network_fault < self._missing_grace
            if not (fault.missing and recently_down):
                if fault.missing:  # say where it looked
                    fault = classify(exc, self._resource, action, await whereabouts(self.aws, self._region))
                raise SourceFailed(fault.reason, missing=fault.missing) from exc
            fault_reason = f"{fault.reason}; the endpoint just came back, waiting for the queue to reappear"
        else:
            fault_reason = fault.reason
        await self._status("reconnecting", fault_reason)
        await asyncio.sleep(backoff.next_delay())

    async def _poll(self, client: Any, url: str) -> None:
        backoff = self._backoff_factory()
        params: dict[str, Any] = {
            "QueueUrl": url,
            "MaxNumberOfMessages": 10,
            "WaitTimeSeconds": self.wait_time,
            "VisibilityTimeout": self.visibility_timeout,
            "MessageSystemAttributeNames": ["All"],
            "MessageAttributeNames": ["All"],
        }
        while True:
            try:
                response = await self._receive(client, params)
            except RETRYABLE as exc:
                await self._fault(exc, "sqs:ReceiveMessage", backoff)
                continue
            backoff.reset()
            await self._status("live")
            messages = response.get("Messages") or []
            if messages:
                committed = await self._handle(client, url, messages)
                if committed is not None and len(messages) < 10:
                    # The queue was drained: wait for this batch's commit before polling again, so
                    # the next receive finds a fuller batch instead of racing the other pollers.
                    await committed

    async def _receive(self, client: Any, params: dict[str, Any]) -> Any:
        """One receive. A quiet queue holds a long poll open for up to `wait_time` seconds: once a
        receive has been issued and stayed open `LIVE_AFTER` seconds without failing (a refused
        or unreachable queue answers at once), the source is `live`, not `connecting` for a whole poll."""
        receive = asyncio.ensure_future(client.receive_message(**params))
        try:
            if self._state is None or self._state[0] != "live":
                done, _ = await asyncio.wait({receive}, timeout=LIVE_AFTER)
                if not done:
                    await self._status("live")
            return await receive
        finally:
            if not receive.done():
                receive.cancel()

    def _remember(self, message_id: str) -> bool:
        """True when the MessageId is new."""
        if message_id in self._seen:
            return False
        self._seen[message_id] = None
        if len(self._seen) > MAX_SEEN:
            self._seen.popitem(last=False)
        return True

    async def _handle(self, client: Any, url: str, messages: list[dict[str, Any]]) -> asyncio.Future[None] | None:
        """Write/show the messages; in consume mode returns a future that is done once they are
        synced, deleted and shown."""
        done: list[dict[str, Any]] = []
        fresh: list[Message] = []
        for item in messages:
            message_id = str(item.get("MessageId", ""))
            if self.queue_mode == "peek":
                if len(self._held) > 10_000:
                    self._prune_held()
                self._held[message_id] = (str(item.get("ReceiptHandle", "")), time.monotonic())
            if not self._remember(message_id):
                done.append(item)  # seen before: its first copy was already written/handed over
                continue
            fresh.append(self._message(item))
            done.append(item)
        if self.queue_mode == "consume":
            committed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            await self._commits.put((done, fresh, committed))  # the poller may go straight back to receiving
            return committed
        for message in fresh:
            await self._emit(message)
        return None

    async def _committer(self, client: Any, url: str) -> None:
        """Consume: durable first, then deleted, then shown, so whoever sees a consumed message can
        rely on it being in the session file and gone from the queue. Batches waiting together
        share one fsync (group commit) and are deleted concurrently."""
        while True:
            batches = [await self._commits.get()]
            while not self._commits.empty():
                batches.append(self._commits.get_nowait())
            if self.session is not None and any(fresh for _, fresh, _ in batches):
                await asyncio.to_thread(self.session.sync)
            await asyncio.gather(*(self._delete(client, url, done) for done, _, _ in batches if done))
            for _, fresh, committed in batches:
                for message in fresh:
                    await self._emit(message)
                committed.set_result(None)

    def _message(self, item: dict[str, Any]) -> Message:
        raw = item.get("Body", "")
        raw = raw if isinstance(raw, str) else str(raw)
        meta: dict[str, Any] = {
            "MessageId": item.get("MessageId"),
            "Attributes": dict(item.get("Attributes") or {}),
            "MessageAttributes": _plain_attributes(item.get("MessageAttributes") or {}),
        }
        received = now_iso()
        file: str | None = None
        offset: int | None = None
        length: int | None = None
        if self.session is not None:
            offset, length = self.session.append(raw, meta, self.label, received)
            file = str(self.session.path)
        decoded = tuple(decode(raw, meta=meta, correlator=self.correlator))
        return Message(raw, self.label, received, meta, decoded, file, offset, length)

    async def _delete(self, client: Any, url: str, items: list[dict[str, Any]]) -> None:
        entries = [{"Id": str(index), "ReceiptHandle": item["ReceiptHandle"]} for index, item in enumerate(items)]
        backoff = self._backoff_factory()
        for _attempt in range(4):
            try:
                response = await client.delete_message_batch(QueueUrl=url, Entries=entries)
            except RETRYABLE as exc:
                fault = classify(exc, self._resource, "sqs:DeleteMessage")
                if fault.fatal:
                    raise SourceFailed(fault.reason) from exc
                await self._status("reconnecting", fault.reason)
                await asyncio.sleep(backoff.next_delay())
                continue
            failed = {entry["Id"] for entry in response.get("Failed") or [] if not entry.get("SenderFault")}
            entries = [entry for entry in entries if entry["Id"] in failed]
            if not entries:
                return
            await asyncio.sleep(backoff.next_delay())
        # Still not deleted: the messages come back after the visibility timeout and are deleted then
        # (their MessageIds are remembered, so they are not shown or written twice).

    def _prune_held(self) -> None:
        horizon = time.monotonic() - self.visibility_timeout
        self._held = {key: value for key, value in self._held.items() if value[1] > horizon}

    async def _release_held(self, client: Any, url: str) -> None:
        """Peek: make the messages we still hold visible again, so a real consumer gets them now."""
        horizon = time.monotonic() - self.visibility_timeout
        receipts = [receipt for receipt, when in self._held.values() if when > horizon and receipt]
        self._held.clear()
        for start in range(0, len(receipts), 10):
            chunk = receipts[start : start + 10]
            entries = [{"Id": str(i), "ReceiptHandle": r, "VisibilityTimeout": 0} for i, r in enumerate(chunk)]
            try:
                await asyncio.wait_for(client.change_message_visibility_batch(QueueUrl=url, Entries=entries), 5)
            except RETRYABLE:
                return  # best effort: they reappear by themselves after the visibility timeout


def _plain_attributes(attributes: dict[str, Any]) -> dict[str, Any]:
    """MessageAttributes as JSON-friendly values (binary values as their repr)."""
    plain: dict[str, Any] = {}
    for key, value in attributes.items():
        if isinstance(value, dict):
            plain[key] = {
                k: (v if isinstance(v, str | int | float | bool | None) else repr(v)) for k, v in value.items()
            }
        else:
            plain[key] = repr(value)
    return plain


def _redrive_refusal(name: str, policy: str) -> str:
    try:
        parsed = json.loads(policy)
    except (TypeError, ValueError):
        parsed = {}
    count = parsed.get("maxReceiveCount", "?") if isinstance(parsed, dict) else "?"
    dlq = parsed.get("deadLetterTargetArn", "?") if isinstance(parsed, dict) else "?"
    return REDRIVE_REFUSAL.format(name=name, count=count, dlq=str(dlq).rsplit(":", 1)[-1])


def _first_error(group: BaseExceptionGroup[Any]) -> BaseException:
    """The first SourceFailed in a (nested) exception group, else its first exception."""
    flat: list[BaseException] = []
    pending: list[BaseException] = [group]
    while pending:
        error = pending.pop(0)
        if isinstance(error, BaseExceptionGroup):
            pending.extend(error.exceptions)
        else:
            flat.append(error)
    return next((error for error in flat if isinstance(error, SourceFailed)), flat[0] if flat else group)
