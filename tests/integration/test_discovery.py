"""Discovery (records/discovery.py) against the sandbox over HTTP, and moto for event source mappings."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest

from records.aws_options import AwsOptions
from records.discovery import DiscoveryError, Plan, Route, discover
from records.sandbox import Sandbox
from tests.integration.discovery_stack import ARN
from tests.integration.sources_helpers import client


def options(box: Sandbox) -> AwsOptions:
    return AwsOptions(region=box.region, endpoint_url=box.endpoint_url)


def rows(plan: Plan) -> list[tuple[str, str | None, str | None, str | None, str]]:
    return [(r.function, r.route, r.destination, r.via, r.watch) for r in plan.routes]


async def test_order_system_is_found_with_its_downstream_topic(sandbox: Sandbox) -> None:
    plan = await discover(["order"], options(sandbox))
    assert rows(plan) == [
        ("order", "on-success", ARN.format("lambda", "function:update-inventory"), None, "follow"),
        ("order", "on-failure", ARN.format("sqs", "order-failures"), None, "peek"),
        ("update-inventory", "on-success", ARN.format("sns", "order-notifications"), "order", "tap"),
        ("update-inventory", "on-failure", ARN.format("lambda", "function:rollback-order"), "order", "follow"),
        ("rollback-order", "on-success", ARN.format("sns", "order-notifications"), "update-inventory", "tap"),
        ("rollback-order", "on-failure", ARN.format("sqs", "order-failures"), "update-inventory", "peek"),
    ]
    assert {r.qualifier for r in plan.routes} == {"$LATEST"}
    assert plan.problems == [] and plan.notes == []
    assert plan.queues() == [ARN.format("sqs", "order-failures")]
    assert plan.topics() == [ARN.format("sns", "order-notifications")]
    assert plan.senders(ARN.format("sqs", "order-failures")) == [
        ARN.format("lambda", "function:order"),
        ARN.format("lambda", "function:rollback-order"),
    ]


async def test_without_following_only_the_function_itself(sandbox: Sandbox) -> None:
    plan = await discover([ARN.format("lambda", "function:order")], options(sandbox), follow=False)
    assert [r.function for r in plan.routes] == ["order", "order"]


async def test_a_cycle_ends_and_problems_are_routes(custom: Sandbox) -> None:
    plan = await discover(["a"], options(custom))
    assert rows(plan) == [
        ("a", "on-success", ARN.format("lambda", "function:b"), None, "follow"),
        ("a", "on-failure", ARN.format("sqs", "gone"), None, "none"),
        ("b", "on-success", ARN.format("lambda", "function:a"), "a", "follow"),
        ("b", "on-failure", ARN.format("sqs", "records.fifo"), "a", "none"),
    ]
    problems = {r.destination: r.problem for r in plan.problems}
    assert problems[ARN.format("sqs", "gone")] == f"missing: queue {ARN.format('sqs', 'gone')} does not exist"
    assert str(problems[ARN.format("sqs", "records.fifo")]).startswith("FIFO")
    assert not plan.watchable


async def test_globs_every_function_and_bus_and_bucket_routes(custom: Sandbox) -> None:
    plan = await discover(["bulk-5*", "c"], options(custom))
    assert [r.function for r in plan.routes] == [f"bulk-5{n}" for n in range(10)] + ["c", "c"]
    assert plan.buses() == [ARN.format("events", "event-bus/results")]
    assert plan.buckets() == {"failed-records": ["c"]}
    assert {r.watch for r in plan.routes} == {"tap", "bucket"}
    everything = await discover([], options(custom))  # 64 functions: ListFunctions takes two pages
    assert {r.function for r in everything.routes} == {"a", "b", "c"} | {f"bulk-{n:02d}" for n in range(60)}
    assert all(r.via is None for r in everything.routes)  # every function was asked for itself


async def test_nothing_to_watch_and_no_match_are_problems(custom: Sandbox) -> None:
    plan = await discover(["plain", "zz*", "nobody"], options(custom))
    by_function = {r.function: r for r in plan.routes}
    assert by_function["zz*"].problem == "no function in the region matches 'zz*'"
    assert str(by_function["nobody"].problem).startswith("missing: function nobody")
    assert "plain has no event-invoke config with destinations" in str(by_function["plain"].problem)
    assert all(r.watch == "none" and r.destination is None for r in plan.routes)


async def test_no_endpoint_is_one_sentence() -> None:
    with pytest.raises(DiscoveryError, match="cannot reach the AWS endpoint"):
        await discover(["order"], AwsOptions(region="us-east-1", endpoint_url="http://127.0.0.1:9"))


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()


async def test_stream_failure_destinations_from_moto(moto_reset: str) -> None:
    iam, lam, ddb, sqs = (client(name, moto_reset) for name in ("iam", "lambda", "dynamodb", "sqs"))
    role = iam.create_role(RoleName="fn-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    lam.create_function(
        FunctionName="stream-reader",
        Runtime="python3.12",
        Role=role,
        Handler="handler.handler",
        Code={"ZipFile": _zip()},
    )
    table = ddb.create_table(
        TableName="orders",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )
    url = sqs.create_queue(QueueName="stream-failures")["QueueUrl"]
    queue = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    lam.create_event_source_mapping(
        EventSourceArn=table["TableDescription"]["LatestStreamArn"],
        FunctionName="stream-reader",
        StartingPosition="LATEST",
        DestinationConfig={"OnFailure": {"Destination": queue}},
    )
    plan = await discover(["stream-*"], AwsOptions(region="us-east-1", endpoint_url=moto_reset))
    assert plan.routes == [Route("stream-reader", "$LATEST", "stream-failure", queue, "sqs", None, "peek", None)]
    assert plan.queues() == [queue]


def test_route_json_has_the_contract_fields() -> None:
    route = Route("f", "$LATEST", "dead-letter", ARN.format("sqs", "dlq"), "sqs", None, "peek", None)
    expected: dict[str, Any] = {
        "function": "f",
        "qualifier": "$LATEST",
        "route": "dead-letter",
        "destination": ARN.format("sqs", "dlq"),
        "destination_type": "sqs",
        "via": None,
        "watch": "peek",
        "problem": None,
    }
    assert route.to_json() == expected


def test_sandbox_answers_the_discovery_reads(custom: Sandbox) -> None:
    import boto3
    from botocore.exceptions import ClientError

    lam = boto3.client("lambda", endpoint_url=custom.endpoint_url, region_name=custom.region)
    first = lam.list_functions(MaxItems=10)
    assert len(first["Functions"]) == 10 and first["NextMarker"] == "10"
    names = [f["FunctionName"] for page in lam.get_paginator("list_functions").paginate() for f in page["Functions"]]
    assert len(names) == len(set(names)) == 64
    with pytest.raises(ClientError) as exc:
        lam.list_functions(Marker="nonsense")
    assert exc.value.response["Error"]["Code"] == "InvalidParameterValueException"
    config = lam.get_function_configuration(FunctionName="a")
    assert config["FunctionArn"] == ARN.format("lambda", "function:a") and "DeadLetterConfig" not in config
    with pytest.raises(ClientError) as exc:
        lam.get_function_configuration(FunctionName="nobody")
    assert exc.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert lam.list_event_source_mappings(FunctionName="a")["EventSourceMappings"] == []
