"""The sandbox answers as AWS does where a local test would otherwise lie: event-invoke config
refused with AWS's codes and words, EventBridge destination events as AWS shapes them (1 MB),
EventAgeExceeded as soon as the next retry could not start in time, FIFO stack names.

Wordings are AWS's: AWS-recorded responses (localstack's snapshot of
`test_lambda_eventinvokeconfig_exceptions`, marked aws.validated), the botocore Lambda model, and
the AWS Lambda documentation; records/sandbox/invoke_config_checks.py names the source of each.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from records.sandbox import DeliveryFailure, Sandbox
from tests.integration.sandbox_helpers import (
    REGION,
    bus_queue,
    clients,
    invoke_event,
    mentions,
    receive_until,
    write_stack,
)

ACCOUNT = "123456789012"
ARN = f"arn:aws:{{}}:{REGION}:{ACCOUNT}:{{}}"
NOPE = ARN.format("lambda", "function:nope")
AWS_CLI = Path(sys.executable).with_name("aws")
ARN_PATTERN = (
    r"$|kafka://([^.]([a-zA-Z0-9\-_.]{0,248}))|arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\-])+:"
    r"((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1})?:(\d{12})?:(.*)"
)


def raw_lambda(sandbox: Sandbox) -> Any:
    """A Lambda client that sends what it is given (botocore checks the model's ranges itself)."""
    return boto3.client(
        "lambda", endpoint_url=sandbox.endpoint_url, region_name=REGION, config=Config(parameter_validation=False)
    )


def refusal(exc: pytest.ExceptionInfo[ClientError]) -> tuple[int, str, str]:
    response = exc.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"], response["Error"]["Message"]


@pytest.fixture
def restore_order(sandbox: Sandbox) -> Iterator[Any]:
    """The shared sandbox's Lambda client; `order`'s event-invoke config is put back afterwards."""
    client = raw_lambda(sandbox)
    shipped = client.get_function_event_invoke_config(FunctionName="order")
    yield client
    client.put_function_event_invoke_config(
        FunctionName="order",
        MaximumRetryAttempts=shipped["MaximumRetryAttempts"],
        DestinationConfig=shipped["DestinationConfig"],
    )


# -- refused configuration (shared order system; nothing refused changes it) ---------------------


def test_put_without_any_setting_is_refused(sandbox: Sandbox) -> None:
    client = raw_lambda(sandbox)
    for name in ("order", "no-such-function"):  # AWS checks the settings before the function
        with pytest.raises(ClientError) as exc:
            client.put_function_event_invoke_config(FunctionName=name)
        assert refusal(exc) == (
            400,
            "InvalidParameterValueException",
            "You must specify at least one of error handling or destination setting.",
        )
    with pytest.raises(ClientError) as exc:
        client.update_function_event_invoke_config(FunctionName="order")
    assert refusal(exc)[2] == "You must specify at least one of error handling or destination setting."


@pytest.mark.parametrize(
    ("settings", "errors"),
    [
        (
            {"MaximumRetryAttempts": 3},
            [
                "Value '3' at 'maximumRetryAttempts' failed to satisfy constraint: "
                "Member must have value less than or equal to 2"
            ],
        ),
        (
            {"MaximumRetryAttempts": -1},
            [
                "Value '-1' at 'maximumRetryAttempts' failed to satisfy constraint: "
                "Member must have value greater than or equal to 0"
            ],
        ),
        (
            {"MaximumEventAgeInSeconds": 59},
            [
                "Value '59' at 'maximumEventAgeInSeconds' failed to satisfy constraint: "
                "Member must have value greater than or equal to 60"
            ],
        ),
        (
            {"MaximumEventAgeInSeconds": 21601},
            [
                "Value '21601' at 'maximumEventAgeInSeconds' failed to satisfy constraint: "
                "Member must have value less than or equal to 21600"
            ],
        ),
        (
            {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 30},
            [
                "Value '3' at 'maximumRetryAttempts' failed to satisfy constraint: "
                "Member must have value less than or equal to 2",
                "Value '30' at 'maximumEventAgeInSeconds' failed to satisfy constraint: "
                "Member must have value greater than or equal to 60",
            ],
        ),
        (
            {"DestinationConfig": {"OnFailure": {"Destination": "not-an-arn"}}},
            [
                "Value 'not-an-arn' at 'destinationConfig.onFailure.destination' failed to satisfy constraint: "
                f"Member must satisfy regular expression pattern: {ARN_PATTERN}"
            ],
        ),
    ],
    ids=["retries-above", "retries-below", "age-below", "age-above", "two-errors", "arn-pattern"],
)
def test_values_outside_the_model_are_validation_errors(
    sandbox: Sandbox, settings: dict[str, Any], errors: list[str]
) -> None:
    count = f"{len(errors)} validation error{'s' if len(errors) > 1 else ''} detected: "
    for call in ("put_function_event_invoke_config", "update_function_event_invoke_config"):
        with pytest.raises(ClientError) as exc:
            getattr(raw_lambda(sandbox), call)(FunctionName="order", **settings)
        assert refusal(exc) == (400, "ValidationException", count + "; ".join(errors))


@pytest.mark.parametrize(
    ("destinations", "message"),
    [
        ({"OnSuccess": {"Destination": NOPE}}, f"The destination ARN {NOPE} is invalid."),
        (
            {"OnFailure": {"Destination": ARN.format("sns", "nobody-made-this")}},
            f"The destination ARN {ARN.format('sns', 'nobody-made-this')} is invalid.",
        ),
        (
            {"OnFailure": {"Destination": ARN.format("events", "event-bus/nobody-made-this")}},
            f"The destination ARN {ARN.format('events', 'event-bus/nobody-made-this')} is invalid.",
        ),
        (
            {"OnSuccess": {"Destination": ARN.format("lambda", "function:order")}},
            "You can't specify the function as a destination for itself.",
        ),
        (
            {"OnSuccess": {"Destination": "arn:aws:s3:::order-records"}},
            "The provided destination config DestinationConfig(onSuccess=OnSuccess("
            "destination=arn:aws:s3:::order-records), onFailure=null) is invalid.",
        ),
        (
            {
                "OnSuccess": {"Destination": ARN.format("dynamodb", "table/x")},
                "OnFailure": {"Destination": ARN.format("sqs", "order-failures")},
            },
            f"The provided destination config DestinationConfig(onSuccess=OnSuccess(destination="
            f"{ARN.format('dynamodb', 'table/x')}), onFailure=OnFailure(destination="
            f"{ARN.format('sqs', 'order-failures')})) is invalid.",
        ),
    ],
    ids=["missing-function", "missing-topic", "missing-bus", "itself", "s3-on-success", "unsupported-service"],
)
def test_destinations_lambda_refuses(sandbox: Sandbox, destinations: dict[str, Any], message: str) -> None:
    client = raw_lambda(sandbox)
    before = client.get_function_event_invoke_config(FunctionName="order")
    with pytest.raises(ClientError) as exc:
        client.put_function_event_invoke_config(FunctionName="order", DestinationConfig=destinations)
    assert refusal(exc) == (400, "InvalidParameterValueException", message)
    after = client.get_function_event_invoke_config(FunctionName="order")
    assert after["DestinationConfig"] == before["DestinationConfig"]


def test_destinations_checked_only_at_delivery_are_accepted(sandbox: Sandbox, restore_order: Any) -> None:
    # A missing queue or bucket and a FIFO queue are accepted; they fail when a record is delivered
    # (AWS: "Capturing records of Lambda asynchronous invocations" counts them in DestinationDeliveryFailures).
    for destination in (
        ARN.format("sqs", "nobody-made-this"),
        ARN.format("sqs", "nobody-made-this.fifo"),
        "arn:aws:s3:::nobody-made-this",
    ):
        put = restore_order.put_function_event_invoke_config(
            FunctionName="order", DestinationConfig={"OnFailure": {"Destination": destination}}
        )
        assert put["DestinationConfig"]["OnFailure"] == {"Destination": destination}
    existing = sandbox.arn("topic", "order-notifications")
    put = restore_order.put_function_event_invoke_config(
        FunctionName="order", DestinationConfig={"OnSuccess": {"Destination": existing}, "OnFailure": {}}
    )
    assert put["DestinationConfig"] == {"OnSuccess": {"Destination": existing}, "OnFailure": {}}


def test_unknown_functions_are_worded_per_call(sandbox: Sandbox) -> None:
    client = raw_lambda(sandbox)
    missing = f"{ARN.format('lambda', 'function:no-such-function')}"
    no_config = f"The function {missing}:$LATEST doesn't have an EventInvokeConfig"
    calls: list[tuple[str, dict[str, Any], str]] = [
        ("put_function_event_invoke_config", {"MaximumRetryAttempts": 1}, "The function doesn't exist."),
        ("update_function_event_invoke_config", {"MaximumRetryAttempts": 1}, "The function doesn't exist."),
        ("list_function_event_invoke_configs", {}, "The function doesn't exist."),
        ("get_function_event_invoke_config", {}, no_config),
        ("delete_function_event_invoke_config", {}, no_config),
    ]
    for call, settings, message in calls:
        for name in ("no-such-function", missing):
            with pytest.raises(ClientError) as exc:
                getattr(client, call)(FunctionName=name, **settings)
            assert refusal(exc) == (404, "ResourceNotFoundException", message), call
    # Invoke and GetFunction keep their own wording.
    for call, kwargs in (("invoke", {"Payload": b"{}"}), ("get_function", {})):
        with pytest.raises(ClientError) as exc:
            getattr(client, call)(FunctionName="no-such-function", **kwargs)
        assert refusal(exc) == (404, "ResourceNotFoundException", f"Function not found: {missing}")


def test_error_bodies_have_aws_shape(sandbox: Sandbox) -> None:
    # AWS-recorded bodies: ResourceNotFoundException {"Type": "User", "Message"},
    # InvalidParameterValueException {"Type": "User", "message"}, ValidationException {"message"}.
    signed = {"Authorization": "AWS4-HMAC-SHA256 Credential=testing/20261201/us-east-1/lambda/aws4_request"}
    base = f"{sandbox.endpoint_url}/2019-09-25/functions"
    cases: list[tuple[str, str, dict[str, Any] | None, dict[str, str]]] = [
        ("GET", "no-such-function", None, {"Type": "User", "Message": "The function doesn't exist."}),
        (
            "PUT",
            "order",
            {},
            {"Type": "User", "message": "You must specify at least one of error handling or destination setting."},
        ),
    ]
    for method, name, body, expected in cases:
        url = f"{base}/{name}/event-invoke-config" + ("/list" if method == "GET" else "")
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(url, data=data, method=method, headers=signed)
        with pytest.raises(urllib.error.HTTPError) as exc:
            urllib.request.urlopen(request, timeout=10)
        assert json.loads(exc.value.read()) == expected


def aws_cli(sandbox: Sandbox, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(AWS_CLI), *args, "--endpoint-url", sandbox.endpoint_url, "--output", "json"],
        env={**os.environ, **sandbox.env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.slow  # two AWS CLI processes: ~1.5 s, up to ~4 s on a busy machine
def test_aws_cli_prints_the_refusals(sandbox: Sandbox) -> None:
    bare = aws_cli(sandbox, "lambda", "put-function-event-invoke-config", "--function-name", "order")
    assert bare.returncode == 255  # AWS CLI v1: a service error
    assert bare.stderr.strip() == (
        "An error occurred (InvalidParameterValueException) when calling the PutFunctionEventInvokeConfig "
        "operation: You must specify at least one of error handling or destination setting."
    )
    missing = aws_cli(
        sandbox,
        "lambda",
        "update-function-event-invoke-config",
        "--function-name",
        "order",
        "--destination-config",
        json.dumps({"OnFailure": {"Destination": NOPE}}),
    )
    assert missing.returncode == 255
    assert missing.stderr.strip() == (
        "An error occurred (InvalidParameterValueException) when calling the UpdateFunctionEventInvokeConfig "
        f"operation: The destination ARN {NOPE} is invalid."
    )


# -- delivery and timing (a stack of its own) ------------------------------------------------------

OWN_ACCOUNT = "111122223333"  # not moto's default: the events must name the stack's account
OWN_ARN = f"arn:aws:{{}}:{REGION}:{OWN_ACCOUNT}:{{}}"

STACK = f"""
account = "{OWN_ACCOUNT}"

[[functions]]
name = "announce"
handler = "handlers.py:echo"
maximum_retry_attempts = 0
on_success = "bus:results"
on_failure = "bus:results"

[[functions]]
name = "young"
handler = "handlers.py:fail"
maximum_event_age = 60
on_failure = "queue:aged"

[[functions]]
name = "older"
handler = "handlers.py:fail"
maximum_event_age = 90
on_failure = "queue:aged"

[[functions]]
name = "ordered"
handler = "handlers.py:echo"
maximum_retry_attempts = 0
on_success = "queue:in-order"
on_failure = "topic:in-order"

[[queues]]
name = "aged"

[[queues]]
name = "in-order"
fifo = true

[[topics]]
name = "in-order"
fifo = true

[[buses]]
name = "results"
"""

HANDLERS = """
def echo(event, context):
    if event.get("fail"):
        raise RuntimeError("asked to fail")
    return {"echo": event, "pad": "x" * event.get("pad", 0)}

def fail(event, context):
    raise RuntimeError("always")
"""

TIME_FACTOR = 0.02  # back-offs of 1.2 s and 2.4 s; MaximumEventAgeInSeconds 60 -> 1.2 s, 90 -> 1.8 s


@pytest.fixture(scope="module")
def own(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Sandbox, list[DeliveryFailure]]]:
    failures: list[DeliveryFailure] = []
    stack = write_stack(tmp_path_factory.mktemp("fidelity"), STACK, HANDLERS)
    with Sandbox(stack, time_factor=TIME_FACTOR, on_delivery_failure=failures.append) as box:
        yield box, failures


def test_eventbridge_events_are_shaped_as_aws_sends_them(own: tuple[Sandbox, list[DeliveryFailure]]) -> None:
    sandbox, _ = own
    aws = clients(sandbox.endpoint_url)
    url = bus_queue(aws, "results")
    # ~500 KB: above the old 256 KB EventBridge limit, within today's 1 MB; the payloads stay.
    request_id = invoke_event(aws, "announce", {"pad": 500_000})
    event = json.loads(receive_until(aws["sqs"], url, mentions(request_id)))
    assert set(event) == {"version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"}
    assert (event["version"], event["source"], event["account"], event["region"]) == (
        "0",
        "lambda",
        OWN_ACCOUNT,
        REGION,
    )
    assert event["detail-type"] == "Lambda Function Invocation Result - Success"
    assert event["resources"] == [sandbox.arn("bus", "results"), sandbox.arn("function", "announce") + ":$LATEST"]
    assert len(event["id"]) == 36 and event["time"].endswith("Z")
    record = event["detail"]
    assert record["requestPayload"] == {"pad": 500_000}
    assert len(record["responsePayload"]["pad"]) == 500_000
    assert len(json.dumps(record)) > 256 * 1024

    failed_id = invoke_event(aws, "announce", {"fail": True})
    event = json.loads(receive_until(aws["sqs"], url, mentions(failed_id)))
    assert event["detail-type"] == "Lambda Function Invocation Result - Failure" and event["account"] == OWN_ACCOUNT
    assert event["detail"]["requestContext"]["condition"] == "RetriesExhausted"


def test_event_age_exceeded_comes_when_the_next_retry_could_not_start(
    own: tuple[Sandbox, list[DeliveryFailure]],
) -> None:
    sandbox, _ = own
    aws = clients(sandbox.endpoint_url)
    url = aws["sqs"].get_queue_url(QueueName="aged")["QueueUrl"]
    started = datetime.now(UTC)
    young = invoke_event(aws, "young", {"n": 1})  # age 60 s: the first back-off (60 s) already ends too late
    older = invoke_event(aws, "older", {"n": 2})  # age 90 s: the retry after 60 s fits, the next (120 s) does not
    records = {
        request_id: json.loads(receive_until(aws["sqs"], url, mentions(request_id))) for request_id in (young, older)
    }

    def waited(record: dict[str, Any]) -> float:
        stamp = datetime.fromisoformat(record["timestamp"].replace("Z", "+00:00"))
        return (stamp - started).total_seconds()

    backoff = 60 * TIME_FACTOR
    young_record, older_record = records[young], records[older]
    assert young_record["requestContext"]["condition"] == "EventAgeExceeded"
    assert young_record["requestContext"]["approximateInvokeCount"] == 1
    assert young_record["responsePayload"]["errorMessage"] == "always"
    # Before the first back-off ends (where the event used to be found too old, one back-off late).
    assert waited(young_record) < backoff, waited(young_record)
    assert older_record["requestContext"]["condition"] == "EventAgeExceeded"
    assert older_record["requestContext"]["approximateInvokeCount"] == 2
    assert backoff <= waited(older_record) < backoff + 120 * TIME_FACTOR, waited(older_record)


def test_fifo_queues_and_topics_of_the_stack(own: tuple[Sandbox, list[DeliveryFailure]]) -> None:
    sandbox, failures = own
    aws = clients(sandbox.endpoint_url)
    assert sandbox.queues == ("aged", "in-order.fifo") and sandbox.topics == ("in-order.fifo",)
    config = aws["lambda"].get_function_event_invoke_config(FunctionName="ordered")["DestinationConfig"]
    assert config["OnSuccess"]["Destination"] == OWN_ARN.format("sqs", "in-order.fifo")
    assert config["OnFailure"]["Destination"] == OWN_ARN.format("sns", "in-order.fifo")
    assert sandbox.arn("queue", "in-order") == sandbox.arn("queue", "in-order.fifo")
    topic = aws["sns"].get_topic_attributes(TopicArn=OWN_ARN.format("sns", "in-order.fifo"))["Attributes"]
    assert topic["FifoTopic"] == "true"
    before = len(sandbox.stats().delivery_failures)
    invoke_event(aws, "ordered", {})
    invoke_event(aws, "ordered", {"fail": True})
    assert sandbox.wait_idle(15)
    new = sandbox.stats().delivery_failures[before:]
    assert {(f.function, f.destination) for f in new} == {
        ("ordered", OWN_ARN.format("sqs", "in-order.fifo")),
        ("ordered", OWN_ARN.format("sns", "in-order.fifo")),
    }
    assert all("FIFO" in f.reason for f in new) and failures[-2:] == list(new)
