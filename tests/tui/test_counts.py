"""Pilot tests: failures counted and listed where they happened, even when seen only nested."""

from __future__ import annotations

from pathlib import Path

from records.sources.replay import ReplaySource
from tests.factories import FIXED_NOW, declined, happy_order, out_of_stock, write_jsonl
from tests.tui.waiting import until
from tui.app import AppConfig, create_app
from tui.screens.main import MainScreen

SIZE = (150, 45)


async def test_x_lists_a_failure_seen_only_nested_and_the_status_bar_agrees(tmp_path: Path) -> None:
    # As in the demo: update-inventory's OutOfStock reaches us only inside rollback-order's record.
    documents = [happy_order("G-1")[1], out_of_stock("S-1")[2], out_of_stock("S-2")[2], declined("D-1")]
    path = write_jsonl(tmp_path / "records.jsonl", documents)
    app = create_app(AppConfig(sources=[ReplaySource([str(path)])], clock=lambda: FIXED_NOW))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(app.session.records) == 4, "records")
        screen = app.screen
        assert isinstance(screen, MainScreen)
        totals = screen.query_one("#status-totals")
        await until(pilot, lambda: "records 4" in str(totals.render()), "totals")
        assert "failed 3 (2 nested)" in str(totals.render())
        await pilot.press("x")
        await until(pilot, lambda: app.session.record_filter.outcome == "failed", "x")
        await until(pilot, lambda: screen.records_table.row_count == 3, "three failures listed")
        lines = [screen.records_table.render_line(y).text for y in range(1, 4)]
        assert sum("rollback-order" in line and "OutOfStock (nested)" in line for line in lines) == 2
        assert sum("CardDeclined" in line for line in lines) == 1
