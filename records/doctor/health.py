"""One look at the health of the watched functions, for the UI's health view (no UI here)."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from records.aws_options import AwsOptions
from records.discovery import DiscoveryError
from records.doctor.calls import Calls, Denied, Missing, Unavailable
from records.doctor.findings import Finding
from records.doctor.metrics import METRICS, NAMESPACE

__all__ = ["LOSS_METRICS", "FunctionHealth", "Health", "check", "losses"]

LOSS_METRICS = ("AsyncEventsDropped", "DestinationDeliveryFailures", "DeadLetterErrors")
"""The metrics that count events lost on their way to a destination (what `losses` reports)."""
PERIOD = 60  # CloudWatch's resolution for Lambda's metrics
_STATUS_ORDER = {"problem": 0, "unknown": 1, "pass": 2}


@dataclass(frozen=True, slots=True)
class FunctionHealth:
    """The CloudWatch metrics of one function over the window.

    `totals`: metric -> the sum over the window (the maximum for a metric read as a maximum:
    AsyncEventAge); None when CloudWatch has no data point for it. `series`: metric -> one value
    a minute, oldest first, 0 for a minute CloudWatch has no data for.
    """

    function: str
    totals: Mapping[str, float | None] = field(default_factory=dict)
    series: Mapping[str, tuple[float, ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Health:
    """What one look found; `read_at` is seconds since the epoch.

    `functions`: a `FunctionHealth` per function asked for. `to_json()` and `Health.from_json()`
    are the form `records.doctor.health_worker` prints and the UI reads back.
    """

    read_at: float
    functions: tuple[FunctionHealth, ...] = ()
    findings: tuple[Finding, ...] = ()  # problems first, then unknowns, then passes
    metrics_error: str | None = None  # why there are no metrics (a sentence)
    doctor_error: str | None = None  # why there are no findings (a sentence)

    def to_json(self) -> dict[str, Any]:
        """This reading as plain JSON data (what `from_json` reads back)."""
        return {
            "read_at": self.read_at,
            "functions": [
                {
                    "function": one.function,
                    "totals": dict(one.totals),
                    "series": {name: list(values) for name, values in one.series.items()},
                }
                for one in self.functions
            ],
            "findings": [finding.to_json() for finding in self.findings],
            "metrics_error": self.metrics_error,
            "doctor_error": self.doctor_error,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Health:
        """The reading `to_json` wrote (raises KeyError, TypeError or ValueError for anything else)."""
        return cls(
            float(data["read_at"]),
            tuple(
                FunctionHealth(
                    str(one["function"]),
                    {str(k): None if v is None else float(v) for k, v in one["totals"].items()},
                    {str(k): tuple(float(x) for x in v) for k, v in one["series"].items()},
                )
                for one in data["functions"]
            ),
            tuple(Finding(**finding) for finding in data["findings"]),
            data.get("metrics_error"),
            data.get("doctor_error"),
        )


def losses(health: Health) -> dict[str, dict[str, int]]:
    """Per function, the loss metrics (`LOSS_METRICS`) above zero over the window:
    {function: {metric: count}}; functions with no loss are left out."""
    found: dict[str, dict[str, int]] = {}
    for one in health.functions:
        counted = {name: int(one.totals.get(name) or 0) for name in LOSS_METRICS}
        counted = {name: count for name, count in counted.items() if count > 0}
        if counted:
            found[one.function] = counted
    return found


async def check(
    functions: Sequence[str],
    aws: AwsOptions,
    *,
    window: timedelta = timedelta(hours=1),
    now: float | None = None,
    clients: Mapping[str, Any] | None = None,
) -> Health:
    """The metrics and the doctor's findings of `functions` (duplicates read once).

    Per function the CloudWatch metrics of the last `window` in 1-minute periods, ending with the
    current minute (GetMetricData, all functions together, up to 500 queries a call), and the
    findings of `records.doctor.diagnose` over the same window, problems first. `now`: the time of
    the reading (seconds since the epoch; default: now). `clients`: AWS clients to use by service
    name instead of making new ones. Never raises for AWS trouble: a read that failed becomes a
    sentence in `Health.metrics_error` or `Health.doctor_error` (a doctor's check that breaks in any
    way too).
    """
    from records.doctor import diagnose

    read_at = time.time() if now is None else now
    names = list(dict.fromkeys(functions))
    if not names:
        return Health(read_at)
    metrics_error: str | None = None
    try:
        series = await _series(names, aws, window, read_at, clients)
    except (Denied, Missing, Unavailable, DiscoveryError) as exc:
        series = [FunctionHealth(name) for name in names]
        metrics_error = _sentence(exc, "No CloudWatch metrics")
    doctor_error: str | None = None
    findings: list[Finding] = []
    try:
        findings = await diagnose(names, aws, since=window, clients=clients)
    except (DiscoveryError, Denied, Missing, Unavailable) as exc:
        doctor_error = _sentence(exc, "The doctor's checks could not run")
    except Exception as exc:  # a check that breaks must not end the health view: say so
        doctor_error = f"The doctor's checks could not run: {type(exc).__name__}: {exc}"
    findings.sort(key=lambda f: _STATUS_ORDER.get(f.status, 3))  # stable: the doctor's order within
    return Health(read_at, tuple(series), tuple(findings), metrics_error, doctor_error)


def _sentence(exc: Exception, what: str) -> str:
    """`what` ("No CloudWatch metrics") and why, as one sentence."""
    if isinstance(exc, Denied):
        reason = f"the caller may not {exc.permission}"
    elif isinstance(exc, Missing):
        reason = f"{exc} (not found)"
    elif isinstance(exc, Unavailable):
        reason = exc.reason
    else:
        reason = str(exc)
    reason = reason.rstrip()
    return f"{what}: {reason}" + ("" if reason.endswith(".") else ".")


async def _series(
    names: Sequence[str],
    aws: AwsOptions,
    window: timedelta,
    read_at: float,
    clients: Mapping[str, Any] | None,
) -> list[FunctionHealth]:
    minutes = max(1, int(window.total_seconds()) // PERIOD)
    end = math.floor(read_at / PERIOD) * PERIOD + PERIOD  # the end of the current minute
    start = end - minutes * PERIOD
    queries = [
        {
            "Id": f"m{i}_{j}",
            "MetricStat": {
                "Metric": {
                    "Namespace": NAMESPACE,
                    "MetricName": metric,
                    "Dimensions": [{"Name": "FunctionName", "Value": name}],
                },
                "Period": PERIOD,
                "Stat": stat,
            },
            "ReturnData": True,
        }
        for i, name in enumerate(names)
        for j, (metric, stat) in enumerate(METRICS)
    ]
    points: dict[str, dict[int, float]] = {}
    calls = Calls(aws, 4, clients)
    async with calls.stack:
        for first in range(0, len(queries), 500):
            token: dict[str, Any] = {}
            while True:
                page = await calls.call(
                    "cloudwatch",
                    "get_metric_data",
                    MetricDataQueries=queries[first : first + 500],
                    StartTime=datetime.fromtimestamp(start, UTC),
                    EndTime=datetime.fromtimestamp(end, UTC),
                    **token,
                )
                for result in page.get("MetricDataResults", []):
                    key = str(result["Id"])
                    slot = points.setdefault(key, {})
                    peak = METRICS[int(key.split("_")[1])][1] == "Maximum"
                    for stamp, value in zip(result.get("Timestamps", []), result.get("Values", []), strict=False):
                        minute = int((_epoch(stamp) - start) // PERIOD)
                        if 0 <= minute < minutes:
                            before = slot.get(minute)
                            joined = float(value) if before is None else (max if peak else sum)((before, float(value)))
                            slot[minute] = joined
                if not page.get("NextToken"):
                    break
                token = {"NextToken": page["NextToken"]}
    found: list[FunctionHealth] = []
    for i, name in enumerate(names):
        totals: dict[str, float | None] = {}
        series: dict[str, tuple[float, ...]] = {}
        for j, (metric, stat) in enumerate(METRICS):
            slot = points.get(f"m{i}_{j}", {})
            series[metric] = tuple(slot.get(minute, 0.0) for minute in range(minutes))
            values = list(slot.values())
            totals[metric] = (max(values) if stat == "Maximum" else sum(values)) if values else None
        found.append(FunctionHealth(name, totals, series))
    return found


def _epoch(stamp: Any) -> float:
    if isinstance(stamp, datetime):
        return (stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)).timestamp()
    return float(stamp)
