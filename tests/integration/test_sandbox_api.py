"""The sandbox's Lambda API through boto3, with AWS's error shapes, and the proxy to moto."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest
from botocore.exceptions import ClientError

from records.invoke import PRESETS
from records.sandbox import Sandbox


def error_code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def test_functions_are_listed_and_described(sandbox: Sandbox, aws: dict[str, Any]) -> None:
    names = [f["FunctionName"] for f in aws["lambda"].list_functions()["Functions"]]
    assert names == ["order", "update-inventory", "rollback-order"]
    described = aws["lambda"].get_function(FunctionName="order")["Configuration"]
    assert described["FunctionArn"] == sandbox.arn("function", "order")
    assert described["State"] == "Active"


def test_unknown_function_is_resource_not_found(aws: dict[str, Any]) -> None:
    with pytest.raises(ClientError) as exc:
        aws["lambda"].invoke(FunctionName="no-such-function", InvocationType="Event", Payload=b"{}")
    assert error_code(exc) == "ResourceNotFoundException"
    assert "Function not found: arn:aws:lambda:us-east-1:123456789012:function:no-such-function" in str(exc.value)
    with pytest.raises(ClientError) as exc:
        aws["lambda"].get_function_event_invoke_config(FunctionName="no-such-function")
    assert error_code(exc) == "ResourceNotFoundException"


def test_invocation_types(aws: dict[str, Any]) -> None:
    event = aws["lambda"].invoke(FunctionName="order", InvocationType="Event", Payload=json.dumps(PRESETS["good"]))
    assert event["StatusCode"] == 202
    assert len(event["ResponseMetadata"]["RequestId"]) == 36
    dry = aws["lambda"].invoke(FunctionName="order", InvocationType="DryRun", Payload=b"{}")
    assert dry["StatusCode"] == 204
    ok = aws["lambda"].invoke(FunctionName="order", Payload=json.dumps(PRESETS["good"]))
    assert ok["StatusCode"] == 200 and "FunctionError" not in ok
    assert json.loads(ok["Payload"].read())["status"] == "PAID"
    failed = aws["lambda"].invoke(FunctionName="order", Payload=json.dumps(PRESETS["declined"]))
    assert failed["FunctionError"] == "Unhandled"
    error = json.loads(failed["Payload"].read())
    assert error["errorType"] == "PaymentDeclined"
    assert error["requestId"] == failed["ResponseMetadata"]["RequestId"]
    assert error["stackTrace"] and "handlers.py" in error["stackTrace"][0]


def test_payload_that_is_not_json_is_refused(aws: dict[str, Any]) -> None:
    with pytest.raises(ClientError) as exc:
        aws["lambda"].invoke(FunctionName="order", InvocationType="Event", Payload=b"{not json")
    assert error_code(exc) == "InvalidRequestContentException"


def test_event_invoke_config_lifecycle(sandbox: Sandbox, aws: dict[str, Any]) -> None:
    client = aws["lambda"]
    shipped = client.get_function_event_invoke_config(FunctionName="rollback-order")
    assert shipped["DestinationConfig"]["OnFailure"]["Destination"] == sandbox.arn("queue", "order-failures")
    try:
        client.delete_function_event_invoke_config(FunctionName="rollback-order")
        with pytest.raises(ClientError) as exc:
            client.get_function_event_invoke_config(FunctionName="rollback-order")
        assert error_code(exc) == "ResourceNotFoundException"
        with pytest.raises(ClientError):  # Update needs an existing config
            client.update_function_event_invoke_config(FunctionName="rollback-order", MaximumRetryAttempts=1)
        put = client.put_function_event_invoke_config(
            FunctionName="rollback-order",
            MaximumRetryAttempts=0,
            DestinationConfig={"OnFailure": {"Destination": sandbox.arn("queue", "order-failures")}},
        )
        assert put["MaximumRetryAttempts"] == 0
        updated = client.update_function_event_invoke_config(
            FunctionName="rollback-order", MaximumEventAgeInSeconds=120
        )
        assert updated["MaximumRetryAttempts"] == 0 and updated["MaximumEventAgeInSeconds"] == 120
        assert updated["DestinationConfig"]["OnFailure"]["Destination"].endswith(":order-failures")
        listed = client.list_function_event_invoke_configs(FunctionName="rollback-order")
        assert [c["FunctionArn"] for c in listed["FunctionEventInvokeConfigs"]] == [
            sandbox.arn("function", "rollback-order") + ":$LATEST"
        ]
    finally:
        client.put_function_event_invoke_config(
            FunctionName="rollback-order",
            MaximumRetryAttempts=shipped["MaximumRetryAttempts"],
            DestinationConfig=shipped["DestinationConfig"],
        )


@pytest.mark.parametrize(
    ("destination", "code"),
    [
        ("not-an-arn", "ValidationException"),
        ("arn:aws:dynamodb:us-east-1:123456789012:table/x", "InvalidParameterValueException"),
        ("arn:aws:lambda:us-east-1:123456789012:function:order", "InvalidParameterValueException"),
    ],
    ids=["malformed", "unsupported-service", "itself"],
)
def test_bad_destinations_are_refused(aws: dict[str, Any], destination: str, code: str) -> None:
    with pytest.raises(ClientError) as exc:
        aws["lambda"].update_function_event_invoke_config(
            FunctionName="order", DestinationConfig={"OnSuccess": {"Destination": destination}}
        )
    assert error_code(exc) == code
    if destination.endswith(":order"):
        assert "destination for itself" in str(exc.value)


def test_retry_limits_are_checked(sandbox: Sandbox) -> None:
    # botocore checks the documented ranges itself, so send what another client might send.
    url = f"{sandbox.endpoint_url}/2019-09-25/functions/order/event-invoke-config"
    expected = {
        "MaximumRetryAttempts": "Value '3' at 'maximumRetryAttempts' failed to satisfy constraint: "
        "Member must have value less than or equal to 2",
        "MaximumEventAgeInSeconds": "Value '30' at 'maximumEventAgeInSeconds' failed to satisfy constraint: "
        "Member must have value greater than or equal to 60",
    }
    for body in ({"MaximumRetryAttempts": 3}, {"MaximumEventAgeInSeconds": 30}):
        # signed as any client signs (the sandbox refuses unsigned requests; it checks no signature)
        signed = {"Authorization": "AWS4-HMAC-SHA256 Credential=testing/20261201/us-east-1/lambda/aws4_request"}
        request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST", headers=signed)
        with pytest.raises(urllib.error.HTTPError) as exc:
            urllib.request.urlopen(request, timeout=10)
        assert exc.value.code == 400
        # AWS's shape check (botocore model ranges), answered before Lambda looks at the function
        assert exc.value.headers["x-amzn-ErrorType"] == "ValidationException"
        message = f"1 validation error detected: {expected[next(iter(body))]}"
        assert json.loads(exc.value.read()) == {"message": message}


def test_other_services_are_proxied_to_moto(sandbox: Sandbox, aws: dict[str, Any]) -> None:
    assert any(url.endswith("/order-failures") for url in aws["sqs"].list_queues()["QueueUrls"])
    topics = [t["TopicArn"] for t in aws["sns"].list_topics()["Topics"]]
    assert sandbox.arn("topic", "order-notifications") in topics
    aws["s3"].create_bucket(Bucket="proxied-bucket")
    aws["s3"].put_object(Bucket="proxied-bucket", Key="k", Body=b"\x00\x01binary")
    assert aws["s3"].get_object(Bucket="proxied-bucket", Key="k")["Body"].read() == b"\x00\x01binary"
    assert aws["events"].describe_event_bus()["Name"] == "default"
