"""The doctor's readings that need no AWS: policy documents, event patterns, what metrics mean, and
the permission named when the caller may not read (aiobotocore's AioStubber on real clients)."""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from aiobotocore.stub import AioStubber

from records.aws_options import AwsOptions
from records.doctor import access, metrics, patterns
from records.doctor.calls import Calls
from records.doctor.policy import evaluate, parse
from tests.stubs import stub_clients
from tui.commands.doctor import duration

ROLE = "arn:aws:iam::123456789012:role/r"
QUEUE = "arn:aws:sqs:us-east-1:123456789012:q"
TOPIC = "arn:aws:sns:us-east-1:123456789012:t"


def test_identity_policies_allow_deny_and_wildcards() -> None:
    allow = parse({"Statement": {"Effect": "Allow", "Action": "sqs:Send*", "Resource": "arn:aws:sqs:*:*:q"}})
    assert evaluate(allow, "sqs:SendMessage", QUEUE).decision == "allow"
    assert evaluate(allow, "SQS:sendmessage", QUEUE).decision == "allow"  # actions ignore case
    assert evaluate(allow, "sqs:SendMessage", QUEUE + "2").decision == "none"
    deny = [*allow, {"Effect": "Deny", "NotAction": "sns:*", "Resource": "*"}]
    assert evaluate(deny, "sqs:SendMessage", QUEUE).decision == "deny"
    assert evaluate(parse('{"Statement": [{"Effect": "Allow", "Action": "*", "NotResource": "' + QUEUE + '"}]}'),
                    "sqs:SendMessage", QUEUE).decision == "none"  # fmt: skip
    assert parse("not json") == [] and parse(None) == []
    assert parse("%7B%22Statement%22%3A%5B%5D%7D") == []  # URL-encoded, as IAM returns it


def test_resource_policies_principals_and_conditions() -> None:
    topic_admits = parse(
        {
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "sns.amazonaws.com"},
                    "Action": "sqs:SendMessage",
                    "Resource": QUEUE,
                    "Condition": {"ArnEquals": {"aws:SourceArn": TOPIC}},
                }
            ]
        }
    )
    assert (
        evaluate(topic_admits, "sqs:SendMessage", QUEUE, "sns.amazonaws.com", {"aws:SourceArn": TOPIC}).decision
        == "allow"
    )
    assert (
        evaluate(topic_admits, "sqs:SendMessage", QUEUE, "sns.amazonaws.com", {"aws:SourceArn": TOPIC + "x"}).decision
        == "none"
    )
    assert evaluate(topic_admits, "sqs:SendMessage", QUEUE, ROLE).decision == "none"  # not the role
    unknown = [{**topic_admits[0], "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}]
    answer = evaluate(unknown, "sqs:SendMessage", QUEUE, "sns.amazonaws.com", {"aws:SourceArn": TOPIC})
    assert answer.decision == "none" and answer.conditional


def test_event_patterns() -> None:
    event = {"source": "lambda", "detail-type": "Lambda Function Invocation Result - Success",
             "detail": {"requestContext": {"condition": "Success", "approximateInvokeCount": 2}}}  # fmt: skip
    assert patterns.matches({"source": ["lambda"]}, event) is True
    assert patterns.matches({"source": ["aws.lambda"]}, event) is False
    assert patterns.matches({"detail-type": [{"prefix": "Lambda Function"}]}, event) is True
    assert (
        patterns.matches({"detail": {"requestContext": {"condition": [{"anything-but": "Success"}]}}}, event) is False
    )
    assert patterns.matches({"detail": {"requestContext": {"approximateInvokeCount": [{"numeric": [">", 1]}]}}}, event)
    assert patterns.matches({"detail": {"responsePayload": [{"exists": False}]}}, event) is True
    assert patterns.matches({"source": [{"equals-ignore-case": "LAMBDA"}]}, event) is True
    assert patterns.matches({"source": [{"cidr": "10.0.0.0/24"}]}, event) is None  # cannot tell, never a guess


def _subject(**values: float | None) -> dict[str, float | None]:
    return {name: values.get(name) for name, _ in metrics.METRICS}


def test_what_the_metrics_mean() -> None:
    hour = timedelta(hours=1)
    subject = metrics.Subject("f", None, [QUEUE], keeps_failures=False)
    by_check = {f.check: f for f in metrics.judge(subject, _subject(Invocations=4), hour)}
    assert (
        by_check["sync-invocations"].status == "problem" and "all synchronously" in by_check["sync-invocations"].message
    )
    retried = {f.check: f for f in metrics.judge(subject, _subject(Invocations=3, AsyncEventsReceived=1), hour)}
    assert retried["sync-invocations"].status == "pass"  # one event tried three times
    more = {f.check: f for f in metrics.judge(subject, _subject(Invocations=5, AsyncEventsReceived=1), hour)}
    assert more["sync-invocations"].status == "problem" and "at least 2 of the 5" in more["sync-invocations"].message
    lost = {f.check: f for f in metrics.judge(subject, _subject(AsyncEventsDropped=2, AsyncEventAge=11_000_000), hour)}
    assert lost["dropped-events"].status == "problem" and lost["event-age"].status == "problem"
    kept = metrics.Subject("f", None, [QUEUE], keeps_failures=True)
    assert {f.check: f for f in metrics.judge(kept, _subject(AsyncEventsDropped=2), hour)}[
        "dropped-events"
    ].status == "pass"
    assert [f.status for f in metrics.judge(kept, _subject(), hour)] == ["pass"] * 6
    assert metrics.Subject("f", "live").dimensions()[1] == {"Name": "Resource", "Value": "f:live"}
    assert metrics.period_for(hour) == 60 and metrics.period_for(timedelta(days=10)) == 600


def test_durations() -> None:
    assert duration("90m") == timedelta(minutes=90) and duration("2d") == timedelta(days=2)
    for bad in ("1 hour", "0h", "-1h", "100d"):
        with pytest.raises(argparse.ArgumentTypeError):
            duration(bad)


@pytest.fixture
async def stubbed() -> AsyncIterator[dict[str, Any]]:
    async with stub_clients("iam", "cloudwatch", "kms") as clients:
        yield {**clients, "iam/once": clients["iam"]}


async def test_a_read_only_caller_gets_unknown_with_the_permission_named(stubbed: dict[str, Any]) -> None:
    calls = Calls(AwsOptions(region="us-east-1"), 1, stubbed)
    subject = access.Subject("f", None, ROLE, "sqs", QUEUE)
    key = "arn:aws:kms:us-east-1:123456789012:key/k"
    with AioStubber(stubbed["iam"]) as iam, AioStubber(stubbed["cloudwatch"]) as cw, AioStubber(stubbed["kms"]) as kms:
        iam.add_client_error("simulate_principal_policy", "AccessDenied", "no", 403)
        iam.add_client_error("list_role_policies", "AccessDenied", "no", 403)
        cw.add_client_error("get_metric_data", "AccessDenied", "no", 403)
        kms.add_response("describe_key", {"KeyMetadata": {"KeyId": "k", "Arn": key, "KeyManager": "CUSTOMER"}})
        kms.add_client_error("get_key_policy", "AccessDeniedException", "no", 400)
        role = await access.role_permission(calls, subject, [])
        found = await metrics.metric_findings(calls, [metrics.Subject("f", None, [QUEUE])], timedelta(hours=1))
        encrypted = await access.kms(calls, subject, "k")
    assert role.status == "unknown" and "iam:SimulatePrincipalPolicy" in role.message
    assert "iam:ListRolePolicies" in role.message
    assert [f.status for f in found] == ["unknown"] * 6
    assert all("cloudwatch:GetMetricData" in f.message for f in found)
    assert encrypted.status == "unknown" and "kms:GetKeyPolicy" in encrypted.message
    await calls.settle()


def test_destination_kinds_lambda_never_delivers_to() -> None:
    from records.doctor.destinations import kind_finding

    def kind(kind: str, arn: str, route: str = "on-success", function: str = "f") -> str:
        finding = kind_finding(access.Subject(function, None, ROLE, kind, arn), route)
        return finding.status if finding.status == "pass" else finding.message

    assert "FIFO queue" in kind("sqs", QUEUE + ".fifo")
    assert "FIFO topic" in kind("sns", TOPIC + ".fifo")
    assert "failure records only" in kind("s3", "arn:aws:s3:::b")
    assert kind("s3", "arn:aws:s3:::b", route="on-failure") == "pass"
    assert "names itself" in kind("lambda", "arn:aws:lambda:us-east-1:123456789012:function:f")
    assert kind("lambda", "arn:aws:lambda:us-east-1:123456789012:function:g") == "pass"
    assert "not a service Lambda delivers to" in kind("dynamodb", "arn:aws:dynamodb:us-east-1:1:table/t")
    assert (
        kind("sqs", QUEUE) == kind("sns", TOPIC) == kind("events", "arn:aws:events:us-east-1:1:event-bus/b") == "pass"
    )
