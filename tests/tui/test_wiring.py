"""The app and the main screen talk one way (session and reactives down, messages up); the help
screen and the command palette are made from the bindings."""

from __future__ import annotations

import ast
import io
import json
from pathlib import Path

from rich.console import Console
from textual.command import CommandList, CommandPalette
from textual.pilot import Pilot
from textual.widgets import Static

import tui.screens.main
from tests.factories import FIXED_NOW, ListSource, mixed_records
from tests.tui.waiting import until
from tui.app import AppConfig, LambdestApp, create_app
from tui.screens.detail import DetailScreen
from tui.screens.help import HelpScreen
from tui.screens.main import MainScreen

SIZE = (150, 45)


def loaded_app(count: int = 3) -> LambdestApp:
    raws = [json.dumps(document) for document in mixed_records(count)]
    return create_app(AppConfig(sources=[ListSource(raws)], clock=lambda: FIXED_NOW))


def test_the_main_screen_does_not_import_the_app() -> None:
    tree = ast.parse(Path(tui.screens.main.__file__).read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert not {name for name in imported if name and (name == "tui.app" or name.startswith("tui.app."))}


async def test_pause_is_bound_down_and_the_screen_reads_the_session() -> None:
    app = loaded_app()
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(app.session.records) == 4, "records")
        screen = app.screen
        assert isinstance(screen, MainScreen)
        assert screen.session is app.session

        def paused() -> tuple[bool, bool, bool]:
            return app.paused, screen.paused, app.session.paused

        await pilot.press("space")
        assert paused() == (True, True, True)
        assert "PAUSED" in str(screen.query_one("#banner").render())
        await pilot.press("p")
        assert paused() == (False, False, False)
        assert "following" in str(screen.query_one("#banner").render())


async def test_mark_goes_up_and_the_diff_uses_it() -> None:
    app = loaded_app()
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(app.session.records) == 4, "records")
        await pilot.press("down", "m")
        marked = app.session.records.index_at(1)
        await until(pilot, lambda: app.session.marked == marked, "marked")
        await pilot.press("up", "enter")
        await until(pilot, lambda: isinstance(app.screen, DetailScreen), "detail")
        await pilot.press("d")
        assert "marked record" in str(app.screen.query_one("#diff Static").render())


async def open_help(pilot: Pilot[None]) -> str:
    await pilot.press("question_mark")
    await until(pilot, lambda: isinstance(pilot.app.screen, HelpScreen), "help")
    console = Console(width=200, file=io.StringIO(), record=True)
    for static in pilot.app.screen.query(Static):
        console.print(static.content)
    return console.export_text()


async def test_help_lists_every_binding_of_the_app_and_the_screens() -> None:
    app = loaded_app()
    async with app.run_test(size=SIZE) as pilot:
        text = " ".join((await open_help(pilot)).split())
        for binding in [*LambdestApp.BINDINGS, *MainScreen.BINDINGS, *DetailScreen.BINDINGS]:
            assert not isinstance(binding, tuple)
            assert " ".join((binding.tooltip or binding.description).split()) in text, binding
        assert "space / p" in text and "home / g" in text and "d / 8" in text  # keys of one action, together


async def test_palette_offers_each_binding_with_a_tooltip() -> None:
    app = loaded_app()
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(app.session.records) == 4, "records")
        await pilot.press("x")
        await until(pilot, lambda: app.session.record_filter.outcome == "failed", "failures")
        await pilot.press("ctrl+p")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette), "palette")
        await pilot.press(*"clear the filter")
        hits = app.screen.query_one(CommandList)
        await until(pilot, lambda: hits.option_count > 0 and hits.highlighted is not None, "hits")
        assert "Clear the filter" in str(hits.get_option_at_index(0).prompt)
        await pilot.press("enter")
        await until(pilot, lambda: app.session.records.spec is None and len(app.session.records) == 4, "cleared")
        # a binding of the main screen: its action runs on the screen, which posts the mark up
        await pilot.press("ctrl+p")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette), "palette")
        await pilot.press(*"mark")
        hits = app.screen.query_one(CommandList)
        await until(pilot, lambda: hits.option_count > 0 and hits.highlighted is not None, "hits")
        assert "Mark" in str(hits.get_option_at_index(0).prompt)
        await pilot.press("enter")
        await until(pilot, lambda: app.session.marked == app.session.records.index_at(0), "marked from the palette")
