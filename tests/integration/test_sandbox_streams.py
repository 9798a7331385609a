"""Kinesis and DynamoDB Streams event source mappings in the sandbox, over HTTP as a user drives them:
the mapping API and its AWS errors, the pollers' retries, bisection and record age, and the
stream-failure records they send to SQS, SNS and S3 (which the decoder reads as such)."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from records.aws_options import AwsOptions
from records.decode import decode
from records.discovery import discover
from records.message import Message
from records.models import StreamFailureRecord
from records.sandbox import Sandbox
from records.sandbox.runtime import now_iso
from records.sources.base import SourceStatus
from records.sources.bucket import BucketPoller
from records.sources.plan import SourceSettings, sources_for_plan
from records.store.record_store import RecordStore
from tests.integration.sandbox_helpers import (
    REGION,
    TIME_FACTOR,
    receive_until,
    sns_message,
    subscribe_queue,
    write_stack,
)

AWS_CLI = Path(sys.executable).with_name("aws")
ACCOUNT = "123456789012"
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:processor"

HANDLERS = """
import base64, json
from pathlib import Path

CALLS = Path(__file__).with_name("calls.jsonl")


def process(event, context):
    records = event["Records"]
    values = []
    for record in records:
        if record["eventSource"] == "aws:kinesis":
            values.append(json.loads(base64.b64decode(record["kinesis"]["data"])))
        else:
            image = record["dynamodb"].get("NewImage", {})
            values.append({"bad": image.get("bad", {}).get("BOOL", False), "record": record})
    with CALLS.open("a") as out:
        out.write(json.dumps({"source": records[0]["eventSourceARN"], "values": values, "first": records[0]}) + "\\n")
    if any(value.get("bad") for value in values):
        raise ValueError("bad record")
    return {"processed": len(records)}
"""

STACK = """
[[functions]]
name = "processor"
handler = "handlers.py:process"

[[functions]]
name = "other"
handler = "handlers.py:process"

[[queues]]
name = "stack-stream-failures"

[[streams]]
name = "stack-orders"
shards = 2

[[tables]]
name = "stack-table"
key = "id"

[[mappings]]
function = "processor"
source = "stream:stack-orders"
maximum_retry_attempts = 0
on_failure = "queue:stack-stream-failures"

[[mappings]]
function = "other"
source = "table:stack-table"
starting_position = "LATEST"
"""

# What a user grants the function's role before pointing a mapping's OnFailure at their own resources.
GRANT = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["sqs:SendMessage", "sns:Publish", "s3:PutObject"], "Resource": "*"}],
}


@pytest.fixture(scope="module")
def box(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    sandbox = Sandbox(write_stack(tmp_path_factory.mktemp("streams"), STACK, HANDLERS), time_factor=TIME_FACTOR)
    sandbox.start()
    try:
        iam = boto3.client("iam", endpoint_url=sandbox.endpoint_url, region_name=REGION)
        iam.put_role_policy(
            RoleName="lambdest-sandbox-processor", PolicyName="test-destinations", PolicyDocument=json.dumps(GRANT)
        )
        yield sandbox
    finally:
        sandbox.stop()


@pytest.fixture(scope="module")
def aws(box: Sandbox) -> dict[str, Any]:
    return {
        name: boto3.client(name, endpoint_url=box.endpoint_url, region_name=REGION)
        for name in ("lambda", "kinesis", "dynamodb", "sqs", "sns", "s3")
    }


def calls(box: Sandbox, source: str) -> list[dict[str, Any]]:
    log = box.stack.base_dir / "calls.jsonl"
    lines = log.read_text().splitlines() if log.exists() else []
    return [call for call in map(json.loads, lines) if call["source"] == source]


def wait_for(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"nothing within {timeout} s")


def new_stream(aws: dict[str, Any], shards: int = 1) -> str:
    name = f"s-{uuid.uuid4().hex[:8]}"
    aws["kinesis"].create_stream(StreamName=name, ShardCount=shards)
    return str(aws["kinesis"].describe_stream(StreamName=name)["StreamDescription"]["StreamARN"])


def new_queue(aws: dict[str, Any]) -> tuple[str, str]:
    url = aws["sqs"].create_queue(QueueName=f"q-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    arn = aws["sqs"].get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return str(url), str(arn)


def put(aws: dict[str, Any], stream: str, *values: dict[str, Any]) -> list[str]:
    records = [{"Data": json.dumps(value).encode(), "PartitionKey": "k"} for value in values]
    response = aws["kinesis"].put_records(StreamARN=stream, Records=records)
    return [str(record["SequenceNumber"]) for record in response["Records"]]


def failure_from_queue(aws: dict[str, Any], url: str, timeout: float = 10.0) -> dict[str, Any]:
    body = receive_until(aws["sqs"], url, lambda _body: True, timeout=timeout)
    return json.loads(body)  # type: ignore[no-any-return]


def test_kinesis_batch_that_keeps_failing_goes_to_the_sqs_on_failure_destination(
    box: Sandbox, aws: dict[str, Any]
) -> None:
    stream = new_stream(aws)
    url, queue = new_queue(aws)
    created = aws["lambda"].create_event_source_mapping(
        FunctionName="processor",
        EventSourceArn=stream,
        StartingPosition="TRIM_HORIZON",
        BatchSize=10,
        MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": queue}},
    )
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert (created["State"], created["FunctionArn"], created["MaximumRecordAgeInSeconds"]) == (
        "Creating",
        FUNCTION_ARN,
        -1,
    )
    sequence = put(aws, stream, {"id": 1, "bad": True})[0]
    record = failure_from_queue(aws, url)
    assert set(record) == {"requestContext", "responseContext", "version", "timestamp", "KinesisBatchInfo"}
    context = record["requestContext"]
    assert (context["functionArn"], context["condition"], context["approximateInvokeCount"]) == (
        FUNCTION_ARN,
        "RetryAttemptsExhausted",
        2,  # the first try and one retry
    )
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"}
    info = record["KinesisBatchInfo"]
    assert info["shardId"] == "shardId-000000000000" and info["streamArn"] == stream
    assert (info["startSequenceNumber"], info["endSequenceNumber"], info["batchSize"]) == (sequence, sequence, 1)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", info["approximateArrivalOfFirstRecord"])
    # The UI's store reads the sandbox's record as a failed stream-failure row of `processor` in a failed flow.
    body = json.dumps(record)
    store = RecordStore()
    store.ingest(Message(raw=body, source="queue:q", received=now_iso(), decoded=tuple(decode(body))))
    row = store.row(0)
    assert (row.kind, row.function_name, row.succeeded, row.attempts) == ("stream-failure", "processor", False, 2)
    flow_id = store.flow_of(0)
    flow = store.flow(flow_id) if flow_id is not None else None
    assert flow is not None and flow.status == "failed"
    assert isinstance(store.load(0).record, StreamFailureRecord)
    # The function got AWS's Kinesis event, twice.
    invocations = calls(box, stream)
    assert len(invocations) == 2
    event = invocations[0]["first"]
    assert event["eventSource"] == "aws:kinesis" and event["eventName"] == "aws:kinesis:record"
    assert event["eventID"] == f"shardId-000000000000:{sequence}" and event["eventSourceARN"] == stream
    assert event["invokeIdentityArn"] == f"arn:aws:iam::{ACCOUNT}:role/lambdest-sandbox-processor"
    assert json.loads(base64.b64decode(event["kinesis"]["data"])) == {"id": 1, "bad": True}
    assert event["kinesis"]["partitionKey"] == "k" and event["kinesis"]["kinesisSchemaVersion"] == "1.0"
    # The shard moved on: the next record is processed, and nothing more is sent.
    put(aws, stream, {"id": 2})
    wait_for(lambda: len(calls(box, stream)) == 3)
    assert aws["sqs"].receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages") is None


def test_bisect_splits_the_failing_batch_down_to_the_bad_record(box: Sandbox, aws: dict[str, Any]) -> None:
    stream = new_stream(aws)
    url, queue = new_queue(aws)
    aws["lambda"].create_event_source_mapping(
        FunctionName="processor",
        EventSourceArn=stream,
        StartingPosition="TRIM_HORIZON",
        MaximumRetryAttempts=0,
        BisectBatchOnFunctionError=True,
        DestinationConfig={"OnFailure": {"Destination": queue}},
    )
    sequences = put(aws, stream, *({"id": n, "bad": n == 2} for n in range(4)))
    record = failure_from_queue(aws, url)
    info = record["KinesisBatchInfo"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"], info["batchSize"]) == (
        sequences[2],
        sequences[2],
        1,
    )
    assert record["requestContext"]["approximateInvokeCount"] == 1  # bisecting used no retry
    wait_for(lambda: len(calls(box, stream)) == 5)
    batches = [[value["id"] for value in call["values"]] for call in calls(box, stream)]
    assert batches == [[0, 1, 2, 3], [0, 1], [2, 3], [2], [3]]


def test_record_age_drops_old_records_with_record_age_exceeded(box: Sandbox, aws: dict[str, Any]) -> None:
    stream = new_stream(aws)
    url, queue = new_queue(aws)
    aws["lambda"].create_event_source_mapping(
        FunctionName="processor",
        EventSourceArn=stream,
        StartingPosition="TRIM_HORIZON",
        MaximumRecordAgeInSeconds=60,  # 0.3 s with the tests' time factor; retries forever until then
        DestinationConfig={"OnFailure": {"Destination": queue}},
    )
    put(aws, stream, {"id": 1, "bad": True})
    record = failure_from_queue(aws, url)
    assert record["requestContext"]["condition"] == "RecordAgeExceeded"
    assert record["requestContext"]["approximateInvokeCount"] == len(calls(box, stream)) >= 1
    assert record["KinesisBatchInfo"]["batchSize"] == 1


def test_dynamodb_stream_failure_goes_to_an_sns_topic(box: Sandbox, aws: dict[str, Any]) -> None:
    table = f"t-{uuid.uuid4().hex[:8]}"
    stream = aws["dynamodb"].create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )["TableDescription"]["LatestStreamArn"]
    topic = aws["sns"].create_topic(Name=f"t-{uuid.uuid4().hex[:8]}")["TopicArn"]
    inbox = subscribe_queue(aws, topic)
    aws["lambda"].create_event_source_mapping(
        FunctionName="processor",
        EventSourceArn=stream,
        StartingPosition="TRIM_HORIZON",
        MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": topic}},
    )
    aws["dynamodb"].put_item(TableName=table, Item={"id": {"S": "a"}, "bad": {"BOOL": True}})
    record = sns_message(receive_until(aws["sqs"], inbox, lambda _body: True))
    assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"
    info = record["DDBStreamBatchInfo"]
    assert info["streamArn"] == stream and info["batchSize"] == 1 and info["shardId"].startswith("shardId-")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", info["approximateArrivalOfFirstRecord"])
    event = calls(box, stream)[0]["values"][0]["record"]
    assert (event["eventName"], event["eventSource"], event["eventSourceARN"]) == ("INSERT", "aws:dynamodb", stream)
    assert event["dynamodb"]["Keys"] == {"id": {"S": "a"}} and isinstance(
        event["dynamodb"]["ApproximateCreationDateTime"], int
    )
    (decoded,) = decode(json.dumps(record))
    assert isinstance(decoded.record, StreamFailureRecord) and decoded.record.stream_kind == "dynamodb"


def test_s3_on_failure_object_has_the_payload_under_the_mapping_uuid(box: Sandbox, aws: dict[str, Any]) -> None:
    stream = new_stream(aws)
    bucket = f"b-{uuid.uuid4().hex[:8]}"
    aws["s3"].create_bucket(Bucket=bucket)
    mapping = aws["lambda"].create_event_source_mapping(
        FunctionName="processor",
        EventSourceArn=stream,
        StartingPosition="TRIM_HORIZON",
        MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": f"arn:aws:s3:::{bucket}"}},
    )["UUID"]
    put(aws, stream, {"id": 9, "bad": True})
    objects = wait_for(lambda: aws["s3"].list_objects_v2(Bucket=bucket).get("Contents"))
    key = objects[0]["Key"]
    # AWS: aws/lambda/<ESM-UUID>/<shardID>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<Random UUID>
    match = re.fullmatch(
        rf"aws/lambda/{mapping}/shardId-000000000000/(\d{{4}})/(\d\d)/(\d\d)/(\d{{4}})-(\d\d)-(\d\d)T\d\d\.\d\d\.\d\d-"
        r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
        key,
    )
    assert match is not None and match.group(1, 2, 3) == match.group(4, 5, 6), key
    record = json.loads(aws["s3"].get_object(Bucket=bucket, Key=key)["Body"].read())
    assert isinstance(record["payload"], str)  # the whole event, as an escaped JSON string
    event = json.loads(record["payload"])
    assert json.loads(base64.b64decode(event["Records"][0]["kinesis"]["data"])) == {"id": 9, "bad": True}
    (decoded,) = decode(json.dumps(record))
    assert isinstance(decoded.record, StreamFailureRecord)


def test_lifecycle_list_filters_update_and_delete(box: Sandbox, aws: dict[str, Any]) -> None:
    lam = aws["lambda"]
    stream = new_stream(aws)
    uuid_ = lam.create_event_source_mapping(
        FunctionName="processor", EventSourceArn=stream, StartingPosition="LATEST", BatchSize=5
    )["UUID"]
    assert wait_for(lambda: lam.get_event_source_mapping(UUID=uuid_)["State"] == "Enabled")
    assert [m["UUID"] for m in lam.list_event_source_mappings(EventSourceArn=stream)["EventSourceMappings"]] == [uuid_]
    mine = {m["UUID"] for m in lam.list_event_source_mappings(FunctionName=FUNCTION_ARN)["EventSourceMappings"]}
    assert uuid_ in mine
    others = lam.list_event_source_mappings(FunctionName="other")["EventSourceMappings"]
    assert uuid_ not in {m["UUID"] for m in others} and len(others) == 1  # the stack's table mapping
    updated = lam.update_event_source_mapping(UUID=uuid_, Enabled=False, BatchSize=7)
    assert (updated["State"], updated["BatchSize"]) == ("Updating", 7)
    assert lam.get_event_source_mapping(UUID=uuid_)["State"] == "Disabled"
    put(aws, stream, {"id": "while-disabled"})
    time.sleep(0.3)
    assert calls(box, stream) == []
    lam.update_event_source_mapping(UUID=uuid_, Enabled=True)
    wait_for(lambda: calls(box, stream))  # resumed where it stopped: LATEST at creation, so the record counts
    assert calls(box, stream)[0]["values"] == [{"id": "while-disabled"}]
    deleted = lam.delete_event_source_mapping(UUID=uuid_)
    assert deleted["State"] == "Deleting" and deleted["ResponseMetadata"]["HTTPStatusCode"] == 202
    with pytest.raises(ClientError) as error:
        lam.get_event_source_mapping(UUID=uuid_)
    assert error.value.response["Error"] == {
        "Code": "ResourceNotFoundException",
        "Message": "The resource you requested does not exist.",
    }


def error_of(call: Callable[..., Any], **kwargs: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as error:
        call(**kwargs)
    return str(error.value.response["Error"]["Code"]), str(error.value.response["Error"]["Message"])


def test_api_validation_errors_are_aws_s(box: Sandbox, aws: dict[str, Any]) -> None:
    # botocore checks ranges itself; AWS's own answers show without that check (as another SDK sends them)
    lam = boto3.client(
        "lambda", endpoint_url=box.endpoint_url, region_name=REGION, config=Config(parameter_validation=False)
    )
    create = lam.create_event_source_mapping
    stream = new_stream(aws)
    base = {"FunctionName": "processor", "EventSourceArn": stream, "StartingPosition": "TRIM_HORIZON"}
    assert error_of(create, **base, MaximumRetryAttempts=10001) == (
        "ValidationException",
        "1 validation error detected: Value '10001' at 'maximumRetryAttempts' failed to satisfy constraint: "
        "Member must have value less than or equal to 10000",
    )
    assert error_of(create, **base, MaximumRetryAttempts=-2, BatchSize=0) == (
        "ValidationException",
        "2 validation errors detected: Value '0' at 'batchSize' failed to satisfy constraint: Member must have "
        "value greater than or equal to 1; Value '-2' at 'maximumRetryAttempts' failed to satisfy constraint: "
        "Member must have value greater than or equal to -1",
    )
    assert error_of(create, **base, MaximumRecordAgeInSeconds=59) == (
        "InvalidParameterValueException",
        "MaximumRecordAgeInSeconds must be either -1 (forever) or between 60 and 604800 (inclusive)",
    )
    assert error_of(create, **{**base, "StartingPosition": "invalid"}) == (
        "ValidationException",
        "1 validation error detected: Value 'invalid' at 'startingPosition' failed to satisfy constraint: "
        "Member must satisfy enum value set: [LATEST, AT_TIMESTAMP, TRIM_HORIZON]",
    )
    assert error_of(create, FunctionName="processor", EventSourceArn=stream) == (
        "InvalidParameterValueException",
        "1 validation error detected: Value null at 'startingPosition' failed to satisfy constraint: Member must "
        "not be null.",
    )
    assert error_of(create, FunctionName="processor", StartingPosition="LATEST") == (
        "InvalidParameterValueException",
        "Unrecognized event source.",
    )
    assert error_of(create, **{**base, "FunctionName": "nope"}) == (
        "InvalidParameterValueException",
        "Function does not exist",
    )
    missing = stream + "-missing"
    assert error_of(create, **{**base, "EventSourceArn": missing}) == (
        "InvalidParameterValueException",
        f"Stream not found: {missing}",
    )
    assert error_of(create, **base, DestinationConfig={"OnSuccess": {"Destination": FUNCTION_ARN}}) == (
        "InvalidParameterValueException",
        "Unsupported DestinationConfig parameter for given event source mapping type.",
    )
    bus = f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/default"
    assert error_of(create, **base, DestinationConfig={"OnFailure": {"Destination": bus}}) == (
        "InvalidParameterValueException",
        f"The destination ARN {bus} is invalid.",
    )
    first = create(**base)["UUID"]
    assert error_of(create, **base) == (
        "ResourceConflictException",
        f'The event source arn (" {stream} ") and function (" processor ") provided mapping already exists. '
        f"Please update or delete the existing mapping with UUID {first}",
    )
    assert error_of(lam.update_event_source_mapping, UUID=first, MaximumRecordAgeInSeconds=604801) == (
        "ValidationException",
        "1 validation error detected: Value '604801' at 'maximumRecordAgeInSeconds' failed to satisfy constraint: "
        "Member must have value less than or equal to 604800",
    )
    unknown = str(uuid.uuid4())
    for call in (lam.get_event_source_mapping, lam.delete_event_source_mapping, lam.update_event_source_mapping):
        assert error_of(call, UUID=unknown) == (
            "ResourceNotFoundException",
            "The resource you requested does not exist.",
        )
    lam.delete_event_source_mapping(UUID=first)


def test_stack_file_streams_tables_and_mappings(box: Sandbox, aws: dict[str, Any]) -> None:
    listed = aws["lambda"].list_event_source_mappings()["EventSourceMappings"]
    stream = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/stack-orders"
    kinesis = next(m for m in listed if m["EventSourceArn"] == stream)
    assert kinesis["DestinationConfig"] == {
        "OnFailure": {"Destination": f"arn:aws:sqs:{REGION}:{ACCOUNT}:stack-stream-failures"}
    }
    assert (kinesis["MaximumRetryAttempts"], kinesis["StartingPosition"]) == (0, "TRIM_HORIZON")
    table = next(m for m in listed if ":dynamodb:" in m["EventSourceArn"])
    assert table["EventSourceArn"].startswith(f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/stack-table/stream/")
    assert table["DestinationConfig"] == {"OnFailure": {}}
    assert wait_for(lambda: aws["lambda"].get_event_source_mapping(UUID=table["UUID"])["State"] == "Enabled")
    aws["dynamodb"].put_item(TableName="stack-table", Item={"id": {"S": "x"}})  # LATEST: after the start
    (call,) = wait_for(lambda: calls(box, table["EventSourceArn"]))
    assert call["values"][0]["record"]["dynamodb"]["NewImage"] == {"id": {"S": "x"}}
    # The stack granted the role its mapping's destination: the record arrives without a test grant.
    aws["kinesis"].put_record(StreamName="stack-orders", Data=b'{"bad": true}', PartitionKey="a")
    url = aws["sqs"].get_queue_url(QueueName="stack-stream-failures")["QueueUrl"]
    record = failure_from_queue(aws, url)
    assert record["KinesisBatchInfo"]["streamArn"] == stream
    assert record["requestContext"]["approximateInvokeCount"] == 1


@pytest.mark.slow
def test_destinations_shows_the_stream_failure_route(box: Sandbox) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tui.cli", "destinations", "--function", "processor", "--format", "jsonl",
         "--endpoint-url", box.endpoint_url, "--region", box.region],
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, **box.env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )  # fmt: skip
    routes = [json.loads(line) for line in done.stdout.splitlines()]
    failure = next(route for route in routes if route["route"] == "stream-failure")
    assert failure["destination"] == f"arn:aws:sqs:{REGION}:{ACCOUNT}:stack-stream-failures", done.stderr
    assert (failure["destination_type"], failure["watch"], failure["problem"]) == ("sqs", "peek", None)


@pytest.mark.slow
def test_aws_cli_v1_creates_and_lists_a_mapping(box: Sandbox, aws: dict[str, Any]) -> None:
    stream = new_stream(aws)
    _, queue = new_queue(aws)

    def cli(*args: str) -> dict[str, Any]:
        done = subprocess.run(
            [str(AWS_CLI), "lambda", *args, "--endpoint-url", box.endpoint_url, "--output", "json"],
            env={**os.environ, **box.env},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)  # type: ignore[no-any-return]

    created = cli(
        "create-event-source-mapping",
        "--function-name", "processor",
        "--event-source-arn", stream,
        "--starting-position", "TRIM_HORIZON",
        "--maximum-retry-attempts", "1",
        "--bisect-batch-on-function-error",
        "--destination-config", json.dumps({"OnFailure": {"Destination": queue}}),
    )  # fmt: skip
    assert (created["State"], created["MaximumRetryAttempts"], created["BisectBatchOnFunctionError"]) == (
        "Creating",
        1,
        True,
    )
    listed = cli("list-event-source-mappings", "--event-source-arn", stream)["EventSourceMappings"]
    assert [m["UUID"] for m in listed] == [created["UUID"]]
    assert listed[0]["DestinationConfig"] == {"OnFailure": {"Destination": queue}}


async def test_the_uis_bucket_source_reads_stream_failure_objects(box: Sandbox, aws: dict[str, Any]) -> None:
    stream = await asyncio.to_thread(new_stream, aws)
    bucket = f"b-{uuid.uuid4().hex[:8]}"
    await asyncio.to_thread(aws["s3"].create_bucket, Bucket=bucket)
    await asyncio.to_thread(
        aws["lambda"].create_event_source_mapping,
        FunctionName="processor",
        EventSourceArn=stream,
        StartingPosition="TRIM_HORIZON",
        MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": f"arn:aws:s3:::{bucket}"}},
    )
    options = AwsOptions(region=box.region, endpoint_url=box.endpoint_url)
    plan = await discover(["processor"], options, follow=False)
    poller = next(
        s
        for s in sources_for_plan(plan, SourceSettings(aws=options))
        if isinstance(s, BucketPoller) and s.bucket == bucket
    )

    async def first_message() -> Message:
        async for event in poller:
            if isinstance(event, Message):
                return event
            if isinstance(event, SourceStatus) and event.state == "live":
                await asyncio.to_thread(put, aws, stream, {"id": "ui", "bad": True})
        raise AssertionError("the source ended")

    try:
        message = await asyncio.wait_for(first_message(), 15)
    finally:
        await poller.aclose()
    assert message.meta["Key"].startswith("aws/lambda/") and "/shardId-000000000000/" in message.meta["Key"]
    record = message.decoded[0].record
    assert isinstance(record, StreamFailureRecord) and record.stream_kind == "kinesis"
