"""A stack of one's own: file handlers, timeouts, EventBridge and S3 destinations, undeliverable records."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from records.decode import decode
from records.sandbox import DeliveryFailure, Sandbox
from tests.integration.sandbox_helpers import (
    TIME_FACTOR,
    bus_queue,
    clients,
    invoke_event,
    mentions,
    receive_until,
    write_stack,
)

STACK = """
[[functions]]
name = "slow"
handler = "handlers.py:slow"
timeout = 0.2
maximum_retry_attempts = 0
on_failure = "bus:results"

[[functions]]
name = "echo"
handler = "handlers.py:echo"
on_success = "bus:results"
on_failure = "bucket:failed-records"

[[functions]]
name = "to-fifo"
handler = "handlers.py:echo"
on_success = "queue:records.fifo"

[[functions]]
name = "to-missing"
handler = "handlers.py:echo"
on_success = "queue:nobody-made-this"

[[functions]]
name = "throttled"
handler = "handlers.py:echo"
reserved_concurrency = 0
on_failure = "bus:results"

[[functions]]
name = "big"
handler = "handlers.py:big"
on_success = "topic:big-records"

[[queues]]
name = "records"
fifo = true

[[queues]]
name = "big-inbox"

[[topics]]
name = "big-records"

[[subscriptions]]
topic = "big-records"
queue = "big-inbox"
raw = true

[[buses]]
name = "results"

[[buckets]]
name = "failed-records"
"""

HANDLERS = """
import time

def slow(event, context):
    time.sleep(1)
    return "late"

def big(event, context):
    return "x" * 300_000

def echo(event, context):
    if event.get("fail"):
        raise RuntimeError("asked to fail \\x1b[31m")
    return {"echo": event, "left_ms": context.get_remaining_time_in_millis() > 0}
"""


@pytest.fixture(scope="module")
def custom(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Sandbox, list[DeliveryFailure]]]:
    stack = write_stack(tmp_path_factory.mktemp("stack"), STACK, HANDLERS)
    failures: list[DeliveryFailure] = []
    with Sandbox(stack, time_factor=TIME_FACTOR, on_delivery_failure=failures.append) as box:
        yield box, failures


def test_eventbridge_records_and_timeouts(custom: tuple[Sandbox, list[DeliveryFailure]]) -> None:
    sandbox, _ = custom
    aws = clients(sandbox.endpoint_url)
    url = bus_queue(aws, "results")
    ok_id = invoke_event(aws, "echo", {"hello": "world"})
    event = json.loads(receive_until(aws["sqs"], url, mentions(ok_id)))
    assert event["source"] == "lambda"
    assert event["detail-type"] == "Lambda Function Invocation Result - Success"
    assert event["resources"] == [sandbox.arn("bus", "results"), sandbox.arn("function", "echo") + ":$LATEST"]
    assert event["detail"]["responsePayload"] == {"echo": {"hello": "world"}, "left_ms": True}
    [decoded] = decode(json.dumps(event))
    assert decoded.ok and decoded.envelope == ("eventbridge",)

    slow_id = invoke_event(aws, "slow", {})
    event = json.loads(receive_until(aws["sqs"], url, mentions(slow_id)))
    assert event["detail-type"] == "Lambda Function Invocation Result - Failure"
    record = event["detail"]
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 1
    assert record["responsePayload"]["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 0.20 seconds" in record["responsePayload"]["errorMessage"]
    [decoded] = decode(json.dumps(event))
    assert decoded.record is not None and decoded.record.error is not None
    assert decoded.record.error.error_type == "Sandbox.Timedout"


def test_failure_records_go_to_s3_with_aws_key_layout(custom: tuple[Sandbox, list[DeliveryFailure]]) -> None:
    sandbox, _ = custom
    aws = clients(sandbox.endpoint_url)
    request_id = invoke_event(aws, "echo", {"fail": True})
    assert sandbox.wait_idle(15)
    objects = aws["s3"].list_objects_v2(Bucket="failed-records", Prefix="aws/lambda/async/echo/")["Contents"]
    bodies = [aws["s3"].get_object(Bucket="failed-records", Key=o["Key"])["Body"].read() for o in objects]
    [(key, body)] = [(o["Key"], b) for o, b in zip(objects, bodies, strict=True) if request_id.encode() in b]
    parts = key.split("/")
    assert parts[:4] == ["aws", "lambda", "async", "echo"] and len(parts) == 8
    assert parts[7].startswith(f"{parts[4]}-{parts[5]}-{parts[6]}T")
    [decoded] = decode(body)
    assert decoded.ok and decoded.envelope == ()
    assert decoded.record is not None and decoded.record.condition == "RetriesExhausted"
    assert decoded.record.approximate_invoke_count == 3
    assert decoded.record.error is not None and "\x1b" in (decoded.record.error.error_message or "")


def test_undeliverable_records_are_counted_and_reported(custom: tuple[Sandbox, list[DeliveryFailure]]) -> None:
    sandbox, failures = custom
    aws = clients(sandbox.endpoint_url)
    before = len(sandbox.stats().delivery_failures)
    invoke_event(aws, "to-fifo", {})
    invoke_event(aws, "to-missing", {})
    assert sandbox.wait_idle(15)
    new = sandbox.stats().delivery_failures[before:]
    reasons = {failure.function: failure.reason for failure in new}
    assert "FIFO" in reasons["to-fifo"]
    assert "NonExistentQueue" in reasons["to-missing"] or "does not exist" in reasons["to-missing"]
    assert {f.function for f in failures} >= {"to-fifo", "to-missing"}


def test_stack_errors_name_the_problem(tmp_path: Path) -> None:
    from records.sandbox import StackError

    stack = write_stack(
        tmp_path, '[[functions]]\nname = "x"\nhandler = "handlers.py:nope"\n', "def other(e, c): pass\n"
    )
    with pytest.raises(StackError, match="has no function 'nope'"):
        Sandbox(stack)


async def test_follow_flow_taps_a_bus(custom: tuple[Sandbox, list[DeliveryFailure]]) -> None:
    from records.aws_options import AwsOptions
    from records.invoke import FlowEnd, FlowInvoked, FlowRecord, follow_flow

    sandbox, _ = custom
    aws = AwsOptions(region=sandbox.region, endpoint_url=sandbox.endpoint_url)
    events = [event async for event in follow_flow("echo", {"n": 1}, aws, wait=20)]
    invoked, *records, end = events
    assert isinstance(invoked, FlowInvoked) and isinstance(end, FlowEnd)
    assert invoked.request_id == end.request_id
    assert isinstance(end, FlowEnd) and end.outcome == "succeeded", end
    [record] = records
    assert isinstance(record, FlowRecord) and record.source == "bus:results"
    assert record.decoded.envelope == ("eventbridge",)
    assert record.decoded.record is not None and record.decoded.record.request_id == end.request_id


async def test_follow_flow_diagnoses_a_fifo_destination(custom: tuple[Sandbox, list[DeliveryFailure]]) -> None:
    from records.aws_options import AwsOptions
    from records.invoke import FlowEnd, follow_flow

    sandbox, _ = custom
    aws = AwsOptions(region=sandbox.region, endpoint_url=sandbox.endpoint_url)
    [_, end] = [event async for event in follow_flow("to-fifo", {}, aws, wait=5)]
    assert isinstance(end, FlowEnd) and end.outcome == "timeout"
    assert end.diagnosis is not None and "FIFO" in end.diagnosis
    assert "no OnFailure destination" in end.diagnosis


def test_a_record_too_large_for_sns_loses_its_payloads(custom: tuple[Sandbox, list[DeliveryFailure]]) -> None:
    sandbox, _ = custom
    aws = clients(sandbox.endpoint_url)
    request_id = invoke_event(aws, "big", {"small": True})
    url = aws["sqs"].get_queue_url(QueueName="big-inbox")["QueueUrl"]
    body = receive_until(aws["sqs"], url, mentions(request_id))
    record = json.loads(body)
    assert "requestPayload" not in record and "responsePayload" not in record
    assert record["requestContext"]["condition"] == "Success"
    [decoded] = decode(body)
    assert decoded.ok and decoded.record is not None and decoded.record.request_payload is None


@pytest.mark.slow
def test_zero_reserved_concurrency(custom: tuple[Sandbox, list[DeliveryFailure]]) -> None:
    from botocore.exceptions import ClientError

    sandbox, _ = custom
    aws = clients(sandbox.endpoint_url)
    described = aws["lambda"].get_function(FunctionName="throttled")
    assert described["Concurrency"] == {"ReservedConcurrentExecutions": 0}
    with pytest.raises(ClientError) as exc:
        aws["lambda"].invoke(FunctionName="throttled", Payload=b"{}")
    assert exc.value.response["Error"]["Code"] == "TooManyRequestsException"
    url = bus_queue(aws, "results")
    request_id = invoke_event(aws, "throttled", {"n": 2})
    event = json.loads(receive_until(aws["sqs"], url, mentions(request_id)))
    record = event["detail"]
    assert record["requestContext"]["condition"] == "ZeroReservedConcurrency"
    assert record["requestContext"]["approximateInvokeCount"] == 0
    assert "responseContext" not in record and "responsePayload" not in record
    assert record["requestPayload"] == {"n": 2}
    [decoded] = decode(json.dumps(event))
    assert decoded.ok and decoded.record is not None and not decoded.record.succeeded


async def test_follow_flow_polls_an_s3_failure_destination(custom: tuple[Sandbox, list[DeliveryFailure]]) -> None:
    from records.aws_options import AwsOptions
    from records.invoke import FlowEnd, FlowRecord, follow_flow

    sandbox, _ = custom
    aws = AwsOptions(region=sandbox.region, endpoint_url=sandbox.endpoint_url)
    events = [event async for event in follow_flow("echo", {"fail": True}, aws, wait=20)]
    end = events[-1]
    assert isinstance(end, FlowEnd) and end.outcome == "failed", end
    [record] = [event for event in events if isinstance(event, FlowRecord)]
    assert record.source == "bucket:failed-records"
    assert record.decoded.record is not None and record.decoded.record.request_id == end.request_id
    assert record.decoded.meta["Key"].startswith("aws/lambda/async/echo/")
