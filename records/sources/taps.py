"""What SNS and EventBridge taps share: a temporary, tagged SQS queue, its heartbeat, its clean-up.

While a tap lives it refreshes its heartbeat tag (queue, and rule) every `heartbeat` seconds
(HEARTBEAT_SECONDS, 300), so another run's sweep never takes it for an orphan however old it is.

If its temporary queue vanishes (an emulator restarted and lost its state, or someone deleted it),
a tap reports `reconnecting` and sets itself up again (up to 5 times), waiting up to
`missing_grace` seconds (30) for the topic or bus to reappear.

A tap deletes what it created on `aclose()`: callers run `aclose()` in a `finally`, so it runs on a
normal exit, on Ctrl+C and (the commands install handlers that cancel or quit) on SIGTERM and SIGHUP.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from typing import Any

from records.aws_options import AwsOptions, whereabouts
from records.decode import DEFAULT_CORRELATOR, Correlator
from records.files import SessionWriter
from records.sources.base import Mode, SourceEvent, SourceStatus, State
from records.sources.faults import Backoff, SourceFailed, classify
from records.sources.sqs import RETRYABLE, SqsQueueSource
from records.sources.sweep import (
    HEARTBEAT_SECONDS,
    ORPHAN_AGE,
    TAG_BUS,
    TAG_CREATED,
    TAG_HEARTBEAT,
    TAG_HOST,
    TAG_KEY,
    TAG_PID,
    TAG_RULE,
    TAG_TOPIC,
    TAG_VALUE,
    TAP_PREFIX,
    heartbeat_tags,
    queue_arn,
    sweep_orphans,
    tap_name,
    tap_tags,
)

# TAP_PREFIX, the TAG_* keys but TAG_BOOT, HEARTBEAT_SECONDS, ORPHAN_AGE, tap_name, tap_tags and
# sweep_orphans are re-exported from records.sources.sweep.
__all__ = [
    "HEARTBEAT_SECONDS",
    "ORPHAN_AGE",
    "TAG_BUS",
    "TAG_CREATED",
    "TAG_HEARTBEAT",
    "TAG_HOST",
    "TAG_KEY",
    "TAG_PID",
    "TAG_RULE",
    "TAG_TOPIC",
    "TAG_VALUE",
    "TAP_PREFIX",
    "TapSource",
    "queue_policy",
    "sweep_orphans",
    "tap_name",
    "tap_tags",
]

MAX_REBUILDS = 5  # times a tap sets itself up again after its queue vanished


def queue_policy(queue_arn: str, principal: str, source_arn: str) -> str:
    """Only `principal` (sns/events.amazonaws.com) may send, and only from `source_arn`."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "lambdest-tui-tap",
                    "Effect": "Allow",
                    "Principal": {"Service": principal},
                    "Action": "sqs:SendMessage",
                    "Resource": queue_arn,
                    "Condition": {"ArnEquals": {"aws:SourceArn": source_arn}},
                }
            ],
        }
    )


class TapSource:
    """The base of SnsTap and EventBridgeTap, a `records.sources.base.Source` (mode "tap").

    Iterating it sweeps orphans (`records.sources.sweep`, unless `sweep` is false: dead taps, whose
    process on this host is gone or whose heartbeat is older than `orphan_age` seconds), sets up
    with retries (`backoff`), then reads the temporary queue with an SqsQueueSource in consume mode
    (`pollers`, `wait_time`, `visibility_timeout`, `session`, `correlator` go to it); `aclose()`
    removes everything and notes what it could not remove in `cleanup_errors`. `missing_grace` and
    `heartbeat`: see the module docstring. `removed` lists what the sweep removed.

    Subclasses implement `_setup()` (yield statuses while creating the queue, `_create_queue`, and
    attaching it, `_allow` and the subscription or rule), `_detach()` and `_forget()` (the
    subscription or rule; the queue is deleted here), and may extend `_buses()` and `_tag()`."""

    kind = "tap"

    def __init__(
        self,
        label: str,
        *,
        session: SessionWriter | None = None,
        aws: AwsOptions | None = None,
        pollers: int = 1,
        wait_time: int = 20,
        visibility_timeout: int = 30,
        sweep: bool = True,
        orphan_age: float = ORPHAN_AGE,
        correlator: Correlator = DEFAULT_CORRELATOR,
        backoff: Callable[[], Backoff] = Backoff,
        missing_grace: float = 30.0,
        heartbeat: float = HEARTBEAT_SECONDS,
    ) -> None:
        self.label = label
        self.mode: Mode = "tap"
        self.session = session
        self.aws = aws or AwsOptions()
        self.pollers = pollers
        self.wait_time = wait_time
        self.visibility_timeout = visibility_timeout
        self.sweep = sweep
        self.orphan_age = orphan_age
        self.correlator = correlator
        self.queue_url: str | None = None
        self.queue_arn: str | None = None
        self.region: str | None = None  # the region of an ARN given, used when no region is configured
        self.removed: list[str] = []  # what the orphan sweep removed
        self.heartbeat = heartbeat  # seconds between refreshes of the heartbeat tag
        self.heartbeats = 0  # refreshes that reached AWS
        self._beating: asyncio.Task[None] | None = None
        self.cleanup_errors: list[str] = []  # what aclose() could not remove, as sentences
        self._backoff_factory = backoff
        self._stack = AsyncExitStack()
        self._sqs: Any = None
        self._inner: SqsQueueSource | None = None
        self.missing_grace = missing_grace
        self._missing_until = float("-inf")  # until then a missing topic/bus is waited for (after a rebuild)
        self._result: Any = None
        self._sns: Any = None
        self._events: Any = None

    async def _client(self, service: str) -> Any:
        session: Any = self.aws.session()
        kwargs = self.aws.source_client_kwargs()
        if self.region and "region_name" not in kwargs:
            kwargs["region_name"] = self.region
        return await self._stack.enter_async_context(session.create_client(service, **kwargs))

    def _status(self, state: State, reason: str | None = None) -> SourceStatus:
        return SourceStatus(self.label, self.mode, state, reason)

    async def _call(self, make: Callable[[], Any], resource: str, action: str) -> AsyncIterator[SourceStatus]:
        """Run one set-up call with retries; yields reconnecting statuses; result in self._result."""
        backoff = self._backoff_factory()
        while True:
            try:
                self._result = await make()
                return
            except RETRYABLE as exc:
                fault = classify(exc, resource, action)
                if fault.fatal and not (fault.missing and time.monotonic() < self._missing_until):
                    if fault.missing:  # say where it looked
                        region = self._sqs.meta.region_name if self._sqs is not None else self.region
                        fault = classify(exc, resource, action, await whereabouts(self.aws, region))
                    raise SourceFailed(fault.reason, missing=fault.missing) from exc
                yield self._status("reconnecting", fault.reason)
                await asyncio.sleep(backoff.next_delay())

    async def _create_queue(self, name: str, tags: dict[str, str]) -> AsyncIterator[SourceStatus]:
        async for status in self._call(
            lambda: self._sqs.create_queue(QueueName=name, tags=tags), f"temporary queue {name}", "sqs:CreateQueue"
        ):
            yield status
        self.queue_url = str(self._result["QueueUrl"])
        async for status in self._call(
            lambda: queue_arn(self._sqs, str(self.queue_url)), f"temporary queue {name}", "sqs:GetQueueAttributes"
        ):
            yield status
        self.queue_arn = str(self._result)

    async def _allow(self, principal: str, source_arn: str) -> AsyncIterator[SourceStatus]:
        policy = queue_policy(str(self.queue_arn), principal, source_arn)
        async for status in self._call(
            lambda: self._sqs.set_queue_attributes(QueueUrl=self.queue_url, Attributes={"Policy": policy}),
            "temporary queue",
            "sqs:SetQueueAttributes",
        ):
            yield status

    def _setup(self) -> AsyncIterator[SourceStatus]:
        raise NotImplementedError

    async def _detach(self) -> None:
        """Remove the subscription / rule (subclasses)."""

    async def _tag(self, tags: dict[str, str]) -> None:
        """Tag what the tap created: the queue here, the rule too in EventBridgeTap."""
        await self._sqs.tag_queue(QueueUrl=self.queue_url, Tags=tags)

    async def _beat(self) -> None:
        """Refresh the heartbeat tag while the tap lives; a failed refresh is tried at the next beat
        (a tap is swept only after ORPHAN_AGE without one)."""
        while True:
            await asyncio.sleep(self.heartbeat)
            try:
                await self._tag(heartbeat_tags())
                self.heartbeats += 1
            except RETRYABLE:
                continue

    async def _stop_beating(self) -> None:
        task, self._beating = self._beating, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _sweep(self) -> list[str]:
        """Sweep orphans of every kind of tap (an SNS tap's queue needs its subscription removed)."""
        self._sns = await self._client("sns")
        self._events = await self._client("events")
        buses = ["default", *self._buses()]
        return await sweep_orphans(
            self._sqs, sns=self._sns, events=self._events, buses=dict.fromkeys(buses), older_than=self.orphan_age
        )

    def _buses(self) -> list[str]:
        return []

    async def __aiter__(self) -> AsyncIterator[SourceEvent]:
        yield self._status("connecting")
        try:
            try:
                self._sqs = await self._client("sqs")
            except RETRYABLE as exc:  # no region, an unknown profile: say which and how to set it
                raise SourceFailed(classify(exc, self.label, "setting up the tap").reason) from exc
            if self.sweep:
                try:
                    self.removed = await self._sweep()
                except RETRYABLE as exc:
                    reason = classify(exc, "orphan sweep", "sqs:ListQueues").reason
                    yield self._status("connecting", f"orphan sweep skipped: {reason}")
        except SourceFailed as exc:
            yield self._status("failed", exc.reason)
            return
        rebuilds = 0
        while True:
            try:
                async for status in self._setup():
                    yield status
            except SourceFailed as exc:
                yield self._status("failed", exc.reason)
                return
            self._beating = asyncio.get_running_loop().create_task(self._beat(), name=f"heartbeat {self.label}")
            inner = self._inner = SqsQueueSource(
                str(self.queue_url),
                mode="consume",
                pollers=self.pollers,
                visibility_timeout=self.visibility_timeout,
                session=self.session,
                aws=self.aws,
                wait_time=self.wait_time,
                label=self.label,
                source_mode="tap",
                correlator=self.correlator,
                client=self._sqs,
                backoff=self._backoff_factory,
                missing_grace=0.0,  # our own queue missing: set the tap up again (below)
            )
            vanished = False
            async for event in inner:
                if isinstance(event, SourceStatus):
                    if event.state == "connecting":
                        continue
                    if event.state == "failed" and inner.failed_missing and rebuilds < MAX_REBUILDS:
                        vanished = True
                        break
                yield event
            if not vanished:
                return
            # The temporary queue is gone (an emulator restarted, or someone deleted it): set up again.
            rebuilds += 1
            yield self._status("reconnecting", f"{self.label}: the temporary queue is gone; setting the tap up again")
            await inner.aclose()
            await self._teardown(quiet=True)
            self._missing_until = time.monotonic() + self.missing_grace

    async def aclose(self) -> None:
        """Stop reading and remove the subscription or rule and the queue; what is already gone is
        fine, what cannot be removed is noted in `cleanup_errors`."""
        if self._inner is not None:
            await self._inner.aclose()
        await self._teardown()
        await self._stack.aclose()

    async def _teardown(self, *, quiet: bool = False) -> None:
        """Remove the subscription/rule and the queue; what is already gone is fine. Idempotent."""
        await self._stop_beating()
        try:
            await self._detach()
        except RETRYABLE as exc:
            fault = classify(exc, self.label, "clean-up")
            if not (fault.missing or quiet):
                self.cleanup_errors.append(fault.reason)
        self._forget()
        if self.queue_url is not None and self._sqs is not None:
            try:
                await self._sqs.delete_queue(QueueUrl=self.queue_url)
            except RETRYABLE as exc:
                fault = classify(exc, f"temporary queue {self.queue_url}", "sqs:DeleteQueue")
                if not (fault.missing or quiet):
                    self.cleanup_errors.append(
                        fault.reason
                        + " (tagged lambdest-tui=tap: the next run on this host sweeps it, one elsewhere after an hour)"
                    )
        self.queue_url = None
        self.queue_arn = None

    def _forget(self) -> None:
        """Forget the subscription / rule (subclasses), whether or not removing it worked."""
