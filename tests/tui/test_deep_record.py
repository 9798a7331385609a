"""A record whose payload is nested deeper than the one nesting limit opens like any other: every
tab shows, the payload marked too deep, and nothing raises (issue: a 999-byte record nested ~255
levels deep took the app down when its row was opened)."""

from __future__ import annotations

import json

from rich.text import Text
from textual.app import App
from textual.widgets import Static, TabbedContent, TabPane

from records.decode import Decoded, decode
from records.models import AsyncInvocationRecord
from records.rules import MAX_DEPTH
from tests.factories import FIXED_NOW, T0, ListSource, arn
from tests.tui.waiting import until
from tui.app import AppConfig, create_app
from tui.screens.detail import DetailScreen, RecordDetail
from tui.screens.main import MainScreen
from tui.widgets.payload_tree import PayloadTree

TABS = ("request", "response", "error", "contexts", "envelope", "raw", "timeline", "diff")


def deep_record(depth: int, *, number: int, succeeded: bool) -> str:
    """A record of `update-inventory` whose request payload nests `depth` arrays."""
    context = {
        "requestId": f"0000000{number}-0000-4000-8000-00000000000{number}",
        "functionArn": arn("update-inventory"),
        "condition": "Success" if succeeded else "RetriesExhausted",
        "approximateInvokeCount": 1 if succeeded else 3,
    }
    response_context = '{"statusCode":200}' if succeeded else '{"statusCode":200,"functionError":"Unhandled"}'
    response = '{"ok":true}' if succeeded else '{"errorType":"Deep","errorMessage":"too deep for me"}'
    return (
        f'{{"version":"1.0","timestamp":"{T0.isoformat()[:19]}.000Z","requestContext":{json.dumps(context)},'
        f'"requestPayload":{"[" * depth}1{"]" * depth},"responseContext":{response_context},'
        f'"responsePayload":{response}}}'
    )


def plain(widget: Static) -> str:
    """The whole text a Static holds (not only what fits on the screen)."""
    content = widget.content
    return content.plain if isinstance(content, Text) else str(content)


async def open_and_visit_every_tab(raws: list[str], downs: int) -> dict[str, str]:
    """Open the record `downs` rows below the first and show each tab; what each tab says."""
    app = create_app(AppConfig(sources=[ListSource(raws)], clock=lambda: FIXED_NOW))
    shown: dict[str, str] = {}
    async with app.run_test(size=(160, 45)) as pilot:
        await until(pilot, lambda: len(app.session.records) == len(raws), "records")
        assert isinstance(app.screen, MainScreen)
        await pilot.press(*["down"] * downs, "enter")
        await until(pilot, lambda: isinstance(app.screen, DetailScreen), "detail screen")
        detail = app.screen
        for tab in TABS:
            await pilot.press(str(TABS.index(tab) + 1))
            await pilot.pause()
            pane = detail.query_one(TabbedContent).active_pane
            assert pane is not None and pane.id == tab
            texts = [plain(widget) for widget in pane.query(Static)]
            trees = [str(node.label) for tree in pane.query(PayloadTree) for node in tree.root.children]
            shown[tab] = "\n".join(texts + trees)
        assert app.is_running  # nothing took the app down
    return shown


async def test_a_payload_deeper_than_the_limit_is_shown_too_deep() -> None:
    deep = deep_record(MAX_DEPTH + 60, number=2, succeeded=False)
    assert len(deep) < 1000  # the reported case: under a kilobyte
    success = deep_record(3, number=1, succeeded=True)
    shown = await open_and_visit_every_tab([success, deep], downs=0)  # newest first: the deep failure
    assert f"nested more than {MAX_DEPTH} levels deep: too deep to show as a tree" in shown["request"]
    assert "too deep for me" in shown["error"]
    assert "Deep" in shown["diff"] and "newest success" in shown["diff"]  # the diff is built, not a crash
    assert shown["raw"].count("[") >= MAX_DEPTH + 60  # the raw text keeps the payload whole


async def test_a_payload_at_the_limit_is_shown_whole() -> None:
    at_limit = deep_record(MAX_DEPTH, number=2, succeeded=False)
    success = deep_record(3, number=1, succeeded=True)
    shown = await open_and_visit_every_tab([success, at_limit], downs=0)
    assert "too deep" not in shown["request"]
    assert "[0]" in shown["request"]  # the tree of nested arrays


async def test_a_tab_that_cannot_be_built_shows_a_sentence() -> None:
    """Past the decoder's guard (a record built in code, payload never checked), the screen's own
    guard holds: the Diff tab cannot dump the record, says so, and every other tab shows."""
    value = json.loads(deep_record(3, number=2, succeeded=False))
    value["requestPayload"] = json.loads("[" * 300 + "1" + "]" * 300)
    unchecked = Decoded(AsyncInvocationRecord.model_validate(value), "{}")
    success = decode(deep_record(3, number=1, succeeded=True))[0]
    detail = RecordDetail(0, unchecked, "{}", "queue:test", None, None, compare=success, compare_name="a success")

    class Host(App[None]):
        def on_mount(self) -> None:
            self.push_screen(DetailScreen(detail))

    app = Host()
    async with app.run_test(size=(160, 45)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, DetailScreen), "detail screen")
        screen = app.screen
        assert not screen.query_one("#diff", TabPane).children  # built only when first shown
        await pilot.press("8")
        await pilot.pause()
        pane = screen.query_one("#diff", TabPane)
        said = " ".join(plain(widget) for widget in pane.query(Static))
        assert "This cannot be shown for this record (ValueError" in said
        assert "The Raw tab has the record as it arrived." in said
        await pilot.press("3")
        await pilot.pause()
        assert "too deep for me" in " ".join(plain(widget) for widget in screen.query_one("#error").query(Static))
        await pilot.press("a")  # copying the record cannot dump it either: the raw text is copied
        assert app.clipboard == "{}"
        assert app.is_running
