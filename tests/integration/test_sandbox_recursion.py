"""Recursive loop detection (AWS: "Use Lambda recursive loop detection to prevent infinite loops"):
a loop of Lambda destinations or of Invoke calls carrying the X-Ray `Lineage` stops after 16
invocations of a function in one chain, unless the function is set to `Allow`.
Put/GetFunctionRecursionConfig over boto3 and the AWS CLI v1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from records.decode import decode
from records.sandbox import Sandbox, StackError
from records.sandbox.recursion import function_hash
from tests.integration.sandbox_helpers import TIME_FACTOR, clients, mentions, metric, receive_until, write_stack

AWS_CLI = Path(sys.executable).with_name("aws")
ACCOUNT = "123456789012"
# The botocore model's documentation of RecursiveInvocationException (AWS publishes no other wording).
RECURSION_MESSAGE = (
    "Lambda has detected your function being invoked in a recursive loop with other Amazon Web Services "
    "resources and stopped your function's invocation."
)

STACK = """
[[functions]]
name = "ping"
handler = "handlers.py:hop"
maximum_retry_attempts = 0
on_success = "function:pong"
on_failure = "queue:loop-failures"

[[functions]]
name = "pong"
handler = "handlers.py:hop"
maximum_retry_attempts = 0
on_success = "function:ping"
on_failure = "queue:loop-failures"

[[functions]]
name = "ping-allowed"
handler = "handlers.py:hop"
maximum_retry_attempts = 0
recursive_loop = "Allow"
on_success = "function:pong-allowed"
on_failure = "queue:allowed-failures"

[[functions]]
name = "pong-allowed"
handler = "handlers.py:hop"
maximum_retry_attempts = 0
recursive_loop = "Allow"
on_success = "function:ping-allowed"
on_failure = "queue:allowed-failures"

[[functions]]
name = "echo"
handler = "handlers.py:echo"
on_failure = "queue:echo-failures"

[[functions]]
name = "configured"
handler = "handlers.py:echo"

[[functions]]
name = "cli-target"
handler = "handlers.py:echo"

[[queues]]
name = "loop-failures"

[[queues]]
name = "allowed-failures"

[[queues]]
name = "echo-failures"

[[functions]]
name = "self-invoker"
handler = "handlers.py:self_invoker"
maximum_retry_attempts = 0
on_failure = "queue:self-failures"

[[queues]]
name = "self-failures"
"""

HANDLERS = """
def hop(event, context):
    # The first event is {"hops": 0, ...}; the next ones are the previous function's success record.
    state = event["responsePayload"] if "requestContext" in event else event
    hops = state["hops"] + 1
    if hops > state["stop_after"]:
        raise RuntimeError(f"the handler stopped the loop at run {hops}")
    return {"hops": hops, "stop_after": state["stop_after"], "by": context.function_name}

def echo(event, context):
    return {"echo": event}

def self_invoker(event, context):
    # Invokes itself through the sandbox's Lambda API, as a buggy handler might; botocore copies the
    # _X_AMZN_TRACE_ID the worker has (with the chain's Lineage) into X-Amzn-Trace-Id. The guard
    # only matters if detection failed.
    import json, boto3
    if event["n"] < 40:
        boto3.client("lambda").invoke(
            FunctionName=context.function_name, InvocationType="Event", Payload=json.dumps({"n": event["n"] + 1})
        )
    return event
"""


@pytest.fixture(scope="module")
def box(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with Sandbox(write_stack(tmp_path_factory.mktemp("stack"), STACK, HANDLERS), time_factor=TIME_FACTOR) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def aws(box: Sandbox) -> dict[str, Any]:
    return clients(box.endpoint_url)


def queue_url(aws: dict[str, Any], name: str) -> str:
    return str(aws["sqs"].get_queue_url(QueueName=name)["QueueUrl"])


def lineage_header(function: str, count: int) -> str:
    """A trace header as Lambda puts it in a handler's _X_AMZN_TRACE_ID: `function` ran `count` times
    in the chain (plus an entry of another function, so the `|` that botocore percent-encodes is there)."""
    arn = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{function}"
    trace = "Root=1-67891233-abcdef012345678912345678;Parent=0123456789abcdef;Sampled=0"
    return f"{trace};Lineage=a87bd80c:1|{function_hash(arn)}:{count}"


def test_a_destination_loop_stops_after_16_invocations_of_a_function(box: Sandbox, aws: dict[str, Any]) -> None:
    request_id = aws["lambda"].invoke(
        FunctionName="ping", InvocationType="Event", Payload=json.dumps({"hops": 0, "stop_after": 1000})
    )["ResponseMetadata"]["RequestId"]
    assert box.wait_idle(30)
    body = receive_until(aws["sqs"], queue_url(aws, "loop-failures"), lambda _: True)
    record = json.loads(body)
    # ping ran 16 times (runs 1, 3, ... 31) and pong 16 times (2 ... 32): ping's 17th is stopped.
    assert record["requestContext"]["functionArn"] == box.arn("function", "ping") + ":$LATEST"
    assert record["requestContext"]["condition"] == "RecursiveInvocationException"
    assert record["requestContext"]["approximateInvokeCount"] == 0
    assert "responsePayload" not in record and "responseContext" not in record
    stopped_event = record["requestPayload"]  # pong's success record, the event ping was not run with
    assert stopped_event["responsePayload"] == {"hops": 32, "stop_after": 1000, "by": "pong"}
    assert request_id != record["requestContext"]["requestId"]
    [decoded] = decode(body)
    assert decoded.ok and decoded.record is not None and decoded.record.condition == "RecursiveInvocationException"
    box.flush_metrics()
    assert metric(box, "ping", "RecursiveInvocationsDropped") == 1
    assert metric(box, "pong", "RecursiveInvocationsDropped") == 0
    assert metric(box, "ping", "Invocations") == 16 and metric(box, "pong", "Invocations") == 16
    assert metric(box, "ping", "AsyncEventsReceived") == 17


def test_an_allowed_loop_runs_past_the_limit(box: Sandbox, aws: dict[str, Any]) -> None:
    aws["lambda"].invoke(
        FunctionName="ping-allowed", InvocationType="Event", Payload=json.dumps({"hops": 0, "stop_after": 40})
    )
    assert box.wait_idle(30)
    record = json.loads(receive_until(aws["sqs"], queue_url(aws, "allowed-failures"), lambda _: True))
    # Only the handler's own guard ends it: run 41 raises (ping-allowed ran 21 times, pong-allowed 20).
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["responsePayload"]["errorMessage"] == "the handler stopped the loop at run 41"
    box.flush_metrics()
    assert metric(box, "ping-allowed", "Invocations") == 21
    assert metric(box, "ping-allowed", "RecursiveInvocationsDropped") == 0  # not emitted when allowed


def test_an_invoke_carrying_the_lineage_of_a_handler_is_stopped(
    box: Sandbox, aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # As inside a handler: Lambda sets these, and botocore copies _X_AMZN_TRACE_ID into X-Amzn-Trace-Id.
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "caller")
    monkeypatch.setenv("_X_AMZN_TRACE_ID", lineage_header("echo", 16))
    with pytest.raises(ClientError) as caught:
        aws["lambda"].invoke(FunctionName="echo", Payload=b"{}")
    error = caught.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["Error"] == {"Code": "RecursiveInvocationException", "Message": RECURSION_MESSAGE}

    accepted = aws["lambda"].invoke(FunctionName="echo", InvocationType="Event", Payload=b'{"n": 1}')
    assert accepted["StatusCode"] == 202  # an async event is accepted, then stopped
    request_id = accepted["ResponseMetadata"]["RequestId"]
    assert box.wait_idle(15)
    record = json.loads(receive_until(aws["sqs"], queue_url(aws, "echo-failures"), mentions(request_id)))
    assert record["requestContext"]["condition"] == "RecursiveInvocationException"
    assert record["requestPayload"] == {"n": 1}

    monkeypatch.setenv("_X_AMZN_TRACE_ID", lineage_header("echo", 15))  # its 16th run: allowed
    ran = aws["lambda"].invoke(FunctionName="echo", Payload=b'{"n": 2}')
    assert json.loads(ran["Payload"].read()) == {"echo": {"n": 2}}
    box.flush_metrics()
    assert metric(box, "echo", "RecursiveInvocationsDropped") == 2
    assert metric(box, "echo", "Invocations") == 1


def test_put_and_get_function_recursion_config(box: Sandbox) -> None:
    lam = clients(box.endpoint_url)["lambda"]  # its own: an event hook is added below
    assert lam.get_function_recursion_config(FunctionName="configured")["RecursiveLoop"] == "Terminate"
    assert lam.get_function_recursion_config(FunctionName="ping-allowed")["RecursiveLoop"] == "Allow"
    arn = box.arn("function", "configured")
    assert lam.put_function_recursion_config(FunctionName=arn, RecursiveLoop="Allow")["RecursiveLoop"] == "Allow"
    assert lam.get_function_recursion_config(FunctionName="configured")["RecursiveLoop"] == "Allow"
    header = lineage_header("configured", 16)
    lam.meta.events.register_first(
        "before-sign.lambda.Invoke", lambda request, **_: request.headers.__setitem__("X-Amzn-Trace-Id", header)
    )
    assert json.loads(lam.invoke(FunctionName="configured", Payload=b"{}")["Payload"].read()) == {"echo": {}}
    lam.put_function_recursion_config(FunctionName="configured", RecursiveLoop="Terminate")
    with pytest.raises(lam.exceptions.RecursiveInvocationException):
        lam.invoke(FunctionName="configured", Payload=b"{}")


@pytest.mark.parametrize(
    ("name", "value", "code", "message"),
    [
        (
            "configured",
            "Sometimes",
            "ValidationException",
            "1 validation error detected: Value 'Sometimes' at 'recursiveLoop' failed to satisfy constraint: "
            "Member must satisfy enum value set: [Allow, Terminate]",
        ),
        (
            "configured:1",
            "Allow",
            "ValidationException",
            "1 validation error detected: Value 'configured:1' at 'functionName' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}"
            r"((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_]+)",
        ),
        (
            "nobody",
            "Allow",
            "ResourceNotFoundException",
            f"Function not found: arn:aws:lambda:us-east-1:{ACCOUNT}:function:nobody",
        ),
    ],
)
def test_recursion_config_errors(aws: dict[str, Any], name: str, value: str, code: str, message: str) -> None:
    with pytest.raises(ClientError) as caught:
        aws["lambda"].put_function_recursion_config(FunctionName=name, RecursiveLoop=value)
    assert caught.value.response["Error"]["Code"] == code
    assert caught.value.response["Error"]["Message"] == message
    if code == "ResourceNotFoundException":
        with pytest.raises(aws["lambda"].exceptions.ResourceNotFoundException):
            aws["lambda"].get_function_recursion_config(FunctionName=name)


def test_the_stack_file_refuses_an_unknown_recursive_loop(tmp_path: Path) -> None:
    stack = write_stack(
        tmp_path,
        '[[functions]]\nname = "x"\nhandler = "handlers.py:f"\nrecursive_loop = "Never"\n',
        "def f(e, c): pass\n",
    )
    with pytest.raises(StackError, match=r"""functions\[0\]: recursive_loop must be "Allow" or "Terminate" """):
        Sandbox(stack)


def aws_cli(box: Sandbox, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(AWS_CLI), "lambda", *args, "--endpoint-url", box.endpoint_url, "--output", "json"],
        env={**os.environ, **box.env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.slow
def test_aws_cli_v1_sets_and_reads_the_recursion_config(box: Sandbox) -> None:
    put = aws_cli(box, "put-function-recursion-config", "--function-name", "cli-target", "--recursive-loop", "Allow")
    assert put.returncode == 0, put.stderr
    assert json.loads(put.stdout) == {"RecursiveLoop": "Allow"}
    got = aws_cli(box, "get-function-recursion-config", "--function-name", "cli-target")
    assert got.returncode == 0, got.stderr
    assert json.loads(got.stdout) == {"RecursiveLoop": "Allow"}
    refused = aws_cli(box, "put-function-recursion-config", "--function-name", "cli-target", "--recursive-loop", "No")
    assert refused.returncode != 0
    assert (
        "An error occurred (ValidationException) when calling the PutFunctionRecursionConfig operation: "
        "1 validation error detected: Value 'No' at 'recursiveLoop' failed to satisfy constraint: "
        "Member must satisfy enum value set: [Allow, Terminate]"
    ) in refused.stderr


def test_a_handler_that_invokes_itself_is_stopped_after_16_runs(box: Sandbox, aws: dict[str, Any]) -> None:
    """End to end through a worker process: the handler's own boto3 Invoke carries the Lineage."""
    aws["lambda"].invoke(FunctionName="self-invoker", InvocationType="Event", Payload=json.dumps({"n": 0}))
    record = json.loads(receive_until(aws["sqs"], queue_url(aws, "self-failures"), lambda _: True, timeout=60))
    assert record["requestContext"]["condition"] == "RecursiveInvocationException"
    assert record["requestPayload"] == {"n": 16}, "runs n=0..15 went through; the 17th invocation is stopped"
    assert box.wait_idle(30)
    assert metric(box, "self-invoker", "Invocations") == 16
    assert metric(box, "self-invoker", "RecursiveInvocationsDropped") == 1
