"""Execution records with the real shapes (DESIGN.md), for the store tests: the demo's order system."""

from __future__ import annotations

import json
from itertools import count
from typing import Any

from records.decode import decode
from records.message import Message

ACCOUNT = "123456789012"
_ids = count(1)


def arn(function: str, qualifier: str = "$LATEST") -> str:
    return f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{function}:{qualifier}"


def request_id() -> str:
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
    timestamp: str = "2026-11-27T10:00:00.000Z",
    request: str | None = None,
) -> dict[str, Any]:
    """An async-invocation record as Lambda sends it to a destination."""
    condition = condition or ("Success" if succeeded else "RetriesExhausted")
    response_context: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
    if not succeeded:
        response_context["functionError"] = "Unhandled"
        response = {"errorMessage": error_message, "errorType": error_type, "stackTrace": ["  File x, line 1"]}
    return {
        "version": "1.0",
        "timestamp": timestamp,
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
