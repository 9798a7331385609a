"""`watch --function order` against the sandbox: the sources come from discovery (the topic is found
through update-inventory's destinations), and `o` shows a complete flow; out of stock, the rollback."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from records.files import SessionWriter
from records.invoke import generate_order
from records.sandbox import Sandbox
from records.store.rows import Flow
from tests.tui.waiting import until
from tui.app import create_app
from tui.cli import build_parser
from tui.commands.common import aws_options
from tui.commands.functions import order_function, plan_for
from tui.commands.sources_args import sources_from_args
from tui.launch import live_config


@pytest.mark.slow
async def test_watch_function_order_shows_complete_and_rolled_back_flows(sandbox: Sandbox, tmp_path: Path) -> None:
    argv = ["watch", "--function", "order*", "--function", "order", "--wait-time", "1"]
    args = build_parser("watch").parse_args([*argv, "--endpoint-url", sandbox.endpoint_url, "--region", "us-east-1"])
    aws = aws_options(args)
    plan = await plan_for(args, aws)
    assert plan is not None and order_function(args, plan) == "order"
    orders = iter([generate_order("good"), generate_order("out-of-stock")])
    sent: list[dict[str, Any]] = []

    def next_order() -> dict[str, Any]:
        sent.append(next(orders))
        return sent[-1]

    with SessionWriter(tmp_path / "session.jsonl") as session:
        sources = sources_from_args(args, session, aws, plan=plan)
        config = live_config(sources, aws, order_function(args, plan), "lambdest-tui watch", "test")
        config.order_generator = next_order
        app = create_app(config)
        async with app.run_test(size=(150, 45)) as pilot:
            await until(
                pilot, lambda: all(s.state == "live" for s in app.session.statuses.values()), "sources live", 3000
            )
            assert set(app.session.statuses) == {"topic:order-notifications", "queue:order-failures"}

            def flow_of(order_id: str) -> Flow | None:
                for position in range(app.session.store.flow_count()):
                    flow = app.session.store.flow(app.session.store.flows()[position])
                    if flow is not None and flow.correlation_id == order_id:
                        return flow
                return None

            def status_of(order_id: str) -> str | None:
                flow = flow_of(order_id)
                return flow.status if flow is not None else None

            await pilot.press("o")
            await until(pilot, lambda: status_of(sent[0]["orderId"]) == "completed", "good order completed", 3000)
            await pilot.press("o")
            await until(pilot, lambda: status_of(sent[1]["orderId"]) == "rolled back", "order rolled back", 3000)
            flow = flow_of(sent[1]["orderId"])
            assert flow is not None and flow.functions[-1] == "rollback-order"
            await app.stop_sources()
        await asyncio.to_thread(app.wait_sources_closed)
