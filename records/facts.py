"""What a decoded message says, as plain values: the part of storing a row that needs no store.

The record store (records.store) interns these strings and links flows; computing them needs only
the decoded input. Plain tuples of strings and numbers are also cheap to send between processes: an
instant replay computes them in a worker process (records.sources.replay_worker) while the UI
process only stores them.

"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from records import rules
from records.decode import Decoded, DecodeError
from records.models import DeadLetterMessage, StreamFailureRecord, split_function_arn

if TYPE_CHECKING:
    from records.message import Message

__all__ = [
    "DEAD_LETTERED",
    "ERROR_MESSAGE_CHARS",
    "GC_THRESHOLDS",
    "REASON_CHARS",
    "REQUEST_ID",
    "FactMaker",
    "MessageFacts",
    "RowFacts",
    "StageFacts",
    "parse_time",
    "short",
]

REASON_CHARS = 400  # an undecodable row keeps this much of its reason in memory
ERROR_MESSAGE_CHARS = 160  # a row keeps this much of its error message (the detail view re-reads it whole)
_NAN = math.nan
# Collector thresholds while records are decoded or stored in bulk (the app while it runs, a replay
# worker): that allocates (and frees) dozens of objects a record; with the default 700 a young
# collection runs every few records (about a fifth of a replay's time; 5.8 s of a 1,000,000-record
# replay at 20,000, 1.1 s at 100,000).
GC_THRESHOLDS = (100_000, 50, 100)


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


# Plain tuples, not named ones: `marshal` (the worker process's wire format) takes no tuple
# subclasses, and readers unpack them whole. The fields, in order:

StageFacts = tuple[str, str, str | None, int | None, bool, float, str | None]
"""What one record says about one invocation (its own, or a nested upstream one): request id,
function name, condition, invoke count, succeeded, timestamp (seconds), error type."""

RowFacts = tuple[
    tuple[str, ...],  # envelope
    str | None,  # request id; None: not a record (`reason` says why)
    str,  # function name
    str,  # condition
    int,  # invoke count
    bool,  # succeeded
    bool,  # a stream (event source mapping) failure record
    float,  # timestamp (seconds)
    str | None,  # correlation id
    str | None,  # error type
    str | None,  # error message (first line, at most ERROR_MESSAGE_CHARS)
    str | None,  # parent request id
    tuple[StageFacts, ...],  # upstream records nested in the request payload, nearest first
    str | None,  # why it is not a record (first line, at most REASON_CHARS)
    str | None,  # a dead-letter message: the queue or topic it names ("" when it names none); else None
]
"""One decoded input: a record's facts, a dead-letter message's (the function name "", the
condition DEAD_LETTERED, no invoke count: -1), or (request id None) an input that is not a record."""

DEAD_LETTERED = "dead-lettered"
"""The condition of a dead-letter message's row: not AWS's (a DLQ message has none), the store's."""

MessageFacts = tuple[
    str | None,  # raw text; None when not kept (the message can be re-read from its file)
    str,  # source
    str,  # received (ISO-8601)
    Mapping[str, Any],  # transport metadata
    tuple[RowFacts, ...],  # what it decoded to
    str | None,  # file, offset, length: where it can be re-read
    int | None,
    int | None,
]
"""A `Message` with its decoded inputs as `RowFacts` (and no models)."""

REQUEST_ID = 1  # where the request id is in RowFacts


class FactMaker:
    """Computes facts, with small caches for what repeats from record to record: `message()` and
    `fields()` give a Message's `MessageFacts`, `row()` one decoded input's `RowFacts`."""

    def __init__(self) -> None:
        self._last_time: tuple[Any, float] = (None, _NAN)  # the last nested timestamp parsed

    def message(self, message: Message, *, keep_raw: bool = True) -> MessageFacts:
        """`keep_raw=False` drops the raw text of a message that has a file to re-read it from."""
        return self.fields(
            message.raw,
            message.source,
            message.received,
            message.meta,
            message.decoded,
            message.file,
            message.offset,
            message.length,
            keep_raw=keep_raw,
        )

    def fields(
        self,
        raw: str,
        source: str,
        received: str,
        meta: Mapping[str, Any],
        decoded: Sequence[Decoded],
        file: str | None,
        offset: int | None,
        length: int | None,
        *,
        keep_raw: bool = True,
    ) -> MessageFacts:
        """`message()` of a Message's fields, in order (a replay worker builds no Message)."""
        seekable = file is not None and offset is not None and length is not None
        row = self.row
        return (
            raw if keep_raw or not seekable else None,
            source,
            received,
            meta,
            (row(decoded[0]),) if len(decoded) == 1 else tuple([row(item) for item in decoded]),
            file,
            offset,
            length,
        )

    def row(self, item: Decoded) -> RowFacts:
        # This runs for every record of a replay: attributes are read directly, not through the
        # models' convenience properties (same values: tests/unit/test_replay_worker.py).
        record = item.result
        if isinstance(record, DecodeError):
            reason = short(record.reason, REASON_CHARS)
            return (item.envelope, None, "", "", 0, False, False, _NAN, None, None, None, None, (), reason, None)
        if isinstance(record, DeadLetterMessage):
            return self.dead_letter(item, record)
        context = record.request_context
        condition = context.condition
        response_context = record.response_context
        function_error = response_context.function_error if response_context is not None else None
        stream = type(record) is StreamFailureRecord
        succeeded = not stream and rules.succeeded(condition, function_error)
        payload = None if stream else record.request_payload
        if type(payload) is dict and "requestContext" in payload:
            nested = self.nested(payload)
            parent = nested[0][0] if nested else record.parent_request_id
        else:
            nested = ()
            parent = None
        error_type: str | None = None
        error_message: str | None = None
        if not succeeded:
            error_type, error_message = rules.payload_error(record.response_payload)
            if error_message is not None:
                error_message = short(error_message, ERROR_MESSAGE_CHARS)
            if error_type is None:
                error_type = function_error
        attempts = context.approximate_invoke_count
        return (
            item.envelope,
            context.request_id,
            split_function_arn(context.function_arn)[0],
            condition,
            attempts if -1 <= attempts <= 2**31 - 1 else max(-1, min(attempts, 2**31 - 1)),
            succeeded,
            stream,
            record.timestamp.timestamp(),
            item.correlation_id,
            error_type,
            error_message,
            parent,
            nested,
            None,
            None,
        )

    def dead_letter(self, item: Decoded, message: DeadLetterMessage) -> RowFacts:
        """A dead-letter message's row: its request id, error code and message; its function is
        found by the store (from the queue it came from, or from the flow of its request)."""
        text = message.error_message
        return (
            item.envelope,
            message.request_id,
            "",
            DEAD_LETTERED,
            -1,
            False,
            False,
            message.sent.timestamp() if message.sent is not None else _NAN,
            item.correlation_id,
            f"ErrorCode {message.error_code}" if message.error_code else None,
            short(text, ERROR_MESSAGE_CHARS) if text else None,
            None,
            (),
            None,
            message.target_name or "",
        )

    def nested(self, payload: Any) -> tuple[StageFacts, ...]:
        """The upstream records nested in a request payload, nearest first."""
        stages: list[StageFacts] = []
        for upstream in rules.nested_records(payload):
            context = upstream["requestContext"]
            request_id = context.get("requestId")
            arn = context.get("functionArn")
            if not isinstance(request_id, str) or not isinstance(arn, str):
                break
            condition = context.get("condition")
            condition = condition if isinstance(condition, str) else None
            attempts = context.get("approximateInvokeCount")
            attempts = attempts if isinstance(attempts, int) and not isinstance(attempts, bool) else None
            response = upstream.get("responseContext")
            function_error = response.get("functionError") if isinstance(response, dict) else None
            succeeded = rules.succeeded(condition, function_error)
            error_type = None
            if not succeeded:
                error_type = rules.payload_error(upstream.get("responsePayload"))[0]
                if error_type is None and isinstance(function_error, str):
                    error_type = function_error
            stamp = upstream.get("timestamp")
            last_stamp, seconds = self._last_time
            if stamp != last_stamp or type(stamp) is not str:
                seconds = parse_time(stamp)
                self._last_time = (stamp, seconds)
            stages.append((request_id, split_function_arn(arn)[0], condition, attempts, succeeded, seconds, error_type))
        return tuple(stages)
