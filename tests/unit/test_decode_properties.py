"""Property tests: decoding never raises, whatever the input."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from records.decode import decode
from records.lines import dumps_json_line, text_line

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=25,
)

# JSON objects that look a lot like records, so the validator and derived fields are exercised too.
record_like = st.fixed_dictionaries(
    {
        "version": st.one_of(st.just("1.0"), json_values),
        "timestamp": st.one_of(st.just("2026-11-27T10:15:30.123Z"), st.text(max_size=30), json_values),
        "requestContext": st.one_of(
            st.fixed_dictionaries(
                {
                    "requestId": st.one_of(st.text(max_size=10), json_values),
                    "functionArn": st.one_of(
                        st.just("arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST"), st.text(max_size=20)
                    ),
                    "condition": st.one_of(st.just("Success"), json_values),
                    "approximateInvokeCount": st.one_of(st.integers(), json_values),
                }
            ),
            json_values,
        ),
    },
    optional={
        "requestPayload": json_values,
        "responseContext": st.one_of(
            st.fixed_dictionaries({}, optional={"statusCode": json_values, "functionError": json_values}),
            json_values,
        ),
        "responsePayload": json_values,
        "KinesisBatchInfo": json_values,
    },
)


def check(data: Any) -> None:
    results = decode(data)
    assert results
    for decoded in results:
        assert decoded.ok == (decoded.error is None)
        json.loads(dumps_json_line(decoded, "x"))
        line = text_line(decoded, "x")
        assert "\x1b" not in line and "\n" not in line


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(json_values)
def test_any_json_value(value: Any) -> None:
    check(value)
    check(json.dumps(value))


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(record_like)
def test_record_like_objects(value: dict[str, Any]) -> None:
    check(value)
    check(json.dumps(value).encode())


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes(data: bytes) -> None:
    check(data)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_any_text(text: str) -> None:
    check(text)
