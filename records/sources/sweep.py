"""What marks a tap resource as ours and as dead, and the orphan sweep that removes dead ones.

Ours: named lambdest-tap-* AND tagged lambdest-tui=tap, both read from the resource itself. A rule
is judged by its own name and its own tags (events ListTagsForResource, and TAG_RULE naming itself),
never by what a queue's tags say: a queue's TAG_RULE/TAG_BUS only say on which bus to look. Rules
managed by a service are skipped, and nothing is deleted with Force. A subscription is removed only
when it is an sqs subscription delivering to a queue that is ours and being removed.

Dead: its heartbeat (its creation time for taps made before heartbeats) is older than `older_than`,
or it was made on this host (same host name, boot and pid namespace) by a process that is gone:
that case at once. A tap of a live process, or of a host we cannot be sure is this one, lives until
its heartbeat goes stale.
"""

from __future__ import annotations

import os
import re
import secrets
import socket
from collections.abc import Iterable
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from records.files import now_iso

__all__ = [
    "HEARTBEAT_SECONDS",
    "ORPHAN_AGE",
    "TAG_BOOT",
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
    "boot_identity",
    "delete_rule",
    "heartbeat_tags",
    "orphan_reason",
    "queue_arn",
    "sweep_orphans",
    "tap_name",
    "tap_tags",
]

TAG_KEY = "lambdest-tui"
"""The tag every tap resource carries, with the value `TAG_VALUE`."""
TAG_VALUE = "tap"
TAG_CREATED = "lambdest-tui:created"
"""When the tap was made (ISO UTC); the heartbeat of taps made before heartbeats."""
TAG_HEARTBEAT = "lambdest-tui:heartbeat"
"""When a live tap last said it is alive (ISO UTC), refreshed every `HEARTBEAT_SECONDS`."""
TAG_HOST = "lambdest-tui:host"
"""The host name of the process that made the tap."""
TAG_BOOT = "lambdest-tui:boot"
"""The boot and pid namespace of that process (`boot_identity`); absent where it cannot be known."""
TAG_PID = "lambdest-tui:pid"
"""The pid of that process."""
TAG_TOPIC = "lambdest-tui:topic"
"""On a queue: the ARN of the topic it is subscribed to."""
TAG_RULE = "lambdest-tui:rule"
"""On a queue: the name of the rule that targets it; on a rule: its own name."""
TAG_BUS = "lambdest-tui:bus"
"""On a queue: the bus of that rule."""
TAP_PREFIX = "lambdest-tap-"
"""The start of the name of every temporary queue and rule."""
HEARTBEAT_SECONDS = 300.0
"""How often a live tap refreshes `TAG_HEARTBEAT`."""
ORPHAN_AGE = 3600.0
"""A tap whose heartbeat is older than this (seconds) is dead."""
_BUS_NAME = re.compile(r"^[A-Za-z0-9._\-/:]{1,1600}$")


def _hostname() -> str:
    return socket.gethostname()[:200] or "unknown"


@cache
def boot_identity() -> str | None:
    """This boot and pid namespace (Linux): two hosts with one name, or two containers on one host,
    never look like the same place. None where it cannot be known (then no pid is ever checked)."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip()
        namespace = "".join(ch for ch in os.readlink("/proc/self/ns/pid") if ch.isdigit())
    except (OSError, UnicodeDecodeError):
        return None
    return f"{boot}/{namespace}"[:256] if boot else None


def tap_name(kind: str) -> str:
    """A queue/rule name: lambdest-tap-<kind>-<pid>-<random> (SQS allows 80 characters)."""
    return f"{TAP_PREFIX}{kind}-{os.getpid()}-{secrets.token_hex(4)}"[:64]


def tap_tags(**attached: str) -> dict[str, str]:
    """The tags of a new tap resource: ours, created and heartbeat now, this host, boot and pid,
    and each `attached` keyword as the tag `lambdest-tui:<keyword>` (topic, rule, bus)."""
    now = now_iso()
    tags = {TAG_KEY: TAG_VALUE, TAG_CREATED: now, TAG_HEARTBEAT: now, TAG_HOST: _hostname(), TAG_PID: str(os.getpid())}
    boot = boot_identity()
    if boot:
        tags[TAG_BOOT] = boot
    for key, value in attached.items():
        tags[f"{TAG_KEY}:{key}"] = value[:256]
    return tags


def heartbeat_tags() -> dict[str, str]:
    """The tag that says a tap is alive now (`TAG_HEARTBEAT`), to put on its resources."""
    return {TAG_HEARTBEAT: now_iso()}


def _when(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _process_gone(pid: int) -> bool:
    if pid <= 0 or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (OSError, OverflowError, ValueError):  # PermissionError: it exists, someone else's
        return False
    return False


def orphan_reason(tags: dict[str, str], now: datetime, older_than: float) -> str | None:
    """Why the tap these tags describe is dead, or None while it may be alive (or is not a tap).

    Dead: made on this host (same host name, boot and pid namespace) by a process that is gone,
    or its heartbeat (else its creation time) is more than `older_than` seconds before `now`.
    """
    if tags.get(TAG_KEY) != TAG_VALUE:
        return None
    boot = boot_identity()
    same_host = boot is not None and tags.get(TAG_BOOT) == boot and tags.get(TAG_HOST) == _hostname()
    pid_text = tags.get(TAG_PID, "")
    if same_host and pid_text.isdigit() and _process_gone(int(pid_text)):
        return f"its process {pid_text} on this host is gone"
    beat = _when(tags.get(TAG_HEARTBEAT)) or _when(tags.get(TAG_CREATED))
    if beat is None:
        return None
    silent = (now - beat).total_seconds()
    if silent > older_than:
        return f"no heartbeat for {silent / 60:.0f} minutes"
    return None


def _missing(exc: ClientError) -> bool:
    code = str(exc.response.get("Error", {}).get("Code", ""))
    return "NotFound" in code or "NonExistent" in code or "DoesNotExist" in code


def _ignore_missing(exc: ClientError) -> None:
    if not _missing(exc):
        raise exc


async def queue_arn(sqs: Any, url: str) -> str:
    """The ARN of the queue at `url` (GetQueueAttributes); raises botocore's ClientError."""
    attributes = await sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    return str(attributes["Attributes"]["QueueArn"])


async def _unsubscribe_queue(sns: Any, topic_arn: str, queue_arn: str) -> list[str]:
    """Remove the sqs subscriptions of `topic_arn` that deliver to `queue_arn` (ours), nothing else."""
    if not topic_arn.startswith("arn:") or topic_arn.split(":")[2:3] != ["sns"]:
        return []
    removed: list[str] = []
    try:
        async for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic_arn):
            for subscription in page.get("Subscriptions", []):
                arn = str(subscription.get("SubscriptionArn", ""))
                ours = subscription.get("Protocol") == "sqs" and subscription.get("Endpoint") == queue_arn
                if ours and arn.startswith("arn:"):  # not "PendingConfirmation"
                    await sns.unsubscribe(SubscriptionArn=arn)
                    removed.append(arn)
    except ClientError as exc:
        _ignore_missing(exc)
    return removed


async def delete_rule(events: Any, rule: str, bus: str) -> None:
    """Remove the targets of a rule of ours on `bus`, then the rule; never with Force (a rule a
    service manages refuses, and stays). What is already gone is fine; other AWS errors raise
    botocore's ClientError."""
    try:
        ids: list[str] = []
        async for page in events.get_paginator("list_targets_by_rule").paginate(Rule=rule, EventBusName=bus):
            ids.extend(str(target["Id"]) for target in page.get("Targets", []))
        for start in range(0, len(ids), 100):
            await events.remove_targets(Rule=rule, EventBusName=bus, Ids=ids[start : start + 100])
        await events.delete_rule(Name=rule, EventBusName=bus)
    except ClientError as exc:
        _ignore_missing(exc)


def _tag_dict(tags: Iterable[dict[str, str]]) -> dict[str, str]:
    return {str(tag["Key"]): str(tag["Value"]) for tag in tags}


async def sweep_orphans(
    sqs: Any,
    *,
    sns: Any = None,
    events: Any = None,
    buses: Iterable[str] = (),
    older_than: float = ORPHAN_AGE,
    now: datetime | None = None,
) -> list[str]:
    """Remove dead taps left behind by a lambdest-tui that could not clean up (kill -9, power loss):
    queues (with their subscriptions) and, on `buses` and on the buses our queues name, rules.
    Only what is ours and dead (see the module doc, and `orphan_reason`): `older_than` seconds
    without a heartbeat, as of `now` (default: now). Without `sns` a queue attached to a topic is
    left alone, and without `events` a queue attached to a rule, and no rule is looked at.
    Returns the queue URLs, subscription ARNs and rule names removed."""
    now = now or datetime.now(UTC)
    removed: list[str] = []
    asked = list(dict.fromkeys(buses))
    named: list[str] = []  # buses our queues say their rules are on (looked at, never trusted)
    async for page in sqs.get_paginator("list_queues").paginate(
        QueueNamePrefix=TAP_PREFIX, PaginationConfig={"PageSize": 1000}
    ):
        for url in page.get("QueueUrls", []):
            if not str(url).rstrip("/").rsplit("/", 1)[-1].startswith(TAP_PREFIX):
                continue
            try:
                tags = (await sqs.list_queue_tags(QueueUrl=url)).get("Tags", {})
                if tags.get(TAG_KEY) != TAG_VALUE:
                    continue
                bus = tags.get(TAG_BUS, "")
                if tags.get(TAG_RULE) and _BUS_NAME.match(bus) and bus not in asked:
                    named.append(bus)
                if orphan_reason(tags, now, older_than) is None:
                    continue
                if (tags.get(TAG_TOPIC) and sns is None) or (tags.get(TAG_RULE) and events is None):
                    continue  # left for a sweep that can also remove its subscription / rule
                if sns is not None and tags.get(TAG_TOPIC):
                    removed.extend(await _unsubscribe_queue(sns, tags[TAG_TOPIC], await queue_arn(sqs, url)))
                await sqs.delete_queue(QueueUrl=url)
                removed.append(url)
            except ClientError as exc:
                _ignore_missing(exc)
    if events is not None:
        for bus in asked:
            removed.extend(await _sweep_rules(events, bus, now, older_than))
        for bus in dict.fromkeys(named):
            try:
                removed.extend(await _sweep_rules(events, bus, now, older_than))
            except ClientError:
                continue  # a bus only a queue's tag names: not worth failing the sweep for
    return removed


async def _sweep_rules(events: Any, bus: str, now: datetime, older_than: float) -> list[str]:
    removed: list[str] = []
    try:
        async for page in events.get_paginator("list_rules").paginate(NamePrefix=TAP_PREFIX, EventBusName=bus):
            for rule in page.get("Rules", []):
                name = str(rule.get("Name", ""))
                if not name.startswith(TAP_PREFIX) or rule.get("ManagedBy"):
                    continue
                try:
                    listed = await events.list_tags_for_resource(ResourceARN=rule["Arn"])
                except ClientError as exc:
                    _ignore_missing(exc)
                    continue
                tags = _tag_dict(listed.get("Tags", []))
                if tags.get(TAG_RULE) != name or orphan_reason(tags, now, older_than) is None:
                    continue
                await delete_rule(events, name, bus)
                removed.append(name)
    except ClientError as exc:
        _ignore_missing(exc)
    return removed
