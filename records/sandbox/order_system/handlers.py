"""Handlers of the order system (`order`, `update-inventory`, `rollback-order`).

They keep their state in this module (an inventory of SKU-1..SKU-20 with 100 each, the payments
taken, the refunds made), as a warm Lambda environment would: the sandbox runs each function in worker
processes of its own, so each environment has its own copy (as on Lambda, where a real shop keeps
stock in a database), and a function never sees another's state. `rollback-order` therefore refunds
from its event alone: the paid order nested in update-inventory's failure record carries the payment
id and the amount. `reset()` puts this process's state back to the start. The state is guarded by a
lock, for callers running handlers in threads.
"""

from __future__ import annotations

import threading
import uuid
from typing import Any

DECLINED_CARD = "4000000000000002"
SKUS = tuple(f"SKU-{n}" for n in range(1, 21))
START_STOCK = 100
PRICE_CENTS = {sku: 500 + 125 * n for n, sku in enumerate(SKUS)}

_lock = threading.Lock()
inventory: dict[str, int] = {}
payments: dict[str, dict[str, Any]] = {}
refunds: dict[str, int] = {}  # payment id -> cents refunded, by this environment


class InvalidOrder(ValueError):
    pass


class PaymentDeclined(Exception):
    pass


class OutOfStock(Exception):
    pass


class UnknownPayment(Exception):
    pass


def reset() -> None:
    with _lock:
        inventory.clear()
        inventory.update(dict.fromkeys(SKUS, START_STOCK))
        payments.clear()
        refunds.clear()


reset()


def _validate(event: Any) -> dict[str, Any]:
    if not isinstance(event, dict):
        raise InvalidOrder("an order must be a JSON object")
    for key in ("orderId", "customerId", "items", "card"):
        if key not in event:
            raise InvalidOrder(f"the order has no {key!r}")
    items = event["items"]
    if not isinstance(items, list) or not items:
        raise InvalidOrder("the order has no items")
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("sku"), str):
            raise InvalidOrder(f"bad item {item!r}")
        qty = item.get("qty")
        if not isinstance(qty, int) or isinstance(qty, bool) or qty <= 0:
            raise InvalidOrder(f"bad quantity in {item!r}")
    return event


def order(event: Any, context: Any) -> dict[str, Any]:
    """Validate the order and take payment."""
    placed = _validate(event)
    if placed["card"] == DECLINED_CARD:
        raise PaymentDeclined(f"card ending {DECLINED_CARD[-4:]} was declined for order {placed['orderId']}")
    amount = sum(PRICE_CENTS.get(item["sku"], 1000) * item["qty"] for item in placed["items"])
    payment_id = f"pay_{uuid.uuid4().hex[:16]}"
    with _lock:
        payments[payment_id] = {"orderId": placed["orderId"], "amount": amount, "status": "captured"}
    return {
        "orderId": placed["orderId"],
        "customerId": placed["customerId"],
        "items": placed["items"],
        "paymentId": payment_id,
        "amountCents": amount,
        "status": "PAID",
    }


def _paid_order(event: Any) -> dict[str, Any]:
    """update-inventory's event is order's success record: the paid order is its response payload."""
    if isinstance(event, dict) and isinstance(event.get("responsePayload"), dict):
        return event["responsePayload"]  # type: ignore[no-any-return]
    if isinstance(event, dict) and "items" in event:
        return event  # invoked directly with an order
    raise InvalidOrder("update-inventory expects order's success record or an order")


def update_inventory(event: Any, context: Any) -> dict[str, Any]:
    """Reserve stock for every item, all or nothing."""
    paid = _paid_order(event)
    items = _validate({"card": "", **paid})["items"]
    with _lock:
        for item in items:
            left = inventory.get(item["sku"], 0)
            if item["qty"] > left:
                raise OutOfStock(f"{item['sku']}: {item['qty']} wanted, {left} left (order {paid['orderId']})")
        for item in items:
            inventory[item["sku"]] -= item["qty"]
    return {"orderId": paid["orderId"], "reserved": items, "status": "RESERVED"}


def rollback_order(event: Any, context: Any) -> dict[str, Any]:
    """Refund the payment of an order whose inventory update failed (event: that failure record)."""
    upstream = event.get("requestPayload") if isinstance(event, dict) else None
    paid = _paid_order(upstream)
    payment_id = paid.get("paymentId")
    amount = paid.get("amountCents")
    if not isinstance(payment_id, str) or not payment_id.startswith("pay_") or not isinstance(amount, int):
        raise UnknownPayment(f"no payment {payment_id!r} for order {paid.get('orderId')!r}")
    with _lock:
        refunds[payment_id] = amount
        payment = payments.get(payment_id)
        if payment is not None:  # taken in this same process (handlers called directly)
            payment["status"] = "refunded"
    response = event.get("responsePayload") if isinstance(event, dict) else None
    reason = response.get("errorMessage") if isinstance(response, dict) else None
    return {
        "orderId": paid["orderId"],
        "paymentId": payment_id,
        "refundedCents": amount,
        "status": "REFUNDED",
        "reason": reason,
    }
