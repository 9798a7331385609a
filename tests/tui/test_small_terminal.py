"""Pilot tests at 80x24: dialogs fit or scroll with focus never on a hidden field; column priorities."""

from __future__ import annotations

import json
from typing import Any

import pytest
from textual.screen import Screen

from tests.factories import FIXED_NOW, T0, ListSource, order, seed_record
from tests.tui.waiting import until
from tui.app import AppConfig, create_app
from tui.screens.dialogs import DialogBox, FilterDialog, OrderDialog
from tui.screens.main import MainScreen


async def _no_invoke(function: str, payload: Any) -> str:
    raise AssertionError("sends nothing")


def small_app() -> Any:
    record = seed_record("update-inventory", {"orderId": "ord-0447de4ed656"}, number=1, when=T0, succeeded=False)
    return create_app(
        AppConfig(
            sources=[
                ListSource([json.dumps(record)], label="topic:arn:aws:sns:eu-west-1:123456789012:order-notifications")
            ],
            invoker=_no_invoke,
            order_function="order",
            presets={"good": order("ord-good-0001")},
            clock=lambda: FIXED_NOW,
        )
    )


def assert_focus_visible(screen: Screen[Any]) -> None:
    focused = screen.focused
    assert focused is not None
    box = screen.query_one(DialogBox)
    visible = box.content_region
    region = focused.region
    assert visible.contains_region(region) or (visible.overlaps(region) and region.height > visible.height), (
        f"{focused!r} at {region} is outside the dialog's visible {visible}"
    )
    assert screen.region.contains_region(box.region), "the dialog fits on the screen"


@pytest.mark.parametrize(("key", "dialog", "stops"), [("f", FilterDialog, 8), ("O", OrderDialog, 4)])
async def test_dialogs_fit_or_scroll_and_focus_stays_visible(key: str, dialog: type, stops: int) -> None:
    app = small_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: len(app.session.records) == 1, "records")
        await pilot.press(key)
        await until(pilot, lambda: isinstance(app.screen, dialog), "dialog")
        await pilot.pause()
        for _ in range(stops + 1):  # every field and button, and round again
            await pilot.press("tab")
            await pilot.pause()
            assert_focus_visible(app.screen)


async def test_time_and_order_id_stay_whole_and_the_source_is_shortened_in_the_middle() -> None:
    app = small_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: len(app.session.records) == 1, "records")
        screen = app.screen
        assert isinstance(screen, MainScreen)
        line = screen.records_table.render_line(1).text
        assert "ord-0447de4ed656" in line, line
        assert "12:00:00.000" in line or (":" in line.split()[0] and len(line.split()[0]) == 12), line
        source = line.split()[1]
        assert source.startswith("topic") and "…" in source and source.endswith("ions"), line
        assert screen.query_one("#detail").size.height < 8, "a smaller detail area on a short terminal"
