"""What SNS and EventBridge taps share: a temporary, tagged SQS queue, its clean-up, the orphan sweep.

Public API:
    TAG_KEY = "lambdest-tui"; tags: lambdest-tui=tap, lambdest-tui:created (ISO UTC),
        lambdest-tui:host, lambdest-tui:pid, and what the queue is attached to
        (lambdest-tui:topic, or lambdest-tui:rule + lambdest-tui:bus)
    TAP_PREFIX = "lambdest-tap-"          every temporary queue and rule is named with it
    tap_tags(**attached) -> dict[str, str]
    sweep_orphans(sqs, *, sns=None, events=None, buses=(), older_than=3600.0, now=None) -> list[str]
        removes queues, subscriptions and rules that carry our tag and were created more than
        `older_than` seconds ago; touches nothing else; returns what it removed
    TapSource: the base of SnsTap and EventBridgeTap (a `Source`): set-up with retries, then the
        temporary queue is read by an SqsQueueSource in consume mode; `aclose()` removes everything.

If its temporary queue vanishes (an emulator restarted and lost its state, or someone deleted it),
a tap reports `reconnecting` and sets itself up again (up to 5 times), waiting up to
`missing_grace` seconds (30) for the topic or bus to reappear.

A tap deletes what it created on `aclose()`: callers run `aclose()` in a `finally`, so it runs on a
normal exit, on Ctrl+C and (tail installs a handler that cancels the main task) on SIGTERM.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import socket
import time
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from records.aws_options import AwsOptions
from records.decode import DEFAULT_CORRELATOR, Correlator
from records.files import SessionWriter, now_iso
from records.sources.base import Mode, SourceEvent, SourceStatus, State
from records.sources.faults import Backoff, SourceFailed, classify
from records.sources.sqs import RETRYABLE, SqsQueueSource

TAG_KEY = "lambdest-tui"
TAG_VALUE = "tap"
TAG_CREATED = "lambdest-tui:created"
TAG_HOST = "lambdest-tui:host"
TAG_PID = "lambdest-tui:pid"
TAG_TOPIC = "lambdest-tui:topic"
TAG_RULE = "lambdest-tui:rule"
TAG_BUS = "lambdest-tui:bus"
TAP_PREFIX = "lambdest-tap-"
ORPHAN_AGE = 3600.0
MAX_REBUILDS = 5  # times a tap sets itself up again after its queue vanished


def tap_tags(**attached: str) -> dict[str, str]:
    tags = {
        TAG_KEY: TAG_VALUE,
        TAG_CREATED: now_iso(),
        TAG_HOST: socket.gethostname()[:200] or "unknown",
        TAG_PID: str(os.getpid()),
    }
    for key, value in attached.items():
        tags[f"{TAG_KEY}:{key}"] = value[:256]
    return tags


def tap_name(kind: str) -> str:
    """A queue/rule name: lambdest-tap-<kind>-<pid>-<random> (SQS allows 80 characters)."""
    return f"{TAP_PREFIX}{kind}-{os.getpid()}-{secrets.token_hex(4)}"[:64]


def _created(tags: dict[str, str]) -> datetime | None:
    value = tags.get(TAG_CREATED)
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _is_orphan(tags: dict[str, str], now: datetime, older_than: float) -> bool:
    created = _created(tags)
    return tags.get(TAG_KEY) == TAG_VALUE and created is not None and (now - created).total_seconds() > older_than


def _ignore_missing(exc: ClientError) -> None:
    code = str(exc.response.get("Error", {}).get("Code", ""))
    if "NotFound" not in code and "NonExistent" not in code and "DoesNotExist" not in code:
        raise exc


async def _queue_arn(sqs: Any, url: str) -> str:
    attributes = await sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    return str(attributes["Attributes"]["QueueArn"])


async def _unsubscribe_queue(sns: Any, topic_arn: str, queue_arn: str) -> list[str]:
    removed: list[str] = []
    kwargs: dict[str, Any] = {"TopicArn": topic_arn}
    while True:
        try:
            page = await sns.list_subscriptions_by_topic(**kwargs)
        except ClientError as exc:
            _ignore_missing(exc)
            return removed
        for subscription in page.get("Subscriptions", []):
            arn = subscription.get("SubscriptionArn", "")
            if subscription.get("Endpoint") == queue_arn and arn.startswith("arn:"):
                await sns.unsubscribe(SubscriptionArn=arn)
                removed.append(arn)
        if not page.get("NextToken"):
            return removed
        kwargs["NextToken"] = page["NextToken"]


async def _delete_rule(events: Any, rule: str, bus: str) -> None:
    try:
        targets = await events.list_targets_by_rule(Rule=rule, EventBusName=bus)
        ids = [target["Id"] for target in targets.get("Targets", [])]
        if ids:
            await events.remove_targets(Rule=rule, EventBusName=bus, Ids=ids, Force=True)
        await events.delete_rule(Name=rule, EventBusName=bus, Force=True)
    except ClientError as exc:
        _ignore_missing(exc)


async def sweep_orphans(
    sqs: Any,
    *,
    sns: Any = None,
    events: Any = None,
    buses: Iterable[str] = (),
    older_than: float = ORPHAN_AGE,
    now: datetime | None = None,
) -> list[str]:
    """Remove tap resources left behind by a lambdest-tui that could not clean up (kill -9, power
    loss): only queues and rules named `lambdest-tap-*` AND tagged lambdest-tui=tap AND created more
    than `older_than` seconds ago. Returns the names/ARNs removed."""
    now = now or datetime.now(UTC)
    removed: list[str] = []
    kwargs: dict[str, Any] = {"QueueNamePrefix": TAP_PREFIX, "MaxResults": 1000}
    while True:
        page = await sqs.list_queues(**kwargs)
        for url in page.get("QueueUrls", []):
            try:
                tags = (await sqs.list_queue_tags(QueueUrl=url)).get("Tags", {})
                if not _is_orphan(tags, now, older_than):
                    continue
                if (tags.get(TAG_TOPIC) and sns is None) or (tags.get(TAG_RULE) and events is None):
                    continue  # left for a sweep that can also remove its subscription / rule
                queue_arn = await _queue_arn(sqs, url)
                if sns is not None and tags.get(TAG_TOPIC):
                    removed.extend(await _unsubscribe_queue(sns, tags[TAG_TOPIC], queue_arn))
                if events is not None and tags.get(TAG_RULE):
                    await _delete_rule(events, tags[TAG_RULE], tags.get(TAG_BUS, "default"))
                    removed.append(tags[TAG_RULE])
                await sqs.delete_queue(QueueUrl=url)
                removed.append(url)
            except ClientError as exc:
                _ignore_missing(exc)
        if not page.get("NextToken"):
            break
        kwargs["NextToken"] = page["NextToken"]
    if events is not None:
        for bus in buses:
            removed.extend(await _sweep_rules(events, bus, now, older_than))
    return removed


async def _sweep_rules(events: Any, bus: str, now: datetime, older_than: float) -> list[str]:
    removed: list[str] = []
    kwargs: dict[str, Any] = {"NamePrefix": TAP_PREFIX, "EventBusName": bus}
    while True:
        try:
            page = await events.list_rules(**kwargs)
        except ClientError as exc:
            _ignore_missing(exc)
            return removed
        for rule in page.get("Rules", []):
            tags_list = (await events.list_tags_for_resource(ResourceARN=rule["Arn"])).get("Tags", [])
            tags = {tag["Key"]: tag["Value"] for tag in tags_list}
            if _is_orphan(tags, now, older_than):
                await _delete_rule(events, rule["Name"], bus)
                removed.append(rule["Name"])
        if not page.get("NextToken"):
            return removed
        kwargs["NextToken"] = page["NextToken"]


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
    """Base of the taps. Subclasses implement `_setup(stack)` (create and attach the temporary queue,
    returning its URL) and `_teardown()` (detach; the queue is deleted here)."""

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
            lambda: _queue_arn(self._sqs, str(self.queue_url)), f"temporary queue {name}", "sqs:GetQueueAttributes"
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
            self._sqs = await self._client("sqs")
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
        if self._inner is not None:
            await self._inner.aclose()
        await self._teardown()
        await self._stack.aclose()

    async def _teardown(self, *, quiet: bool = False) -> None:
        """Remove the subscription/rule and the queue; what is already gone is fine. Idempotent."""
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
                        fault.reason + " (it is tagged lambdest-tui=tap and will be swept after an hour)"
                    )
        self.queue_url = None
        self.queue_arn = None

    def _forget(self) -> None:
        """Forget the subscription / rule (subclasses), whether or not removing it worked."""
