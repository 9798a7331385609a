"""`demo` end to end: the real sandbox (moto subprocess + our Lambda endpoint), its topic tapped and
its failure queue peeked by the app; `o` sends test orders through Lambda's async invoke and their
flows appear, awaiting first, then filled in as their records arrive."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from records.files import SessionWriter
from records.invoke import generate_order
from records.sandbox import Sandbox
from tests.tui.waiting import flow_of, flow_status, sources_live, until
from tui.app import create_app
from tui.commands.demo import demo_config


@pytest.mark.slow
@pytest.mark.usefixtures("sandbox_env")
async def test_demo_shows_live_order_flows(sandbox: Sandbox, tmp_path: Path) -> None:
    orders = iter([generate_order("good"), generate_order("declined")])
    sent: list[dict[str, Any]] = []

    def next_order() -> dict[str, Any]:
        order = next(orders)
        sent.append(order)
        return order

    with SessionWriter(tmp_path / "session.jsonl") as session:
        config = demo_config(sandbox, session)
        config.order_generator = next_order
        app = create_app(config)
        async with app.run_test(size=(150, 45)) as pilot:
            await sources_live(pilot, app)
            assert set(app.session.statuses) == {"topic:order-notifications", "queue:order-failures"}
            await pilot.press("o")
            good = sent[0]["orderId"]
            await until(pilot, lambda: flow_status(app, good) is not None, "awaiting flow")
            await until(pilot, lambda: flow_status(app, good) == "completed", "good order completed", 3000)
            await pilot.press("o")
            declined = sent[1]["orderId"]
            await until(pilot, lambda: flow_status(app, declined) == "failed", "declined order failed", 3000)
            flow = flow_of(app, declined)
            assert flow is not None
            stage = flow.stages[-1]
            assert (stage.function_name, stage.condition, stage.attempts) == ("order", "RetriesExhausted", 3)
            await app.stop_sources()
        await asyncio.to_thread(app.wait_sources_closed)
    lines = (tmp_path / "session.jsonl").read_text().splitlines()
    assert len(lines) >= 2  # every message received was written to the session file


@pytest.mark.slow
@pytest.mark.usefixtures("sandbox_env")
async def test_an_order_sent_before_the_sources_are_live_still_ends_in_a_complete_flow(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    order = generate_order("good")
    with SessionWriter(tmp_path / "session.jsonl") as session:
        config = demo_config(sandbox, session)
        config.order_generator = lambda: order
        app = create_app(config)
        async with app.run_test(size=(150, 45)) as pilot:
            assert any(s.state == "connecting" for s in app.session.statuses.values()), "pressed before live"
            await pilot.press("o")
            assert app.session.held, "held until the sources are live"
            banner = str(app.screen.query_one("#banner").render())
            assert "holding 1 test order until" in banner
            await until(pilot, lambda: not app.session.held, "released once live", 3000)
            assert all(s.state == "live" for s in app.session.statuses.values())
            await until(pilot, lambda: flow_status(app, order["orderId"]) == "completed", "the held order's flow", 3000)
            await app.stop_sources()
        await asyncio.to_thread(app.wait_sources_closed)
