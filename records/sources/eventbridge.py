"""An EventBridge bus as a live source, tapped through a temporary rule and SQS queue.

It sweeps orphans, creates a queue and a rule (both named lambdest-tap-events-..., both tagged
lambdest-tui=tap + created, heartbeat, host, boot, pid, rule, bus) on the bus; the queue's policy lets only
events.amazonaws.com send, only from that rule (aws:SourceArn); the rule targets the queue.
While it lives it refreshes the heartbeat tag of both. `aclose()` removes the target, the rule and
the queue (without Force: the rule is an ordinary one of ours).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from typing import Any

from records.sources.base import SourceStatus
from records.sources.faults import SourceFailed
from records.sources.taps import TapSource, tap_name, tap_tags

__all__ = ["DEFAULT_PATTERN", "TARGET_ID", "EventBridgeTap", "parse_pattern"]

DEFAULT_PATTERN: dict[str, Any] = {
    "source": ["lambda", "aws.lambda"],
    "detail-type": [
        "Lambda Function Invocation Result - Success",
        "Lambda Function Invocation Result - Failure",
    ],
}
"""Lambda destination events: source lambda or aws.lambda, detail-type
"Lambda Function Invocation Result - Success" or "- Failure"."""
TARGET_ID = "lambdest-tui-tap"
"""The id of the temporary rule's one target, the temporary queue."""


def parse_pattern(pattern: str | Mapping[str, Any] | None) -> str:
    """The event pattern as JSON text: `pattern` (a JSON string or a dict), or DEFAULT_PATTERN when
    None. A clear ValueError (naming `--pattern`) when it is not a JSON object."""
    if pattern is None:
        return json.dumps(DEFAULT_PATTERN)
    if isinstance(pattern, Mapping):
        return json.dumps(dict(pattern))
    try:
        parsed = json.loads(pattern)
    except json.JSONDecodeError as exc:
        raise ValueError(f"--pattern is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from exc
    if not isinstance(parsed, dict):
        raise ValueError('--pattern must be a JSON object, e.g. {"source": ["aws.lambda"]}')
    return json.dumps(parsed)


class EventBridgeTap(TapSource):
    """A `records.sources.base.Source` labelled "bus:NAME", mode "tap": the events on `bus` (a name
    or an ARN) that match `pattern`, read from a temporary queue a temporary rule targets (see the
    module docstring). `pattern` (a JSON string or a dict, `--pattern`) replaces DEFAULT_PATTERN;
    `parse_pattern` raises ValueError here when it is not a JSON object. The other options are
    `TapSource`'s."""

    kind = "events"

    def __init__(self, bus: str = "default", *, pattern: str | Mapping[str, Any] | None = None, **options: Any) -> None:
        self.bus = bus
        self.name = bus.rsplit("/", 1)[-1] if bus.startswith("arn:") else bus
        self.pattern = parse_pattern(pattern)
        self.rule_name: str | None = None
        self.rule_arn: str | None = None
        self._target_added = False
        super().__init__(f"bus:{self.name}", **options)

    def _buses(self) -> list[str]:
        return [self.bus]

    async def _setup(self) -> AsyncIterator[SourceStatus]:
        if self._events is None:
            self._events = await self._client("events")
        resource = f"event bus {self.name}"
        async for status in self._call(
            lambda: self._events.describe_event_bus(Name=self.bus), resource, "events:DescribeEventBus"
        ):
            yield status
        name = tap_name("events")
        tags = tap_tags(rule=name, bus=self.bus)
        async for status in self._create_queue(name, tags):
            yield status
        async for status in self._call(
            lambda: self._events.put_rule(
                Name=name,
                EventBusName=self.bus,
                EventPattern=self.pattern,
                State="ENABLED",
                Description="temporary rule of a lambdest-tui tap; removed when it exits",
                Tags=[{"Key": key, "Value": value} for key, value in tags.items()],
            ),
            resource,
            "events:PutRule",
        ):
            yield status
        self.rule_name = name
        self.rule_arn = str(self._result["RuleArn"])
        async for status in self._allow("events.amazonaws.com", self.rule_arn):
            yield status
        async for status in self._call(
            lambda: self._events.put_targets(
                Rule=name, EventBusName=self.bus, Targets=[{"Id": TARGET_ID, "Arn": self.queue_arn}]
            ),
            resource,
            "events:PutTargets",
        ):
            yield status
        failed = self._result.get("FailedEntryCount", 0)
        self._target_added = True
        if failed:
            entries = self._result.get("FailedEntries", [])
            raise SourceFailed(f"{resource}: the rule could not target the temporary queue: {entries}")

    async def _detach(self) -> None:
        if self.rule_name is None or self._events is None:
            return
        if self._target_added:
            await self._events.remove_targets(Rule=self.rule_name, EventBusName=self.bus, Ids=[TARGET_ID])
            self._target_added = False
        await self._events.delete_rule(Name=self.rule_name, EventBusName=self.bus)
        self.rule_name = None

    async def _tag(self, tags: dict[str, str]) -> None:
        await super()._tag(tags)
        if self.rule_arn is not None:
            await self._events.tag_resource(
                ResourceARN=self.rule_arn, Tags=[{"Key": key, "Value": value} for key, value in tags.items()]
            )

    def _forget(self) -> None:
        self.rule_name = None
        self.rule_arn = None
        self._target_added = False
