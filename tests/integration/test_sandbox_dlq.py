"""The sandbox's dead-letter queues (DeadLetterConfig), over HTTP as a user's test would use them:
boto3 and the AWS CLI v1 against a sandbox running a stack with DLQs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from records.sandbox import Sandbox
from tests.integration.sandbox_helpers import TIME_FACTOR, clients, invoke_event, metric, write_stack

AWS_CLI = Path(sys.executable).with_name("aws")

STACK = """
[[functions]]
name = "pay"
handler = "handlers.py:fail"
maximum_retry_attempts = 1
dead_letter = "queue:pay-dlq"
on_failure = "queue:pay-failures"

[[functions]]
name = "ship"
handler = "handlers.py:fail"
maximum_retry_attempts = 0
dead_letter = "topic:ship-dlq"

[[functions]]
name = "denied"
handler = "handlers.py:fail"
maximum_retry_attempts = 0
dead_letter = "queue:denied-dlq"
deny = ["sqs:SendMessage"]

[[functions]]
name = "closed"
handler = "handlers.py:fail"
reserved_concurrency = 0
dead_letter = "queue:closed-dlq"

[[functions]]
name = "plain"
handler = "handlers.py:fail"
maximum_retry_attempts = 0

[[queues]]
name = "pay-dlq"
[[queues]]
name = "pay-failures"
[[queues]]
name = "denied-dlq"
[[queues]]
name = "spare-dlq"
[[queues]]
name = "closed-dlq"
[[queues]]
name = "ship-dlq-inbox"
[[topics]]
name = "ship-dlq"
[[subscriptions]]
topic = "ship-dlq"
queue = "ship-dlq-inbox"
raw = false
"""

HANDLERS = """
def fail(event, context):
    raise ValueError("card declined for " + str(event.get("orderId")))
"""


@pytest.fixture(scope="module")
def box(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    stack = write_stack(tmp_path_factory.mktemp("dlq"), STACK, HANDLERS)
    with Sandbox(stack, time_factor=TIME_FACTOR) as sandbox:
        yield sandbox


def receive(sqs: Any, queue: str, count: int = 1, timeout: float = 10.0) -> list[dict[str, Any]]:
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    found: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(found) < count and time.monotonic() < deadline:
        response = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, MessageAttributeNames=["All"]
        )
        for message in response.get("Messages", []):
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            found.append(message)
    assert len(found) >= count, f"{len(found)} of {count} messages arrived at {queue}"
    return found


def test_retries_exhausted_sends_the_original_event_with_aws_attributes(box: Sandbox) -> None:
    aws = clients(box.endpoint_url)
    sent = '{"orderId":"ord-1",  "amount":12}'  # as some client wrote it
    response = aws["lambda"].invoke(FunctionName="pay", InvocationType="Event", Payload=sent)
    request_id = response["ResponseMetadata"]["RequestId"]
    assert box.wait_idle(20)
    [message] = receive(aws["sqs"], "pay-dlq")
    assert message["Body"] == sent  # the event, unchanged
    # As AWS sends them (recorded: localstack's TestLambdaDLQ snapshot; "Dead-letter queues" in the guide)
    assert message["MessageAttributes"] == {
        "RequestID": {"DataType": "String", "StringValue": request_id},
        "ErrorCode": {"DataType": "Number", "StringValue": "200"},
        "ErrorMessage": {"DataType": "String", "StringValue": "card declined for ord-1"},
    }
    # the on-failure destination still gets its record: AWS sends both
    [failure] = receive(aws["sqs"], "pay-failures")
    record = json.loads(failure["Body"])
    assert record["requestContext"]["requestId"] == request_id
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 2
    assert box.stats().dead_lettered >= 1


def test_an_sns_dead_letter_topic_carries_the_attributes_in_the_notification(box: Sandbox) -> None:
    aws = clients(box.endpoint_url)
    request_id = invoke_event(aws, "ship", {"orderId": "ord-2"})
    assert box.wait_idle(20)
    [message] = receive(aws["sqs"], "ship-dlq-inbox")
    notification = json.loads(message["Body"])
    assert json.loads(notification["Message"]) == {"orderId": "ord-2"}
    assert notification["MessageAttributes"] == {
        "RequestID": {"Type": "String", "Value": request_id},
        "ErrorCode": {"Type": "Number", "Value": "200"},
        "ErrorMessage": {"Type": "String", "Value": "card declined for ord-2"},
    }


def test_get_function_configuration_shows_the_dead_letter_config(box: Sandbox) -> None:
    lam = clients(box.endpoint_url)["lambda"]
    config = lam.get_function_configuration(FunctionName="pay")
    assert config["DeadLetterConfig"] == {"TargetArn": box.arn("queue", "pay-dlq")}
    assert lam.get_function(FunctionName="ship")["Configuration"]["DeadLetterConfig"] == {
        "TargetArn": box.arn("topic", "ship-dlq")
    }
    listed = {item["FunctionName"]: item for item in lam.list_functions()["Functions"]}
    assert listed["pay"]["DeadLetterConfig"]["TargetArn"] == box.arn("queue", "pay-dlq")
    assert "DeadLetterConfig" not in listed["plain"]  # AWS leaves it out when there is none


def test_a_role_that_may_not_send_counts_dead_letter_errors(box: Sandbox) -> None:
    aws = clients(box.endpoint_url)
    invoke_event(aws, "denied", {"orderId": "ord-3"})
    assert box.wait_idle(20)
    assert metric(box, "denied", "DeadLetterErrors") == 1
    assert metric(box, "denied", "DestinationDeliveryFailures") == 0
    [failure] = [f for f in box.stats().dead_letter_failures if f.function == "denied"]
    assert failure.reason == (
        "AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/lambdest-sandbox-denied/denied "
        "is not authorized to perform: sqs:SendMessage on resource: "
        f"{box.arn('queue', 'denied-dlq')} because no identity-based policy allows the sqs:SendMessage action"
    )
    url = aws["sqs"].get_queue_url(QueueName="denied-dlq")["QueueUrl"]
    assert "Messages" not in aws["sqs"].receive_message(QueueUrl=url, WaitTimeSeconds=0)


def error_of(call: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    return dict(caught.value.response["Error"])


def allow_spare_queue(box: Sandbox) -> str:
    """What a user does before setting a DLQ: let the function's role send to it."""
    spare = box.arn("queue", "spare-dlq")
    iam = boto3.client("iam", endpoint_url=box.endpoint_url, region_name=box.region)
    document = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": spare}],
    }
    iam.put_role_policy(RoleName="lambdest-sandbox-plain", PolicyName="dlq", PolicyDocument=json.dumps(document))
    time.sleep(1.1)  # the sandbox reads roles at most once a second
    return spare


def test_update_function_configuration_sets_validates_and_removes_the_dlq(box: Sandbox) -> None:
    lam = clients(box.endpoint_url)["lambda"]
    spare = allow_spare_queue(box)
    config = lam.update_function_configuration(FunctionName="plain", DeadLetterConfig={"TargetArn": spare})
    assert config["DeadLetterConfig"] == {"TargetArn": spare}
    assert lam.get_function_configuration(FunctionName="plain")["DeadLetterConfig"] == {"TargetArn": spare}
    # the role of `plain` was made without this queue: AWS refuses a DLQ the role may not send to
    # (the wording AWS answers, e.g. elastic/beats#13963), so the sandbox's roles matter here too
    error = error_of(lam.update_function_configuration, FunctionName="denied", DeadLetterConfig={"TargetArn": spare})
    assert error == {
        "Code": "InvalidParameterValueException",
        "Message": "The provided execution role does not have permissions to call SendMessage on SQS",
    }
    # the botocore model's ResourceArn pattern
    error = error_of(lam.update_function_configuration, FunctionName="plain", DeadLetterConfig={"TargetArn": "dlq"})
    assert error == {
        "Code": "ValidationException",
        "Message": "1 validation error detected: Value 'dlq' at 'deadLetterConfig.targetArn' failed to satisfy "
        "constraint: Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:[a-z0-9-.]+:.*)|()",
    }
    bus = "arn:aws:events:us-east-1:123456789012:event-bus/default"
    error = error_of(lam.update_function_configuration, FunctionName="plain", DeadLetterConfig={"TargetArn": bus})
    assert error["Code"] == "InvalidParameterValueException"
    assert error["Message"].startswith(f"The dead-letter queue ARN {bus} is invalid")
    error = error_of(lam.update_function_configuration, FunctionName="plain", MemorySize=256)
    assert error == {
        "Code": "InvalidParameterValueException",
        "Message": "The lambdest-tui sandbox cannot apply MemorySize: its UpdateFunctionConfiguration changes "
        "only DeadLetterConfig, Timeout and Description",
    }
    # Timeout and Description apply; "" removes the DLQ
    config = lam.update_function_configuration(
        FunctionName="plain", Timeout=5, Description="checks", DeadLetterConfig={"TargetArn": ""}
    )
    assert (config["Timeout"], config["Description"]) == (5, "checks")
    assert "DeadLetterConfig" not in lam.get_function_configuration(FunctionName="plain")


def aws_cli(box: Sandbox, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(AWS_CLI), *args, "--endpoint-url", box.endpoint_url, "--output", "json"],
        env={**os.environ, **box.env},
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.slow  # five AWS CLI runs: ~4 s
def test_the_aws_cli_sets_the_dead_letter_config(box: Sandbox) -> None:
    spare = allow_spare_queue(box)
    result = aws_cli(
        box, "lambda", "update-function-configuration", "--function-name", "plain", "--dead-letter-config",
        f"TargetArn={spare}",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["DeadLetterConfig"] == {"TargetArn": spare}
    result = aws_cli(
        box, "lambda", "update-function-configuration", "--function-name", "plain", "--dead-letter-config",
        "TargetArn=arn:aws:sqs:us-east-1:123456789012:spare-dlq", "--memory-size", "512",
    )  # fmt: skip
    assert result.returncode == 255  # AWS CLI v1: a service error
    assert result.stderr.strip() == (
        "An error occurred (InvalidParameterValueException) when calling the UpdateFunctionConfiguration operation: "
        "The lambdest-tui sandbox cannot apply MemorySize: its UpdateFunctionConfiguration changes only "
        "DeadLetterConfig, Timeout and Description"
    )
    result = aws_cli(
        box, "lambda", "update-function-configuration", "--function-name", "denied", "--dead-letter-config",
        f"TargetArn={spare}",
    )  # fmt: skip
    assert result.returncode == 255  # AWS CLI v1: a service error
    assert result.stderr.strip() == (
        "An error occurred (InvalidParameterValueException) when calling the UpdateFunctionConfiguration operation: "
        "The provided execution role does not have permissions to call SendMessage on SQS"
    )
    # a DLQ set through the API is used: the event goes there after its (zero) retries
    aws = clients(box.endpoint_url)
    request_id = invoke_event(aws, "plain", {"orderId": "ord-4"})
    assert box.wait_idle(20)
    [message] = receive(aws["sqs"], "spare-dlq")
    assert message["MessageAttributes"]["RequestID"]["StringValue"] == request_id
    aws_cli(
        box, "lambda", "update-function-configuration", "--function-name", "plain", "--dead-letter-config", "TargetArn="
    )


@pytest.mark.parametrize(
    "value", ["bus:orders", "function:pay", "arn:aws:events:us-east-1:123456789012:event-bus/x", 7]
)
def test_the_stack_file_takes_only_a_queue_or_a_topic(tmp_path: Path, value: object) -> None:
    from records.sandbox.stack import StackError, parse_stack

    entry = {"name": "pay", "handler": "handlers.py:fail", "dead_letter": value}
    with pytest.raises(StackError) as caught:
        parse_stack({"functions": [entry]}, tmp_path / "stack.toml")
    assert str(caught.value) == (
        f"{tmp_path / 'stack.toml'}: functions[0].dead_letter: {value!r} must be queue:name, topic:name or the ARN "
        "of an SQS queue or SNS topic"
    )


def test_tail_prints_a_dead_letter_line(box: Sandbox, tmp_path: Path) -> None:
    from tests.integration.sources_helpers import TailProcess

    aws = clients(box.endpoint_url)
    request_id = invoke_event(aws, "pay", {"orderId": "ord-5"})
    assert box.wait_idle(20)
    receive(aws["sqs"], "pay-failures")  # (read here: only the dead-letter queue is tailed)
    tail = TailProcess(
        "--queue", "pay-dlq", "--mode", "consume", "--max-records", "1", "--format", "jsonl", "--wait-time", "1",
        "--save", str(tmp_path / "s.jsonl"), "--endpoint-url", box.endpoint_url, "--region", box.region,
        env=box.env,
    )  # fmt: skip
    assert tail.wait(60) == 0, tail.err
    [line] = tail.json_lines()
    assert (line["kind"], line["ok"], line["succeeded"]) == ("dead-letter", True, False)
    assert (line["request_id"], line["error_code"], line["error_message"]) == (
        request_id,
        "200",
        "card declined for ord-5",
    )
    assert line["request_payload"] == {"orderId": "ord-5"} and line["input"] == "queue:pay-dlq"


def test_doctor_names_the_dead_letter_errors(box: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    from tui.cli import main

    invoke_event(clients(box.endpoint_url), "denied", {"orderId": "ord-6"})
    assert box.wait_idle(20)
    capsys.readouterr()
    code = main(["doctor", "denied", "--format", "jsonl", "--endpoint-url", box.endpoint_url, "--region", box.region])
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 1
    [dead] = [line for line in lines if line["check"] == "dead-letter-errors"]
    assert dead["status"] == "problem"
    assert "could not be sent to its dead-letter queue" in dead["message"]


def test_a_throttled_event_goes_to_the_dead_letter_queue_at_once(box: Sandbox) -> None:
    # Reserved concurrency 0: "Lambda begins sending new events to the configured dead-letter queue
    # ... without any retries" (developer guide). AWS does not document the attributes of an event
    # that never ran: the sandbox sends 429 and the TooManyRequestsException message.
    aws = clients(box.endpoint_url)
    request_id = invoke_event(aws, "closed", {"orderId": "ord-7"})
    assert box.wait_idle(20)
    [message] = receive(aws["sqs"], "closed-dlq")
    assert json.loads(message["Body"]) == {"orderId": "ord-7"}
    assert message["MessageAttributes"] == {
        "RequestID": {"DataType": "String", "StringValue": request_id},
        "ErrorCode": {"DataType": "Number", "StringValue": "429"},
        "ErrorMessage": {"DataType": "String", "StringValue": "Rate Exceeded."},
    }
