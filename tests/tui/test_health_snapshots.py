"""Snapshots of the health screen and the status bar's loss badge on fixed data: a fixed reading
(metrics, sparklines, the doctor's findings) posted as the poller would, fixed records seen.
Update with `pytest tests/tui --snapshot-update` after looking at the change."""

from __future__ import annotations

import json
from typing import Any

from textual.pilot import Pilot

from records.doctor.findings import Finding
from records.doctor.health import FunctionHealth, Health
from records.doctor.metrics import METRICS
from tests.factories import FIXED_NOW, ListSource, mixed_records
from tests.tui.test_snapshots import SIZE
from tests.tui.waiting import until
from tui.app import AppConfig, LambdestApp, create_app
from tui.messages import HealthRead
from tui.screens.health import HealthScreen

RAWS = [json.dumps(document) for document in mixed_records(10)]


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


def make_app() -> LambdestApp:
    return create_app(
        AppConfig(
            sources=[ListSource(RAWS, label="queue:order-failures")],
            clock=lambda: FIXED_NOW,
            watched_functions=["order", "update-inventory"],  # no AWS options: no poller, the test posts
        )
    )


async def loaded(pilot: Pilot[None]) -> LambdestApp:
    app = pilot.app
    assert isinstance(app, LambdestApp)
    await until(pilot, lambda: app.session.statuses["queue:order-failures"].state == "done")
    app.refresh_views(totals_now=True)
    app.post_message(HealthRead(reading()))
    await until(pilot, lambda: app.health is not None)
    await pilot.pause()
    return app


def test_health_screen(snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        app = await loaded(pilot)
        await pilot.press("h")
        await until(pilot, lambda: isinstance(app.screen, HealthScreen) and bool(app.screen.shown_seen))
        await pilot.pause()

    assert snap_compare(make_app(), run_before=run_before, terminal_size=(SIZE[0], 50))


def test_loss_badge(snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await loaded(pilot)

    assert snap_compare(make_app(), run_before=run_before, terminal_size=SIZE)
