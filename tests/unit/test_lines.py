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


def test_every_format_character_is_shown_escaped() -> None:
    """Bidi controls and zero-width characters (category Cf) would make different texts look alike."""
    import sys
    import unicodedata

    from records.lines import visible

    formats = [chr(code) for code in range(sys.maxunicode + 1) if unicodedata.category(chr(code)) == "Cf"]
    assert len(formats) > 150
    for char in formats:
        shown = visible(f"ord-1{char}")
        assert shown != "ord-1" + char and shown.isprintable(), repr(char)
    assert visible("ord-1\u200b") == "ord-1\\u200b" != visible("ord-1")
    assert visible("\u202eabc\u202c") == "\\u202eabc\\u202c"
    assert visible("\U000e0041") == "\\U000e0041"
    assert visible("👩\u200d💻 ü é 注文") == "👩\\u200d💻 ü é 注文"  # ordinary letters and emoji untouched


def test_jsonl_is_strict_json_even_for_nan_and_infinity() -> None:
    import json

    from records.lines import dumps_json_line

    def strict(text: str) -> object:
        def refuse(constant: str) -> object:
            raise ValueError(f"not strict JSON: {constant}")

        return json.loads(text, parse_constant=refuse)

    source = json.loads((GOOD / "success.json").read_text())
    text = json.dumps(source)[:-1] + ', "requestPayload": {"amount": NaN, "max": Infinity, "min": -Infinity}}'
    [decoded] = decode(text)
    assert decoded.ok
    line = strict(dumps_json_line(decoded, "file"))
    assert isinstance(line, dict)
    assert line["request_payload"] == {"amount": "NaN", "max": "Infinity", "min": "-Infinity"}
    # the slower path (taken for text pydantic cannot write, a lone surrogate) is as strict
    surrogate = text.replace('"amount"', '"\\ud800 amount"')
    [decoded] = decode(surrogate)
    line = strict(dumps_json_line(decoded, "file"))
    assert isinstance(line, dict)
    assert line["request_payload"] == {"\ud800 amount": "NaN", "max": "Infinity", "min": "-Infinity"}
