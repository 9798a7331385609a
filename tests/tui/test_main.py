"""Pilot tests of the main screen: replay into the tables, select, drill down, filter, pause/follow."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from textual.command import CommandList, CommandPalette

from records.store.views import RecordFilter
from tests.factories import (
    FIXED_NOW,
    T0,
    ListSource,
    flow_records,
    mixed_records,
    order,
    seed_message,
    seed_record,
    write_jsonl,
)
from tests.tui.waiting import replay_app, until
from tui.app import AppConfig, create_app
from tui.messages import SourceEvents
from tui.screens.detail import DetailScreen
from tui.screens.dialogs import FilterDialog
from tui.screens.main import MainScreen
from tui.widgets.payload_tree import PayloadTree
from tui.widgets.virtual_table import VirtualTable

SIZE = (150, 45)


def line_text(table: VirtualTable, y: int) -> str:
    return table.render_line(y).text


async def test_replay_fills_tables_newest_first(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "records.jsonl", mixed_records(20), ["not json {"])
    app = replay_app(path)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.session.statuses[app.config.sources[0].label].state == "done", "replay done")
        await until(pilot, lambda: len(app.session.records) == 25, "records shown")
        stats = app.session.store.stats()
        assert (stats.records, stats.succeeded, stats.failed, stats.undecodable) == (25, 16, 8, 1)
        screen = app.screen
        assert isinstance(screen, MainScreen)
        records = screen.records_table
        assert records.row_count == 25
        assert "undecodable" in line_text(records, 1)  # the newest row is the last line of the file
        assert "ord-00019" in line_text(records, 2)
        assert "ord-00000" in line_text(records, 25)
        flows = screen.flows_table
        assert flows.row_count == 20
        assert "ord-00019" in line_text(flows, 1)
        assert "failed" in line_text(flows, 1)  # order 19 is a declined card
        assert "rolled back" in line_text(flows, 3)  # order 17: out of stock, rolled back
        totals = app.screen.query_one("#status-totals")
        await until(pilot, lambda: "records 25" in str(totals.render()), "totals")
        assert "failed 8" in str(totals.render()) and "undecodable 1" in str(totals.render())


async def test_select_shows_detail_and_enter_drills_down(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "records.jsonl", mixed_records(5))
    app = replay_app(path)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(app.session.records) == 6, "records shown")
        screen = app.screen
        assert isinstance(screen, MainScreen)
        await pilot.press("down")  # row 1: update-inventory success of ord-00003
        await until(pilot, lambda: "ord-00003" in str(screen.query_one("#detail-text").render()), "detail")
        await pilot.press("up")  # row 0: the declined order
        await until(pilot, lambda: "CardDeclined" in str(screen.query_one("#detail-text").render()), "detail")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DetailScreen), "detail screen")
        detail = app.screen
        assert isinstance(detail, DetailScreen)
        assert detail.detail.decoded.record is not None
        assert detail.detail.decoded.record.function_name == "order"
        # the error tab opens first for a failure; then the request payload tree
        await pilot.press("1")
        tree = detail.query_one("#request PayloadTree", PayloadTree)
        await until(pilot, lambda: tree.has_focus, "tree focus")
        await pilot.press("down")  # root -> orderId
        await pilot.press("c")
        assert app.clipboard == "ord-00004"
        await pilot.press("y")
        assert app.clipboard == "requestPayload.orderId"
        await pilot.press("a")
        assert json.loads(app.clipboard)["requestContext"]["condition"] == "RetriesExhausted"
        # timeline: the declined order is a one-stage flow
        await pilot.press("7")
        timeline = str(detail.query_one("#timeline Static").render())
        assert "order" in timeline and "RetriesExhausted" in timeline and "attempts 3" in timeline
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, MainScreen), "back")


async def test_flow_enter_opens_latest_record_with_timeline(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "records.jsonl", mixed_records(3))  # order 2 is out of stock
    app = replay_app(path)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(app.session.flows) == 3, "flows")
        await pilot.press("shift+tab")  # focus the flows list
        screen = app.screen
        assert isinstance(screen, MainScreen)
        await until(pilot, lambda: screen.flows_table.has_focus, "flows focus")
        await until(pilot, lambda: "rolled back" in str(screen.query_one("#detail-text").render()), "flow detail")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DetailScreen), "detail screen")
        detail = app.screen
        assert isinstance(detail, DetailScreen)
        await pilot.press("t")
        timeline = str(detail.query_one("#timeline Static").render())
        lines = [line for line in timeline.splitlines() if line.strip()]
        assert [
            name for line in lines for name in ("order", "update-inventory", "rollback-order") if f" {name} " in line
        ] == [
            "order",
            "update-inventory",
            "rollback-order",
        ]
        assert "+3.000s" in lines[1] and "+1.000s" in lines[2]
        assert "▶" in lines[2]  # the record opened is the rollback


async def test_diff_against_newest_success(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "records.jsonl", mixed_records(3))
    app = replay_app(path)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(app.session.records) == 4, "records")
        await pilot.press("down")  # the out-of-stock failure of update-inventory
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DetailScreen), "detail")
        await pilot.press("d")
        diff = str(app.screen.query_one("#diff Static").render())
        assert "newest success of this function" in diff
        changed = [line.replace(" ", "") for line in diff.splitlines() if line[:1] in "+-"]
        assert '-"condition":"Success",' in changed and '+"condition":"RetriesExhausted",' in changed


@pytest.mark.slow
async def test_filters(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "records.jsonl", mixed_records(10), ["not json {"])
    app = replay_app(path)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(app.session.records) == 13, "records")
        await pilot.press("x")  # failures only
        await until(pilot, lambda: len(app.session.records) == 4, "failures")
        assert all(not app.session.store.row(app.session.records.index_at(row)).succeeded for row in range(4))
        await pilot.press("x")
        await until(pilot, lambda: len(app.session.records) == 13, "cleared")
        # the filter dialog: function + JMESPath
        await pilot.press("f")
        await until(pilot, lambda: isinstance(app.screen, FilterDialog), "dialog")
        dialog = app.screen
        assert isinstance(dialog, FilterDialog)
        from textual.widgets import Input, Select

        dialog.query_one("#function", Select).value = "update-inventory"
        dialog.query_one("#jmespath", Input).value = "requestPayload.requestPayload.items[?qty > `100`]"
        await pilot.click("#apply")
        await until(pilot, lambda: isinstance(app.screen, MainScreen), "applied")
        await until(pilot, lambda: app.session.records.complete and len(app.session.records) == 2, "jmespath matches")
        assert app.session.record_filter.function == "update-inventory"
        # a bad expression is refused in the dialog with a reason
        await pilot.press("f")
        await until(pilot, lambda: isinstance(app.screen, FilterDialog), "dialog")
        app.screen.query_one("#jmespath", Input).value = "items[?"
        await pilot.click("#apply")
        await pilot.pause()
        assert isinstance(app.screen, FilterDialog)
        assert "invalid JMESPath" in str(app.screen.query_one("#filter-error").render())
        await pilot.press("escape")
        # quick free-text search
        await until(pilot, lambda: isinstance(app.screen, MainScreen), "main")
        app.action_clear_filter()
        await pilot.press("slash")
        await pilot.press(*"ord-00007")
        await pilot.press("enter")
        await until(
            pilot, lambda: app.session.record_filter.text == "ord-00007" and len(app.session.records) == 2, "text"
        )
        # undecodable
        app.apply_filter(RecordFilter(outcome="undecodable"))
        await until(pilot, lambda: len(app.session.records) == 1, "undecodable")


async def test_pause_counts_new_records_and_follow_resumes() -> None:
    raws = [json.dumps(document) for document in mixed_records(2)]
    app = create_app(AppConfig(sources=[ListSource(raws, stay_open=True)], clock=lambda: FIXED_NOW))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(app.session.records) == 2, "first records")
        screen = app.screen
        assert isinstance(screen, MainScreen)
        await pilot.press("space")
        assert app.paused
        more = [
            seed_message(
                json.dumps(seed_record("update-inventory", {"orderId": f"late-{n}"}, number=900 + n, when=T0)), number=n
            )
            for n in range(3)
        ]
        app.post_message(SourceEvents(more))
        await until(pilot, lambda: app.session.records.pending == 3, "pending count")
        await pilot.pause(0.15)
        assert screen.records_table.row_count == 2
        assert "3 new records" in str(screen.query_one("#banner").render())
        assert "late-" not in line_text(screen.records_table, 1)
        await pilot.press("space")
        await until(pilot, lambda: screen.records_table.row_count == 5, "resumed")
        assert "late-2" in line_text(screen.records_table, 1)
        assert "following" in str(screen.query_one("#banner").render())


async def test_cursor_stays_on_its_record_when_records_arrive() -> None:
    raws = [json.dumps(document) for document in mixed_records(4)]
    app = create_app(AppConfig(sources=[ListSource(raws, stay_open=True)], clock=lambda: FIXED_NOW))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(app.session.records) == 5, "records")
        screen = app.screen
        assert isinstance(screen, MainScreen)
        await pilot.press("down", "down")
        chosen = app.session.records.index_at(2)
        app.post_message(
            SourceEvents([seed_message(json.dumps(seed_record("order", order("new-1"), number=999, when=T0)))])
        )
        await until(pilot, lambda: len(app.session.records) == 6, "arrival")
        assert app.session.records.index_at(screen.records_table.cursor) == chosen
        await pilot.press("home")  # back on the newest row: it follows again
        app.post_message(
            SourceEvents([seed_message(json.dumps(seed_record("order", order("new-2"), number=998, when=T0)))])
        )
        await until(pilot, lambda: len(app.session.records) == 7, "arrival")
        assert screen.records_table.cursor == 0
        assert "new-2" in line_text(screen.records_table, 1)


@pytest.mark.slow
async def test_command_palette_runs_actions(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "records.jsonl", mixed_records(5))
    app = replay_app(path)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(app.session.records) == 6, "records")
        await pilot.press("ctrl+p")
        await pilot.press(*"only failures")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette), "palette")
        hits = app.screen.query_one(CommandList)
        await until(pilot, lambda: hits.option_count > 0 and hits.highlighted is not None, "hits")
        first = hits.get_option_at_index(0).prompt
        assert "Show only failures" in str(first)
        await pilot.press("enter")
        await until(
            pilot,
            lambda: app.session.record_filter.outcome == "failed" and len(app.session.records) == 2,
            "palette action",
        )


async def test_stages_upstream_first_when_times_are_equal() -> None:
    failed, rollback = flow_records(3, "out-of-stock", T0)
    rollback["timestamp"] = failed["timestamp"]  # as the sandbox writes them: the same millisecond
    app = create_app(AppConfig(sources=[ListSource([json.dumps(rollback)])], clock=lambda: FIXED_NOW))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(app.session.flows) == 1 and len(app.session.records) == 1, "flow")
        screen = app.screen
        assert isinstance(screen, MainScreen)
        await until(pilot, lambda: "rolled back" in line_text(screen.flows_table, 1), "status")
        assert "order✓ → update-inventory✗ x3 → rollback-order✓" in line_text(screen.flows_table, 1)


async def test_mouse_click_selects_and_second_click_opens(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "records.jsonl", mixed_records(5))
    app = replay_app(path)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(app.session.records) == 6, "records")
        screen = app.screen
        assert isinstance(screen, MainScreen)
        table = screen.records_table
        # the table's lines: its top border, the header, row 0, row 1, row 2
        await pilot.click(table, offset=(5, 4))
        await until(pilot, lambda: table.cursor == 2, "click selects")
        assert not isinstance(app.screen, DetailScreen)
        await pilot.click(table, offset=(5, 4))
        await until(pilot, lambda: isinstance(app.screen, DetailScreen), "second click opens")
        assert isinstance(app.screen, DetailScreen) and app.screen.detail.index == app.session.records.index_at(2)
