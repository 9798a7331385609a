"""What CloudWatch counted for a function (namespace AWS/Lambda, 60 s periods) and what it means.

Dimensions: FunctionName, plus Resource = `function:qualifier` for a qualifier other than $LATEST.
One GetMetricData call reads every function and qualifier asked about (500 queries a call).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from records.discovery import short_name as short
from records.doctor.calls import Calls, Denied, Missing, Unavailable
from records.doctor.findings import METRIC_CHECKS, Finding

NAMESPACE = "AWS/Lambda"
METRICS = (
    ("Invocations", "Sum"),
    ("AsyncEventsReceived", "Sum"),
    ("AsyncEventsDropped", "Sum"),
    ("DestinationDeliveryFailures", "Sum"),
    ("DeadLetterErrors", "Sum"),
    ("AsyncEventAge", "Maximum"),
    ("Throttles", "Sum"),
    ("Errors", "Sum"),
)
DEFAULT_EVENT_AGE = 21600
DEFAULT_RETRIES = 2


@dataclass
class Subject:
    """One function qualifier, what its event-invoke config says, and where its records go."""

    function: str
    qualifier: str | None
    destinations: list[str] = field(default_factory=list)
    keeps_failures: bool = False  # an OnFailure destination or a dead-letter queue
    retries: int = DEFAULT_RETRIES
    event_age: int = DEFAULT_EVENT_AGE

    def dimensions(self) -> list[dict[str, str]]:
        dims = [{"Name": "FunctionName", "Value": self.function}]
        if self.qualifier not in (None, "$LATEST"):
            dims.append({"Name": "Resource", "Value": f"{self.function}:{self.qualifier}"})
        return dims

    def finding(self, check: str, status: str, message: str, fix: str | None = None) -> Finding:
        return Finding(self.function, self.qualifier, check, status, None, message, fix)  # type: ignore[arg-type]

    @property
    def where(self) -> str:
        return ", ".join(short(d) for d in self.destinations) or "no destination"


def period_for(since: timedelta) -> int:
    """60 s, or longer so that one query holds at most 1440 points."""
    return max(60, math.ceil(since.total_seconds() / 1440 / 60) * 60)


async def read(calls: Calls, subjects: Sequence[Subject], since: timedelta) -> list[dict[str, float | None]]:
    """Per subject, metric name -> the sum (the maximum for AsyncEventAge) over `since`, None without data."""
    end = datetime.now(UTC) + timedelta(minutes=1)
    start = end - since - timedelta(minutes=1)
    period = period_for(since)
    queries = [
        {
            "Id": f"m{i}_{j}",
            "MetricStat": {
                "Metric": {"Namespace": NAMESPACE, "MetricName": name, "Dimensions": subject.dimensions()},
                "Period": period,
                "Stat": stat,
            },
            "ReturnData": True,
        }
        for i, subject in enumerate(subjects)
        for j, (name, stat) in enumerate(METRICS)
    ]
    values: dict[str, list[float]] = {}
    for first in range(0, len(queries), 500):  # GetMetricData takes at most 500 queries a call
        pages = await calls.pages(
            "cloudwatch",
            "get_metric_data",
            MetricDataQueries=queries[first : first + 500],
            StartTime=start,
            EndTime=end,
        )
        for page in pages:
            for result in page.get("MetricDataResults", []):
                values.setdefault(str(result["Id"]), []).extend(float(v) for v in result.get("Values", []))
    found: list[dict[str, float | None]] = []
    for i in range(len(subjects)):
        one: dict[str, float | None] = {}
        for j, (name, stat) in enumerate(METRICS):
            points = values.get(f"m{i}_{j}") or []
            one[name] = (max(points) if stat == "Maximum" else sum(points)) if points else None
        found.append(one)
    return found


def _n(value: float | None) -> int:
    return int(value or 0)


def span(since: timedelta) -> str:
    seconds = int(since.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def judge(subject: Subject, values: dict[str, float | None], since: timedelta) -> list[Finding]:
    """The metric checks of one function qualifier."""
    f, last, where = subject.function, f"in the last {span(since)}", subject.where
    invocations, received = _n(values["Invocations"]), _n(values["AsyncEventsReceived"])
    findings: list[Finding] = []
    if invocations and not received:
        findings.append(
            subject.finding(
                "sync-invocations",
                "problem",
                f"{f} was invoked {invocations} time(s) {last}, all synchronously (no AsyncEventsReceived): "
                f"Lambda sends records to its destinations ({where}) only for asynchronous invokes, so none were sent",
                "invoke with --invocation-type Event (console tests, RequestResponse and event source mappings never "
                "use destinations)",
            )
        )
    elif invocations > received * (subject.retries + 1):
        sync = invocations - received * (subject.retries + 1)
        findings.append(
            subject.finding(
                "sync-invocations",
                "problem",
                f"at least {sync} of the {invocations} invocations of {f} {last} were synchronous (more than "
                f"{received} async event(s) with {subject.retries} retries explain): their records never reach {where}",
                "invoke with --invocation-type Event",
            )
        )
    else:
        findings.append(
            subject.finding(
                "sync-invocations",
                "pass",
                f"{invocations} invocation(s) of {f}, {received} asynchronous event(s) {last}",
            )
        )
    dropped = _n(values["AsyncEventsDropped"])
    if dropped and not subject.keeps_failures:
        findings.append(
            subject.finding(
                "dropped-events",
                "problem",
                f"{dropped} event(s) of {f} were dropped {last} and {f} has no OnFailure destination or dead-letter "
                "queue: their records are gone",
                f"aws lambda put-function-event-invoke-config --function-name {f} --destination-config "
                '\'{"OnFailure":{"Destination":"QUEUE_ARN"}}\'',
            )
        )
    else:
        findings.append(
            subject.finding(
                "dropped-events",
                "pass",
                f"{dropped} event(s) of {f} dropped {last}"
                + (" (their records go to the failure destination)" if dropped else ""),
            )
        )
    failures = _n(values["DestinationDeliveryFailures"])
    findings.append(
        subject.finding(
            "delivery-failures",
            "problem",
            f"{failures} record(s) of {f} could not be delivered to its destinations ({where}) {last}: they are lost",
            "see the role-permission, kms, destination-exists and destination-kind lines for the cause",
        )
        if failures
        else subject.finding("delivery-failures", "pass", f"no delivery failures of {f} {last}")
    )
    dead = _n(values["DeadLetterErrors"])
    findings.append(
        subject.finding(
            "dead-letter-errors",
            "problem",
            f"{dead} event(s) of {f} could not be sent to its dead-letter queue {last}",
            "check the dead-letter queue exists and the role may send to it",
        )
        if dead
        else subject.finding("dead-letter-errors", "pass", f"no dead-letter errors of {f} {last}")
    )
    age = values["AsyncEventAge"]
    limit = subject.event_age * 1000
    if age is not None and age >= limit / 2:
        findings.append(
            subject.finding(
                "event-age",
                "problem",
                f"events of {f} waited up to {age / 1000:.0f} s {last}, half or more of its maximum event age "
                f"({subject.event_age} s): more will be dropped before they reach {where}",
                "look at throttles and errors; raise reserved concurrency or MaximumEventAgeInSeconds",
            )
        )
    else:
        findings.append(
            subject.finding(
                "event-age",
                "pass",
                f"the oldest event of {f} waited {0 if age is None else age / 1000:.1f} s {last} "
                f"(maximum event age {subject.event_age} s)",
            )
        )
    throttles = _n(values["Throttles"])
    findings.append(
        subject.finding(
            "throttles",
            "problem",
            f"{f} was throttled {throttles} time(s) {last}: async events wait and may be dropped "
            f"before their records reach {where}",
            "raise the function's reserved concurrency (or the account's limit)",
        )
        if throttles
        else subject.finding("throttles", "pass", f"{f} was not throttled {last}")
    )
    return findings


async def metric_findings(calls: Calls, subjects: Sequence[Subject], since: timedelta) -> list[Finding]:
    if not subjects:
        return []
    try:
        values = await read(calls, subjects, since)
    except (Denied, Missing, Unavailable) as exc:
        reason = f"the caller may not {exc.permission}" if isinstance(exc, Denied) else f"reading metrics failed: {exc}"
        return [
            subject.finding(check, "unknown", f"no CloudWatch metrics for {subject.function}: {reason}")
            for subject in subjects
            for check in METRIC_CHECKS
        ]
    return [finding for subject, one in zip(subjects, values, strict=True) for finding in judge(subject, one, since)]
