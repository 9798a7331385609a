"""Lambda's event source mapping calls, for Kinesis and DynamoDB Streams sources (`streams.py` polls):

  POST   /2015-03-31/event-source-mappings/          CreateEventSourceMapping (202, State "Creating")
  GET    /2015-03-31/event-source-mappings/          ListEventSourceMappings (FunctionName, EventSourceArn,
                                                     Marker, MaxItems)
  GET    /2015-03-31/event-source-mappings/{UUID}    GetEventSourceMapping
  PUT    /2015-03-31/event-source-mappings/{UUID}    UpdateEventSourceMapping (202, State "Updating")
  DELETE /2015-03-31/event-source-mappings/{UUID}    DeleteEventSourceMapping (202, State "Deleting")

Errors are AWS's, verbatim where AWS-recorded responses give them (localstack's AWS-validated
snapshots of these calls): "Unrecognized event source.", "Function does not exist", "Stream not found:
ARN", "Unsupported DestinationConfig parameter for given event source mapping type.", "The resource you
requested does not exist.", the startingPosition messages, the duplicate-mapping conflict; the ranges
of botocore's model (service-2.json) as AWS's "1 validation error detected: ..." ValidationException;
MaximumRecordAgeInSeconds 0-59 as Lambda words it ("MaximumRecordAgeInSeconds must be either -1
(forever) or between 60 and 604800 (inclusive)", hashicorp/terraform-provider-aws#16113).

`LambdaApi._lambda` awaits `answer(...)` before it refuses a request it does not know.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from aiohttp import web
from botocore.exceptions import ClientError

from records.sandbox import lambda_reads
from records.sandbox.api_errors import LambdaApiError, invalid, validation_error
from records.sandbox.stack_streams import FAILURE_SERVICES
from records.sandbox.streams import Mapping, StreamPollers

# botocore's model: (member, its name in messages, minimum, maximum)
_RANGES = (
    ("BatchSize", "batchSize", 1, 10000),
    ("MaximumBatchingWindowInSeconds", "maximumBatchingWindowInSeconds", 0, 300),
    ("MaximumRecordAgeInSeconds", "maximumRecordAgeInSeconds", -1, 604800),
    ("MaximumRetryAttempts", "maximumRetryAttempts", -1, 10000),
    ("ParallelizationFactor", "parallelizationFactor", 1, 10),
    ("TumblingWindowInSeconds", "tumblingWindowInSeconds", 0, 900),
)
_POSITIONS = ("LATEST", "AT_TIMESTAMP", "TRIM_HORIZON")
NOT_FOUND = "The resource you requested does not exist."


def _validate_model(body: dict[str, Any]) -> None:
    """botocore's constraints, answered as AWS answers them (all errors in one message)."""
    errors: list[str] = []
    for key, name, low, high in _RANGES:
        value = body.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            raise LambdaApiError(400, "InvalidRequestContentException", f"{key} must be a whole number")
        if value > high:
            errors.append(
                f"Value '{value}' at '{name}' failed to satisfy constraint: Member must have value less than or "
                f"equal to {high}"
            )
        elif value < low:
            errors.append(
                f"Value '{value}' at '{name}' failed to satisfy constraint: Member must have value greater than or "
                f"equal to {low}"
            )
    position = body.get("StartingPosition")
    if position is not None and position not in _POSITIONS:
        errors.append(
            f"Value '{position}' at 'startingPosition' failed to satisfy constraint: Member must satisfy enum "
            "value set: [LATEST, AT_TIMESTAMP, TRIM_HORIZON]"
        )
    if errors:
        raise validation_error(errors)


def _validate_values(body: dict[str, Any]) -> None:
    age = body.get("MaximumRecordAgeInSeconds")
    if age is not None and age != -1 and age < 60:
        raise invalid("MaximumRecordAgeInSeconds must be either -1 (forever) or between 60 and 604800 (inclusive)")
    for flag in ("Enabled", "BisectBatchOnFunctionError"):
        if flag in body and not isinstance(body[flag], bool):
            raise LambdaApiError(400, "InvalidRequestContentException", f"{flag} must be true or false")


def _destination(body: dict[str, Any]) -> str | None:
    """The OnFailure destination ARN ("" removes it), or None when the body does not set it."""
    config = body.get("DestinationConfig")
    if config is None:
        return None
    if not isinstance(config, dict):
        raise LambdaApiError(400, "InvalidRequestContentException", "DestinationConfig must be an object")
    if config.get("OnSuccess"):
        raise invalid("Unsupported DestinationConfig parameter for given event source mapping type.")
    destination = (config.get("OnFailure") or {}).get("Destination") or ""
    if not isinstance(destination, str):
        raise LambdaApiError(400, "InvalidRequestContentException", "OnFailure.Destination must be a string")
    if destination and (destination.count(":") < 5 or destination.split(":")[2] not in FAILURE_SERVICES):
        # Lambda's sentence for a destination it cannot send to (as for event-invoke configs)
        raise invalid(f"The destination ARN {destination} is invalid.")
    return destination


def _function(streams: StreamPollers, name: Any) -> tuple[str, str]:
    """(function name, FunctionArn as the mapping keeps it)."""
    if not isinstance(name, str) or not name:
        raise LambdaApiError(
            400,
            "ValidationException",
            "1 validation error detected: Value null at 'functionName' failed to satisfy constraint: Member must "
            "not be null",
        )
    function = streams.runtime.function(name)
    if function is None:
        raise invalid("Function does not exist")
    qualifier = name.split(":")[7] if name.startswith("arn:") and name.count(":") >= 7 else None
    if not name.startswith("arn:") and ":" in name:
        qualifier = name.split(":")[-1]
    if qualifier not in (None, "$LATEST"):
        raise invalid("Function does not exist")  # the sandbox runs $LATEST only
    return function.name, function.qualified_arn if qualifier else function.arn


async def _check_stream(streams: StreamPollers, arn: str) -> None:
    try:
        if arn.split(":")[2] == "kinesis":
            await (await streams.client("kinesis")).describe_stream(StreamARN=arn)
        else:
            await (await streams.client("dynamodbstreams")).describe_stream(StreamArn=arn)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            raise invalid(f"Stream not found: {arn}") from exc
        raise


async def _create(streams: StreamPollers, body: dict[str, Any]) -> web.Response:
    _validate_model(body)
    destination = _destination(body)
    source = body.get("EventSourceArn")
    if not isinstance(source, str) or not source:
        raise invalid("Unrecognized event source.")
    service = source.split(":")[2] if source.count(":") >= 5 else ""
    if service not in ("kinesis", "dynamodb") or "stream/" not in source:
        raise invalid("Unrecognized event source.")  # SQS, MQ, Kafka...: not run by the sandbox
    position = body.get("StartingPosition")
    if position is None:
        raise invalid(
            "1 validation error detected: Value null at 'startingPosition' failed to satisfy constraint: Member "
            "must not be null."
        )
    if service == "dynamodb" and position == "AT_TIMESTAMP":
        raise invalid(f"Unsupported starting position for arn type: {source}")
    _validate_values(body)
    name, function_arn = _function(streams, body.get("FunctionName"))
    await _check_stream(streams, source)
    for existing in streams.mappings.values():
        if existing.source_arn == source and existing.function_arn == function_arn:
            raise LambdaApiError(
                409,
                "ResourceConflictException",
                f'The event source arn (" {source} ") and function (" {name} ") provided mapping already exists. '
                f"Please update or delete the existing mapping with UUID {existing.uuid}",
            )
    timestamp = body.get("StartingPositionTimestamp")
    mapping = Mapping(
        uuid=str(uuid.uuid4()),
        function=name,
        function_arn=function_arn,
        source_arn=source,
        starting_position=position,
        batch_size=body.get("BatchSize", 100),
        maximum_retry_attempts=body.get("MaximumRetryAttempts", -1),
        maximum_record_age=body.get("MaximumRecordAgeInSeconds", -1),
        bisect=body.get("BisectBatchOnFunctionError", False),
        on_failure=destination or None,
        enabled=body.get("Enabled", True),
        batching_window=body.get("MaximumBatchingWindowInSeconds", 0),
        starting_timestamp=float(timestamp) if isinstance(timestamp, int | float) else None,
    )
    answer = mapping.to_api("Creating")
    streams.add(mapping)
    return web.json_response(answer, status=202)


async def _update(streams: StreamPollers, mapping: Mapping, body: dict[str, Any]) -> web.Response:
    _validate_model(body)
    destination = _destination(body)
    _validate_values(body)
    if "FunctionName" in body:
        mapping.function, mapping.function_arn = _function(streams, body["FunctionName"])
    for key, attribute in (
        ("BatchSize", "batch_size"),
        ("MaximumRetryAttempts", "maximum_retry_attempts"),
        ("MaximumRecordAgeInSeconds", "maximum_record_age"),
        ("BisectBatchOnFunctionError", "bisect"),
        ("MaximumBatchingWindowInSeconds", "batching_window"),
    ):
        if key in body:
            setattr(mapping, attribute, body[key])
    if destination is not None:
        mapping.on_failure = destination or None
    mapping.last_modified = time.time()
    answer = mapping.to_api("Updating")
    await streams.settle(mapping, body.get("Enabled", mapping.enabled))
    return web.json_response(answer, status=202)


def _listing(streams: StreamPollers, query: Any) -> web.Response:
    items = list(streams.mappings.values())
    source = query.get("EventSourceArn")
    if source:
        items = [m for m in items if m.source_arn == source]
    name = query.get("FunctionName")
    if name:
        wanted = streams.runtime.function(name)
        qualified = (name.startswith("arn:") and name.count(":") >= 7) or (not name.startswith("arn:") and ":" in name)
        items = [
            m
            for m in items
            if wanted is not None
            and m.function == wanted.name
            and (not qualified or m.function_arn.endswith(":" + name.split(":")[-1]))
        ]
    return web.json_response(lambda_reads.page([m.to_api() for m in items], query, "EventSourceMappings"))


async def answer(parts: Sequence[str], request: web.Request, streams: StreamPollers) -> web.Response | None:
    """The response to an event source mapping call, or None when the request is not one; raises
    LambdaApiError (LambdaApi answers it in AWS's error shape)."""
    if len(parts) < 2 or parts[0] != "2015-03-31" or parts[1] != "event-source-mappings" or len(parts) > 3:
        return None
    method = request.method
    try:
        if len(parts) == 2:
            if method == "GET":
                return _listing(streams, request.query)
            if method == "POST":
                return await _create(streams, await _body(request))
            return None
        mapping = streams.mappings.get(parts[2])
        if method not in ("GET", "PUT", "DELETE"):
            return None
        if mapping is None:
            raise LambdaApiError(404, "ResourceNotFoundException", NOT_FOUND)
        if method == "GET":
            return web.json_response(mapping.to_api())
        if method == "PUT":
            return await _update(streams, mapping, await _body(request))
        answer = mapping.to_api("Deleting")
        await streams.remove(mapping)
        return web.json_response(answer, status=202)
    except lambda_reads.PageError as exc:
        raise invalid(str(exc)) from exc


async def _body(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    try:
        body = json.loads(raw) if raw.strip() else {}
    except (ValueError, UnicodeDecodeError) as exc:
        raise LambdaApiError(
            400, "InvalidRequestContentException", f"Could not parse request body into json: {exc}"
        ) from exc
    if not isinstance(body, dict):
        raise LambdaApiError(400, "InvalidRequestContentException", "the request body must be a JSON object")
    timestamp = body.get("StartingPositionTimestamp")
    if isinstance(timestamp, str):  # an ISO 8601 date, as some SDKs send it
        try:
            body["StartingPositionTimestamp"] = datetime.fromisoformat(timestamp).timestamp()
        except ValueError:
            body["StartingPositionTimestamp"] = None
    return body
