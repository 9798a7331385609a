"""Snapshots (pytest-textual-snapshot) of the main screen, the record screen, help and the order
dialog, on fixed data and a fixed clock. Update with `pytest tests/tui --snapshot-update` after
looking at the change."""

from __future__ import annotations

import json
from typing import Any

from textual.pilot import Pilot

from tests.factories import FIXED_NOW, ListSource, mixed_records, order
from tests.tui.snapshot_helpers import SIZE
from tests.tui.waiting import until
from tui.app import AppConfig, LambdestApp, create_app
from tui.screens.detail import DetailScreen
from tui.screens.dialogs import FilterDialog, OrderDialog
from tui.screens.help import HelpScreen

RAWS = [json.dumps(document) for document in mixed_records(12)] + ['{"not": "a record"}']


async def _no_invoke(function: str, payload: Any) -> str:
    raise AssertionError("snapshots send nothing")


def make_app() -> LambdestApp:
    return create_app(
        AppConfig(
            sources=[ListSource(RAWS, label="queue:order-failures")],
            invoker=_no_invoke,
            order_function="order",
            presets={"good": order("ord-good-0001"), "declined": order("ord-declined-0001", card="4000000000000002")},
            clock=lambda: FIXED_NOW,
        )
    )


async def loaded(pilot: Pilot[None]) -> None:
    app = pilot.app
    assert isinstance(app, LambdestApp)
    await until(
        pilot,
        lambda: len(app.session.records) == len(RAWS) and app.session.statuses["queue:order-failures"].state == "done",
    )
    app.refresh_views(totals_now=True)
    await pilot.pause()


def test_main_screen(snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await loaded(pilot)
        await pilot.press("down", "down")

    assert snap_compare(make_app(), run_before=run_before, terminal_size=SIZE)


def test_detail_screen(snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await loaded(pilot)
        await pilot.press("down", "down", "down", "enter")  # the out-of-stock failure of update-inventory
        await until(pilot, lambda: isinstance(pilot.app.screen, DetailScreen))
        await pilot.press("1")
        await pilot.pause()

    assert snap_compare(make_app(), run_before=run_before, terminal_size=SIZE)


def test_help_screen(snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await loaded(pilot)
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(pilot.app.screen, HelpScreen))
        await pilot.pause()

    assert snap_compare(make_app(), run_before=run_before, terminal_size=SIZE)


def test_order_dialog(snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await loaded(pilot)
        await pilot.press("O")
        await until(pilot, lambda: isinstance(pilot.app.screen, OrderDialog))
        await pilot.pause()

    assert snap_compare(make_app(), run_before=run_before, terminal_size=SIZE)


SMALL = (80, 24)


def test_main_screen_80x24(snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await loaded(pilot)
        await pilot.press("down")

    assert snap_compare(make_app(), run_before=run_before, terminal_size=SMALL)


def test_order_dialog_80x24(snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await loaded(pilot)
        await pilot.press("O")
        await until(pilot, lambda: isinstance(pilot.app.screen, OrderDialog))
        await pilot.pause()

    assert snap_compare(make_app(), run_before=run_before, terminal_size=SMALL)


def test_filter_dialog_80x24(snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await loaded(pilot)
        await pilot.press("f")
        await until(pilot, lambda: isinstance(pilot.app.screen, FilterDialog))
        await pilot.pause()

    assert snap_compare(make_app(), run_before=run_before, terminal_size=SMALL)
