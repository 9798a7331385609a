"""Snapshots of the health screen and the status bar's loss badge on fixed data: a fixed reading
(metrics, sparklines, the doctor's findings) posted as the poller would, fixed records seen.
Update with `pytest tests/tui --snapshot-update` after looking at the change."""

from __future__ import annotations

import json
from typing import Any

from textual.pilot import Pilot

from tests.factories import FIXED_NOW, ListSource, mixed_records
from tests.tui.snapshot_helpers import SIZE, reading
from tests.tui.waiting import until
from tui.app import AppConfig, LambdestApp, create_app
from tui.messages import HealthRead
from tui.screens.health import HealthScreen

RAWS = [json.dumps(document) for document in mixed_records(10)]


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
