"""Turn whatever arrived (bytes, text or parsed JSON) into execution records, or clear reasons why not.

`decode()` is the one entry point. It never raises: input that is not a record becomes a
`DecodeError` carrying a sentence a person understands, and the raw input is always kept.

The envelopes a record may arrive in (SNS notification, EventBridge event, Lambda SQS and SNS
events, a JSON string) are the registry in `records.envelopes`: this module loops it, outermost
layer first in `Decoded.envelope`. A raw SQS body or an S3 object body is the record itself: no
layer. JSON text is tried first with the envelopes' one-pass models (`_fast_record`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import jmespath
import jmespath.exceptions
from jmespath.parser import ParsedResult
from pydantic import ValidationError

from records.envelopes import ENVELOPES, FAST_ENVELOPES, Envelope, Layer
from records.envelopes.base import describe
from records.envelopes.json_string import parse_json
from records.models import AsyncInvocationRecord, DeadLetterMessage, Record, StreamFailureRecord, has_batch_info
from records.rules import MAX_DEPTH, TooDeep, deeper_than, innermost_payload

__all__ = [
    "DEFAULT_CORRELATION_EXPRESSIONS",
    "DEFAULT_CORRELATOR",
    "MAX_LAYERS",
    "Correlator",
    "DecodeError",
    "Decoded",
    "decode",
    "decode_parsed",
]

MAX_LAYERS = 6
_PLAIN_RECORD_HINT = "requestContext"  # also matches inside an SNS Message string
_HEAD = 400
DEFAULT_CORRELATION_EXPRESSIONS = ("orderId", "order_id", "order.id", "id")


@dataclass(frozen=True, slots=True)
class DecodeError:
    """Why an input is not an execution record, as a sentence."""

    reason: str


@dataclass(slots=True)  # not frozen: treat as immutable; frozen init costs ~1 µs a record
class Decoded:
    """One decoded input: a record, a dead-letter message (or the reason it is neither), how it was
    wrapped, and the raw text."""

    result: Record | DeadLetterMessage | DecodeError
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
        result = self.result
        return None if isinstance(result, DecodeError | DeadLetterMessage) else result

    @property
    def dead_letter(self) -> DeadLetterMessage | None:
        """The dead-letter message this input is (None for a record or an error)."""
        return self.result if isinstance(self.result, DeadLetterMessage) else None

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
        return self.of_payload(record.request_payload)

    def of_payload(self, request_payload: Any) -> str | None:
        """The correlation id in a request payload (or the innermost one it nests)."""
        payload = innermost_payload(request_payload)
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


# (hint, the model's validate_json, envelope) of each one-pass envelope, looked up once
_FAST = tuple((wrapper.fast_hint, wrapper.fast_model.model_validate_json, wrapper) for wrapper in FAST_ENVELOPES)


def _fast_record(
    text: str, raw: str, envelope: tuple[str, ...], meta: dict[str, Any], correlator: Correlator
) -> Decoded | None:
    """The common cases, a bare async-invocation record or one in an SNS notification or an
    EventBridge event, parsed and validated in one pass in pydantic-core. None for anything else:
    the general path then decodes it and gives reasons."""
    if _PLAIN_RECORD_HINT not in text:
        return None  # (a dead-letter message's metadata was looked at before: `_decode_text`, `_unwrap`)
    head = text[:_HEAD]  # envelope keys come first in what AWS sends; a miss only costs speed
    try:
        for hint, validate_json, wrapper in _FAST:
            if hint in head:
                if wrapper.name == "sns" and _ATTRIBUTE in text:
                    return None  # maybe a dead-letter topic's notification: the general path reads it
                model = validate_json(text)
                record: AsyncInvocationRecord = model.record
                envelope, meta = (*envelope, wrapper.name), wrapper.fast_meta(model, meta)
                break
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
    if meta and _is_dead_letter(meta):
        return [_dead_letter(text, raw, envelope, meta, correlator)]
    fast = _fast_record(text, raw, envelope, meta, correlator)
    if fast is not None:
        return [fast]
    value, reason = parse_json(text)
    if reason is not None:
        return [_fail(reason, raw, envelope, meta)]
    return _decode_value(value, raw, envelope, meta, correlator)


# Where message attributes are in a message's metadata: an SQS message's (also an SNS message sent
# with raw delivery), a Lambda SQS event record's, an SNS notification's (records.envelopes.sns).
_ATTRIBUTE_KEYS = ("MessageAttributes", "messageAttributes", "sns.MessageAttributes")
_ATTRIBUTE = '"RequestID"'


def _dead_letter_attributes(meta: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """Lambda's async DLQ messages carry RequestID and ErrorCode message attributes."""
    for key in _ATTRIBUTE_KEYS:
        attributes = meta.get(key)
        if isinstance(attributes, Mapping) and "RequestID" in attributes and "ErrorCode" in attributes:
            return attributes
    return None


def _is_dead_letter(meta: Mapping[str, Any]) -> bool:
    return _dead_letter_attributes(meta) is not None


def _attribute(attributes: Mapping[str, Any], name: str) -> str | None:
    """An attribute's value in any of its spellings: SQS `StringValue`, a Lambda SQS event's
    `stringValue`, SNS `Value`."""
    value = attributes.get(name)
    if isinstance(value, Mapping):
        for key in ("StringValue", "stringValue", "Value"):
            text = value.get(key)
            if isinstance(text, str | int | float) and not isinstance(text, bool):
                return str(text)
    return None


def _sent(meta: Mapping[str, Any]) -> datetime | None:
    attributes = meta.get("Attributes")
    stamp = attributes.get("SentTimestamp") if isinstance(attributes, Mapping) else None
    try:
        if isinstance(stamp, str | int) and str(stamp).isdigit():
            return datetime.fromtimestamp(int(stamp) / 1000, UTC)
        timestamp = meta.get("sns.Timestamp")
        if isinstance(timestamp, str):
            return datetime.fromisoformat(timestamp)
    except (ValueError, OverflowError, OSError):
        return None
    return None


def _dead_letter(
    body: Any, raw: str, envelope: tuple[str, ...], meta: dict[str, Any], correlator: Correlator
) -> Decoded:
    """A dead-letter message: its body is the original event, its attributes say why."""
    attributes = _dead_letter_attributes(meta) or {}
    request_id = _attribute(attributes, "RequestID")
    if not request_id:
        return _fail(
            "a dead-letter message without a RequestID value (its RequestID attribute is empty or not text)",
            raw,
            envelope,
            meta,
        )
    text = body if isinstance(body, str) else _dump(body)
    target = meta.get("sqs-event.eventSourceARN") or meta.get("sns.TopicArn")
    message = DeadLetterMessage(
        request_id=request_id,
        error_code=_attribute(attributes, "ErrorCode"),
        error_message=_attribute(attributes, "ErrorMessage"),
        body=text,
        target=target if isinstance(target, str) else None,
        sent=_sent(meta),
    )
    value, reason = parse_json(text)
    correlation = correlator.of_payload(value) if reason is None else None
    return Decoded(message, raw, envelope, meta, correlation)


_DEAD_LETTER = (
    "an object with RequestID and ErrorCode keys: a dead-letter message's attributes written out, not a "
    "destination record (a dead-letter message is read with its message attributes, from its queue or topic)"
)


def _decode_value(
    value: Any, raw: str, envelope: tuple[str, ...], meta: dict[str, Any], correlator: Correlator
) -> list[Decoded]:
    if len(envelope) >= MAX_LAYERS:
        return [_fail(f"too many envelope layers ({' > '.join(envelope)})", raw, envelope, meta)]
    if meta and _is_dead_letter(meta):
        return [_dead_letter(value if envelope else raw, raw, envelope, meta, correlator)]
    if isinstance(value, dict) and "requestContext" in value:
        return [_validate_record(value, raw, envelope, meta, correlator)]
    for wrapper in ENVELOPES:
        if wrapper.matches(value):
            return _unwrap(wrapper, value, raw, envelope, meta, correlator)
    if isinstance(value, str):
        return [_fail("a JSON string, not an execution record", raw, envelope, meta)]
    if not isinstance(value, dict):
        what = describe(value)
        return [_fail(f"{what[0].upper()}{what[1:]} at the top level, not an execution record", raw, envelope, meta)]
    if not value:
        return [_fail("an empty JSON object, not an execution record", raw, envelope, meta)]
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


def _unwrap(
    wrapper: Envelope,
    value: Any,
    raw: str,
    envelope: tuple[str, ...],
    meta: dict[str, Any],
    correlator: Correlator,
) -> list[Decoded]:
    """Decode what each layer of an envelope holds."""
    results: list[Decoded] = []
    for layer in wrapper.unwrap(value):
        layered = envelope if layer.name is None else (*envelope, layer.name)
        layer_meta = {**meta, **layer.meta}
        if layer.problem is not None:
            results.append(_fail(layer.problem, raw, layered, layer_meta))
        elif _is_dead_letter(layer.meta):  # a dead-letter queue's message in a Lambda event, or an SNS one
            results.append(_dead_letter(layer.inner, raw, layered, layer_meta, correlator))
        elif layer.text_of is not None:
            results.extend(_decode_message(layer, raw, layered, layer_meta, correlator))
        else:
            results.extend(_decode_value(layer.inner, raw, layered, layer_meta, correlator))
    return results


def _validate_record(
    value: dict[str, Any], raw: str, envelope: tuple[str, ...], meta: dict[str, Any], correlator: Correlator
) -> Decoded:
    model: type[AsyncInvocationRecord] | type[StreamFailureRecord] = (
        StreamFailureRecord if has_batch_info(value) else AsyncInvocationRecord
    )
    value = _within_depth(value)
    try:
        record = model.model_validate(value)
    except ValidationError as exc:
        return _fail(_validation_reason(exc), raw, envelope, meta)
    correlation_id = correlator(record)
    return Decoded(record, raw, envelope, meta, correlation_id)


def _within_depth(value: dict[str, Any]) -> dict[str, Any]:
    """The record with each field nested deeper than the payload nesting limit replaced by a
    `TooDeep` sentence (the raw text keeps it). Only the general path needs this: the one-pass
    models' JSON parser refuses documents nested deeper than the limit, which then come here."""
    deep = [key for key, item in value.items() if isinstance(item, dict | list) and deeper_than(item, MAX_DEPTH)]
    if not deep:
        return value
    return {**value, **dict.fromkeys(deep, TooDeep.sentence())}


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


def _decode_message(
    layer: Layer, raw: str, envelope: tuple[str, ...], meta: dict[str, Any], correlator: Correlator
) -> list[Decoded]:
    """A layer holding JSON text sent as a transport's message (SNS Message, SQS body)."""
    message, what = layer.inner, layer.text_of
    if not isinstance(message, str):
        return [_fail(f"{what} message is {describe(message)}, not JSON text", raw, envelope, meta)]
    fast = _fast_record(message, raw, envelope, meta, correlator)
    if fast is not None:
        return [fast]
    inner, reason = parse_json(message)
    if reason is not None:
        return [_fail(f"{what} message is not JSON ({reason})", raw, envelope, meta)]
    return _decode_value(inner, raw, envelope, meta, correlator)
