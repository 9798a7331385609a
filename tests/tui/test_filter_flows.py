"""Pilot tests: the filter reaches the flows table and the detail area; "Source contains" contains."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input

from records.store.views import RecordFilter
from tests.factories import mixed_records, write_jsonl
from tests.tui.waiting import replay_app, until
from tui.screens.dialogs import FilterDialog
from tui.screens.main import MainScreen

SIZE = (150, 45)


async def test_x_and_slash_filter_the_flows_table_too(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "records.jsonl", mixed_records(10))
    app = replay_app(path)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(app.session.records) == 12, "records")
        screen = app.screen
        assert isinstance(screen, MainScreen)
        await until(pilot, lambda: screen.flows_table.row_count == 10, "every flow")
        await pilot.press("x")
        # failures: 2 declined cards and 2 out-of-stock update-inventory records, in 4 flows
        await until(pilot, lambda: screen.flows_table.row_count == 4, "the failures' flows")
        statuses = {screen.flows_table.render_line(y).text.split()[1] for y in range(1, 5)}
        assert statuses <= {"failed", "rolled"}
        await pilot.press("x")
        await until(pilot, lambda: screen.flows_table.row_count == 10, "cleared")
        await pilot.press("slash", *"ord-00007", "enter")
        await until(pilot, lambda: screen.flows_table.row_count == 1, "one flow")
        assert "ord-00007" in screen.flows_table.render_line(1).text


async def test_the_detail_area_never_shows_a_record_the_filter_hides(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "records.jsonl", mixed_records(5))
    app = replay_app(path)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(app.session.records) == 6, "records")
        screen = app.screen
        assert isinstance(screen, MainScreen)
        detail = screen.query_one("#detail-text")
        await until(
            pilot, lambda: "rollback-order" not in str(detail.render()) and screen.selected_record == 5, "newest"
        )
        # the newest record is order 4's declined card; the out-of-stock flow (order 2) has two records
        app.apply_filter(RecordFilter(function="rollback-order"))
        await until(pilot, lambda: len(app.session.records) == 1, "filtered")
        await until(pilot, lambda: screen.selected_record != 5, "the hidden record left the detail area")
        # In the flows table, the out-of-stock flow opens its record the filter shows, not its latest hidden one.
        await pilot.press("shift+tab")
        await until(pilot, lambda: screen.flows_table.has_focus and screen.flows_table.row_count == 1, "flows")
        index = screen.current_record()
        assert index is not None and app.session.store.row(index).function_name == "rollback-order"
        assert "1 match the filter" in str(detail.render())


async def test_source_contains_is_a_contains_match(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "records.jsonl", mixed_records(5))
    app = replay_app(path)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(app.session.records) == 6, "records")
        await pilot.press("f")
        await until(pilot, lambda: isinstance(app.screen, FilterDialog), "dialog")
        label = app.session.store.row(0).source  # e.g. records.jsonl
        assert len(label) > 6
        app.screen.query_one("#source", Input).value = label[2:6].upper()
        await pilot.click("#apply")
        await until(pilot, lambda: isinstance(app.screen, MainScreen), "applied")
        await until(pilot, lambda: len(app.session.records) == 6, "every record still matches part of its source")
        app.apply_filter(RecordFilter(source="no-such-source"))
        await until(pilot, lambda: len(app.session.records) == 0, "nothing")
