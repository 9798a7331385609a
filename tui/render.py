"""Plain `rich.text.Text` views of records for the detail area and the drill-down screen.

Nothing here parses markup: every string that came from a record goes through `visible()` and into
`Text` as literal text.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rich.text import Text

from records.decode import Decoded
from records.lines import iso_timestamp, receive_count, visible
from records.models import DeadLetterMessage, StreamFailureRecord

__all__ = [
    "Stage",
    "contexts",
    "diff_text",
    "envelope_meta",
    "error_text",
    "field_lines",
    "lit",
    "order_id",
    "outcome",
    "pretty_raw",
    "record_document",
    "stage_note",
    "summary",
    "timeline_text",
]


def lit(value: object, style: str = "") -> Text:
    """A value as literal text: never markup, control characters made visible."""
    return Text(visible(str(value)), style=style)


def field_lines(rows: Iterable[tuple[str, object]]) -> Text:
    """`name  value` lines, names aligned."""
    pairs = [(name, value) for name, value in rows if value is not None and value != ""]
    width = max((len(name) for name, _ in pairs), default=0)
    text = Text()
    for number, (name, value) in enumerate(pairs):
        if number:
            text.append("\n")
        text.append(f"{name:<{width}}  ", style="bold")
        text.append_text(lit(value))
    return text


def outcome(decoded: Decoded) -> Text:
    """A record's outcome in a word or two, coloured (undecodable, succeeded, failed, dead-letter)."""
    record = decoded.record
    if decoded.dead_letter is not None:
        return Text("✗ dead-letter message", style="bold red")
    if record is None:
        return Text("✗ undecodable", style="bold yellow")
    if record.succeeded:
        return Text(f"✓ {visible(record.condition)}", style="bold green")
    return Text(f"✗ {visible(record.condition)}", style="bold red")


def summary(
    decoded: Decoded, source: str | None = None, received: str | None = None, function: str | None = None
) -> Text:
    """A few lines about one record (the main screen's detail area). `function`: what the store
    knows a dead-letter message's function is (`RowSummary.function_name`)."""
    record = decoded.record
    text = Text()
    if decoded.dead_letter is not None:
        return _dead_letter_summary(decoded, decoded.dead_letter, source, received, function)
    if record is None:
        text.append_text(outcome(decoded))
        text.append("  ")
        text.append_text(lit(decoded.error or ""))
        text.append("\n")
        text.append_text(field_lines([("source", source), ("received", received)]))
        text.append("\nraw  ", style="bold")
        raw = decoded.raw if len(decoded.raw) <= 400 else decoded.raw[:400] + "…"
        text.append_text(lit(raw))
        return text
    text.append_text(outcome(decoded))
    text.append(f"  {visible(record.function_name)}", style="bold")
    text.append(f"  attempts {record.approximate_invoke_count}")
    error = record.error
    if error is not None:
        text.append("\n")
        text.append(visible(error.error_type or record.function_error or "Error"), style="bold red")
        text.append(": ")
        text.append_text(lit(error.error_message or ""))
    elif record.function_error:
        text.append(f"\nfunctionError {visible(record.function_error)}", style="red")
    text.append("\n")
    text.append_text(
        field_lines(
            [
                ("order", decoded.correlation_id),
                ("request", record.request_id),
                ("time", iso_timestamp(record.timestamp)),
                ("source", source),
                ("via", " > ".join(decoded.envelope)),
                ("receives", _receives(decoded)),
            ]
        )
    )
    return text


def _dead_letter_summary(
    decoded: Decoded, message: DeadLetterMessage, source: str | None, received: str | None, function: str | None
) -> Text:
    text = outcome(decoded)
    text.append("  ")
    text.append_text(lit(function or f"from {message.target_name or source or 'an unknown queue'}", "bold"))
    text.append("\n")
    text.append(f"ErrorCode {visible(message.error_code or '?')}", style="bold red")
    text.append(": ")
    text.append_text(lit(message.error_message or ""))
    text.append("\n")
    text.append_text(
        field_lines(
            [
                ("order", decoded.correlation_id),
                ("request", message.request_id),
                ("sent", iso_timestamp(message.sent) if message.sent is not None else None),
                ("queue", message.target),
                ("source", source),
                ("received", received),
                ("via", " > ".join(decoded.envelope)),
                ("receives", _receives(decoded)),
            ]
        )
    )
    return text


def _receives(decoded: Decoded) -> str | None:
    count = receive_count(decoded.meta)
    return None if count is None else f"{count} (SQS ApproximateReceiveCount)"


def error_text(decoded: Decoded) -> Text:
    """Error type, message and stack trace (or why there is none)."""
    record = decoded.record
    message = decoded.dead_letter
    if message is not None:
        return Text.assemble(
            (f"ErrorCode {visible(message.error_code or '?')}\n", "bold red"),
            lit(message.error_message or ""),
            (
                "\n\nA dead-letter message carries the original event (Request tab) and these two "
                "attributes only (the error message cut to 1 KB, no stack trace): the function's "
                "OnFailure destination record, when it has one, holds the whole response.",
                "dim",
            ),
        )
    if record is None:
        return Text.assemble(("Not an execution record\n", "bold yellow"), lit(decoded.error or ""))
    error = record.error
    if error is None:
        if record.succeeded:
            return Text("No error: the invocation succeeded.", style="green")
        if isinstance(record, StreamFailureRecord):
            return Text.assemble(
                (f"{visible(record.condition)}\n", "bold red"),
                lit(f"A {record.stream_kind} batch failed; see Contexts for the batch."),
            )
        detail = record.function_error or "no error object in the response payload"
        return Text.assemble((f"{visible(record.condition)}\n", "bold red"), lit(detail))
    text = Text()
    text.append(visible(error.error_type or record.function_error or "Error"), style="bold red")
    text.append("\n")
    text.append_text(lit(error.error_message or ""))
    lines = error.lines
    if lines:
        text.append("\n\nStack trace\n", style="bold")
        for line in lines:
            text.append_text(lit(line.rstrip("\n")))
            text.append("\n")
    return text


def contexts(decoded: Decoded) -> dict[str, Any]:
    """Request and response context (and batch info for stream failures) as plain JSON; a
    dead-letter message's attributes."""
    record = decoded.record
    message = decoded.dead_letter
    if message is not None:
        return {
            "RequestID": message.request_id,
            "ErrorCode": message.error_code,
            "ErrorMessage": message.error_message,
            "deadLetterQueue": message.target,
        }
    if record is None:
        return {}
    result: dict[str, Any] = {
        "version": record.version,
        "timestamp": iso_timestamp(record.timestamp),
        "requestContext": record.request_context.model_dump(by_alias=True),
        "responseContext": record.response_context.model_dump(by_alias=True) if record.response_context else None,
    }
    if isinstance(record, StreamFailureRecord):
        info = record.batch_info
        result[f"{record.stream_kind}BatchInfo"] = info.model_dump(by_alias=True) if info else None
        if record.payload is not None:
            result["payload"] = record.payload
    return result


def envelope_meta(
    decoded: Decoded, source: str | None, received: str | None, input_label: str | None
) -> dict[str, Any]:
    """The Envelope tab: how the record arrived (source, time, input, transport metadata)."""
    return {
        "source": source,
        "received": received,
        "input": input_label,
        "envelope": list(decoded.envelope),
        "correlationId": decoded.correlation_id,
        "meta": _jsonable(decoded.meta),
    }


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def pretty_raw(raw: str) -> str:
    """The raw text, pretty-printed when it is JSON (the untouched text otherwise)."""
    try:
        return json.dumps(json.loads(raw), indent=2, ensure_ascii=False)
    except (ValueError, RecursionError):
        return raw


def record_document(decoded: Decoded) -> Any:
    """The record as the JSON document it came as (for diffs and for copying)."""
    record = decoded.record
    if decoded.dead_letter is not None:
        return decoded.dead_letter.model_dump(mode="json", exclude={"body"}) | {"event": decoded.dead_letter.event}
    if record is None:
        return decoded.raw
    return record.model_dump(mode="json", by_alias=True, exclude_none=False)


def diff_text(left: Decoded, right: Decoded, left_name: str, right_name: str) -> Text:
    """A unified diff of two records' documents, added lines green and removed ones red."""
    a = json.dumps(record_document(left), indent=2, ensure_ascii=False, sort_keys=True).splitlines()
    b = json.dumps(record_document(right), indent=2, ensure_ascii=False, sort_keys=True).splitlines()
    text = Text()
    lines = list(difflib.unified_diff(a, b, fromfile=left_name, tofile=right_name, lineterm="", n=3))
    if not lines:
        return Text("The two records are identical.")
    for line in lines:
        style = ""
        if line.startswith(("+++", "---")):
            style = "bold"
        elif line.startswith("+"):
            style = "green"
        elif line.startswith("-"):
            style = "red"
        elif line.startswith("@@"):
            style = "cyan"
        text.append_text(lit(line, style))
        text.append("\n")
    return text


@dataclass(frozen=True, slots=True)
class Stage:
    """One record of a flow, for the timeline."""

    time: datetime | None
    function: str
    condition: str
    attempts: int
    succeeded: bool
    error: str | None = None


def timeline_text(stages: Sequence[Stage], current_index: int | None = None) -> Text:
    """Stage after stage, with the time since the previous one and the attempts."""
    text = Text()
    previous: datetime | None = None
    for number, stage in enumerate(stages):
        mark = ("✓", "green") if stage.succeeded else ("✗", "red")
        gap = ""
        if previous is not None and stage.time is not None:
            seconds = (stage.time - previous).total_seconds()
            gap = f"+{seconds:.3f}s"
        when = iso_timestamp(stage.time)[11:23] if stage.time else "?"
        pointer = "▶ " if number == current_index else "  "
        text.append(pointer)
        text.append(f"{when}  {gap:>10}  ")
        text.append(mark[0], style=f"bold {mark[1]}")
        text.append(f" {visible(stage.function):<18} ", style="bold")
        text.append_text(lit(stage.condition, mark[1]))
        text.append(f"  attempts {stage.attempts}")
        if stage.error:
            text.append("  ")
            text.append_text(lit(stage.error, "red"))
        text.append("\n")
        if stage.time is not None:
            previous = stage.time
    if not stages:
        text.append("This record is not part of a flow (no order id and no linked records).", style="dim")
    return text


def order_id(payload: Any) -> str | None:
    """The order id of a test-order payload (`orderId` or `order_id`), if it has one."""
    if isinstance(payload, dict):
        for key in ("orderId", "order_id"):
            value = payload.get(key)
            if isinstance(value, str | int) and not isinstance(value, bool):
                return str(value)
    return None


def stage_note(error_type: str | None, nested: bool, dead_lettered: bool = False) -> str | None:
    """A timeline stage's note: its error type, whether it was only seen nested, and whether its
    event reached the dead-letter queue."""
    if not nested:
        note = error_type
    else:
        note = f"{error_type}  (seen nested)" if error_type else "(seen nested in a downstream record)"
    if dead_lettered:
        return f"{note}  dead-lettered" if note else "dead-lettered"
    return note
