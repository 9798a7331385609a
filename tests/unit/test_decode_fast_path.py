"""The one-pass fast path (bare record, SNS notification, EventBridge event) gives exactly what the
general path gives, for every golden input and for look-alikes that must fall through to it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from records import decode as decode_module
from records.decode import Decoded, decode
from records.files import read_inputs
from records.lines import json_line

GOLDEN = Path(__file__).parent.parent / "golden"


def texts() -> list[str]:
    found = []
    for folder in ("good", "bad", "dead_letter"):
        for item in read_inputs([GOLDEN / folder]):
            found.append(item.raw if item.raw is not None else str(item.data))
    return found


def signature(decoded: list[Decoded]) -> list[tuple[Any, ...]]:
    return [(json_line(d, "x"), d.envelope, dict(d.meta), d.correlation_id) for d in decoded]


def general(text: str, meta: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> list[Decoded]:
    with monkeypatch.context() as patch:
        patch.setattr(decode_module, "_fast_record", lambda *args: None)
        return decode(text, meta=meta)


@pytest.mark.parametrize("meta", [{}, {"MessageId": "m-1", "Attributes": {"ApproximateReceiveCount": "2"}}])
def test_fast_path_matches_general_path(meta: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    inputs = texts()
    assert len(inputs) > 40
    for text in inputs:
        assert signature(decode(text, meta=meta)) == signature(general(text, meta, monkeypatch)), text[:200]


def test_look_alikes_fall_through(monkeypatch: pytest.MonkeyPatch) -> None:
    record = json.loads((GOLDEN / "good" / "success.json").read_text())
    stream = json.loads((GOLDEN / "good" / "kinesis.json").read_text())
    cases = [
        {"Type": "Notification", "TopicArn": "t", "Message": json.dumps(stream)},
        {"version": "0", "detail-type": "Order Placed", "source": "lambda", "detail": record},
        {"version": "0", "detail-type": "Lambda Function Invocation Result - Success", "source": "x", "detail": record},
        {"Type": "Notification", "TopicArn": "t", "Message": json.dumps(json.dumps(record))},
        {**record, "requestContext": {**record["requestContext"], "approximateInvokeCount": "1"}},
    ]
    for case in cases:
        text = json.dumps(case)
        assert signature(decode(text)) == signature(general(text, {}, monkeypatch)), text[:200]
