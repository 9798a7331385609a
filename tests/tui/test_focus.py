"""Pilot tests: every tab stop visibly focused; j/k in the JSON tree; `/` filters as you type;
a marked record (m) shows a marker."""

from __future__ import annotations

from pathlib import Path

from tests.factories import mixed_records, write_jsonl
from tests.tui.waiting import replay_app, until
from tui.screens.detail import DetailScreen
from tui.screens.main import MainScreen
from tui.views import MARK
from tui.widgets.payload_tree import PayloadTree

SIZE = (150, 40)


async def test_every_tab_stop_is_visibly_focused(tmp_path: Path) -> None:
    app = replay_app(write_jsonl(tmp_path / "r.jsonl", mixed_records(3)))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(app.session.records) == 4, "records")
        screen = app.screen
        assert isinstance(screen, MainScreen)
        seen = set()
        for _ in range(4):
            focused = screen.focused
            assert focused is not None
            seen.add(focused.id)
            assert focused.styles.border_top[0] == "thick", f"#{focused.id} shows no focus"
            others = [widget for widget in screen.query("#flows, #records, #detail") if widget is not focused]
            assert all(widget.styles.border_top[0] != "thick" for widget in others)
            await pilot.press("tab")
            await pilot.pause()
        assert seen == {"flows", "records", "detail"}


async def test_j_and_k_move_in_the_json_tree(tmp_path: Path) -> None:
    app = replay_app(write_jsonl(tmp_path / "r.jsonl", mixed_records(3)))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(app.session.records) == 4, "records")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DetailScreen), "detail")
        await pilot.press("1")
        await until(pilot, lambda: bool(app.screen.query("#request PayloadTree")), "tree")
        tree = app.screen.query_one("#request PayloadTree", PayloadTree)
        tree.focus()
        await pilot.pause()
        start = tree.cursor_line
        await pilot.press("j", "j")
        assert tree.cursor_line == start + 2
        await pilot.press("k")
        assert tree.cursor_line == start + 1


async def test_slash_filters_as_you_type_and_m_shows_a_marker(tmp_path: Path) -> None:
    app = replay_app(write_jsonl(tmp_path / "r.jsonl", mixed_records(10)))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(app.session.records) == 12, "records")
        screen = app.screen
        assert isinstance(screen, MainScreen)
        await pilot.press("down", "m")
        marked = app.session.marked
        assert marked is not None
        await until(pilot, lambda: screen.records_table.render_line(2).text.startswith(MARK), "marker")
        assert not screen.records_table.render_line(1).text.startswith(MARK)
        await pilot.press("slash", *"ord-00007")  # no enter
        await until(pilot, lambda: app.session.record_filter.text == "ord-00007", "filtered while typing")
        await until(pilot, lambda: len(app.session.records) == 2, "two records of order 7")
        assert screen.query_one("#search").has_focus, "still typing"
