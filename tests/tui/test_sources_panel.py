"""Pilot tests: one short state per source in the status bar; the sources panel (S, palette)
with each source's state, mode, records, last reason in full and since when; toasts above the bar."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from textual.command import CommandList, CommandPalette
from textual.widgets import Static

from records.sources.base import Mode, SourceEvent, SourceStatus
from tests.factories import FIXED_NOW, T0, ListSource, seed_message, seed_record
from tests.tui.waiting import until
from tui.app import AppConfig, create_app
from tui.screens.main import MainScreen
from tui.screens.sources import SourcesScreen
from tui.widgets.status import StatusBar

LONG_REASON = (
    "topic:arn:aws:sns:eu-west-1:123456789012:order-notifications: AccessDenied: User: arn:aws:iam::123456789012:"
    "user/on-call is not authorized to perform: sns:Subscribe on resource: arn:aws:sns:eu-west-1:123456789012:"
    "order-notifications because no identity-based policy allows the sns:Subscribe action [b]literal[/b]"
)


class TroubledSource:
    """A source that delivers one record, then fails with a long reason (as a refused tap does)."""

    def __init__(self) -> None:
        self.label = "topic:arn:aws:sns:eu-west-1:123456789012:order-notifications"
        self.mode: Mode = "tap"

    async def __aiter__(self) -> AsyncIterator[SourceEvent]:
        yield SourceStatus(self.label, self.mode, "live")
        yield seed_message(json.dumps(seed_record("order", {"orderId": "P-1"}, number=1, when=T0)), self.label, 0)
        await asyncio.sleep(0)
        yield SourceStatus(self.label, self.mode, "failed", LONG_REASON)

    async def aclose(self) -> None:
        return None


async def test_the_status_bar_keeps_one_short_state_and_the_panel_has_the_reason_in_full() -> None:
    queue = ListSource([], label="queue:order-failures", stay_open=True)
    app = create_app(AppConfig(sources=[TroubledSource(), queue], clock=lambda: FIXED_NOW))
    async with app.run_test(size=(120, 30), notifications=True) as pilot:
        await until(pilot, lambda: app.session.statuses[TroubledSource().label].state == "failed", "failed")
        screen = app.screen
        assert isinstance(screen, MainScreen)
        app.refresh_views(totals_now=True)
        await pilot.pause()
        bar = str(screen.query_one("#status-sources", Static).render())
        assert "AccessDenied" not in bar, "no reason in the bar: it would push the other sources off the line"
        assert "queue:order-failures live" in bar and "failed!" in bar and "S: sources" in bar
        assert len(bar) < 120
        # toasts (the failure was reported as one) stay clear of the status bar and the footer
        await until(pilot, lambda: bool(screen.query("Toast")), "the failure's toast")
        await pilot.pause(0.3)
        status_top = screen.query_one(StatusBar).region.y
        for toast in screen.query("Toast"):
            assert toast.region.bottom <= status_top, f"a toast at {toast.region} covers the status bar at {status_top}"
        await pilot.press("S")
        await until(pilot, lambda: isinstance(app.screen, SourcesScreen), "panel")
        text = str(app.screen.query_one("#sources-text", Static).render())
        assert LONG_REASON in text.replace("\n    ", "").replace("\n", "") or LONG_REASON[:60] in text
        assert "[b]literal[/b]" in text  # literal text, never markup
        assert "mode     tap" in text and "state    failed since" in text and "records  1" in text
        assert "queue:order-failures" in text and "state    live" in text
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, MainScreen), "closed")
        # the palette finds it through the binding's tooltip
        await pilot.press("ctrl+p")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette), "palette")
        await pilot.press(*"sources")
        hits = app.screen.query_one(CommandList)
        await until(
            pilot,
            lambda: hits.option_count > 0 and "last reason in full" in str(hits.get_option_at_index(0).prompt),
            "the panel's command, with its tooltip",
        )
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, SourcesScreen), "panel from the palette")
