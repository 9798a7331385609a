"""Pydantic models of the execution records Lambda sends to its destinations.

Field names on the wire are AWS's (camelCase, plus the PascalCase batch infos); in Python they are
snake_case. The models are tolerant where AWS varies (an open set of conditions, optional response
parts, a null `functionError`, any JSON value as a payload) and strict where a wrong type means the
input is not a record at all (a numeric request id, a string invoke count, a timestamp that is not
ISO-8601).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
)
from pydantic.alias_generators import to_camel

from records import rules

# The conditions seen so far. The set is open: any other string is accepted and shown as it is.
KNOWN_CONDITIONS = frozenset(
    {
        "Success",
        "RetriesExhausted",
        "EventAgeExceeded",
        "ZeroReservedConcurrency",
        "RetryAttemptsExhausted",
        "RecordAgeExceeded",
        "MaximumPayloadSizeExceeded",
    }
)

_LAMBDA_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-zA-Z-]*):lambda:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):function:"
    r"(?P<name>[a-zA-Z0-9_-]+)(?::(?P<qualifier>\$LATEST|[a-zA-Z0-9_-]+))?$"
)


def _iso_timestamp(value: Any) -> Any:
    """AWS writes ISO-8601 strings; a number or anything else means this is not a record."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise ValueError("timestamp must be an ISO-8601 string")
    return value


IsoTimestamp = Annotated[datetime, BeforeValidator(_iso_timestamp)]


# Checked in pydantic-core (no Python call a record); records.decode words the mismatch as
# "functionArn is not a Lambda function ARN".
FunctionArn = Annotated[StrictStr, Field(pattern=_LAMBDA_ARN.pattern)]


@functools.lru_cache(maxsize=4096)
def split_function_arn(arn: str) -> tuple[str, str | None]:
    """`arn:aws:lambda:...:function:order:$LATEST` -> (`order`, `$LATEST`)."""
    match = _LAMBDA_ARN.match(arn)
    if match is None:
        return arn, None
    return match["name"], match["qualifier"]


class _AwsModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="allow",  # AWS adds fields over time: keep them, never fail on them
        frozen=True,
        # JSON parsing caches only keys: values (request ids, ARNs, payload text) rarely repeat;
        # about 4 % quicker validate_json than caching every short string
        cache_strings="keys",
    )


class RequestContext(_AwsModel):
    request_id: StrictStr
    function_arn: FunctionArn
    condition: StrictStr
    approximate_invoke_count: StrictInt


class ResponseContext(_AwsModel):
    status_code: StrictInt | None = None
    executed_version: StrictStr | None = None
    function_error: StrictStr | None = None


class ErrorPayload(_AwsModel):
    """The view of a response payload that reports an error (the runtime's error object)."""

    error_message: str | None = None
    error_type: str | None = None
    stack_trace: list[Any] | str | None = None
    trace: list[Any] | str | None = None
    request_id: str | None = None

    @property
    def lines(self) -> list[str]:
        """The stack trace as lines, whichever key and shape the runtime used."""
        trace = self.stack_trace if self.stack_trace is not None else self.trace
        if trace is None:
            return []
        if isinstance(trace, str):
            return trace.splitlines()
        # Python's frames carry their own newlines ('  File "x", line 1, in f\n    raise E\n'):
        # each frame's lines become lines
        lines: list[str] = []
        for item in trace:
            lines.extend((item if isinstance(item, str) else str(item)).splitlines() or [""])
        return lines


class _RecordBase(_AwsModel):
    version: StrictStr
    timestamp: IsoTimestamp
    request_context: RequestContext

    @property
    def function_arn(self) -> str:
        return self.request_context.function_arn

    @property
    def function_name(self) -> str:
        return split_function_arn(self.request_context.function_arn)[0]

    @property
    def qualifier(self) -> str | None:
        return split_function_arn(self.request_context.function_arn)[1]

    @property
    def condition(self) -> str:
        return self.request_context.condition

    @property
    def request_id(self) -> str:
        return self.request_context.request_id

    @property
    def approximate_invoke_count(self) -> int:
        return self.request_context.approximate_invoke_count

    if TYPE_CHECKING:  # each record kind declares it as a field, in its own place in the field order
        response_context: ResponseContext | None

    @property
    def function_error(self) -> str | None:
        return self.response_context.function_error if self.response_context else None

    @property
    def status_code(self) -> int | None:
        return self.response_context.status_code if self.response_context else None


class AsyncInvocationRecord(_RecordBase):
    """The record of an asynchronous invocation (destinations OnSuccess and OnFailure)."""

    kind: Literal["async-invocation"] = Field(default="async-invocation", exclude=True)
    # Both payloads are optional: Lambda drops them when the record is too large for its
    # destination, and a ZeroReservedConcurrency record has no response at all.
    request_payload: Any = None
    response_context: ResponseContext | None = None
    response_payload: Any = None

    @property
    def succeeded(self) -> bool:
        return rules.succeeded(self.condition, self.function_error)

    @property
    def error(self) -> ErrorPayload | None:
        """The error object of a failed invocation, when the response payload carries one."""
        payload = self.response_payload
        if self.succeeded or not isinstance(payload, dict):
            return None
        if payload.get("errorMessage") is None and payload.get("errorType") is None:
            return None
        kind, message = rules.payload_error(payload)
        # Built field by field (no validation pass): a value of the wrong type is shown as absent.
        stack, trace = payload.get("stackTrace"), payload.get("trace")
        request_id = payload.get("requestId")
        return ErrorPayload.model_construct(
            error_message=message,
            error_type=kind,
            stack_trace=stack if isinstance(stack, list | str) else None,
            trace=trace if isinstance(trace, list | str) else None,
            request_id=request_id if isinstance(request_id, str) else None,
        )

    def error_type_and_message(self) -> tuple[str | None, str | None]:
        """(errorType, errorMessage) of a failed invocation: the cheap part of `error`."""
        if self.succeeded:
            return None, None
        return rules.payload_error(self.response_payload)

    @property
    def parent_request_id(self) -> str | None:
        """The upstream record's request id when this invocation's event *is* a record
        (a Lambda destination delivers the upstream record as the next function's event)."""
        for upstream in rules.nested_records(self.request_payload):
            request_id = upstream["requestContext"].get("requestId")
            return request_id if isinstance(request_id, str) else None
        return None


class KinesisBatchInfo(_AwsModel):
    shard_id: str | None = None
    start_sequence_number: str | None = None
    end_sequence_number: str | None = None
    approximate_arrival_of_first_record: str | None = None
    approximate_arrival_of_last_record: str | None = None
    batch_size: int | None = None
    stream_arn: str | None = None


class DDBStreamBatchInfo(KinesisBatchInfo):
    pass


class KafkaBatchInfo(_AwsModel):
    batch_size: int | None = None
    bootstrap_servers: str | None = None
    payload_size: int | None = None
    record_count: int | None = None
    partition: str | int | None = None
    offset: str | int | None = None
    topic: str | None = None
    cluster_arn: str | None = Field(default=None, validation_alias=AliasChoices("clusterArn", "cluster_arn"))


class StreamFailureRecord(_RecordBase):
    """The failure record of an event source mapping (Kinesis, DynamoDB Streams, Kafka)."""

    kind: Literal["stream-failure"] = Field(default="stream-failure", exclude=True)
    response_context: ResponseContext | None = None
    kinesis_batch_info: KinesisBatchInfo | None = Field(default=None, alias="KinesisBatchInfo")
    ddb_stream_batch_info: DDBStreamBatchInfo | None = Field(default=None, alias="DDBStreamBatchInfo")
    kafka_batch_info: KafkaBatchInfo | None = Field(default=None, alias="KafkaBatchInfo")
    # Only when the destination is S3: the original event, documented as an escaped JSON string.
    payload: Any = None

    # Stream failure records carry no request/response payloads; these keep one interface.
    @property
    def request_payload(self) -> None:
        return None

    @property
    def response_payload(self) -> None:
        return None

    @property
    def parent_request_id(self) -> None:
        return None

    @property
    def error(self) -> None:
        return None

    def error_type_and_message(self) -> tuple[None, None]:
        return None, None

    @property
    def succeeded(self) -> bool:
        return False  # a stream failure record reports a batch that failed

    @property
    def stream_kind(self) -> str:
        if self.kinesis_batch_info is not None:
            return "kinesis"
        if self.ddb_stream_batch_info is not None:
            return "dynamodb"
        return "kafka"

    @property
    def batch_info(self) -> KinesisBatchInfo | KafkaBatchInfo | None:
        return self.kinesis_batch_info or self.ddb_stream_batch_info or self.kafka_batch_info


Record = AsyncInvocationRecord | StreamFailureRecord


def has_batch_info(value: Mapping[str, Any]) -> bool:
    """Whether a record's top-level keys (or a model's extra fields) make it a stream failure record."""
    return "KinesisBatchInfo" in value or "DDBStreamBatchInfo" in value or "KafkaBatchInfo" in value


class DeadLetterMessage(BaseModel):
    """A message of an asynchronous invocation's dead-letter queue (DeadLetterConfig): the original
    event Lambda discarded, unchanged, with the reason in the message attributes RequestID,
    ErrorCode (the 3-digit HTTP status code, e.g. 200 for a function error) and ErrorMessage (at
    most 1 KB). Not a record: it names no function, so the function is learnt from where it came
    from (records.store) or from the flow of its request id."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["dead-letter"] = "dead-letter"
    request_id: StrictStr
    error_code: str | None = None
    error_message: str | None = None
    body: str  # the original event as the message carried it (untrusted text)
    target: str | None = None  # the queue or topic ARN it came from, when the message names it
    sent: datetime | None = None  # when the queue or topic got it (SQS SentTimestamp, SNS Timestamp)

    @property
    def event(self) -> Any:
        """The original event: parsed JSON, or the text when it is not JSON."""
        try:
            return json.loads(self.body)
        except ValueError:
            return self.body

    @property
    def target_name(self) -> str | None:
        """The queue or topic name (the last part of its ARN or URL)."""
        if not self.target:
            return None
        return self.target.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
