"""One line of the doctor's answer: a check on one function (and destination), its status and fix."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

Status = Literal["pass", "problem", "unknown"]

# The stable check ids, in the order the doctor reports them (DESIGN.md "Doctor and health").
METRIC_CHECKS = (
    "sync-invocations",
    "dropped-events",
    "delivery-failures",
    "dead-letter-errors",
    "event-age",
    "throttles",
)
"""The checks read from CloudWatch metrics (records.doctor.metrics)."""

CHECKS = (
    "invoke-config",
    "destination-exists",
    "destination-kind",
    "role-permission",
    "kms",
    "sns-subscriptions",
    "bus-rules",
    *METRIC_CHECKS,
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


def noun(kind: str | None) -> str:
    return {"sqs": "queue", "sns": "topic", "events": "event bus", "lambda": "function", "s3": "bucket"}.get(
        kind or "", "destination"
    )
