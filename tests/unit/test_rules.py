"""The record rules (records.rules) and every place that applies them agree."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from records import rules
from records.decode import decode
from records.facts import FactMaker
from records.invoke import chain
from records.models import AsyncInvocationRecord

GOLDEN = Path(__file__).parent.parent / "golden"
ARN = "arn:aws:lambda:us-east-1:123456789012:function:{}:$LATEST"


def record(
    name: str, request_id: str, payload: Any, *, condition: str = "Success", error: Any = None
) -> dict[str, Any]:
    response_context: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
    if error is not None:
        response_context["functionError"] = "Unhandled"
    return {
        "version": "1.0",
        "timestamp": "2026-11-01T10:00:00.000Z",
        "requestContext": {
            "requestId": request_id,
            "functionArn": ARN.format(name),
            "condition": condition,
            "approximateInvokeCount": 1,
        },
        "requestPayload": payload,
        "responseContext": response_context,
        "responsePayload": error,
    }


def chain_of(length: int) -> dict[str, Any]:
    value: dict[str, Any] = {"orderId": "ord-1"}
    for number in range(length):
        value = record(f"f{number}", f"r{number}", value)
    return value


@pytest.mark.parametrize(
    ("condition", "function_error", "expected"),
    [
        ("Success", None, True),
        ("Success", "Unhandled", False),
        ("RetriesExhausted", None, False),
        ("RetriesExhausted", "Unhandled", False),
        (None, None, False),
    ],
)
def test_succeeded_is_one_rule_for_models_and_facts(condition: Any, function_error: Any, expected: bool) -> None:
    assert rules.succeeded(condition, function_error) is expected
    if condition is None:
        return
    error = {"errorType": "Boom", "errorMessage": "it broke"} if function_error else None
    value = record("order", "r-1", {"orderId": "o"}, condition=condition, error=error)
    model = AsyncInvocationRecord.model_validate(value)
    assert model.succeeded is expected
    assert FactMaker().row(decode(json.dumps(value))[0])[5] is expected
    nested = FactMaker().nested(value)
    assert nested[0][4] is expected


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"errorType": "E", "errorMessage": "m"}, ("E", "m")),
        ({"errorType": 3, "errorMessage": ["m"]}, (None, None)),
        ({"errorMessage": "only"}, (None, "only")),
        ("errorType", (None, None)),
        (None, (None, None)),
    ],
)
def test_payload_error(payload: Any, expected: tuple[str | None, str | None]) -> None:
    assert rules.payload_error(payload) == expected
    value = record("order", "r-1", {}, condition="RetriesExhausted", error=payload)
    model = AsyncInvocationRecord.model_validate(value)
    assert model.error_type_and_message() == expected
    facts = FactMaker().row(decode(json.dumps(value))[0])
    assert facts[9] == (expected[0] or ("Unhandled" if payload is not None else None))  # functionError next
    assert facts[10] == expected[1]


def test_nested_walk_has_one_limit_everywhere() -> None:
    deep = chain_of(rules.MAX_DEPTH + 40)
    walked = list(rules.nested_records(deep))
    assert len(walked) == rules.MAX_DEPTH
    assert [item["requestContext"]["requestId"] for item in walked[:3]] == [
        f"r{rules.MAX_DEPTH + 39}",
        f"r{rules.MAX_DEPTH + 38}",
        f"r{rules.MAX_DEPTH + 37}",
    ]
    top = AsyncInvocationRecord.model_validate(deep)
    assert len(FactMaker().nested(top.request_payload)) == rules.MAX_DEPTH
    assert len(chain(top)) == rules.MAX_DEPTH + 1  # the record itself and the nested ones
    # Within the limit every nested record is walked and the innermost payload is the order.
    short = chain_of(5)
    assert len(list(rules.nested_records(short))) == 5
    assert rules.innermost_payload(short) == {"orderId": "ord-1"}
    assert decode(json.dumps(chain_of(40)))[0].correlation_id == "ord-1"  # deeper than the old cap of 32


def test_nested_walk_stops_at_what_is_not_a_record() -> None:
    assert list(rules.nested_records({"requestContext": "x"})) == []
    assert list(rules.nested_records([{"requestContext": {}}])) == []
    bare = {"requestContext": {"requestId": "r"}}
    assert rules.innermost_payload({"requestContext": {}, "requestPayload": bare}) == bare


def test_deeper_than() -> None:
    def nest(depth: int) -> Any:
        value: Any = "x"
        for number in range(depth):
            value = [value] if number % 2 else {"k": value}
        return value

    assert not rules.deeper_than("x")
    assert not rules.deeper_than(nest(rules.MAX_DEPTH))
    assert rules.deeper_than(nest(rules.MAX_DEPTH + 1))
    assert rules.deeper_than(nest(50_000))  # measured without recursion
    assert not rules.deeper_than([[1], [2, [3]]], limit=3)
    assert rules.deeper_than([[1], [2, [3]]], limit=2)
