"""Fixed test data for the UI tests: the seed article's order flows as AWS shapes their records,
and a small in-test source implementing `records.sources.base.Source`."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from records.decode import decode
from records.lines import iso_timestamp
from records.message import Message
from records.sources.base import Mode, SourceEvent, SourceStatus

ACCOUNT = "123456789012"
T0 = datetime(2026, 11, 27, 12, 0, 0, tzinfo=UTC)
FIXED_NOW = (T0 + timedelta(minutes=5)).timestamp()


def arn(function: str) -> str:
    return f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{function}:$LATEST"


def record(
    function: str,
    request_payload: Any,
    *,
    number: int,
    when: datetime,
    succeeded: bool = True,
    attempts: int = 1,
    error_type: str = "Error",
    error_message: str = "failed",
    response: Any = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "version": "1.0",
        "timestamp": iso_timestamp(when),
        "requestContext": {
            "requestId": f"{number:08d}-0000-4000-8000-{function[:4]:0>4}{number:08d}"[:36],
            "functionArn": arn(function),
            "condition": "Success" if succeeded else "RetriesExhausted",
            "approximateInvokeCount": attempts,
        },
        "requestPayload": request_payload,
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST"},
    }
    if succeeded:
        body["responsePayload"] = response if response is not None else {"ok": True}
    else:
        body["responseContext"]["functionError"] = "Unhandled"
        body["responsePayload"] = {
            "errorMessage": error_message,
            "errorType": error_type,
            "stackTrace": [f'  File "/var/task/{function}.py", line 12, in handler', "    raise Error()"],
        }
    return body


def order(order_id: str, qty: int = 1, card: str = "4242424242424242") -> dict[str, Any]:
    return {"orderId": order_id, "customerId": "c-1", "items": [{"sku": "SKU-1", "qty": qty}], "card": card}


def flow_records(number: int, kind: str, start: datetime) -> list[dict[str, Any]]:
    """The records that reach the watched destinations for one order of the seed's system."""
    order_id = f"ord-{number:05d}"
    if kind == "good":
        placed = record("order", order(order_id), number=number * 10, when=start)
        return [record("update-inventory", placed, number=number * 10 + 1, when=start + timedelta(seconds=1))]
    if kind == "out-of-stock":
        placed = record("order", order(order_id, qty=500), number=number * 10, when=start)
        failed = record(
            "update-inventory",
            placed,
            number=number * 10 + 1,
            when=start + timedelta(seconds=3),
            succeeded=False,
            attempts=3,
            error_type="OutOfStock",
            error_message="SKU-1: 500 wanted, 100 left",
        )
        return [failed, record("rollback-order", failed, number=number * 10 + 2, when=start + timedelta(seconds=4))]
    declined = record(
        "order",
        order(order_id, card="4000000000000002"),
        number=number * 10,
        when=start,
        succeeded=False,
        attempts=3,
        error_type="CardDeclined",
        error_message="card 4000000000000002 was declined",
    )
    return [declined]


KINDS = ("good", "good", "out-of-stock", "good", "declined")


def mixed_records(count: int, start: datetime = T0) -> list[dict[str, Any]]:
    """Fixed records of `count` orders, the kinds in a fixed rotation."""
    records: list[dict[str, Any]] = []
    for number in range(count):
        records.extend(flow_records(number, KINDS[number % len(KINDS)], start + timedelta(seconds=10 * number)))
    return records


def write_jsonl(path: Path, documents: Iterable[Any], extra_lines: Sequence[str] = ()) -> Path:
    with path.open("w", encoding="utf-8") as handle:
        for document in documents:
            handle.write(json.dumps(document) + "\n")
        for line in extra_lines:
            handle.write(line + "\n")
    return path


def message(raw: str, source: str = "queue:test", number: int = 0) -> Message:
    received = iso_timestamp(T0 + timedelta(milliseconds=number))
    return Message(raw=raw, source=source, received=received, meta={}, decoded=tuple(decode(raw)))


class ListSource:
    """A source yielding fixed messages, then (unless `stay_open`) `done`."""

    def __init__(
        self, raws: Sequence[str], label: str = "queue:test", mode: Mode = "peek", *, stay_open: bool = False
    ) -> None:
        self.raws = list(raws)
        self.label = label
        self.mode: Mode = mode
        self.stay_open = stay_open
        self.closed = False
        self.more: asyncio.Queue[str] | None = None

    async def __aiter__(self) -> AsyncIterator[SourceEvent]:
        yield SourceStatus(self.label, self.mode, "live")
        for number, raw in enumerate(self.raws):
            yield message(raw, self.label, number)
        if self.stay_open:
            await asyncio.Event().wait()  # like a live queue: nothing more, until cancelled
        yield SourceStatus(self.label, self.mode, "done")

    async def aclose(self) -> None:
        self.closed = True
