"""Test data for every test: execution records in their real shapes (DESIGN.md "The record shapes"),
the envelopes they arrive in, messages, the demo's order flows, and a source of fixed messages.

`record()` is the one record factory; the others choose its parts:
- `numbered_record(index)`: record number `index` of function `order` (sources and tail tests)
- `seed_record(function, payload, number=, when=)`: the UI tests' fixed records (their request ids,
  times and stack traces are in the snapshots)
- `happy_order`, `out_of_stock`, `declined`: the demo's three flows (store tests);
  `flow_records`, `mixed_records`: the same flows with fixed times (UI tests)
"""

from __future__ import annotations

import asyncio
import gzip
import json
import zlib
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any

from records.decode import decode
from records.files import SessionWriter
from records.lines import iso_timestamp
from records.message import Message
from records.sources.base import FactsBatch, Mode, SourceEvent, SourceStatus
from records.sources.replay import ReplaySource
from records.store.record_store import RecordStore

ACCOUNT = "123456789012"
T0 = datetime(2026, 11, 27, 12, 0, 0, tzinfo=UTC)  # the UI tests' fixed clock
FIXED_NOW = (T0 + timedelta(minutes=5)).timestamp()
_ids = count(1)


def arn(function: str, qualifier: str = "$LATEST") -> str:
    return f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{function}:{qualifier}"


def request_id() -> str:
    """A new request id (a UUID shape, numbered in order)."""
    return f"{next(_ids):08d}-0000-4000-8000-000000000000"


def record(
    function: str,
    payload: Any,
    *,
    succeeded: bool = True,
    condition: str | None = None,
    attempts: int = 1,
    response: Any = None,
    error_type: str = "Error",
    error_message: str = "it failed",
    stack_trace: Sequence[str] = ("  File x, line 1",),
    timestamp: str | datetime = "2026-11-27T10:00:00.000Z",
    request: str | None = None,
) -> dict[str, Any]:
    """An async-invocation record as Lambda sends it to a destination."""
    condition = condition or ("Success" if succeeded else "RetriesExhausted")
    response_context: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
    if not succeeded:
        response_context["functionError"] = "Unhandled"
        response = {"errorMessage": error_message, "errorType": error_type, "stackTrace": list(stack_trace)}
    return {
        "version": "1.0",
        "timestamp": timestamp if isinstance(timestamp, str) else iso_timestamp(timestamp),
        "requestContext": {
            "requestId": request or request_id(),
            "functionArn": arn(function),
            "condition": condition,
            "approximateInvokeCount": attempts,
        },
        "requestPayload": payload,
        "responseContext": response_context,
        "responsePayload": response if response is not None else {"ok": True},
    }


def numbered_record(index: int, *, condition: str = "Success", function: str = "order") -> dict[str, Any]:
    """Record number `index`: request id `req-NNNNN`, order `order-NNNNN`; a failure is an out-of-stock
    error after three attempts."""
    succeeded = condition == "Success"
    return record(
        function,
        {"orderId": f"order-{index:05d}"},
        succeeded=succeeded,
        condition=condition,
        attempts=1 if succeeded else 3,
        error_type="StockError",
        error_message="out of stock",
        stack_trace=(),
        timestamp=f"2026-11-27T10:00:{index % 60:02d}.{index % 1000:03d}Z",
        request=f"req-{index:05d}",
    )


def seed_record(
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
    """A record of the UI tests' fixed data: its request id comes from `number` and `function`."""
    return record(
        function,
        request_payload,
        succeeded=succeeded,
        attempts=attempts,
        response=response,
        error_type=error_type,
        error_message=error_message,
        stack_trace=(f'  File "/var/task/{function}.py", line 12, in handler', "    raise Error()"),
        timestamp=when,
        request=f"{number:08d}-0000-4000-8000-{function[:4]:0>4}{number:08d}"[:36],
    )


def sns(record_value: dict[str, Any], message_id: str = "m-1") -> str:
    """An SNS notification as an SQS body (SNS->SQS without raw delivery)."""
    return json.dumps(
        {
            "Type": "Notification",
            "MessageId": message_id,
            "TopicArn": f"arn:aws:sns:us-east-1:{ACCOUNT}:order-notifications",
            "Message": json.dumps(record_value),
            "Timestamp": "2026-11-27T10:00:00.000Z",
        }
    )


def message(
    body: dict[str, Any] | str,
    *,
    source: str = "queue:order-failures",
    received: str = "2026-11-27T10:00:01.000Z",
    meta: dict[str, Any] | None = None,
    file: str | None = None,
    offset: int | None = None,
    length: int | None = None,
) -> Message:
    """A received message, decoded."""
    raw = body if isinstance(body, str) else json.dumps(body)
    meta = meta or {}
    return Message(
        raw=raw,
        source=source,
        received=received,
        meta=meta,
        decoded=tuple(decode(raw, meta=meta)),
        file=file,
        offset=offset,
        length=length,
    )


def seed_message(raw: str, source: str = "queue:test", number: int = 0) -> Message:
    """A message of the UI tests' fixed data, received `number` ms after T0."""
    return message(raw, source=source, received=iso_timestamp(T0 + timedelta(milliseconds=number)))


# ---------------------------------------------------------------- the demo's order flows


def happy_order(order_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """order succeeds -> its record is update-inventory's event; update-inventory succeeds -> SNS.
    Returns (order's record, update-inventory's record); only the second is ever delivered."""
    order = record("order", {"orderId": order_id, "amount": 42}, timestamp="2026-11-27T10:00:00.100Z")
    inventory = record("update-inventory", order, timestamp="2026-11-27T10:00:00.300Z")
    return order, inventory


def out_of_stock(order_id: str) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """order succeeds; update-inventory fails (out of stock) -> rollback-order, which succeeds -> SNS."""
    order = record("order", {"orderId": order_id}, timestamp="2026-11-27T10:00:00.100Z")
    inventory = record(
        "update-inventory",
        order,
        succeeded=False,
        attempts=3,
        error_type="OutOfStock",
        error_message=f"order {order_id}: item out of stock",
        timestamp="2026-11-27T10:00:02.000Z",
    )
    rollback = record("rollback-order", inventory, timestamp="2026-11-27T10:00:02.500Z")
    return order, inventory, rollback


def declined(order_id: str) -> dict[str, Any]:
    """order fails three times (card declined) -> RetriesExhausted to the failure queue."""
    return record(
        "order",
        {"orderId": order_id},
        succeeded=False,
        attempts=3,
        error_type="CardDeclined",
        error_message=f"card declined for order {order_id}",
        timestamp="2026-11-27T10:00:03.000Z",
    )


def order(order_id: str, qty: int = 1, card: str = "4242424242424242") -> dict[str, Any]:
    """An order as the demo's `order` function receives it."""
    return {"orderId": order_id, "customerId": "c-1", "items": [{"sku": "SKU-1", "qty": qty}], "card": card}


def flow_records(number: int, kind: str, start: datetime) -> list[dict[str, Any]]:
    """The records that reach the watched destinations for one order of the seed's system."""
    order_id = f"ord-{number:05d}"
    if kind == "good":
        placed = seed_record("order", order(order_id), number=number * 10, when=start)
        return [seed_record("update-inventory", placed, number=number * 10 + 1, when=start + timedelta(seconds=1))]
    if kind == "out-of-stock":
        placed = seed_record("order", order(order_id, qty=500), number=number * 10, when=start)
        failed = seed_record(
            "update-inventory",
            placed,
            number=number * 10 + 1,
            when=start + timedelta(seconds=3),
            succeeded=False,
            attempts=3,
            error_type="OutOfStock",
            error_message="SKU-1: 500 wanted, 100 left",
        )
        rollback = seed_record("rollback-order", failed, number=number * 10 + 2, when=start + timedelta(seconds=4))
        return [failed, rollback]
    declined_order = seed_record(
        "order",
        order(order_id, card="4000000000000002"),
        number=number * 10,
        when=start,
        succeeded=False,
        attempts=3,
        error_type="CardDeclined",
        error_message="card 4000000000000002 was declined",
    )
    return [declined_order]


KINDS = ("good", "good", "out-of-stock", "good", "declined")


def mixed_records(count: int, start: datetime = T0) -> list[dict[str, Any]]:
    """Fixed records of `count` orders, the kinds in a fixed rotation."""
    records: list[dict[str, Any]] = []
    for number in range(count):
        records.extend(flow_records(number, KINDS[number % len(KINDS)], start + timedelta(seconds=10 * number)))
    return records


def session_file(path: Path, gaps: Sequence[float]) -> list[tuple[int, int]]:
    """A session file of `numbered_record`s received `gaps` seconds apart (from queue:orders), then
    a line that is not JSON; returns where each record was written (offset, length)."""
    places = []
    with SessionWriter(path) as writer:
        second = 0.0
        for index, gap in enumerate(gaps):
            second += gap
            received = f"2026-11-27T10:00:{int(second):02d}.{int(second * 1000) % 1000:03d}Z"
            meta = {"MessageId": f"m-{index}", "Attributes": {"ApproximateReceiveCount": "1"}}
            places.append(writer.append(json.dumps(numbered_record(index)), meta, "queue:orders", received))
        writer.append("not json \x1b[31m", {"MessageId": "m-bad"}, "queue:orders", "2026-11-27T10:00:59.000Z")
    return places


def write_jsonl(path: Path, documents: Iterable[Any], extra_lines: Sequence[str] = ()) -> Path:
    """A JSON Lines file of the documents, then the extra lines as they are."""
    with path.open("w", encoding="utf-8") as handle:
        for document in documents:
            handle.write(json.dumps(document) + "\n")
        for line in extra_lines:
            handle.write(line + "\n")
    return path


class ListSource:
    """A source (`records.sources.base.Source`) yielding fixed messages, then (unless `stay_open`) `done`."""

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
            yield seed_message(raw, self.label, number)
        if self.stay_open:
            await asyncio.Event().wait()  # like a live queue: nothing more, until cancelled
        yield SourceStatus(self.label, self.mode, "done")

    async def aclose(self) -> None:
        self.closed = True


def deep_record_text(depth: int) -> str:
    """A small record whose request payload is `depth` arrays deep."""
    context = {"requestId": "r-1", "functionArn": arn("order"), "condition": "Success", "approximateInvokeCount": 1}
    return (
        f'{{"version":"1.0","timestamp":"2026-11-01T00:00:00.000Z","requestContext":{json.dumps(context)},'
        f'"requestPayload":{"[" * depth}"x"{"]" * depth},'
        '"responseContext":{"statusCode":200},"responsePayload":null}'
    )


def wrapped(kind: str, text: str) -> str:
    """Record text inside an envelope: sns, eventbridge, sqs-event, or none."""
    if kind == "sns":
        return json.dumps({"Type": "Notification", "TopicArn": "t", "MessageId": "m", "Message": text})
    if kind == "eventbridge":
        detail_type = "Lambda Function Invocation Result - Success"
        return f'{{"source":"lambda","detail-type":"{detail_type}","id":"e","detail":{text}}}'
    if kind == "sqs-event":
        return json.dumps({"Records": [{"eventSource": "aws:sqs", "messageId": "m", "body": text}]})
    return text


def record_line(n: int) -> str:
    """The golden success record as one JSON line, with request id `req-N`."""
    value = json.loads((Path(__file__).parent / "golden" / "good" / "success.json").read_text())
    value["requestContext"]["requestId"] = f"req-{n}"
    return json.dumps(value)


def truncated_gz(path: Path, count: int = 978) -> int:
    """A .gz of `count` records cut in the middle; returns how many records can be read from it."""
    whole = gzip.compress("".join(record_line(n) + "\n" for n in range(count)).encode())
    path.write_bytes(whole[: len(whole) // 2])
    return zlib.decompressobj(31).decompress(path.read_bytes()).count(b"\n")


async def store_of(source: ReplaySource) -> tuple[RecordStore, list[SourceStatus], int]:
    """The source's events in a store; also its statuses and how many batches came as facts."""
    store = RecordStore(correlator=source.correlator, clock=lambda: 1_800_000_000.0)
    statuses: list[SourceStatus] = []
    batches = 0
    try:
        async for event in source:
            if isinstance(event, FactsBatch):
                batches += 1
                for message in event.messages:
                    store.ingest_facts(message)
            elif isinstance(event, Message):
                store.ingest(event)
            else:
                statuses.append(event)
    finally:
        await source.aclose()
    return store, statuses, batches
