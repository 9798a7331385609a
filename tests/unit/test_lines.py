"""Text lines for people: literal, one line, with the SQS receive count when the transport gave one."""

from __future__ import annotations

from pathlib import Path

from records.decode import decode
from records.lines import receive_count, text_line

GOOD = Path(__file__).parent.parent / "golden" / "good"


def test_receive_count_is_shown_when_sqs_gave_it() -> None:
    meta = {"MessageId": "m-1", "Attributes": {"ApproximateReceiveCount": "3"}}
    [decoded] = decode((GOOD / "success.json").read_text(), meta=meta)
    assert receive_count(decoded.meta) == 3
    assert "receives=3" in text_line(decoded, "queue:q")


def test_no_receive_count_without_sqs_attributes() -> None:
    [decoded] = decode((GOOD / "success.json").read_text())
    assert receive_count(decoded.meta) is None
    assert "receives=" not in text_line(decoded, "file")
    assert receive_count({"Attributes": {"ApproximateReceiveCount": "x"}}) is None
