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
from tests.tui.waiting import flow_of, flow_status, sources_live, until
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
            await sources_live(pilot, app)
            assert set(app.session.statuses) == {"topic:order-notifications", "queue:order-failures"}
            await pilot.press("o")
            await until(pilot, lambda: flow_status(app, sent[0]["orderId"]) == "completed", "good order", 3000)
            await pilot.press("o")
            await until(pilot, lambda: flow_status(app, sent[1]["orderId"]) == "rolled back", "order rolled back", 3000)
            flow = flow_of(app, sent[1]["orderId"])
            assert flow is not None and flow.functions[-1] == "rollback-order"
            await app.stop_sources()
        await asyncio.to_thread(app.wait_sources_closed)
