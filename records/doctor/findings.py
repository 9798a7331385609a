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
"""The stable check ids, in report order."""


@dataclass(frozen=True, slots=True)
class Finding:
    """One check's answer: `function`, `qualifier`, `check` (one of `CHECKS`), `status` (pass,
    problem or unknown: the caller may not read what the check needs), `destination` (an ARN, None
    for checks on the function), `message` (a sentence) and `fix` (a command or hint, when known)."""

    function: str
    qualifier: str | None
    check: str
    status: Status
    destination: str | None
    message: str
    fix: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The fields as a dict (a line of `lambdest-tui doctor --format jsonl`)."""
        return dataclasses.asdict(self)

    @property
    def order(self) -> tuple[int, str]:
        return (CHECKS.index(self.check) if self.check in CHECKS else len(CHECKS), self.destination or "")


def noun(kind: str | None) -> str:
    return {"sqs": "queue", "sns": "topic", "events": "event bus", "lambda": "function", "s3": "bucket"}.get(
        kind or "", "destination"
    )
