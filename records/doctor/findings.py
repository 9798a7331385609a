"""One line of the doctor's answer: a check on one function (and destination), its status and fix."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

Status = Literal["pass", "problem", "unknown"]

# The stable check ids, in the order the doctor reports them (DESIGN.md "Doctor and health").
CHECKS = (
    "invoke-config",
    "destination-exists",
    "destination-kind",
    "role-permission",
    "kms",
    "sns-subscriptions",
    "bus-rules",
    "sync-invocations",
    "dropped-events",
    "delivery-failures",
    "dead-letter-errors",
    "event-age",
    "throttles",
)


@dataclass(frozen=True, slots=True)
class Finding:
    function: str
    qualifier: str | None
    check: str
    status: Status
    destination: str | None
    message: str
    fix: str | None = None

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @property
    def order(self) -> tuple[int, str]:
        return (CHECKS.index(self.check) if self.check in CHECKS else len(CHECKS), self.destination or "")


def short(arn: str | None) -> str:
    """The readable end of an ARN (a queue, topic, bus, bucket or function name)."""
    if not arn:
        return "-"
    if not arn.startswith("arn:"):
        return arn
    parts = arn.split(":")
    if len(parts) > 6 and parts[2] == "lambda":
        return ":".join(parts[6:])
    return parts[-1].removeprefix("event-bus/")


def noun(kind: str | None) -> str:
    return {"sqs": "queue", "sns": "topic", "events": "event bus", "lambda": "function", "s3": "bucket"}.get(
        kind or "", "destination"
    )
