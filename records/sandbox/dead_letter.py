"""A function's dead-letter queue (DeadLetterConfig): where Lambda sends an asynchronous event it
discards (retries exhausted, event too old, throttled), as AWS does.

The message body is the original event, unchanged (the bytes the Invoke call sent; an event the
sandbox made itself, a record sent to a Lambda destination, as JSON); its message attributes say why
("Dead-letter queues" in the Lambda developer guide, invocation-async-retain-records.html#invocation-dlq;
the values as recorded from AWS in localstack's tests/aws/services/lambda_/
test_lambda_destinations.snapshot.json, TestLambdaDLQ::test_dead_letter_queue):

  RequestID     String  the invocation's request id
  ErrorCode     Number  the 3-digit HTTP status code: 200 for a function error (the function ran and
                        answered 200 with an error)
  ErrorMessage  String  the error message (`errorMessage` of the error payload), at most 1 KB

An SQS queue gets them as SQS MessageAttributes, an SNS topic as the notification's
MessageAttributes. An event discarded before any attempt has no function error: the sandbox then
sends ErrorCode 429 with "Rate Exceeded." for a throttled event (the TooManyRequestsException a
synchronous invoke gets) and with the condition's name for an event that aged out waiting; AWS
does not document those values.

A message that cannot be sent (a missing or FIFO queue or topic, a role that may not send there or
may not use its KMS key: `Permissions.refusal`, as for destinations) is counted as the
DeadLetterErrors metric, kept in `failures` and logged; nothing raises into the runtime.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from records.sandbox.delivery import DeliveryError, failure_reason
from records.sandbox.runtime import Function, PendingEvent, now_iso

if TYPE_CHECKING:
    from records.sandbox.permissions import Permissions
    from records.sandbox.runtime import Runtime

log = logging.getLogger(__name__)

ERROR_MESSAGE_BYTES = 1024  # "Error message (truncated to 1 KB)"
FUNCTION_ERROR_CODE = "200"
THROTTLED_CODE = "429"
THROTTLED_MESSAGE = "Rate Exceeded."


@dataclass(frozen=True, slots=True)
class DeadLetterFailure:
    time: str
    function: str
    target: str
    reason: str


@dataclass(frozen=True, slots=True)
class DeadLetterMessage:
    """What Lambda sends to a dead-letter queue: the event's JSON text and three attributes."""

    body: str
    request_id: str
    error_code: str
    error_message: str

    def sqs_attributes(self) -> dict[str, dict[str, str]]:
        return {
            "RequestID": {"DataType": "String", "StringValue": self.request_id},
            "ErrorCode": {"DataType": "Number", "StringValue": self.error_code},
            "ErrorMessage": {"DataType": "String", "StringValue": self.error_message},
        }


def _first_kilobyte(text: str) -> str:
    return text.encode()[:ERROR_MESSAGE_BYTES].decode(errors="ignore")


def message_of(event: PendingEvent, condition: str) -> DeadLetterMessage:
    """The dead-letter message of an event discarded with `condition`."""
    last = event.last
    if last is not None and not last.ok:
        payload = last.payload if isinstance(last.payload, dict) else {}
        text = payload.get("errorMessage")
        if not isinstance(text, str) or not text:
            # SQS refuses an empty attribute value: the error type stands in for an empty message
            kind = payload.get("errorType")
            text = kind if isinstance(kind, str) and kind else last.function_error or "Unhandled"
        code = str(last.status_code) if last.status_code else FUNCTION_ERROR_CODE
    else:
        code = THROTTLED_CODE
        text = THROTTLED_MESSAGE if condition == "ZeroReservedConcurrency" else condition
    body = event.body if event.body is not None else json.dumps(event.payload)
    return DeadLetterMessage(body, event.request_id, code, _first_kilobyte(text))


@dataclass(slots=True)
class DeadLetterStats:
    sent: dict[str, int] = field(default_factory=dict)  # target ARN -> messages sent
    failures: list[DeadLetterFailure] = field(default_factory=list)


class DeadLetterError(DeliveryError):
    pass


class DeadLetters:
    """Sends discarded events to dead-letter queues with aiobotocore clients pointed at moto.
    The runtime calls it (`Runtime.dead_letter`) for every event that ends without success."""

    def __init__(self, clients: dict[str, Any], runtime: Runtime, permissions: Permissions | None = None) -> None:
        self.clients = clients  # "sqs", "sns"
        self.runtime = runtime
        self.permissions = permissions
        self.stats = DeadLetterStats()

    async def __call__(self, function: Function, event: PendingEvent, condition: str) -> None:
        target = function.dead_letter
        if not target:
            return
        try:
            await self._send(function, target, message_of(event, condition))
        except Exception as exc:  # whatever it is, it is this message's failure, never the runtime's
            reason = failure_reason(exc)
            self.stats.failures.append(DeadLetterFailure(now_iso(), function.name, target, reason))
            self.runtime.count(function, "DeadLetterErrors")
            log.warning("sandbox: event of %s not sent to its dead-letter queue %s: %s", function.name, target, reason)
            return
        self.stats.sent[target] = self.stats.sent.get(target, 0) + 1

    async def _send(self, function: Function, target: str, message: DeadLetterMessage) -> None:
        parts = target.split(":")
        if len(parts) < 6 or parts[2] not in ("sqs", "sns"):
            raise DeadLetterError(f"{target!r} is not an SQS queue or SNS topic ARN")
        service, resource = parts[2], ":".join(parts[5:])
        if self.permissions is not None:
            refusal = await self.permissions.refusal(function.name, service, target)
            if refusal is not None:
                raise DeadLetterError(refusal)
        if resource.endswith(".fifo"):
            raise DeadLetterError("FIFO queues and topics cannot be dead-letter queues")
        attributes = message.sqs_attributes()
        if service == "sqs":
            url = (await self.clients["sqs"].get_queue_url(QueueName=resource))["QueueUrl"]
            await self.clients["sqs"].send_message(QueueUrl=url, MessageBody=message.body, MessageAttributes=attributes)
        else:
            await self.clients["sns"].publish(TopicArn=target, Message=message.body, MessageAttributes=attributes)
