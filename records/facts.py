"""What a decoded message says, as plain values: the part of storing a row that needs no store.

The record store (records.flows) interns these strings and links flows; computing them needs only
the decoded input. Plain tuples of strings and numbers are also cheap to send between processes: an
instant replay computes them in a worker process (records.sources.replay_worker) while the UI
process only stores them.

Public API:
    FactMaker().message(message, keep_raw=True) -> MessageFacts
    FactMaker().row(decoded)                    -> RowFacts
    StageFacts, RowFacts, MessageFacts          named tuples (see their fields)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from records.decode import Decoded
from records.models import StreamFailureRecord, split_function_arn

if TYPE_CHECKING:
    from records.sources.base import Message

MAX_NESTING = 32
REASON_CHARS = 400  # an undecodable row keeps this much of its reason in memory
ERROR_MESSAGE_CHARS = 160  # a row keeps this much of its error message (the detail view re-reads it whole)
_NAN = math.nan


def parse_time(value: Any) -> float:
    """Seconds since the epoch of an ISO-8601 string (naive means UTC); NaN when it is not one."""
    if not isinstance(value, str):
        return _NAN
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return _NAN
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def short(text: str, limit: int) -> str:
    """The first line of `text`, cut to `limit` characters (with an ellipsis when cut)."""
    line = text.strip().split("\n", 1)[0]
    return line if len(line) <= limit else line[: limit - 1] + "…"


class StageFacts(NamedTuple):
    """What one record says about one invocation (its own, or a nested upstream one)."""

    request_id: str
    function: str
    condition: str | None
    attempts: int | None
    succeeded: bool
    timestamp: float
    error_type: str | None


class RowFacts(NamedTuple):
    """One decoded input: a record's facts, or (request_id None) an input that is not a record."""

    envelope: tuple[str, ...]
    request_id: str | None  # None: not a record; `reason` says why
    function: str
    condition: str
    attempts: int
    succeeded: bool
    stream: bool  # a stream (event source mapping) failure record
    timestamp: float
    correlation_id: str | None
    error_type: str | None
    error_message: str | None  # first line, at most ERROR_MESSAGE_CHARS
    parent_request_id: str | None
    nested: tuple[StageFacts, ...]  # upstream records nested in the request payload, nearest first
    reason: str | None  # why it is not a record (first line, at most REASON_CHARS)


class MessageFacts(NamedTuple):
    """A `Message` with its decoded inputs as `RowFacts` (and no models)."""

    raw: str | None  # None when not kept (the message can be re-read from its file)
    source: str
    received: str
    meta: Mapping[str, Any]
    rows: tuple[RowFacts, ...]
    file: str | None = None
    offset: int | None = None
    length: int | None = None


class FactMaker:
    """Computes facts, with small caches for what repeats from record to record."""

    def __init__(self) -> None:
        self._last_time: tuple[Any, float] = (None, _NAN)  # the last nested timestamp parsed

    def message(self, message: Message, *, keep_raw: bool = True) -> MessageFacts:
        """`keep_raw=False` drops the raw text of a message that has a file to re-read it from."""
        seekable = message.file is not None and message.offset is not None and message.length is not None
        return MessageFacts(
            message.raw if keep_raw or not seekable else None,
            message.source,
            message.received,
            message.meta,
            tuple([self.row(item) for item in message.decoded]),
            message.file,
            message.offset,
            message.length,
        )

    def row(self, item: Decoded) -> RowFacts:
        record = item.record
        if record is None:
            reason = short(item.error or "", REASON_CHARS)
            return RowFacts(item.envelope, None, "", "", 0, False, False, _NAN, None, None, None, None, (), reason)
        context = record.request_context
        succeeded = record.succeeded
        payload = record.request_payload
        nested = self.nested(payload) if type(payload) is dict and "requestContext" in payload else ()
        parent = nested[0].request_id if nested else record.parent_request_id
        error_type: str | None = None
        error_message: str | None = None
        if not succeeded:
            response = record.response_payload
            if type(response) is dict:
                value = response.get("errorType")
                error_type = value if isinstance(value, str) else None
                value = response.get("errorMessage")
                error_message = short(value, ERROR_MESSAGE_CHARS) if isinstance(value, str) else None
            if error_type is None:
                error_type = record.function_error
        return RowFacts(
            item.envelope,
            context.request_id,
            split_function_arn(context.function_arn)[0],
            context.condition,
            max(-1, min(context.approximate_invoke_count, 2**31 - 1)),
            succeeded,
            isinstance(record, StreamFailureRecord),
            record.timestamp.timestamp(),
            item.correlation_id,
            error_type,
            error_message,
            parent,
            nested,
            None,
        )

    def nested(self, payload: Any) -> tuple[StageFacts, ...]:
        """The upstream records nested in a request payload, nearest first."""
        stages: list[StageFacts] = []
        while isinstance(payload, dict) and len(stages) < MAX_NESTING:
            context = payload.get("requestContext")
            if not isinstance(context, dict):
                break
            request_id = context.get("requestId")
            arn = context.get("functionArn")
            if not isinstance(request_id, str) or not isinstance(arn, str):
                break
            condition = context.get("condition")
            condition = condition if isinstance(condition, str) else None
            attempts = context.get("approximateInvokeCount")
            attempts = attempts if isinstance(attempts, int) and not isinstance(attempts, bool) else None
            response = payload.get("responseContext")
            function_error = response.get("functionError") if isinstance(response, dict) else None
            succeeded = condition == "Success" and function_error is None
            error_type = None
            if not succeeded:
                body = payload.get("responsePayload")
                value = body.get("errorType") if isinstance(body, dict) else None
                value = value if isinstance(value, str) else function_error
                error_type = value if isinstance(value, str) else None
            stamp = payload.get("timestamp")
            last_stamp, seconds = self._last_time
            if stamp != last_stamp or type(stamp) is not str:
                seconds = parse_time(stamp)
                self._last_time = (stamp, seconds)
            stages.append(
                StageFacts(request_id, split_function_arn(arn)[0], condition, attempts, succeeded, seconds, error_type)
            )
            payload = payload.get("requestPayload")
        return tuple(stages)
