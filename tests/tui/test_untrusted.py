"""Payload text is data: Rich markup shows literally, control characters and escape sequences as
visible escapes; nothing from a record can style the screen or reach the terminal."""

from __future__ import annotations

import json

from rich.console import Console
from rich.text import Text
from textual.widgets import Static

from tests.factories import FIXED_NOW, T0, ListSource, seed_record
from tests.tui.waiting import until
from tui.app import AppConfig, create_app
from tui.screens.detail import DetailScreen
from tui.screens.main import MainScreen
from tui.widgets.payload_tree import PayloadTree

MARKUP = "[bold red]boom[/bold red] [link=https://evil.example]click[/link]"
ESCAPES = "\x1b[31mRED\x1b[0m\x07\x1b]0;pwned\x07"
NASTY_ID = "[b]ord-1[/b]\x1b[2J"


def nasty_records() -> list[str]:
    failed = seed_record(
        "order",
        {"orderId": NASTY_ID, "note": MARKUP, "esc": ESCAPES},
        number=1,
        when=T0,
        succeeded=False,
        error_type="[red]Bad[/red]\x1b[5m",
        error_message=f"{MARKUP} {ESCAPES}",
    )
    return [json.dumps(failed), "not json \x1b[31m [i]raw[/i]"]


def plain(renderable: object) -> str:
    """What a Static shows, as the terminal would get it (styles dropped, text kept)."""
    console = Console(width=400, color_system=None, force_terminal=False)
    with console.capture() as capture:
        console.print(renderable)
    return capture.get()


async def test_markup_and_escape_sequences_render_literally() -> None:
    app = create_app(AppConfig(sources=[ListSource(nasty_records())], clock=lambda: FIXED_NOW))
    async with app.run_test(size=(160, 45)) as pilot:
        await until(pilot, lambda: len(app.session.records) == 2, "records")
        screen = app.screen
        assert isinstance(screen, MainScreen)
        table = screen.records_table
        undecodable = table.render_line(1)
        failed = table.render_line(2)
        for strip in (undecodable, failed):
            for segment in strip:
                assert "\x1b" not in segment.text and "\x07" not in segment.text
        assert "[red]Bad[/red]\\e[5m" in failed.text  # the error type column, literal
        assert "[b]ord-1[/b]\\e[2J" in failed.text  # the order column, literal
        detail_text = screen.query_one("#detail-text", Static)
        await until(pilot, lambda: "not json \\e[31m [i]raw[/i]" in plain(detail_text.render()), "raw shown")
        await pilot.press("down")
        await until(
            pilot, lambda: "[red]Bad[/red]" in plain(screen.query_one("#detail-text", Static).render()), "detail"
        )
        shown = plain(screen.query_one("#detail-text", Static).render())
        assert MARKUP in shown and "\\e[31mRED\\e[0m\\x07\\e]0;pwned\\x07" in shown
        assert "\x1b" not in shown
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DetailScreen), "detail screen")
        detail = app.screen
        error = plain(detail.query_one("#error Static", Static).render())
        assert MARKUP in error and "\\e[31mRED" in error and "\x1b" not in error
        await pilot.press("1")  # tabs are built when first shown
        await pilot.pause()
        tree = detail.query_one("#request PayloadTree", PayloadTree)
        labels = [str(node.label) for node in tree.root.children]
        assert f'note: "{MARKUP}"' in labels
        assert any("\\u001b[31mRED\\u001b[0m" in label and "\x1b" not in label for label in labels)
        await pilot.press("6")
        await pilot.pause()
        raw = plain(detail.query_one("#raw-text", Static).render())
        assert MARKUP in raw and "\x1b" not in raw
        # the whole screen as the terminal would receive it carries no escape from the payload
        assert "pwned\x07" not in app.export_screenshot()


def test_tree_labels_are_text_not_markup() -> None:
    from tui.widgets.payload_tree import scalar_text

    label = scalar_text("[bold]x[/bold]\x1b")
    assert isinstance(label, Text)
    assert label.plain == '"[bold]x[/bold]\\u001b"'
    assert label.spans == []


async def test_each_stack_frame_line_is_a_line_of_literal_text() -> None:
    frames = (
        '  File "/var/task/app.py", line 12, in handler\n    raise OutOfStock("[b]SKU-1[/b]")\n',
        '  File "/var/task/stock.py", line 3, in take\n    \x1b[31mcheck()\n',
    )
    failed = seed_record("update-inventory", {"orderId": "T-1"}, number=1, when=T0, succeeded=False)
    failed["responsePayload"]["stackTrace"] = list(frames)
    app = create_app(AppConfig(sources=[ListSource([json.dumps(failed)])], clock=lambda: FIXED_NOW))
    async with app.run_test(size=(160, 45)) as pilot:
        await until(pilot, lambda: len(app.session.records) == 1, "records")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DetailScreen), "detail screen")
        error = plain(app.screen.query_one("#error Static", Static).render())
        lines = error.splitlines()
        assert '  File "/var/task/app.py", line 12, in handler' in lines
        assert '    raise OutOfStock("[b]SKU-1[/b]")' in lines  # markup stays literal
        assert "    \\e[31mcheck()" in lines  # an escape made visible
        assert "\\n" not in error and "\x1b" not in error
