"""Unit tests of the sandbox's pieces: record shapes, stack files, test orders, flow chains."""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from records.decode import decode
from records.invoke import ORDER_KINDS, PRESETS, chain, flow_plan, generate_order
from records.models import AsyncInvocationRecord
from records.sandbox.order_system import handlers
from records.sandbox.runtime import EventInvokeConfig, Function, Outcome, PendingEvent, make_record
from records.sandbox.stack import DEFAULT_STACK, FunctionSpec, StackError, load_stack, parse_stack

ARN = "arn:aws:lambda:us-east-1:123456789012:function:order"


def function(config: EventInvokeConfig | None = None) -> Function:
    return Function(FunctionSpec("order", "x:y"), ARN, config)


@pytest.mark.parametrize(
    ("condition", "attempts", "last"),
    [
        ("Success", 1, Outcome({"ok": True})),
        ("RetriesExhausted", 3, Outcome({"errorMessage": "no", "errorType": "Boom", "stackTrace": []}, "Unhandled")),
        ("EventAgeExceeded", 1, Outcome({"errorType": "Sandbox.Timedout", "errorMessage": "late"}, "Unhandled")),
        ("EventAgeExceeded", 0, None),
    ],
)
def test_every_record_shape_decodes(condition: str, attempts: int, last: Outcome | None) -> None:
    event = PendingEvent("11111111-2222-3333-4444-555555555555", {"orderId": "o-1"}, 0.0, attempts, last)
    record = make_record(function(), event, condition)
    assert record["requestContext"]["functionArn"] == ARN + ":$LATEST"
    assert ("responseContext" in record) == (last is not None)
    [decoded] = decode(json.dumps(record))
    assert decoded.ok, decoded.error
    parsed = decoded.record
    assert isinstance(parsed, AsyncInvocationRecord)
    assert parsed.condition == condition and parsed.approximate_invoke_count == attempts
    assert parsed.succeeded == (condition == "Success")
    assert decoded.correlation_id == "o-1"
    if last is not None and last.function_error:
        assert parsed.function_error == "Unhandled" and parsed.error is not None


def test_event_invoke_config_api_shape() -> None:
    config = EventInvokeConfig(maximum_retry_attempts=1, on_failure="arn:aws:sqs:us-east-1:123456789012:q")
    body = config.to_api(ARN + ":$LATEST")
    assert body["MaximumRetryAttempts"] == 1 and "MaximumEventAgeInSeconds" not in body
    assert body["DestinationConfig"] == {"OnSuccess": {}, "OnFailure": {"Destination": config.on_failure}}
    assert function().retries == 2 and function().event_age == 21600
    assert function(config).retries == 1


def test_default_stack_is_the_order_system() -> None:
    stack = load_stack()
    assert stack.path == DEFAULT_STACK
    assert [f.name for f in stack.functions] == ["order", "update-inventory", "rollback-order"]
    order = stack.function("order")
    assert order is not None
    assert order.on_success == stack.arn("function", "update-inventory")
    assert order.on_failure == "arn:aws:sqs:us-east-1:123456789012:order-failures"
    assert stack.queues == ("order-failures", "order-notifications-inbox")
    assert stack.topics == ("order-notifications",)
    # someone reads the notifications, so the doctor finds a subscriber
    assert [(s.topic, s.queue) for s in stack.subscriptions] == [("order-notifications", "order-notifications-inbox")]
    for spec in stack.functions:
        assert callable(stack.load_handler(spec))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "at least one"),
        ({"functions": [{"name": "a b", "handler": "m:f"}]}, "name"),
        ({"functions": [{"name": "a"}]}, "needs handler"),
        ({"functions": [{"name": "a", "handler": "m:f", "maximum_retry_attempts": 3}]}, "0, 1 or 2"),
        ({"functions": [{"name": "a", "handler": "m:f", "maximum_event_age": 10}]}, "60-21600"),
        ({"functions": [{"name": "a", "handler": "m:f", "on_success": "table:x"}]}, "kind:name"),
        ({"functions": [{"name": "a", "handler": "m:f", "reserved_concurrency": -1}]}, "reserved_concurrency"),
        ({"functions": [{"name": "a", "handler": "m:f"}, {"name": "a", "handler": "m:f"}]}, "twice"),
        ({"region": "mars", "functions": [{"name": "a", "handler": "m:f"}]}, "region"),
        ({"functions": [{"name": "a", "handler": "m:f"}], "subscriptions": [{"topic": "t", "queue": "q"}]}, "declare"),
    ],
)
def test_stack_errors(data: dict[str, Any], message: str) -> None:
    with pytest.raises(StackError, match=message):
        parse_stack(data, Path("stack.toml"))


def test_stack_file_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[[functions]\n")
    with pytest.raises(StackError, match="not valid TOML"):
        load_stack(bad)
    with pytest.raises(StackError, match="cannot read"):
        load_stack(tmp_path / "missing.toml")
    stack = parse_stack({"functions": [{"name": "a", "handler": "nope.py:f"}]}, tmp_path / "s.toml")
    with pytest.raises(StackError, match="does not exist"):
        stack.load_handler(stack.functions[0])
    stack = parse_stack({"functions": [{"name": "a", "handler": "no_such_module_xyz:f"}]}, tmp_path / "s.toml")
    with pytest.raises(StackError, match="importing"):
        stack.load_handler(stack.functions[0])


def test_generated_orders_match_their_kind() -> None:
    rng = random.Random(7)
    handlers.reset()
    for kind in ORDER_KINDS:
        for _ in range(20):
            order = generate_order(kind, rng)
            assert set(order) == {"orderId", "customerId", "items", "card"}
            if kind == "declined":
                with pytest.raises(handlers.PaymentDeclined):
                    handlers.order(order, None)
                continue
            paid = handlers.order(order, None)
            record = {"requestPayload": order, "responsePayload": paid}
            if kind == "out-of-stock":
                with pytest.raises(handlers.OutOfStock):
                    handlers.update_inventory(record, None)
            else:
                assert handlers.update_inventory(record, None)["status"] == "RESERVED"
    mix = Counter(
        "declined" if o["card"] == "4000000000000002" else "oos" if o["items"][0]["qty"] >= 500 else "good"
        for o in (generate_order(rng=rng) for _ in range(1000))
    )
    assert mix["good"] > 700 and mix["oos"] > 50 and mix["declined"] > 50
    assert set(PRESETS) == set(ORDER_KINDS)
    with pytest.raises(ValueError, match="unknown order kind"):
        generate_order("weird")  # type: ignore[arg-type]
    handlers.reset()


def test_rollback_refunds_the_payment() -> None:
    handlers.reset()
    paid = handlers.order(PRESETS["out-of-stock"], None)
    failure = {
        "requestPayload": {"requestPayload": PRESETS["out-of-stock"], "responsePayload": paid},
        "responsePayload": {"errorMessage": "SKU-5: too many", "errorType": "OutOfStock"},
    }
    refund = handlers.rollback_order(failure, None)
    assert refund["status"] == "REFUNDED" and refund["reason"] == "SKU-5: too many"
    assert handlers.payments[paid["paymentId"]]["status"] == "refunded"
    with pytest.raises(handlers.UnknownPayment):
        handlers.rollback_order({"requestPayload": {"responsePayload": {**paid, "paymentId": "x"}}}, None)
    with pytest.raises(handlers.InvalidOrder):
        handlers.order({"orderId": 1}, None)
    handlers.reset()


def test_chain_unnests_records_innermost_first() -> None:
    inner = make_record(function(), PendingEvent("root", {"orderId": "o"}, 0.0, 1, Outcome({})), "Success")
    outer_fn = Function(FunctionSpec("next", "x:y"), ARN.replace(":order", ":next"))
    outer = make_record(outer_fn, PendingEvent("child", inner, 0.0, 1, Outcome({})), "Success")
    record = decode(json.dumps(outer))[0].record
    assert isinstance(record, AsyncInvocationRecord)
    links = chain(record)
    assert [link.request_id for link, _ in links] == ["root", "child"]
    assert links[0][1] == inner and links[1][1] is None


def test_flow_plan_keeps_the_flow_routes_and_says_what_cannot_be_watched() -> None:
    from records.discovery import Plan, Route

    arn = "arn:aws:{}:us-east-1:123456789012:{}"
    found = Plan(
        [
            Route("f", "$LATEST", "on-success", arn.format("lambda", "function:g"), "lambda", None, "follow"),
            Route("f", "$LATEST", "on-failure", arn.format("sqs", "q.fifo"), "sqs", None, "none", "FIFO: no"),
            Route("g", "$LATEST", "on-success", arn.format("events", "event-bus/b"), "events", "f", "tap"),
            Route("g", "$LATEST", "on-failure", "arn:aws:s3:::bucket", "s3", "f", "bucket"),
            Route("g", "$LATEST", "dead-letter", arn.format("sqs", "dlq"), "sqs", "f", "peek"),
        ],
        ["g ($LATEST) has no OnFailure destination: such records go nowhere"],
        {"f": arn.format("lambda", "function:f"), "g": arn.format("lambda", "function:g")},
    )
    plan = flow_plan("f:$LATEST", found)
    assert plan.function == "f" and plan.functions == ["f", "g"]
    assert plan.buses == [arn.format("events", "event-bus/b")] and plan.queues == []  # no dead-letter queue
    assert plan.buckets == {"bucket": ["g"]}
    assert any("FIFO" in p and "q.fifo" in p for p in plan.problems)
    assert any("no OnFailure destination" in p for p in plan.problems)
    assert plan.watchable


def test_default_back_offs_take_about_one_and_two_seconds() -> None:
    from records.sandbox.runtime import BACKOFF_SECONDS, DEFAULT_TIME_FACTOR

    assert [round(delay * DEFAULT_TIME_FACTOR, 3) for delay in BACKOFF_SECONDS] == [1.0, 2.0]
