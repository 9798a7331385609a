"""One decoded input as a line: the `jsonl` contract other tools read, and a `text` line for people.

The JSON field names are a contract (see DESIGN.md). Text lines never carry terminal control
characters, nor invisible format characters (Unicode category Cf: bidi controls, zero-width
spaces and joiners) that would make two different texts look the same: everything that came from
the input is passed through `visible()`.

JSON lines are strict JSON (RFC 8259), which has no NaN or Infinity: a payload holding such a
number (Python's and pydantic's JSON readers accept them) is written with it as the string "NaN",
"Infinity" or "-Infinity", so its line is still written and any JSON reader can read it.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pydantic_core

from records.decode import Decoded
from records.models import DeadLetterMessage, split_function_arn

# Unicode category Cf (format characters: invisible), as of Unicode 15; a test checks it against
# the running Python's unicodedata.
_FORMAT = (
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
)
_CONTROL = re.compile(f"[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f\\u2028\\u2029{_FORMAT}]")
_CONTROL_ALL = re.compile(f"[\\x00-\\x1f\\x7f-\\x9f\\u2028\\u2029{_FORMAT}]")


_NAMED = {"\x1b": "\\e", "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def visible(text: str, *, keep_newlines: bool = False) -> str:
    """Show control characters, escape sequences and invisible format characters as visible
    escapes (`\\e[31m`, `\\x07`, `\\u202e`, `\\u200b`)."""
    pattern = _CONTROL if keep_newlines else _CONTROL_ALL
    return pattern.sub(_escape, text)


def iso_timestamp(value: datetime) -> str:
    """ISO-8601 UTC with milliseconds and a Z, as AWS writes it."""
    offset = value.utcoffset()
    if offset:
        value = value.astimezone(UTC)
    return value.isoformat(timespec="milliseconds")[:23] + "Z"  # drops "+00:00" when there is one


def json_line(decoded: Decoded, input_label: str) -> dict[str, Any]:
    """The contract object of `--format jsonl` for one decoded input."""
    record = decoded.record
    if decoded.dead_letter is not None:
        return dead_letter_line(decoded, decoded.dead_letter, input_label)
    if record is None:
        return {"ok": False, "input": input_label, "error": decoded.error, "raw": decoded.raw}
    context = record.request_context
    response = record.response_context
    name, qualifier = split_function_arn(context.function_arn)
    succeeded = record.succeeded
    error_type, error_message = (None, None) if succeeded else record.error_type_and_message()
    return {
        "ok": True,
        "input": input_label,
        "envelope": list(decoded.envelope),
        "kind": record.kind,
        "condition": context.condition,
        "succeeded": succeeded,
        "function_name": name,
        "function_arn": context.function_arn,
        "qualifier": qualifier,
        "request_id": context.request_id,
        "parent_request_id": record.parent_request_id,
        "timestamp": iso_timestamp(record.timestamp),
        "approximate_invoke_count": context.approximate_invoke_count,
        "status_code": response.status_code if response else None,
        "function_error": response.function_error if response else None,
        "error_type": error_type,
        "error_message": error_message,
        "correlation_id": decoded.correlation_id,
        "request_payload": record.request_payload,
        "response_payload": record.response_payload,
    }


def dead_letter_line(decoded: Decoded, message: DeadLetterMessage, input_label: str) -> dict[str, Any]:
    """The contract object of a dead-letter message: `kind` "dead-letter", the record fields with
    what the message says (`request_payload` is the original event, `timestamp` when the queue or
    topic got it, `condition` and the function's fields null: the message names no function) and
    `error_code` and `dead_letter_queue` (the queue or topic ARN, when the message names it)."""
    return {
        "ok": True,
        "input": input_label,
        "envelope": list(decoded.envelope),
        "kind": message.kind,
        "condition": None,
        "succeeded": False,
        "function_name": None,
        "function_arn": None,
        "qualifier": None,
        "request_id": message.request_id,
        "parent_request_id": None,
        "timestamp": iso_timestamp(message.sent) if message.sent is not None else None,
        "approximate_invoke_count": None,
        "status_code": None,
        "function_error": None,
        "error_type": None,
        "error_message": message.error_message,
        "correlation_id": decoded.correlation_id,
        "request_payload": message.event,
        "response_payload": None,
        "error_code": message.error_code,
        "dead_letter_queue": message.target,
    }


_NON_FINITE = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}


def _finite(value: Any) -> Any:
    """`value` with NaN and the infinities as strings (as pydantic's inf_nan_mode="strings")."""
    if isinstance(value, float):
        return value if math.isfinite(value) else _NON_FINITE[repr(value)]
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


def dumps_json_line(decoded: Decoded, input_label: str) -> str:
    """The JSON line of `json_line`: strict JSON (NaN and the infinities as strings)."""
    line = json_line(decoded, input_label)
    try:
        return pydantic_core.to_json(line, inf_nan_mode="strings").decode()  # fast path (Rust)
    except (ValueError, UnicodeDecodeError):  # e.g. a lone surrogate from the input: json escapes it
        return json.dumps(_finite(line), ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def receive_count(meta: Mapping[str, Any]) -> int | None:
    """SQS's ApproximateReceiveCount of the message a record came in (every receive, a peek's
    included, counts toward a redrive policy's maxReceiveCount)."""
    attributes = meta.get("Attributes")
    if not isinstance(attributes, Mapping):
        return None
    count = attributes.get("ApproximateReceiveCount")
    try:
        return int(count) if count is not None else None
    except (TypeError, ValueError):
        return None


def text_line(decoded: Decoded, input_label: str) -> str:
    """A line for people: time, function, outcome, attempts, error, correlation id, envelope."""
    record = decoded.record
    message = decoded.dead_letter
    if message is not None:
        parts = [
            iso_timestamp(message.sent) if message.sent is not None else "-",
            f"✗ dead-letter message from {message.target_name or input_label}",
            f"ErrorCode {message.error_code or '?'}: {message.error_message or ''}".rstrip(),
        ]
        if decoded.correlation_id is not None:
            parts.append(f"id={decoded.correlation_id}")
        parts.append(f"req={message.request_id}")
        if decoded.envelope:
            parts.append(f"via={'>'.join(decoded.envelope)}")
        parts.append(f"({input_label})")
        return visible("  ".join(parts))
    if record is None:
        preview = decoded.raw if len(decoded.raw) <= 200 else decoded.raw[:200] + "…"
        return visible(f"✗ undecodable  {input_label}: {decoded.error}  raw: {preview}")
    parts = [
        iso_timestamp(record.timestamp),
        f"{record.function_name}:{record.qualifier}" if record.qualifier else record.function_name,
        ("✓ " if record.succeeded else "✗ ") + record.condition,
        f"x{record.approximate_invoke_count}",
    ]
    if record.kind == "stream-failure":
        parts.append(f"stream={record.stream_kind}")
    error = record.error
    if error is not None:
        parts.append(f"{error.error_type or record.function_error or 'Error'}: {error.error_message or ''}".rstrip())
    elif record.function_error:
        parts.append(f"functionError={record.function_error}")
    if decoded.correlation_id is not None:
        parts.append(f"id={decoded.correlation_id}")
    parts.append(f"req={record.request_id}")
    if decoded.envelope:
        parts.append(f"via={'>'.join(decoded.envelope)}")
    receives = receive_count(decoded.meta)
    if receives is not None:
        parts.append(f"receives={receives}")
    parts.append(f"({input_label})")
    return visible("  ".join(parts))
