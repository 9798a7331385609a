"""Pilot tests: a test order whose invoke failed says so at once, with the reason; a flow that
awaits its records too long says what was expected and why it may not have come."""

from __future__ import annotations

from typing import Any

from textual.widgets import Static

from records.store.rows import AWAIT_SECONDS
from tests.factories import FIXED_NOW, ListSource, order
from tests.tui.waiting import until
from tui.app import AppConfig, create_app
from tui.screens.main import MainScreen


async def _refused(function: str, payload: Any) -> str:
    raise PermissionError("AccessDeniedException: not authorized to perform lambda:InvokeFunction")


async def _accepted(function: str, payload: Any) -> str:
    return "5a1c9e00-0009-4d2e-8f00-000000000009"


async def test_a_refused_invoke_says_invoke_failed_with_the_reason_at_once() -> None:
    config = AppConfig(
        sources=[ListSource([], stay_open=True)],
        invoker=_refused,
        order_function="order",
        order_generator=lambda: order("ord-refused-01"),
        clock=lambda: FIXED_NOW,
    )
    app = create_app(config)
    async with app.run_test(size=(150, 40)) as pilot:
        await until(pilot, lambda: not app.session.not_live(), "live")
        screen = app.screen
        assert isinstance(screen, MainScreen)
        await pilot.press("o")
        await until(pilot, lambda: "invoke failed" in screen.flows_table.render_line(1).text, "invoke failed")
        await pilot.press("shift+tab")
        detail = screen.query_one("#detail-text", Static)
        await until(pilot, lambda: "not authorized" in str(detail.render()), "the reason")
        assert "invoke of order failed: PermissionError" in str(detail.render())


async def test_awaiting_records_times_out_into_a_sentence() -> None:
    now = [FIXED_NOW]
    config = AppConfig(
        sources=[ListSource([], label="queue:order-failures", stay_open=True)],
        invoker=_accepted,
        order_function="order",
        order_generator=lambda: order("ord-quiet-01"),
        clock=lambda: now[0],
    )
    app = create_app(config)
    async with app.run_test(size=(150, 40)) as pilot:
        await until(pilot, lambda: not app.session.not_live(), "live")
        screen = app.screen
        assert isinstance(screen, MainScreen)
        await pilot.press("o")
        await until(pilot, lambda: "awaiting records" in screen.flows_table.render_line(1).text, "awaiting")
        now[0] += AWAIT_SECONDS + 1
        app.refresh_views()
        await until(pilot, lambda: "no records" in screen.flows_table.render_line(1).text, "timed out")
        await pilot.press("shift+tab")
        detail = screen.query_one("#detail-text", Static)
        await until(pilot, lambda: "No record of order arrived within 61 s" in str(detail.render()), "sentence")
        text = str(detail.render()).replace("\n", " ")
        assert "queue:order-failures" in text and "another consumer" in text
