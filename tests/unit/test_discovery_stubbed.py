"""Discovery's answers for what neither moto nor the sandbox serve: a dead-letter queue and a function
the caller may not read (aiobotocore's AioStubber on real clients)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiobotocore.stub import AioStubber

from records.aws_options import AwsOptions
from records.discovery import Route, discover
from tests.stubs import stub_clients

FN = "arn:aws:lambda:us-east-1:123456789012:function:{}"
DLQ = "arn:aws:sqs:us-east-1:123456789012:f-dlq"


@pytest.fixture
async def clients() -> AsyncIterator[dict[str, Any]]:
    async with stub_clients("lambda", "sqs") as clients:
        yield clients


async def test_dead_letter_queue_and_a_function_that_cannot_be_read(clients: dict[str, Any]) -> None:
    with AioStubber(clients["lambda"]) as lam, AioStubber(clients["sqs"]) as sqs:
        lam.add_response(
            "get_function_configuration",
            {"FunctionName": "f", "FunctionArn": FN.format("f"), "Version": "$LATEST",
             "DeadLetterConfig": {"TargetArn": DLQ}},
            {"FunctionName": "f"},
        )  # fmt: skip
        lam.add_client_error(
            "get_function_configuration", "AccessDeniedException", "not for you", 403, {"FunctionName": "g"}
        )
        lam.add_response(
            "list_function_event_invoke_configs", {"FunctionEventInvokeConfigs": []}, {"FunctionName": "f"}
        )
        lam.add_response("list_event_source_mappings", {"EventSourceMappings": []}, {"FunctionName": "f"})
        sqs.add_response(
            "get_queue_url",
            {"QueueUrl": "https://sqs/f-dlq"},
            {"QueueName": "f-dlq", "QueueOwnerAWSAccountId": "123456789012"},
        )
        plan = await discover(["f", "g"], AwsOptions(region="us-east-1"), concurrency=1, clients=clients)
        lam.assert_no_pending_responses()
        sqs.assert_no_pending_responses()
    assert plan.routes == [
        Route(
            "g", None, None, None, None, None, "none",
            "not readable: the caller may not read function g (AccessDeniedException)",
        ),
        Route("f", "$LATEST", "dead-letter", DLQ, "sqs", None, "peek", None),
    ]  # fmt: skip
    assert plan.queues() == [DLQ]


async def test_a_queue_the_caller_may_not_read_cannot_be_watched(clients: dict[str, Any]) -> None:
    with AioStubber(clients["lambda"]) as lam, AioStubber(clients["sqs"]) as sqs:
        lam.add_response("get_function_configuration", {"FunctionName": "f", "FunctionArn": FN.format("f")})
        lam.add_response(
            "list_function_event_invoke_configs",
            {"FunctionEventInvokeConfigs": [
                {"FunctionArn": FN.format("f") + ":live", "DestinationConfig": {"OnFailure": {"Destination": DLQ}}}
            ]},
        )  # fmt: skip
        lam.add_response("list_event_source_mappings", {"EventSourceMappings": []})
        sqs.add_client_error("get_queue_url", "AccessDenied", "no", 403)
        plan = await discover(["f"], AwsOptions(region="us-east-1"), concurrency=1, clients=clients)
    [route] = plan.routes
    assert (route.qualifier, route.route, route.watch) == ("live", "on-failure", "none")
    assert route.problem == f"not readable: the caller may not read queue {DLQ} (AccessDenied)"
    assert plan.notes == ["f (live) has no OnSuccess destination: such records go nowhere"]


async def test_expired_credentials_midway_end_discovery_with_a_sentence(clients: dict[str, Any]) -> None:
    from records.discovery import DiscoveryError

    with AioStubber(clients["lambda"]) as lam:
        lam.add_response("get_function_configuration", {"FunctionName": "f", "FunctionArn": FN.format("f")})
        lam.add_client_error("list_function_event_invoke_configs", "ExpiredTokenException", "expired", 403)
        with pytest.raises(DiscoveryError, match="AWS refused the credentials \\(ExpiredTokenException"):
            await discover(["f"], AwsOptions(region="us-east-1"), concurrency=1, clients=clients)
