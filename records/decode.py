"""Turn whatever arrived (bytes, text or parsed JSON) into execution records, or clear reasons why not.

`decode()` is the one entry point. It never raises: input that is not a record becomes a
`DecodeError` carrying a sentence a person understands, and the raw input is always kept.

Envelopes unwrapped (outermost first in `Decoded.envelope`):
  sns         an SNS notification (SNS->SQS without raw delivery; either key spelling)
  eventbridge an EventBridge event from source "lambda" or "aws.lambda"
  sqs-event   a Lambda SQS event (`Records[].body`), one Decoded per record
  sns-event   a Lambda SNS event (`Records[].Sns.Message`), one Decoded per record
  json-string a record that was JSON-encoded twice
A raw SQS body or an S3 object body is the record itself: no layer.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import jmespath
import jmespath.exceptions
import pydantic_core
from jmespath.parser import ParsedResult
from pydantic import ValidationError

from records.envelopes.fast_models import LambdaEventBridgeEvent, SnsNotification
from records.models import AsyncInvocationRecord, Record, StreamFailureRecord, has_batch_info
from records.rules import innermost_payload

MAX_LAYERS = 6
_PLAIN_RECORD_HINT = "requestContext"  # also matches inside an SNS Message string
_HEAD = 400
LAMBDA_EVENT_SOURCES = frozenset({"lambda", "aws.lambda"})
DEFAULT_CORRELATION_EXPRESSIONS = ("orderId", "order_id", "order.id", "id")


@dataclass(frozen=True, slots=True)
class DecodeError:
    """Why an input is not an execution record, as a sentence."""

    reason: str


@dataclass(slots=True)  # not frozen: treat as immutable; frozen init costs ~1 µs a record
class Decoded:
    """One decoded input: a record (or the reason it is not one), how it was wrapped, and the raw text."""

    result: Record | DecodeError
    raw: str
    envelope: tuple[str, ...] = ()
    # Metadata from the transport (SQS MessageId, attributes...) and from each envelope layer
    # (SNS TopicArn and MessageId, EventBridge id and detail-type...).
    meta: Mapping[str, Any] = field(default_factory=dict)
    correlation_id: str | None = None

    @property
    def ok(self) -> bool:
        return not isinstance(self.result, DecodeError)

    @property
    def record(self) -> Record | None:
        return None if isinstance(self.result, DecodeError) else self.result

    @property
    def error(self) -> str | None:
        return self.result.reason if isinstance(self.result, DecodeError) else None


class Correlator:
    """Finds a correlation id (an order id) in the innermost request payload with JMESPath."""

    def __init__(self, expressions: Sequence[str] = DEFAULT_CORRELATION_EXPRESSIONS) -> None:
        self.expressions = tuple(expressions)
        compiled: list[ParsedResult] = []
        for expression in self.expressions:
            try:
                compiled.append(jmespath.compile(expression))
            except jmespath.exceptions.JMESPathError as exc:
                raise ValueError(f"invalid JMESPath expression {expression!r}: {exc}") from exc
        self._compiled = tuple(compiled)
        # Plain field paths (`order.id`) are looked up directly: same result, a fraction of the cost.
        self._paths = tuple(_field_path(item.parsed) for item in compiled)

    def __call__(self, record: Record) -> str | None:
        payload = innermost_payload(record.request_payload)
        if payload is None:
            return None
        for expression, path in zip(self._compiled, self._paths, strict=True):
            if path is not None:
                value = _lookup(payload, path)
            else:
                try:
                    value = expression.search(payload)
                except jmespath.exceptions.JMESPathError:
                    continue
            if type(value) is str:
                return value
            if value is None or isinstance(value, bool):
                continue
            if isinstance(value, int | float):
                return str(value)
        return None


def _field_path(node: Any) -> tuple[str, ...] | None:
    """The keys of a JMESPath AST that is only `a` or `a.b.c`, else None."""
    if node.get("type") == "field":
        return (str(node["value"]),)
    if node.get("type") == "subexpression":
        parts: list[str] = []
        for child in node.get("children", ()):
            child_path = _field_path(child)
            if child_path is None:
                return None
            parts.extend(child_path)
        return tuple(parts)
    return None


def _lookup(value: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


DEFAULT_CORRELATOR = Correlator()


def decode(
    data: bytes | str | Any,
    *,
    meta: Mapping[str, Any] | None = None,
    correlator: Correlator = DEFAULT_CORRELATOR,
) -> list[Decoded]:
    """Decode one input. Returns one Decoded per record it holds (a Lambda SQS or SNS event may hold
    several), and always at least one. Never raises.

    `data` is the raw bytes or text of a message body or file document, or an already parsed JSON
    value. `meta` is transport metadata (for SQS: MessageId, Attributes, MessageAttributes).
    """
    base_meta = dict(meta) if meta else {}
    try:
        if type(data) is str:  # the common case first
            return _decode_text(data, data, (), base_meta, correlator)
        if isinstance(data, bytes | bytearray | memoryview):
            raw_bytes = bytes(data)
            try:
                text = raw_bytes.decode("utf-8")
            except UnicodeDecodeError as exc:
                raw = raw_bytes.decode("utf-8", errors="backslashreplace")
                return [_fail(f"the input is not UTF-8 text (bad byte at offset {exc.start})", raw, (), base_meta)]
            return _decode_text(text, text, (), base_meta, correlator)
        if isinstance(data, str):
            return _decode_text(data, data, (), base_meta, correlator)
        raw = _dump(data)
        return _decode_value(data, raw, (), base_meta, correlator)
    except Exception as exc:  # a last guard: decoding must never take the program down
        raw = data if isinstance(data, str) else repr(data)[:10_000]
        return [_fail(f"could not be decoded ({type(exc).__name__}: {exc})", raw, (), base_meta)]


def decode_parsed(
    value: Any,
    raw: str,
    *,
    meta: Mapping[str, Any] | None = None,
    correlator: Correlator = DEFAULT_CORRELATOR,
) -> list[Decoded]:
    """Like `decode()` for a JSON value already parsed from `raw` (a JSON string value is a
    double-encoded document here, never raw text)."""
    base_meta = dict(meta or {})
    try:
        return _decode_value(value, raw, (), base_meta, correlator)
    except Exception as exc:  # the same last guard as decode()
        return [_fail(f"could not be decoded ({type(exc).__name__}: {exc})", raw, (), base_meta)]


def _dump(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(value)


def _fail(reason: str, raw: str, envelope: tuple[str, ...], meta: Mapping[str, Any]) -> Decoded:
    return Decoded(DecodeError(reason), raw, envelope, meta)


def _parse_json(text: str) -> tuple[Any, str | None]:
    """Parse JSON text; on failure return a reason that names the line and column."""
    if not text.strip():
        return None, "the input is empty"
    try:
        return pydantic_core.from_json(text), None  # fast path (Rust); errors fall through to json
    except ValueError:
        pass
    try:
        return json.loads(text), None
    except json.JSONDecodeError as exc:
        return None, f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
    except RecursionError:
        return None, "the JSON is nested too deeply to read"


def _fast_record(
    text: str, raw: str, envelope: tuple[str, ...], meta: dict[str, Any], correlator: Correlator
) -> Decoded | None:
    """The common cases, a bare async-invocation record or one in an SNS notification or an
    EventBridge event, parsed and validated in one pass in pydantic-core. None for anything else:
    the general path then decodes it and gives reasons."""
    if _PLAIN_RECORD_HINT not in text:
        return None
    if meta and _is_dead_letter(meta):
        return None
    head = text[:_HEAD]  # envelope keys come first in what AWS sends; a miss only costs speed
    try:
        if '"detail-type"' in head:
            event = LambdaEventBridgeEvent.model_validate_json(text)
            record = event.detail
            envelope, meta = (*envelope, "eventbridge"), event.layer_meta(meta)
        elif '"Notification"' in head:
            notification = SnsNotification.model_validate_json(text)
            record = notification.message
            envelope, meta = (*envelope, "sns"), notification.layer_meta(meta)
        else:
            record = AsyncInvocationRecord.model_validate_json(text)
    except ValueError:
        return None
    extra = record.model_extra
    if extra and has_batch_info(extra):
        return None  # a stream failure record: the general path picks the right model
    return Decoded(record, raw, envelope, meta, correlator(record))


def _decode_text(
    text: str, raw: str, envelope: tuple[str, ...], meta: dict[str, Any], correlator: Correlator
) -> list[Decoded]:
    fast = _fast_record(text, raw, envelope, meta, correlator)
    if fast is not None:
        return [fast]
    value, reason = _parse_json(text)
    if reason is not None:
        return [_fail(reason, raw, envelope, meta)]
    return _decode_value(value, raw, envelope, meta, correlator)


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _is_dead_letter(meta: Mapping[str, Any]) -> bool:
    """Lambda's async DLQ messages carry RequestID and ErrorCode message attributes."""
    for key in ("MessageAttributes", "messageAttributes"):
        attributes = meta.get(key)
        if isinstance(attributes, Mapping) and "RequestID" in attributes and "ErrorCode" in attributes:
            return True
    return False


_DEAD_LETTER = (
    "an async-invocation dead-letter message, not a destination record "
    "(its body is the original event; RequestID and ErrorCode are in its message attributes)"
)


def _decode_value(
    value: Any, raw: str, envelope: tuple[str, ...], meta: dict[str, Any], correlator: Correlator
) -> list[Decoded]:
    if len(envelope) >= MAX_LAYERS:
        return [_fail(f"too many envelope layers ({' > '.join(envelope)})", raw, envelope, meta)]
    if meta and _is_dead_letter(meta):
        return [_fail(_DEAD_LETTER, raw, envelope, meta)]
    if isinstance(value, str):
        if value.lstrip()[:1] in ("{", "["):
            inner, reason = _parse_json(value)
            if reason is not None:
                return [_fail(f"a JSON string holding {reason}", raw, envelope, meta)]
            return _decode_value(inner, raw, (*envelope, "json-string"), meta, correlator)
        return [_fail("a JSON string, not an execution record", raw, envelope, meta)]
    if not isinstance(value, dict):
        what = _describe(value)
        return [_fail(f"{what[0].upper()}{what[1:]} at the top level, not an execution record", raw, envelope, meta)]
    if "requestContext" in value:
        return [_validate_record(value, raw, envelope, meta, correlator)]
    if not value:
        return [_fail("an empty JSON object, not an execution record", raw, envelope, meta)]
    if value.get("Type") == "Notification" and "Message" in value:
        return _unwrap_sns(value, raw, envelope, meta, correlator)
    if "detail-type" in value and "detail" in value:
        return _unwrap_eventbridge(value, raw, envelope, meta, correlator)
    records = value.get("Records")
    if isinstance(records, list):
        return _unwrap_lambda_event(records, raw, envelope, meta, correlator)
    if "RequestID" in value and "ErrorCode" in value:
        return [_fail(_DEAD_LETTER, raw, envelope, meta)]
    keys = ", ".join(list(value)[:6])
    return [
        _fail(
            f"a JSON object that is not an execution record (it has no requestContext; its keys: {keys})",
            raw,
            envelope,
            meta,
        )
    ]


def _validate_record(
    value: dict[str, Any], raw: str, envelope: tuple[str, ...], meta: dict[str, Any], correlator: Correlator
) -> Decoded:
    model: type[AsyncInvocationRecord] | type[StreamFailureRecord] = (
        StreamFailureRecord if has_batch_info(value) else AsyncInvocationRecord
    )
    try:
        record = model.model_validate(value)
    except ValidationError as exc:
        return _fail(_validation_reason(exc), raw, envelope, meta)
    correlation_id = correlator(record)
    return Decoded(record, raw, envelope, meta, correlation_id)


def _validation_reason(exc: ValidationError) -> str:
    errors = exc.errors(include_url=False)
    first = errors[0]
    where = ".".join(str(part) for part in first["loc"]) or "the record"
    more = f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})" if len(errors) > 1 else ""
    if first["type"] == "missing":
        return f"not an execution record: {where} is missing{more}"
    message = first["msg"]
    if first["type"] == "string_pattern_mismatch" and first["loc"][-1:] == ("functionArn",):
        message = "functionArn is not a Lambda function ARN"
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    got = first.get("input")
    got_text = "" if isinstance(got, dict | list) else f" (got {json.dumps(got)[:80]})"
    return f"not an execution record: {where}: {message[:1].lower()}{message[1:]}{got_text}{more}"


def _unwrap_sns(
    value: dict[str, Any], raw: str, envelope: tuple[str, ...], meta: dict[str, Any], correlator: Correlator
) -> list[Decoded]:
    layer_meta = {
        **meta,
        "sns.TopicArn": value.get("TopicArn"),
        "sns.MessageId": value.get("MessageId"),
        "sns.Timestamp": value.get("Timestamp"),
    }
    if value.get("Subject"):
        layer_meta["sns.Subject"] = value["Subject"]
    return _unwrap_json_message(value.get("Message"), "SNS", raw, (*envelope, "sns"), layer_meta, correlator)


def _unwrap_json_message(
    message: Any, what: str, raw: str, envelope: tuple[str, ...], meta: dict[str, Any], correlator: Correlator
) -> list[Decoded]:
    if not isinstance(message, str):
        return [_fail(f"{what} message is {_describe(message)}, not JSON text", raw, envelope, meta)]
    fast = _fast_record(message, raw, envelope, meta, correlator)
    if fast is not None:
        return [fast]
    inner, reason = _parse_json(message)
    if reason is not None:
        return [_fail(f"{what} message is not JSON ({reason})", raw, envelope, meta)]
    return _decode_value(inner, raw, envelope, meta, correlator)


def _unwrap_eventbridge(
    value: dict[str, Any], raw: str, envelope: tuple[str, ...], meta: dict[str, Any], correlator: Correlator
) -> list[Decoded]:
    source = value.get("source")
    detail_type = value.get("detail-type")
    layered = (*envelope, "eventbridge")
    layer_meta = {
        **meta,
        "eventbridge.id": value.get("id"),
        "eventbridge.detail-type": detail_type,
        "eventbridge.source": source,
        "eventbridge.time": value.get("time"),
        "eventbridge.resources": value.get("resources"),
    }
    if source not in LAMBDA_EVENT_SOURCES or not str(detail_type).startswith("Lambda Function Invocation Result"):
        return [
            _fail(
                f"an EventBridge event from source {source!r} with detail-type {detail_type!r}, "
                "not a Lambda destination event",
                raw,
                layered,
                layer_meta,
            )
        ]
    return _decode_value(value.get("detail"), raw, layered, layer_meta, correlator)


def _dig(value: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _unwrap_lambda_event(
    records: list[Any], raw: str, envelope: tuple[str, ...], meta: dict[str, Any], correlator: Correlator
) -> list[Decoded]:
    if not records:
        return [_fail("an event with an empty Records list, not an execution record", raw, envelope, meta)]
    results: list[Decoded] = []
    for index, item in enumerate(records):
        results.extend(_unwrap_lambda_event_record(item, index, raw, envelope, meta, correlator))
    return results


def _unwrap_lambda_event_record(
    item: Any, index: int, raw: str, envelope: tuple[str, ...], meta: dict[str, Any], correlator: Correlator
) -> Iterable[Decoded]:
    if not isinstance(item, dict):
        return [_fail(f"Records[{index}] is {_describe(item)}, not an event record", raw, envelope, meta)]
    source = item.get("eventSource") or item.get("EventSource")
    if source == "aws:sqs":
        layer_meta = {
            **meta,
            "sqs-event.messageId": item.get("messageId"),
            "sqs-event.eventSourceARN": item.get("eventSourceARN"),
            "sqs-event.index": index,
        }
        if isinstance(item.get("messageAttributes"), dict):
            layer_meta["messageAttributes"] = item["messageAttributes"]
        if _is_dead_letter(layer_meta):
            return [_fail(_DEAD_LETTER, raw, (*envelope, "sqs-event"), layer_meta)]
        return _unwrap_json_message(item.get("body"), "SQS", raw, (*envelope, "sqs-event"), layer_meta, correlator)
    if source == "aws:sns":
        sns_value = item.get("Sns")
        sns: dict[str, Any] = sns_value if isinstance(sns_value, dict) else {}
        layer_meta = {
            **meta,
            "sns.TopicArn": sns.get("TopicArn"),
            "sns.MessageId": sns.get("MessageId"),
            "sns.Timestamp": sns.get("Timestamp"),
            "sns-event.index": index,
        }
        return _unwrap_json_message(sns.get("Message"), "SNS", raw, (*envelope, "sns-event"), layer_meta, correlator)
    if source == "aws:s3":
        bucket = _dig(item, "s3", "bucket", "name")
        key = _dig(item, "s3", "object", "key")
        return [
            _fail(
                f"an S3 event notification: the record is in the object it names (s3://{bucket}/{key})",
                raw,
                envelope,
                meta,
            )
        ]
    return [
        _fail(
            f"Records[{index}] is an event from {source or 'an unknown source'!s}, not an execution record",
            raw,
            envelope,
            meta,
        )
    ]
