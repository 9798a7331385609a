"""What the snapshot tests share: the terminal size, and a fixed health reading (metrics,
sparklines, the doctor's findings) as the poller would post it."""

from __future__ import annotations

from records.doctor.findings import Finding
from records.doctor.health import FunctionHealth, Health
from records.doctor.metrics import METRICS
from tests.factories import FIXED_NOW

SIZE = (150, 42)


def series(peaks: dict[int, float]) -> tuple[float, ...]:
    return tuple(peaks.get(minute, 0.0) for minute in range(60))


def reading() -> Health:
    order = {name: series({}) for name, _ in METRICS}
    order["Invocations"] = series({40: 3, 41: 5, 55: 9, 59: 2})
    order["AsyncEventsReceived"] = series({40: 3, 41: 3, 55: 5, 59: 2})
    order["AsyncEventsDropped"] = series({41: 1, 55: 2})
    order["Errors"] = series({41: 2, 55: 6})
    order["AsyncEventAge"] = series({41: 1200, 55: 3400})
    inventory = {name: series({}) for name, _ in METRICS}
    inventory["Invocations"] = series({40: 3, 41: 2, 56: 4})
    inventory["AsyncEventsReceived"] = series({40: 3, 41: 2, 56: 4})
    inventory["DestinationDeliveryFailures"] = series({56: 1})

    def totals(one: dict[str, tuple[float, ...]]) -> dict[str, float | None]:
        found: dict[str, float | None] = {}
        for name, stat in METRICS:
            values = [v for v in one[name] if v]
            found[name] = (max(values) if stat == "Maximum" else sum(values)) if values else None
        return found

    findings = (
        Finding(
            "update-inventory",
            None,
            "delivery-failures",
            "problem",
            None,
            "1 record(s) of update-inventory could not be delivered to its destinations (order-notifications) "
            "in the last 1h: they are lost",
            "see the role-permission, kms, destination-exists and destination-kind lines for the cause",
        ),
        Finding(
            "update-inventory",
            None,
            "role-permission",
            "unknown",
            "arn:aws:sns:us-east-1:123456789012:order-notifications",
            "the caller may not iam:SimulatePrincipalPolicy, so the role's permission on order-notifications "
            "is unknown",
        ),
        Finding("order", None, "invoke-config", "pass", None, "order ($LATEST) sends its records to on-failure q"),
    )
    return Health(
        FIXED_NOW,
        (
            FunctionHealth("order", totals(order), order),
            FunctionHealth("update-inventory", totals(inventory), inventory),
        ),
        findings,
    )
