"""The checks on one destination: it exists, is a kind Lambda delivers to, has subscribers (SNS) or
a rule that matches the function's records (EventBridge). Reads are made once per destination."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from records.discovery import short_name as short
from records.doctor import patterns
from records.doctor.access import Subject
from records.doctor.calls import Calls, Denied, Missing, Unavailable
from records.doctor.findings import Finding
from records.doctor.policy import evaluate, parse

SUCCESS = "Lambda Function Invocation Result - Success"
FAILURE = "Lambda Function Invocation Result - Failure"


@dataclass
class Target:
    """What reading a destination found: `error` is None when it exists and could be read."""

    arn: str
    kind: str
    error: Exception | None = None
    attributes: dict[str, Any] = field(default_factory=dict)

    @property
    def policy(self) -> list[dict[str, Any]]:
        return parse(self.attributes.get("Policy"))

    @property
    def key(self) -> str | None:
        value = self.attributes.get("KmsMasterKeyId")
        return str(value) if value else None


def _queue_ref(arn: str) -> dict[str, Any]:
    parts = arn.split(":")
    return {"QueueName": parts[5], "QueueOwnerAWSAccountId": parts[4]} if len(parts) > 5 else {"QueueName": arn}


async def read(calls: Calls, arn: str, kind: str) -> Target:
    async def load() -> Target:
        target = Target(arn, kind)
        try:
            if kind == "sqs":
                url = (await calls.call("sqs", "get_queue_url", **_queue_ref(arn)))["QueueUrl"]
                response = await calls.call("sqs", "get_queue_attributes", QueueUrl=url, AttributeNames=["All"])
                target.attributes = dict(response.get("Attributes", {}))
            elif kind == "sns":
                target.attributes = dict((await calls.call("sns", "get_topic_attributes", TopicArn=arn))["Attributes"])
            elif kind == "events":
                target.attributes = dict(await calls.call("events", "describe_event_bus", Name=bus_name(arn)))
            elif kind == "lambda":
                name = arn.split(":")[6] if arn.count(":") >= 6 else arn
                target.attributes = dict(await calls.call("lambda", "get_function_configuration", FunctionName=name))
            elif kind == "s3":
                await calls.call("s3", "head_bucket", Bucket=arn.rsplit(":", 1)[-1].split("/", 1)[0])
        except (Denied, Missing, Unavailable) as exc:
            target.error = exc
        return target

    return await calls.once(f"destination:{arn}", load)


def bus_name(arn: str) -> str:
    return arn.rsplit(":", 1)[-1].removeprefix("event-bus/")


def kind_finding(subject: Subject, route: str | None) -> Finding:
    """destination-kind: FIFO never, S3 only on failure, never the function itself."""
    resource = subject.destination.split(":", 5)[-1]
    if subject.kind in ("sqs", "sns") and resource.endswith(".fifo"):
        return subject.finding(
            "destination-kind",
            "problem",
            f"{subject.function} cannot send its records to {subject.what}: Lambda never delivers to a FIFO "
            f"{'queue' if subject.kind == 'sqs' else 'topic'}, so every record is lost",
            f"aws lambda update-function-event-invoke-config --function-name {subject.function} --destination-config "
            "'{...}' with a standard queue or topic",
        )
    if subject.kind == "s3" and route == "on-success":
        return subject.finding(
            "destination-kind",
            "problem",
            f"{subject.function} cannot send its success records to {subject.what}: S3 takes failure records only",
            "use a queue, topic, bus or function for OnSuccess",
        )
    if subject.kind == "lambda" and subject.destination.split(":")[6:7] == [subject.function]:
        return subject.finding(
            "destination-kind",
            "problem",
            f"{subject.function} names itself as its destination {subject.what}: Lambda does not deliver there",
            "choose another function",
        )
    if subject.kind not in ("sqs", "sns", "events", "lambda", "s3"):
        return subject.finding(
            "destination-kind",
            "problem",
            f"{subject.destination} is not a service Lambda delivers to",
            "use a queue, topic, bus, function or (on failure) bucket",
        )
    return subject.finding(
        "destination-kind", "pass", f"{subject.what} of {subject.function} is a kind Lambda delivers to"
    )


def exists_finding(subject: Subject, target: Target) -> Finding:
    if target.error is None:
        return subject.finding("destination-exists", "pass", f"{subject.what} of {subject.function} exists")
    if isinstance(target.error, Missing):
        return subject.finding(
            "destination-exists",
            "problem",
            f"{subject.function} cannot send its records to {subject.what}: it does not exist (deleted after it was "
            "configured?), so every record is lost",
            f"create {subject.what} again, or point {subject.function}'s event-invoke config elsewhere "
            "(aws lambda update-function-event-invoke-config)",
        )
    if isinstance(target.error, Denied):
        return subject.finding(
            "destination-exists",
            "unknown",
            f"cannot tell whether {subject.what} of {subject.function} exists: the caller may not "
            f"{target.error.permission}",
        )
    return subject.finding(
        "destination-exists", "unknown", f"reading {subject.what} of {subject.function} failed: {target.error}"
    )


async def subscriptions_finding(calls: Calls, subject: Subject) -> Finding:
    topic = subject.destination
    try:
        pages = await calls.pages("sns", "list_subscriptions_by_topic", TopicArn=topic)
        found: list[dict[str, Any]] = [item for page in pages for item in page.get("Subscriptions", [])]
    except Denied as exc:
        return subject.finding(
            "sns-subscriptions", "unknown", f"cannot list who subscribes to {subject.what} ({exc.permission})"
        )
    except (Missing, Unavailable) as exc:
        return subject.finding("sns-subscriptions", "unknown", f"listing the subscriptions of {subject.what}: {exc}")
    confirmed = [s for s in found if str(s.get("SubscriptionArn", "")).startswith("arn:")]
    if not confirmed:
        return subject.finding(
            "sns-subscriptions",
            "problem",
            f"{subject.function}'s records reach {subject.what}, but nobody subscribes to it: SNS keeps no messages, "
            "so they are lost",
            f"aws sns subscribe --topic-arn {topic} --protocol sqs --notification-endpoint QUEUE_ARN "
            "(and a queue policy admitting the topic)",
        )
    problems: list[str] = []
    for subscription in confirmed:
        if subscription.get("Protocol") == "sqs":
            problem = await _queue_admits(calls, str(subscription.get("Endpoint", "")), topic)
            if problem:
                problems.append(problem)
    if problems:
        return subject.finding(
            "sns-subscriptions",
            "problem",
            f"{subject.function}'s records reach {subject.what}, but " + "; ".join(problems),
            "give each subscribed queue a policy allowing sns.amazonaws.com sqs:SendMessage with aws:SourceArn = "
            + topic,
        )
    return subject.finding(
        "sns-subscriptions", "pass", f"{subject.what} of {subject.function} has {len(confirmed)} subscription(s)"
    )


async def _queue_admits(calls: Calls, queue_arn: str, topic: str) -> str | None:
    """None when the queue's policy lets the topic send; otherwise why not."""
    target = await read(calls, queue_arn, "sqs")
    if isinstance(target.error, Missing):
        return f"its subscribed queue {short(queue_arn)} does not exist"
    if target.error is not None:
        return None  # cannot tell; not a problem we can name
    account = topic.split(":")[4]
    context = {"aws:SourceArn": topic, "aws:SourceAccount": account, "aws:SourceOwner": account}
    answer = evaluate(target.policy, "sqs:SendMessage", queue_arn, principal="sns.amazonaws.com", context=context)
    if answer.decision == "allow" or answer.conditional:
        return None
    if answer.decision == "deny":
        return f"the policy of its subscribed queue {short(queue_arn)} denies the topic"
    return (
        f"the policy of its subscribed queue {short(queue_arn)} does not admit the topic, so SNS cannot deliver there"
    )


def event(subject: Subject, function_arn: str, source: str, success: bool) -> dict[str, Any]:
    """The event Lambda puts on the bus for one record (with `source` lambda, or aws.lambda to compare)."""
    parts = subject.destination.split(":")
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    record = {
        "version": "1.0",
        "timestamp": now,
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "functionArn": f"{function_arn}:{subject.qualifier or '$LATEST'}",
            "condition": "Success" if success else "RetriesExhausted",
            "approximateInvokeCount": 1,
        },
        "requestPayload": {},
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST"},
        "responsePayload": None,
    }
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": SUCCESS if success else FAILURE,
        "source": source,
        "account": parts[4],
        "time": now.split(".")[0] + "Z",
        "region": parts[3],
        "resources": [subject.destination, f"{function_arn}:{subject.qualifier or '$LATEST'}"],
        "detail": record,
    }


async def _matches(calls: Calls, pattern: str, shape: dict[str, Any]) -> bool | None:
    if "test-event-pattern:off" not in calls.cache:
        try:
            response = await calls.call("events", "test_event_pattern", EventPattern=pattern, Event=json.dumps(shape))
            if "Result" in response:
                return bool(response["Result"])
        except (Denied, Unavailable, Missing):
            pass
        calls.once("test-event-pattern:off", _nothing)  # one failed try is enough for this run
    try:
        return patterns.matches(json.loads(pattern), shape)
    except ValueError:
        return None


async def _nothing() -> None:
    return None


async def rules_finding(calls: Calls, subject: Subject, function_arn: str, route: str | None) -> Finding:
    bus = bus_name(subject.destination)
    try:
        pages = await calls.pages("events", "list_rules", EventBusName=bus)
        rules: list[dict[str, Any]] = [rule for page in pages for rule in page.get("Rules", [])]
    except Denied as exc:
        return subject.finding("bus-rules", "unknown", f"cannot list the rules of {subject.what} ({exc.permission})")
    except (Missing, Unavailable) as exc:
        return subject.finding("bus-rules", "unknown", f"listing the rules of {subject.what}: {exc}")
    success = route != "on-failure"
    enabled = [r for r in rules if r.get("State", "ENABLED") == "ENABLED" and r.get("EventPattern")]
    matched: list[str] = []
    aws_only: list[str] = []
    unsure: list[str] = []
    for rule in enabled:
        name, pattern = str(rule.get("Name")), str(rule["EventPattern"])
        real = await _matches(calls, pattern, event(subject, function_arn, "lambda", success))
        if real:
            matched.append(name)
        elif real is None:
            unsure.append(name)
        elif await _matches(calls, pattern, event(subject, function_arn, "aws.lambda", success)):
            aws_only.append(name)
    if matched:
        return subject.finding(
            "bus-rules", "pass", f"rule {', '.join(matched)} on {subject.what} matches {subject.function}'s records"
        )
    if unsure:
        return subject.finding(
            "bus-rules",
            "unknown",
            f"cannot tell whether rule {', '.join(unsure)} on {subject.what} matches "
            f"{subject.function}'s records (a pattern operator this reading does not know)",
        )
    kind = "success" if success else "failure"
    if aws_only:
        return subject.finding(
            "bus-rules",
            "problem",
            f"{subject.function}'s {kind} records reach {subject.what}, but rule {', '.join(aws_only)} matches source "
            '"aws.lambda" while Lambda sends destination events with source "lambda": the bus drops them',
            'change the rule\'s pattern to {"source": ["lambda"]} (or list both sources)',
        )
    return subject.finding(
        "bus-rules",
        "problem",
        f"{subject.function}'s {kind} records reach {subject.what}, but no enabled rule on it matches them: the bus "
        "drops them",
        f"aws events put-rule --event-bus-name {bus} --name lambda-destination-records --event-pattern "
        '\'{"source":["lambda"]}\' and add a target',
    )
