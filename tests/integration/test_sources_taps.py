"""SNS and EventBridge taps against a real moto server: records arrive, temporary resources go away,
and the orphan sweep removes only our own tagged, old resources."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from records.message import Message
from records.sources.base import SourceEvent
from records.sources.eventbridge import EventBridgeTap
from records.sources.sns import SnsTap
from records.sources.taps import TAG_CREATED, TAG_HEARTBEAT, TAP_PREFIX, sweep_orphans, tap_tags
from tests.factories import numbered_record
from tests.integration.sources_helpers import aws, client, collect

SUCCESS = "Lambda Function Invocation Result - Success"


def _tap_queues(sqs: Any) -> list[str]:
    return list(sqs.list_queues(QueueNamePrefix=TAP_PREFIX).get("QueueUrls", []))


async def _when_live(source: Any, action: Any, messages: int) -> tuple[list[Message], list[Any]]:
    """Collect `messages` messages, running `action()` once the source is live."""
    fired = False

    def stop(event: SourceEvent) -> bool:
        nonlocal fired
        if not fired and getattr(event, "state", None) == "live":
            fired = True
            action()
        return False

    return await collect(source, messages=messages, timeout=20, stop=stop)


async def test_sns_tap_enveloped_records_arrive_and_everything_is_removed(moto_reset: str) -> None:
    sns, sqs = client("sns", moto_reset), client("sqs", moto_reset)
    topic = sns.create_topic(Name="order-notifications")["TopicArn"]
    tap = SnsTap("order-notifications", aws=aws(moto_reset), wait_time=1)

    def publish() -> None:
        assert len(_tap_queues(sqs)) == 1
        subscriptions = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
        assert [s["Protocol"] for s in subscriptions] == ["sqs"]
        policy = json.loads(
            sqs.get_queue_attributes(QueueUrl=_tap_queues(sqs)[0], AttributeNames=["Policy"])["Attributes"]["Policy"]
        )
        assert policy["Statement"][0]["Condition"] == {"ArnEquals": {"aws:SourceArn": topic}}
        tags = sqs.list_queue_tags(QueueUrl=_tap_queues(sqs)[0])["Tags"]
        assert tags["lambdest-tui"] == "tap" and tags["lambdest-tui:topic"] == topic
        for index in range(3):
            sns.publish(TopicArn=topic, Message=json.dumps(numbered_record(index)))
        sns.publish(TopicArn=topic, Message="hello, not a record")

    got, statuses = await _when_live(tap, publish, 4)
    assert statuses[0].state == "connecting" and statuses[0].source == "topic:order-notifications"
    assert all(message.source == "topic:order-notifications" for message in got)
    decoded = [message.decoded[0] for message in got]
    assert [d.envelope for d in decoded] == [("sns",)] * 4
    assert sorted(d.record.request_id for d in decoded if d.record) == ["req-00000", "req-00001", "req-00002"]
    bad = [d for d in decoded if not d.ok]
    assert len(bad) == 1 and "hello, not a record" in bad[0].raw
    # Enveloped delivery keeps the topic and the SNS MessageId of every notification.
    assert all(d.meta["sns.TopicArn"] == topic and d.meta["sns.MessageId"] for d in decoded)
    assert len({d.meta["sns.MessageId"] for d in decoded}) == 4
    assert _tap_queues(sqs) == []
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []


async def test_sns_tap_raw_delivery_and_missing_topic(moto_reset: str) -> None:
    sns, sqs = client("sns", moto_reset), client("sqs", moto_reset)
    topic = sns.create_topic(Name="raw")["TopicArn"]
    tap = SnsTap(topic, raw_delivery=True, aws=aws(moto_reset), wait_time=1)
    got, _ = await _when_live(tap, lambda: sns.publish(TopicArn=topic, Message=json.dumps(numbered_record(9))), 1)
    assert got[0].decoded[0].envelope == ()
    assert got[0].decoded[0].record is not None and got[0].decoded[0].record.request_id == "req-00009"
    missing = SnsTap("no-such-topic", aws=aws(moto_reset), wait_time=1)
    got, statuses = await collect(missing, messages=1, timeout=10)
    assert got == [] and statuses[-1].state == "failed"
    assert (statuses[-1].reason or "").startswith("topic no-such-topic does not exist")
    assert _tap_queues(sqs) == []


async def test_eventbridge_tap_matches_lambda_destination_events_only(moto_reset: str) -> None:
    events, sqs = client("events", moto_reset), client("sqs", moto_reset)
    events.create_event_bus(Name="orders")
    tap = EventBridgeTap("orders", aws=aws(moto_reset), wait_time=1)

    def put() -> None:
        rules = events.list_rules(EventBusName="orders", NamePrefix=TAP_PREFIX)["Rules"]
        assert len(rules) == 1
        tags = {t["Key"]: t["Value"] for t in events.list_tags_for_resource(ResourceARN=rules[0]["Arn"])["Tags"]}
        assert tags["lambdest-tui"] == "tap"
        entries = [
            {
                "Source": "other.app",
                "DetailType": SUCCESS,
                "Detail": json.dumps(numbered_record(1)),
                "EventBusName": "orders",
            },
            {
                "Source": "lambda",
                "DetailType": SUCCESS,
                "Detail": json.dumps(numbered_record(2)),
                "EventBusName": "orders",
            },
            {
                "Source": "aws.lambda",
                "DetailType": "Lambda Function Invocation Result - Failure",
                "Detail": json.dumps(numbered_record(3, condition="RetriesExhausted")),
                "EventBusName": "orders",
            },
        ]
        assert events.put_events(Entries=entries)["FailedEntryCount"] == 0

    got, _ = await _when_live(tap, put, 2)
    decoded = [message.decoded[0] for message in got]
    assert sorted(d.record.request_id for d in decoded if d.record) == ["req-00002", "req-00003"]
    assert all(d.envelope == ("eventbridge",) for d in decoded)
    assert all(message.source == "bus:orders" for message in got)
    assert events.list_rules(EventBusName="orders", NamePrefix=TAP_PREFIX)["Rules"] == []
    assert _tap_queues(sqs) == []


async def test_eventbridge_tap_with_a_custom_pattern(moto_reset: str) -> None:
    events = client("events", moto_reset)
    tap = EventBridgeTap("default", pattern='{"source": ["my.app"]}', aws=aws(moto_reset), wait_time=1)

    def put() -> None:
        entries = [
            {"Source": "lambda", "DetailType": SUCCESS, "Detail": json.dumps(numbered_record(1))},
            {"Source": "my.app", "DetailType": SUCCESS, "Detail": json.dumps(numbered_record(5))},
        ]
        events.put_events(Entries=entries)

    got, _ = await _when_live(tap, put, 1)
    # Only the my.app event matched; the decoder says it is not from Lambda (and keeps it whole).
    assert json.loads(got[0].raw)["source"] == "my.app"
    assert "my.app" in (got[0].decoded[0].error or "")
    assert events.list_rules(NamePrefix=TAP_PREFIX)["Rules"] == []


def _make_tap_queue(sqs: Any, name: str, tags: dict[str, str]) -> str:
    return str(sqs.create_queue(QueueName=name, tags=tags)["QueueUrl"])


async def test_orphan_sweep_removes_only_our_old_tagged_resources(moto_reset: str) -> None:
    sqs, sns, events = client("sqs", moto_reset), client("sns", moto_reset), client("events", moto_reset)
    topic = sns.create_topic(Name="notifications")["TopicArn"]
    old = (datetime.now(UTC) - timedelta(hours=2)).isoformat().replace("+00:00", "Z")
    old_tags = tap_tags(topic=topic) | {TAG_CREATED: old, TAG_HEARTBEAT: old}
    orphan = _make_tap_queue(sqs, f"{TAP_PREFIX}sns-1-old", old_tags)
    orphan_arn = sqs.get_queue_attributes(QueueUrl=orphan, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=orphan_arn)
    young = _make_tap_queue(sqs, f"{TAP_PREFIX}sns-2-young", tap_tags(topic=topic))
    untagged = _make_tap_queue(sqs, f"{TAP_PREFIX}not-ours", {"team": "x"})
    foreign = _make_tap_queue(sqs, "order-failures", {"lambdest-tui": "tap", TAG_CREATED: old})
    other_sub = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint="arn:aws:sqs:us-east-1:123456789012:x")
    rule_tags = tap_tags(rule=f"{TAP_PREFIX}events-1-old", bus="default") | {TAG_CREATED: old, TAG_HEARTBEAT: old}
    events.put_rule(
        Name=f"{TAP_PREFIX}events-1-old",
        EventPattern='{"source": ["lambda"]}',
        Tags=[{"Key": k, "Value": v} for k, v in rule_tags.items()],
    )
    events.put_targets(Rule=f"{TAP_PREFIX}events-1-old", Targets=[{"Id": "t", "Arn": orphan_arn}])
    events.put_rule(Name=f"{TAP_PREFIX}events-2-untagged", EventPattern='{"source": ["lambda"]}')

    tap = EventBridgeTap("default", aws=aws(moto_reset), wait_time=1)
    _, statuses = await collect(tap, messages=None, timeout=20, stop=lambda e: getattr(e, "state", "") == "live")
    assert statuses[-1].state == "live"
    # The tap's sweep removed the old rule, the orphan queue and its subscription, nothing else.
    assert f"{TAP_PREFIX}events-1-old" in tap.removed and orphan in tap.removed
    assert await _sweep_sns(moto_reset) == [], "a second sweep finds nothing left"
    remaining = sorted(sqs.list_queues().get("QueueUrls", []))
    assert orphan not in remaining
    assert sorted([young, untagged, foreign]) == remaining
    subscriptions = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert [s["SubscriptionArn"] for s in subscriptions] == [other_sub["SubscriptionArn"]]
    rules = [rule["Name"] for rule in events.list_rules(NamePrefix=TAP_PREFIX)["Rules"]]
    assert rules == [f"{TAP_PREFIX}events-2-untagged"]


async def _sweep_sns(endpoint: str) -> list[str]:
    options = aws(endpoint)
    session: Any = options.session()
    async with (
        session.create_client("sqs", **options.client_kwargs()) as sqs,
        session.create_client("sns", **options.client_kwargs()) as sns,
    ):
        return await sweep_orphans(sqs, sns=sns)


async def test_a_quiet_tap_is_live_once_its_first_long_poll_is_issued(moto_reset: str) -> None:
    sns = client("sns", moto_reset)
    sns.create_topic(Name="quiet-notifications")
    tap = SnsTap("quiet-notifications", aws=aws(moto_reset), wait_time=20)
    started = time.monotonic()
    _, statuses = await collect(
        tap, messages=None, timeout=20, stop=lambda event: getattr(event, "state", "") == "live"
    )
    assert [status.state for status in statuses] == ["connecting", "live"]
    assert time.monotonic() - started < 8, "live as soon as the tap's queue is polled, not after a 20 s poll"
