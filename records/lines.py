"""One decoded input as a line: the `jsonl` contract other tools read, and a `text` line for people.

The JSON field names are a contract (see DESIGN.md). Text lines never carry terminal control
characters: everything that came from the input is passed through `visible()`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pydantic_core

from records.decode import Decoded
from records.models import split_function_arn

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
_CONTROL_ALL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


_NAMED = {"\x1b": "\\e", "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED.get(char)
    if named is not None:
        return named
    return f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"


def visible(text: str, *, keep_newlines: bool = False) -> str:
    """Show control characters and escape sequences as visible escapes (`\\e[31m`, `\\x07`)."""
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


def dumps_json_line(decoded: Decoded, input_label: str) -> str:
    line = json_line(decoded, input_label)
    try:
        return pydantic_core.to_json(line).decode()  # fast path (Rust)
    except (ValueError, UnicodeDecodeError):  # e.g. a lone surrogate from the input: json escapes it
        return json.dumps(line, ensure_ascii=False, separators=(",", ":"))


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
