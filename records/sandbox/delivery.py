"""Delivering execution records to destinations the way Lambda does.

  SQS          the record JSON is the message body
  SNS          the record JSON is the notification's Message
  EventBridge  an event with source "lambda", detail-type "Lambda Function Invocation Result - Success"
               (or "- Failure"), resources [bus ARN, function ARN], detail = the record
  Lambda       an asynchronous invocation of the destination with the record as its event, in the
               chain of requests of the recorded event (recursion.py: a loop of destinations stops)
  S3           (on failure only) an object under aws/lambda/async/<function>/YYYY/MM/DD/ (an event
               source mapping's failure record goes under the prefix it gives: streams.py)

A destination that cannot take the record (a missing queue, topic, bus, bucket or function, a FIFO
queue or topic, S3 on success, a role that may not send there or may not use its KMS key) fails
here, at delivery time, as on AWS: the failure is counted,
kept in `failures`, counted as DestinationDeliveryFailures and passed to `on_failure`; nothing
raises into the runtime.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from records.sandbox import recursion
from records.sandbox.runtime import Function, now_iso

if TYPE_CHECKING:
    from records.sandbox.permissions import Permissions
    from records.sandbox.runtime import Runtime

log = logging.getLogger(__name__)

# The largest record each destination takes; Lambda drops both payloads from a larger record
# (AWS Lambda API reference, OnFailure: "Amazon SNS destinations have a message size limit of 256 KB.
# If the combined size of the function request and response payload exceeds the limit, Lambda will
# drop the payload"). SQS, EventBridge and asynchronous Lambda invocations take 1 MB since January 2026
# (AWS Compute Blog, "More room to build: serverless services now support payloads up to 1 MB").
MAX_RECORD_BYTES = {"sqs": 1024 * 1024, "sns": 256 * 1024, "events": 1024 * 1024, "lambda": 1024 * 1024}

SUCCESS_DETAIL_TYPE = "Lambda Function Invocation Result - Success"
FAILURE_DETAIL_TYPE = "Lambda Function Invocation Result - Failure"


@dataclass(frozen=True, slots=True)
class DeliveryFailure:
    time: str
    function: str
    destination: str
    reason: str


@dataclass(slots=True)
class DeliveryStats:
    delivered: dict[str, int] = field(default_factory=dict)  # destination ARN -> records delivered
    failures: list[DeliveryFailure] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return len(self.failures)


class DeliveryError(Exception):
    pass


class Delivery:
    """Sends records with aiobotocore clients pointed at moto; Lambda destinations go to the runtime."""

    def __init__(
        self,
        clients: dict[str, Any],
        region: str,
        account: str,
        on_failure: Callable[[DeliveryFailure], None] | None = None,
    ) -> None:
        self.clients = clients  # "sqs", "sns", "events", "s3"
        self.region = region
        self.account = account
        self.runtime: Runtime | None = None
        self.permissions: Permissions | None = None  # the function's role and the destination's key
        self.stats = DeliveryStats()
        self._on_failure = on_failure

    async def __call__(
        self, destination: str, record: dict[str, Any], function: Function, prefix: str | None = None
    ) -> None:
        """Deliver `record` of `function`; `prefix`: where an S3 object goes when not under the async
        layout's aws/lambda/async/<function> (the date and a unique name follow it)."""
        try:
            await self._deliver(destination, record, function, prefix)
        except (DeliveryError, ClientError, BotoCoreError) as exc:
            reason = failure_reason(exc)
            failure = DeliveryFailure(now_iso(), function.name, destination, reason)
            self.stats.failures.append(failure)
            if self.runtime is not None:
                self.runtime.count(function, "DestinationDeliveryFailures")
            log.warning("sandbox: record of %s not delivered to %s: %s", function.name, destination, reason)
            if self._on_failure is not None:
                self._on_failure(failure)
            return
        self.stats.delivered[destination] = self.stats.delivered.get(destination, 0) + 1

    async def exists(self, destination: str) -> bool:
        """Whether the SNS topic or EventBridge bus an ARN names exists in moto (what Lambda looks
        up when a destination is configured; other ARNs: True)."""
        parts = destination.split(":")
        service, resource = (parts[2], ":".join(parts[5:])) if len(parts) > 5 else ("", "")
        try:
            if service == "sns":
                await self.clients["sns"].get_topic_attributes(TopicArn=destination)
            elif service == "events":
                await self.clients["events"].describe_event_bus(Name=resource.removeprefix("event-bus/"))
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("NotFound", "NotFoundException", "ResourceNotFoundException", "InvalidParameter"):
                return False
            raise
        return True

    async def _deliver(
        self, destination: str, record: dict[str, Any], function: Function, prefix: str | None = None
    ) -> None:
        parts = destination.split(":")
        if len(parts) < 6 or parts[0] != "arn":
            raise DeliveryError(f"{destination!r} is not an ARN")
        service, resource = parts[2], ":".join(parts[5:])
        record = fit(record, MAX_RECORD_BYTES.get(service))
        body = json.dumps(record)
        condition = record["requestContext"]["condition"]
        if self.permissions is not None:
            refusal = await self.permissions.refusal(function.name, service, destination)
            if refusal is not None:
                raise DeliveryError(refusal)
        # A FIFO queue or topic is accepted when configured and fails here: AWS documents it as an
        # "unsupported destination type" counted in DestinationDeliveryFailures ("Capturing records of
        # Lambda asynchronous invocations"); AWS shows no message for it, the reasons below are ours.
        if service == "sqs":
            if resource.endswith(".fifo"):
                raise DeliveryError("FIFO queues are not supported as destinations")
            url = (await self.clients["sqs"].get_queue_url(QueueName=resource))["QueueUrl"]
            await self.clients["sqs"].send_message(QueueUrl=url, MessageBody=body)
        elif service == "sns":
            if resource.endswith(".fifo"):
                raise DeliveryError("FIFO topics are not supported as destinations")
            await self.clients["sns"].publish(TopicArn=destination, Message=body)
        elif service == "events":
            bus = resource.removeprefix("event-bus/")
            await self.clients["events"].describe_event_bus(Name=bus)  # a missing bus fails, as on AWS
            response = await self.clients["events"].put_events(
                Entries=[
                    {
                        "Source": "lambda",
                        "DetailType": SUCCESS_DETAIL_TYPE if condition == "Success" else FAILURE_DETAIL_TYPE,
                        "Detail": body,
                        "Resources": [destination, function.qualified_arn],
                        "EventBusName": bus,
                    }
                ]
            )
            if response.get("FailedEntryCount"):
                raise DeliveryError(f"PutEvents failed: {response.get('Entries')}")
        elif service == "lambda":
            target = self.runtime.function(destination) if self.runtime is not None else None
            if target is None:
                raise DeliveryError(f"function not found: {destination}")
            self.runtime.enqueue(target, record, lineage=recursion.CHAIN.get())  # type: ignore[union-attr]
        elif service == "s3":
            if condition == "Success":
                raise DeliveryError("S3 destinations only take failure records")
            bucket = resource.split("/")[0]
            stamp = datetime.now(UTC)
            folder = prefix if prefix is not None else f"aws/lambda/async/{function.name}"
            key = f"{folder}/{stamp:%Y/%m/%d}/{stamp:%Y-%m-%dT%H.%M.%S}-{uuid.uuid4()}"
            await self.clients["s3"].put_object(Bucket=bucket, Key=key, Body=body.encode())
        else:
            raise DeliveryError(f"{service} is not a destination service")


def failure_reason(exc: BaseException) -> str:
    """Why a send failed, as the sandbox reports it: AWS's "Code: Message" for a ClientError, else
    the exception's text (with its type when it is not one of ours or botocore's)."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"{error.get('Code', 'Error')}: {error.get('Message', '')}".rstrip(": ")
    if isinstance(exc, DeliveryError | BotoCoreError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def fit(record: dict[str, Any], limit: int | None) -> dict[str, Any]:
    """The record as Lambda sends it to a destination that takes at most `limit` bytes: without
    `requestPayload` and `responsePayload` when it is larger."""
    if limit is None or len(json.dumps(record).encode()) <= limit:
        return record
    return {key: value for key, value in record.items() if key not in ("requestPayload", "responsePayload")}
