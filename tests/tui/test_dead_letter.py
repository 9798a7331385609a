"""A dead-letter queue's message in the UI: a row of its function (from discovery) and, in the flow of
its request id, "dead-lettered" on that invocation's stage; its detail shows the original event."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from records.decode import decode
from records.message import Message
from records.sources.base import Mode, SourceEvent, SourceStatus
from tests.factories import FIXED_NOW, declined
from tests.tui.waiting import until
from tui.app import AppConfig, create_app
from tui.screens.detail import DetailScreen
from tui.screens.main import MainScreen
from tui.widgets.payload_tree import PayloadTree
from tui.widgets.virtual_table import VirtualTable

SIZE = (150, 45)
DLQ = "arn:aws:sqs:us-east-1:123456789012:order-dlq"


class Messages:
    """A source yielding fixed messages (with their transport metadata), then staying open."""

    def __init__(self, label: str, messages: list[tuple[str, dict[str, Any]]]) -> None:
        self.label = label
        self.mode: Mode = "peek"
        self.messages = messages

    async def __aiter__(self) -> AsyncIterator[SourceEvent]:
        yield SourceStatus(self.label, self.mode, "live")
        for number, (raw, meta) in enumerate(self.messages):
            received = f"2026-11-27T10:00:0{number}.000Z"
            yield Message(raw, self.label, received, meta, tuple(decode(raw, meta=meta)))
        await asyncio.Event().wait()

    async def aclose(self) -> None:
        return None


def dead_letter_meta(request_id: str) -> dict[str, Any]:
    return {
        "MessageId": f"dlq-{request_id}",
        "MessageAttributes": {
            "RequestID": {"StringValue": request_id, "DataType": "String"},
            "ErrorCode": {"StringValue": "200", "DataType": "Number"},
            "ErrorMessage": {"StringValue": "card declined [bold]\x1b[31mred", "DataType": "String"},
        },
    }


def line_text(table: VirtualTable, y: int) -> str:
    return table.render_line(y).text


async def test_a_dead_letter_message_shows_as_its_functions_in_the_flow() -> None:
    failure = declined("ord-42")
    request_id = failure["requestContext"]["requestId"]
    dlq = Messages("queue:order-dlq", [(json.dumps(failure["requestPayload"]), dead_letter_meta(request_id))])
    config = AppConfig(sources=[dlq], clock=lambda: FIXED_NOW, dead_letter_queues={DLQ: "order"})
    app = create_app(config)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(app.session.records) == 1 and len(app.session.flows) == 1, "the message")
        screen = app.screen
        assert isinstance(screen, MainScreen)
        row = line_text(screen.records_table, 1)
        assert "queue:order-dlq" in row and "order" in row and "dead-lettered" in row and "ErrorCode 200" in row
        assert "undecodable" not in row
        await until(pilot, lambda: "order✗ dead-lettered" in line_text(screen.flows_table, 1), "flow")
        assert "ord-42" in line_text(screen.flows_table, 1) and "failed" in line_text(screen.flows_table, 1)
        screen.records_table.focus()
        await until(pilot, lambda: "dead-letter message" in str(screen.query_one("#detail-text").render()), "detail")
        detail = str(screen.query_one("#detail-text").render())
        assert "✗ dead-letter message  order" in detail
        assert "ErrorCode 200: card declined [bold]\\e[31mred" in detail  # literal text, no markup, no escape
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DetailScreen), "drill down")
        assert isinstance(app.screen, DetailScreen)
        await pilot.press("1")  # the Request tab: the original event
        await until(pilot, lambda: len(app.screen.query(PayloadTree)) > 0, "request tab")
        tree = app.screen.query(PayloadTree).first()
        assert "ord-42" in str(tree.root.children[0].label)


async def test_without_discovery_it_joins_the_flow_of_its_request() -> None:
    failure = declined("ord-43")
    request_id = failure["requestContext"]["requestId"]
    dlq = Messages("queue:order-dlq", [(json.dumps(failure["requestPayload"]), dead_letter_meta(request_id))])
    failures = Messages("queue:order-failures", [(json.dumps(failure), {"MessageId": "f-1"})])
    app = create_app(AppConfig(sources=[dlq, failures], clock=lambda: FIXED_NOW))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(app.session.records) == 2 and len(app.session.flows) == 1, "both")
        screen = app.screen
        assert isinstance(screen, MainScreen)
        # the on-failure record of the same request id names the function: both rows are order's
        await until(pilot, lambda: "order✗ x3 dead-lettered" in line_text(screen.flows_table, 1), "flow")
        rows = [line_text(screen.records_table, y) for y in (1, 2)]
        dead = next(row for row in rows if "dead-lettered" in row)
        assert "order" in dead and "dead-letter message from" not in dead
        assert app.session.store.stats().functions["order"].invocations == 1


async def test_a_message_of_no_known_function_says_where_it_came_from() -> None:
    dlq = Messages("queue:spare-dlq", [(json.dumps({"orderId": "ord-44"}), dead_letter_meta("r-44"))])
    app = create_app(AppConfig(sources=[dlq], clock=lambda: FIXED_NOW))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(app.session.records) == 1, "the message")
        screen = app.screen
        assert isinstance(screen, MainScreen)
        assert "queue:spare-dlq  " in line_text(screen.records_table, 1)
        assert "dead-letter messa" in line_text(screen.records_table, 1)  # the function column, cut
        await until(
            pilot, lambda: "dead-letter message from queue:spare-dlq✗ dead-lettered" in line_text(screen.flows_table, 1)
        )
        screen.records_table.focus()
        await until(pilot, lambda: "from queue:spare-dlq" in str(screen.query_one("#detail-text").render()), "detail")
        assert "✗ dead-letter message  from queue:spare-dlq" in str(screen.query_one("#detail-text").render())
