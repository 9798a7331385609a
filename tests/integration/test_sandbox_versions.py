"""Versions, aliases and per-qualifier event-invoke configs of the sandbox, over HTTP with boto3 and
the AWS CLI v1. Error codes and messages are AWS's, as recorded from AWS in localstack's
tests/aws/services/lambda_/test_lambda_api.snapshot.json (TestLambdaAlias, TestLambdaVersions,
TestLambdaEventInvokeConfig) and test_lambda.snapshot.json (Invoke responses)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from records.aws_options import AwsOptions
from records.discovery import discover
from records.sandbox import Sandbox
from tests.integration.cli_helpers import aws_cli, start_sandbox, stop_sandbox
from tests.integration.sandbox_helpers import TIME_FACTOR, clients, mentions, receive_until, write_stack

ARN = "arn:aws:lambda:us-east-1:123456789012:function:{}"
QUEUE = "arn:aws:sqs:us-east-1:123456789012:{}"

STACK = """
[[functions]]
name = "order"
handler = "handlers.py:order"
timeout = 2
versions = 1
aliases = { live = "1" }
on_success = "queue:latest-records"
on_failure = "queue:live-records"  # so its role may send to live-records, the alias's destination

[[functions]]
name = "plain"
handler = "handlers.py:order"

[[functions]]
name = "upstream"
handler = "handlers.py:order"
on_success = "arn:aws:lambda:us-east-1:123456789012:function:order:live"  # a destination through an alias

[[queues]]
name = "latest-records"

[[queues]]
name = "live-records"
"""

HANDLERS = """
def order(event, context):
    return {"handled": event}
"""


@pytest.fixture(scope="module")
def stack_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_stack(tmp_path_factory.mktemp("versions"), STACK, HANDLERS)


@pytest.fixture(scope="module")
def box(stack_file: Path) -> Iterator[Sandbox]:
    """Its own sandbox: these tests change versions, aliases and configs."""
    with Sandbox(stack_file, time_factor=TIME_FACTOR) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def aws(box: Sandbox) -> dict[str, Any]:
    return clients(box.endpoint_url)


def error(call: Any, **kwargs: Any) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    response = caught.value.response
    return response["Error"]["Code"], response["Error"]["Message"], response["ResponseMetadata"]["HTTPStatusCode"]


def queue_url(aws: dict[str, Any], name: str) -> str:
    return str(aws["sqs"].get_queue_url(QueueName=name)["QueueUrl"])


# -- versions -----------------------------------------------------------------------------------------


def test_the_stack_publishes_version_1_and_publishing_again_unchanged_answers_it(aws: dict[str, Any]) -> None:
    lam = aws["lambda"]
    published = lam.publish_version(FunctionName="order", Description="again")
    assert published["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert (published["Version"], published["FunctionArn"]) == ("1", ARN.format("order:1"))
    assert published["Description"] == "run by the lambdest-tui sandbox"  # the version's, not "again"
    versions = lam.list_versions_by_function(FunctionName="order")["Versions"]
    assert [(v["Version"], v["FunctionArn"]) for v in versions] == [
        ("$LATEST", ARN.format("order:$LATEST")),
        ("1", ARN.format("order:1")),
    ]
    assert versions[1]["Timeout"] == 2 and versions[1]["Handler"] == "handlers.py:order"


def test_publish_version_of_a_function_without_one_makes_version_1(aws: dict[str, Any], box: Sandbox) -> None:
    lam = aws["lambda"]
    assert [v["Version"] for v in lam.list_versions_by_function(FunctionName="plain")["Versions"]] == ["$LATEST"]
    published = lam.publish_version(FunctionName=ARN.format("plain"), Description="first of plain")
    assert (published["Version"], published["Description"]) == ("1", "first of plain")
    assert lam.get_function(FunctionName="plain:1")["Configuration"]["Description"] == "first of plain"
    assert error(lam.publish_version, FunctionName="nope") == (
        "ResourceNotFoundException",
        f"Function not found: {ARN.format('nope')}",
        404,
    )


def test_qualified_configuration_names_the_qualifier_and_the_version(aws: dict[str, Any]) -> None:
    lam = aws["lambda"]
    latest = lam.get_function_configuration(FunctionName="order")
    assert (latest["FunctionArn"], latest["Version"]) == (ARN.format("order"), "$LATEST")
    by_alias = lam.get_function_configuration(FunctionName="order", Qualifier="live")
    assert (by_alias["FunctionArn"], by_alias["Version"]) == (ARN.format("order:live"), "1")
    by_version = lam.get_function(FunctionName=ARN.format("order:1"))["Configuration"]
    assert (by_version["FunctionArn"], by_version["Version"]) == (ARN.format("order:1"), "1")
    assert error(lam.get_function, FunctionName="order", Qualifier="nope") == (
        "ResourceNotFoundException",
        f"Function not found: {ARN.format('order:nope')}",
        404,
    )
    assert error(lam.get_function_configuration, FunctionName="order:1", Qualifier="live") == (
        "InvalidParameterValueException",
        "The derived qualifier from the function name does not match the specified qualifier.",
        400,
    )
    assert error(lam.get_function, FunctionName="ghost", Qualifier="live") == (
        "ResourceNotFoundException",
        f"Function not found: {ARN.format('ghost:live')}",
        404,
    )


def test_list_functions_lists_latest_and_with_all_every_version(aws: dict[str, Any]) -> None:
    lam = aws["lambda"]
    assert {f["FunctionArn"] for f in lam.list_functions()["Functions"]} == {
        ARN.format("order"),
        ARN.format("plain"),
        ARN.format("upstream"),
    }
    every = {(f["FunctionName"], f["Version"]) for f in lam.list_functions(FunctionVersion="ALL")["Functions"]}
    assert {("order", "$LATEST"), ("order", "1"), ("plain", "$LATEST")} <= every


# -- aliases ------------------------------------------------------------------------------------------


def test_alias_lifecycle(aws: dict[str, Any]) -> None:
    lam = aws["lambda"]
    created = lam.create_alias(FunctionName="order", Name="beta", FunctionVersion="1", Description="try me")
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    shape = {k: v for k, v in created.items() if k != "ResponseMetadata"}
    assert shape == {
        "AliasArn": ARN.format("order:beta"),
        "Name": "beta",
        "FunctionVersion": "1",
        "Description": "try me",
        "RevisionId": created["RevisionId"],
    }
    assert lam.get_alias(FunctionName="order", Name="beta")["RevisionId"] == created["RevisionId"]
    assert [a["Name"] for a in lam.list_aliases(FunctionName="order")["Aliases"]] == ["beta", "live"]
    assert error(lam.update_alias, FunctionName="order", Name="beta", RevisionId="stale") == (
        "PreconditionFailedException",
        "The Revision Id provided does not match the latest Revision Id. "
        "Call the GetFunction/GetAlias API to retrieve the latest Revision Id",
        412,
    )
    updated = lam.update_alias(FunctionName="order", Name="beta", FunctionVersion="$LATEST")
    assert updated["FunctionVersion"] == "$LATEST" and updated["RevisionId"] != created["RevisionId"]
    assert [a["Name"] for a in lam.list_aliases(FunctionName="order", FunctionVersion="1")["Aliases"]] == ["live"]
    ran = lam.invoke(FunctionName="order:beta", Payload=b"{}")
    assert ran["ExecutedVersion"] == "$LATEST"
    assert lam.delete_alias(FunctionName="order", Name="beta")["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert lam.delete_alias(FunctionName="order", Name="beta")["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert error(lam.get_alias, FunctionName="order", Name="beta") == (
        "ResourceNotFoundException",
        f"Cannot find alias arn: {ARN.format('order:beta')}",
        404,
    )


def test_alias_errors_are_aws_s(aws: dict[str, Any]) -> None:
    lam = aws["lambda"]
    assert error(lam.create_alias, FunctionName="order", Name="live", FunctionVersion="1") == (
        "ResourceConflictException",
        f"Alias already exists: {ARN.format('order:live')}",
        409,
    )
    assert error(lam.create_alias, FunctionName="order", Name="2024", FunctionVersion="1") == (
        "ValidationException",
        "1 validation error detected: Value '2024' at 'name' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)",
        400,
    )
    assert error(lam.create_alias, FunctionName="order", Name="x", FunctionVersion="10") == (
        "ResourceNotFoundException",
        f"Function not found: {ARN.format('order:10')}",
        404,
    )
    assert error(lam.create_alias, FunctionName="ghost", Name="x", FunctionVersion="1") == (
        "ResourceNotFoundException",
        f"Function not found: {ARN.format('ghost:1')}",
        404,
    )
    assert error(lam.update_alias, FunctionName="order", Name="non-existent") == (
        "ResourceNotFoundException",
        f"Alias not found: {ARN.format('order:non-existent')}",
        404,
    )
    weighted = {"AdditionalVersionWeights": {"2": 0.5}}
    code, message, status = error(
        lam.create_alias, FunctionName="order", Name="x", FunctionVersion="1", RoutingConfig=weighted
    )
    assert (code, status) == ("InvalidParameterValueException", 400)
    assert message.startswith("The lambdest-tui sandbox does not route by weight")
    empty = lam.create_alias(
        FunctionName="order", Name="unweighted", FunctionVersion="1", RoutingConfig={"AdditionalVersionWeights": {}}
    )
    assert "RoutingConfig" not in empty
    lam.delete_alias(FunctionName="order", Name="unweighted")


# -- invoke -------------------------------------------------------------------------------------------


def test_invoke_through_a_qualifier_answers_the_version_that_ran(aws: dict[str, Any]) -> None:
    lam = aws["lambda"]
    for name, qualifier in (("order:live", None), ("order", "live"), (ARN.format("order:live"), None), ("order", "1")):
        kwargs = {"Qualifier": qualifier} if qualifier else {}
        ran = lam.invoke(FunctionName=name, Payload=b'{"n": 1}', **kwargs)
        assert (ran["StatusCode"], ran["ExecutedVersion"]) == (200, "1"), (name, qualifier)
        assert json.loads(ran["Payload"].read()) == {"handled": {"n": 1}}
    assert lam.invoke(FunctionName="order", Payload=b"{}")["ExecutedVersion"] == "$LATEST"
    assert error(lam.invoke, FunctionName="order", Qualifier="nope", Payload=b"{}") == (
        "ResourceNotFoundException",
        f"Function not found: {ARN.format('order:nope')}",
        404,
    )


def test_event_and_dry_run_answer_without_executed_version(aws: dict[str, Any]) -> None:
    lam = aws["lambda"]
    for invocation_type, status in (("Event", 202), ("DryRun", 204)):
        answer = lam.invoke(FunctionName="plain", InvocationType=invocation_type, Payload=b"{}")
        assert answer["StatusCode"] == status
        assert "ExecutedVersion" not in answer
        assert "x-amz-executed-version" not in answer["ResponseMetadata"]["HTTPHeaders"]


# -- per-qualifier event-invoke configs ----------------------------------------------------------------


def test_each_qualifier_has_its_own_event_invoke_config(aws: dict[str, Any]) -> None:
    lam = aws["lambda"]
    lam.publish_version(FunctionName="plain")  # "1" (or the same again)
    lam.create_alias(FunctionName="plain", Name="stable", FunctionVersion="1")
    try:
        assert error(lam.get_function_event_invoke_config, FunctionName="plain", Qualifier="stable") == (
            "ResourceNotFoundException",
            f"The function {ARN.format('plain:stable')} doesn't have an EventInvokeConfig",
            404,
        )
        assert error(lam.update_function_event_invoke_config, FunctionName="plain:stable", MaximumRetryAttempts=0) == (
            "ResourceNotFoundException",
            f"The function {ARN.format('plain:stable')} doesn't have an EventInvokeConfig",
            404,
        )
        assert error(
            lam.put_function_event_invoke_config, FunctionName="plain", Qualifier="nope", MaximumRetryAttempts=1
        ) == ("ResourceNotFoundException", "The function doesn't exist.", 404)
        assert error(
            lam.put_function_event_invoke_config,
            FunctionName="plain:1",
            Qualifier="stable",
            MaximumRetryAttempts=1,
        ) == (
            "InvalidParameterValueException",
            "The derived qualifier from the function name does not match the specified qualifier.",
            400,
        )
        latest = lam.put_function_event_invoke_config(FunctionName="plain", MaximumRetryAttempts=0)
        version = lam.put_function_event_invoke_config(FunctionName="plain", Qualifier="1", MaximumRetryAttempts=1)
        alias = lam.put_function_event_invoke_config(
            FunctionName=ARN.format("plain:stable"), MaximumEventAgeInSeconds=60
        )
        assert [c["FunctionArn"] for c in (latest, version, alias)] == [
            ARN.format("plain:$LATEST"),
            ARN.format("plain:1"),
            ARN.format("plain:stable"),
        ]
        merged = lam.update_function_event_invoke_config(FunctionName="plain:stable", MaximumRetryAttempts=2)
        assert (merged["MaximumRetryAttempts"], merged["MaximumEventAgeInSeconds"]) == (2, 60)
        assert lam.get_function_event_invoke_config(FunctionName="plain", Qualifier="1")["MaximumRetryAttempts"] == 1
        assert lam.get_function_event_invoke_config(FunctionName="plain")["MaximumRetryAttempts"] == 0
        listed = lam.list_function_event_invoke_configs(FunctionName="plain")["FunctionEventInvokeConfigs"]
        assert [c["FunctionArn"] for c in listed] == [
            ARN.format("plain:$LATEST"),
            ARN.format("plain:1"),
            ARN.format("plain:stable"),
        ]
        for qualifier in ("$LATEST", "1", "stable"):
            lam.delete_function_event_invoke_config(FunctionName="plain", Qualifier=qualifier)
        assert lam.list_function_event_invoke_configs(FunctionName="plain")["FunctionEventInvokeConfigs"] == []
    finally:
        lam.delete_alias(FunctionName="plain", Name="stable")


def test_an_event_through_an_alias_uses_the_alias_config_and_names_the_alias(aws: dict[str, Any]) -> None:
    """$LATEST sends its records to latest-records (stack), the alias live (-> version 1) to live-records."""
    lam, sqs = aws["lambda"], aws["sqs"]
    destination = {"OnSuccess": {"Destination": QUEUE.format("live-records")}}
    lam.put_function_event_invoke_config(FunctionName="order", Qualifier="live", DestinationConfig=destination)
    try:
        through_alias = lam.invoke(FunctionName="order:live", InvocationType="Event", Payload=b'{"via": "live"}')
        unqualified = lam.invoke(FunctionName="order", InvocationType="Event", Payload=b'{"via": "latest"}')
        alias_id = through_alias["ResponseMetadata"]["RequestId"]
        latest_id = unqualified["ResponseMetadata"]["RequestId"]
        record = json.loads(receive_until(sqs, queue_url(aws, "live-records"), mentions(alias_id)))
        assert record["requestContext"]["functionArn"] == ARN.format("order:live")
        assert record["responseContext"]["executedVersion"] == "1"
        assert record["requestPayload"] == {"via": "live"}
        record = json.loads(receive_until(sqs, queue_url(aws, "latest-records"), mentions(latest_id)))
        assert record["requestContext"]["functionArn"] == ARN.format("order:$LATEST")
        assert record["responseContext"]["executedVersion"] == "$LATEST"
    finally:
        lam.delete_function_event_invoke_config(FunctionName="order", Qualifier="live")


def test_a_lambda_destination_through_an_alias_runs_the_alias(aws: dict[str, Any]) -> None:
    """upstream's OnSuccess is order:live: its record is an event of order through live (version 1),
    whose own record goes where live's config says."""
    lam, sqs = aws["lambda"], aws["sqs"]
    destination = {"OnSuccess": {"Destination": QUEUE.format("live-records")}}
    lam.put_function_event_invoke_config(FunctionName="order", Qualifier="live", DestinationConfig=destination)
    try:
        invoked = lam.invoke(FunctionName="upstream", InvocationType="Event", Payload=b'{"from": "upstream"}')
        request_id = invoked["ResponseMetadata"]["RequestId"]
        record = json.loads(receive_until(sqs, queue_url(aws, "live-records"), mentions(request_id)))
        assert record["requestContext"]["functionArn"] == ARN.format("order:live")
        assert record["responseContext"]["executedVersion"] == "1"
        assert record["requestPayload"]["requestContext"]["functionArn"] == ARN.format("upstream:$LATEST")
    finally:
        lam.delete_function_event_invoke_config(FunctionName="order", Qualifier="live")


async def test_discovery_reads_the_alias_destinations(aws: dict[str, Any], box: Sandbox) -> None:
    destination = {"OnSuccess": {"Destination": QUEUE.format("live-records")}}
    aws["lambda"].put_function_event_invoke_config(FunctionName="order:live", DestinationConfig=destination)
    try:
        options = AwsOptions(region=box.region, endpoint_url=box.endpoint_url)
        plan = await discover(["order:live"], options, follow=False)
        assert [(r.qualifier, r.route, r.destination) for r in plan.routes] == [
            ("live", "on-success", QUEUE.format("live-records"))
        ]
        everything = await discover(["order"], options, follow=False)
        assert {(r.qualifier, r.route, r.destination) for r in everything.routes} == {
            ("$LATEST", "on-success", QUEUE.format("latest-records")),
            ("$LATEST", "on-failure", QUEUE.format("live-records")),
            ("live", "on-success", QUEUE.format("live-records")),
        }
    finally:
        aws["lambda"].delete_function_event_invoke_config(FunctionName="order", Qualifier="live")


# -- the AWS CLI v1 against `lambdest-tui sandbox` ------------------------------------------------------


@pytest.mark.slow
def test_aws_cli_publishes_aliases_and_invokes_through_the_alias(stack_file: Path) -> None:
    running = start_sandbox("--stack", str(stack_file))
    try:
        published = aws_cli(running, "lambda", "publish-version", "--function-name", "order")
        assert published.returncode == 0, published.stderr
        assert json.loads(published.stdout)["Version"] == "1"
        created = aws_cli(
            running, "lambda", "create-alias", "--function-name", "order", "--name", "blue", "--function-version", "1"
        )
        assert created.returncode == 0, created.stderr
        assert json.loads(created.stdout)["AliasArn"] == ARN.format("order:blue")
        again = aws_cli(
            running, "lambda", "create-alias", "--function-name", "order", "--name", "blue", "--function-version", "1"
        )
        assert again.returncode == 255  # AWS CLI v1: a service error
        assert (
            "An error occurred (ResourceConflictException) when calling the CreateAlias operation: "
            f"Alias already exists: {ARN.format('order:blue')}"
        ) in again.stderr
        config = json.dumps({"OnSuccess": {"Destination": QUEUE.format("live-records")}})
        put = aws_cli(
            running,
            "lambda",
            "put-function-event-invoke-config",
            "--function-name",
            "order",
            "--qualifier",
            "blue",
            "--destination-config",
            config,
        )
        assert put.returncode == 0, put.stderr
        assert json.loads(put.stdout)["FunctionArn"] == ARN.format("order:blue")
        invoked = aws_cli(
            running,
            "lambda",
            "invoke",
            "--function-name",
            "order",
            "--qualifier",
            "blue",
            "--payload",
            '{"cli": true}',
            "/dev/null",
        )
        assert invoked.returncode == 0, invoked.stderr
        assert json.loads(invoked.stdout) == {"StatusCode": 200, "ExecutedVersion": "1"}
        queued = aws_cli(
            running,
            "lambda",
            "invoke",
            "--function-name",
            "order:blue",
            "--invocation-type",
            "Event",
            "--payload",
            '{"cli": "event"}',
            "/dev/null",
        )
        assert queued.returncode == 0, queued.stderr
        assert json.loads(queued.stdout) == {"StatusCode": 202}
        sqs = clients(running.endpoint)["sqs"]
        body = receive_until(sqs, str(sqs.get_queue_url(QueueName="live-records")["QueueUrl"]), mentions('"event"'))
        record = json.loads(body)
        assert record["requestContext"]["functionArn"] == ARN.format("order:blue")
        assert record["responseContext"]["executedVersion"] == "1"
    finally:
        code, err = stop_sandbox(running)
        assert code == 0, err
