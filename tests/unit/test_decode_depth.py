"""The one payload nesting limit (records.rules.MAX_DEPTH): a payload nested deeper decodes as a
record with the payload marked too deep, whichever envelope and path it took; at the limit it is
kept whole; beyond what JSON can be read at all it is a reason, never an exception."""

from __future__ import annotations

import json
from typing import Any

import pytest

from records import decode as decode_module
from records.decode import decode
from records.lines import dumps_json_line
from records.rules import MAX_DEPTH, TooDeep
from tests.factories import deep_record_text as record_text
from tests.factories import wrapped


def general(text: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    with monkeypatch.context() as patch:
        patch.setattr(decode_module, "_fast_record", lambda *args: None)
        return decode(text)


@pytest.mark.parametrize("kind", ["bare", "sns", "eventbridge", "sqs-event"])
@pytest.mark.parametrize("depth", [MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1, 260, 900])
def test_deeper_than_the_limit_is_marked_too_deep(kind: str, depth: int, monkeypatch: pytest.MonkeyPatch) -> None:
    text = wrapped(kind, record_text(depth))
    (decoded,) = decode(text)
    assert decoded.ok, decoded.error
    assert decoded.record is not None
    payload = decoded.record.request_payload
    if depth > MAX_DEPTH:
        assert isinstance(payload, TooDeep)
        assert f"nested more than {MAX_DEPTH} levels" in payload
    else:
        assert not isinstance(payload, TooDeep)
        assert json.dumps(payload).count("[") == depth
    # every consumer of a record can take it: dumping, the jsonl line, the general path's answer
    decoded.record.model_dump(mode="json")
    line = json.loads(dumps_json_line(decoded, "x"))
    assert line["ok"] is True and (line["request_payload"] == payload)
    (slow,) = general(text, monkeypatch)
    assert slow.record is not None and slow.record.request_payload == payload


def test_any_too_deep_field_is_marked_and_a_too_deep_context_is_a_reason() -> None:
    deep = json.loads("[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5))
    value = json.loads(record_text(1))
    (decoded,) = decode({**value, "extraField": deep})
    assert decoded.record is not None and isinstance(decoded.record.model_extra["extraField"], TooDeep)  # type: ignore[index]
    (decoded,) = decode({**value, "requestContext": {**value["requestContext"], "x": deep}})
    assert decoded.error is not None and "requestContext" in decoded.error and "too deep" in decoded.error


def test_deeper_than_json_can_be_read_is_a_reason() -> None:
    (decoded,) = decode(record_text(5000))
    assert decoded.error == "the JSON is nested too deeply to read"
    assert decoded.raw.count("[") == 5000
