"""What a real server cannot produce on demand (throttling, expired tokens, AccessDenied), through
aiobotocore's AioStubber on a real client; and the back-off and fault classification themselves."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiobotocore.session import get_session
from aiobotocore.stub import AioStubber
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError

from records.message import Message
from records.sources.base import FactsBatch, SourceStatus
from records.sources.faults import Backoff, classify
from records.sources.sqs import SqsQueueSource

URL = "https://sqs.us-east-1.amazonaws.com/123456789012/orders"
RECORD = {
    "version": "1.0",
    "timestamp": "2026-11-27T10:00:00.000Z",
    "requestContext": {
        "requestId": "r-1",
        "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:order:$LATEST",
        "condition": "Success",
        "approximateInvokeCount": 1,
    },
    "requestPayload": {"orderId": "o-1"},
    "responseContext": {"statusCode": 200, "executedVersion": "$LATEST"},
    "responsePayload": None,
}


@pytest.fixture
async def stubbed() -> AsyncIterator[tuple[Any, AioStubber]]:
    session = get_session()
    async with session.create_client(
        "sqs", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b"
    ) as sqs:
        with AioStubber(sqs) as stubber:
            yield sqs, stubber


def _fast() -> Backoff:
    return Backoff(base=0.001, cap=0.005)


async def _events(source: SqsQueueSource, until: int) -> list[Message | SourceStatus]:
    events: list[Message | SourceStatus] = []

    async def run() -> None:
        async for event in source:
            assert not isinstance(event, FactsBatch)  # an SQS source yields messages, not facts
            events.append(event)
            if isinstance(event, Message) or len(events) >= until or event.state == "failed":
                return

    try:
        await asyncio.wait_for(run(), 5)
    finally:
        await source.aclose()
    return events


async def test_throttling_is_retried_and_reported(stubbed: tuple[Any, AioStubber]) -> None:
    sqs, stubber = stubbed
    stubber.add_response("get_queue_url", {"QueueUrl": URL}, {"QueueName": "orders"})
    stubber.add_client_error("receive_message", "ThrottlingException", "Rate exceeded", 400)
    stubber.add_client_error("receive_message", "ServiceUnavailable", "try later", 503)
    message = {"MessageId": "m-1", "ReceiptHandle": "rh-1", "Body": json.dumps(RECORD), "Attributes": {}}
    stubber.add_response("receive_message", {"Messages": [message]})
    stubber.add_response(
        "delete_message_batch",
        {"Successful": [{"Id": "0"}], "Failed": []},
        {"QueueUrl": URL, "Entries": [{"Id": "0", "ReceiptHandle": "rh-1"}]},
    )
    source = SqsQueueSource("orders", mode="consume", pollers=1, client=sqs, backoff=_fast)
    events = await _events(source, 10)
    states = [(e.state, e.reason) for e in events if isinstance(e, SourceStatus)]
    assert states[0] == ("connecting", None)
    assert states[1][0] == "reconnecting" and "throttled by AWS (ThrottlingException)" in (states[1][1] or "")
    assert states[2][0] == "reconnecting" and "ServiceUnavailable" in (states[2][1] or "")
    assert states[3] == ("live", None)
    assert isinstance(events[-1], Message) and events[-1].decoded[0].ok
    stubber.assert_no_pending_responses()


@pytest.mark.parametrize(
    ("operation", "code", "expected"),
    [
        ("get_queue_url", "AccessDenied", "access denied for sqs:GetQueueUrl; grant sqs:GetQueueUrl"),
        ("receive_message", "AccessDenied", "access denied for sqs:ReceiveMessage"),
        ("receive_message", "ExpiredToken", "the AWS credentials have expired (ExpiredToken); refresh them"),
        ("receive_message", "InvalidClientTokenId", "the AWS credentials were rejected (InvalidClientTokenId)"),
    ],
)
async def test_fatal_faults_fail_once_with_a_sentence(
    stubbed: tuple[Any, AioStubber], operation: str, code: str, expected: str
) -> None:
    sqs, stubber = stubbed
    if operation == "get_queue_url":
        stubber.add_client_error("get_queue_url", code, "no", 403)
    else:
        stubber.add_response("get_queue_url", {"QueueUrl": URL})
        stubber.add_client_error("receive_message", code, "no", 403)
    source = SqsQueueSource("orders", mode="consume", pollers=1, client=sqs, backoff=_fast)
    events = await _events(source, 10)
    last = events[-1]
    assert isinstance(last, SourceStatus) and last.state == "failed"
    assert last.reason is not None and last.reason.startswith("queue orders: ") and expected in last.reason
    assert [e.state for e in events if isinstance(e, SourceStatus)].count("failed") == 1


async def test_a_denied_delete_fails_and_shows_nothing(stubbed: tuple[Any, AioStubber]) -> None:
    sqs, stubber = stubbed
    stubber.add_response("get_queue_url", {"QueueUrl": URL})
    message = {"MessageId": "m-1", "ReceiptHandle": "rh-1", "Body": "{}"}
    stubber.add_response("receive_message", {"Messages": [message]})
    stubber.add_client_error("delete_message_batch", "AccessDenied", "no", 403)
    source = SqsQueueSource("orders", mode="consume", pollers=1, client=sqs, backoff=_fast)
    events = await _events(source, 10)
    last = events[-1]
    assert isinstance(last, SourceStatus) and last.state == "failed"
    assert "access denied for sqs:DeleteMessage" in (last.reason or "")
    assert not any(isinstance(e, Message) for e in events), "a message that could not be deleted is not shown"


def test_backoff_grows_is_capped_and_jittered() -> None:
    backoff = Backoff(base=0.5, cap=8.0)
    delays = [backoff.next_delay() for _ in range(12)]
    assert all(0.5 <= delay <= 8.0 for delay in delays)
    assert max(delays[6:]) > 2.0, "grows"
    assert len(set(delays)) > 6, "jittered"
    backoff.reset()
    assert backoff.next_delay() == 0.5


def test_classify() -> None:
    def client_error(code: str, status: int) -> ClientError:
        response: Any = {"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}}
        return ClientError(response, "Op")

    assert not classify(client_error("Throttling", 400), "queue q", "sqs:ReceiveMessage").fatal
    assert not classify(client_error("InternalError", 500), "queue q", "sqs:ReceiveMessage").fatal
    assert not classify(EndpointConnectionError(endpoint_url="http://x"), "queue q", "sqs:ReceiveMessage").fatal
    assert not classify(ConnectionResetError(), "queue q", "sqs:ReceiveMessage").fatal
    missing = classify(client_error("AWS.SimpleQueueService.NonExistentQueue", 400), "queue q", "sqs:GetQueueUrl")
    assert missing.fatal and missing.missing and missing.reason.startswith("queue q does not exist")
    assert "no AWS credentials found" in classify(NoCredentialsError(), "queue q", "sqs:GetQueueUrl").reason
    assert classify(client_error("ValidationError", 400), "queue q", "sqs:ReceiveMessage").fatal
