"""The orphan sweep against a real moto server: it removes only taps that are provably ours (own
name AND own tags, checked on the resource itself) and provably dead (a stale heartbeat, or a
process gone on this very host); a live tap of another run survives, whatever its age."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from records.sources.eventbridge import EventBridgeTap
from records.sources.sns import SnsTap
from records.sources.taps import (
    TAG_CREATED,
    TAG_HEARTBEAT,
    TAG_HOST,
    TAG_PID,
    TAP_PREFIX,
    sweep_orphans,
    tap_tags,
)
from tests.factories import numbered_record
from tests.integration.sources_helpers import TailProcess, aws, client, collect, wait_until

OLD = (datetime.now(UTC) - timedelta(hours=2)).isoformat().replace("+00:00", "Z")
SUCCESS = "Lambda Function Invocation Result - Success"


def _dead_pid() -> int:
    """The pid of a process that has exited (and been reaped) on this host."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _rule_tags(events: Any, name: str, bus: str = "default") -> dict[str, str]:
    arn = events.describe_rule(Name=name, EventBusName=bus)["Arn"]
    return {tag["Key"]: tag["Value"] for tag in events.list_tags_for_resource(ResourceARN=arn)["Tags"]}


def _rule_names(events: Any, bus: str = "default") -> list[str]:
    return sorted(rule["Name"] for rule in events.list_rules(EventBusName=bus)["Rules"])


async def _sweep(endpoint: str, buses: tuple[str, ...] = ("default",)) -> list[str]:
    """A second run's sweep (what a tap does at its start)."""
    options = aws(endpoint)
    session: Any = options.session()
    kwargs = options.client_kwargs()
    async with (
        session.create_client("sqs", **kwargs) as sqs,
        session.create_client("sns", **kwargs) as sns,
        session.create_client("events", **kwargs) as events,
    ):
        return await sweep_orphans(sqs, sns=sns, events=events, buses=buses)


async def test_a_queue_tagged_by_someone_else_never_gets_a_foreign_rule_deleted(moto_reset: str) -> None:
    sqs, events = client("sqs", moto_reset), client("events", moto_reset)
    events.put_rule(Name="prod-critical", EventPattern='{"source": ["billing"]}')
    events.put_targets(
        Rule="prod-critical", Targets=[{"Id": "pager", "Arn": "arn:aws:sqs:us-east-1:123456789012:pager"}]
    )
    # A queue with our name prefix and our tags, written by someone else, naming their rule.
    lure = tap_tags(rule="prod-critical", bus="default") | {TAG_CREATED: OLD, TAG_HEARTBEAT: OLD, TAG_HOST: "elsewhere"}
    sqs.create_queue(QueueName=f"{TAP_PREFIX}events-1-lure", tags=lure)
    # A foreign rule carrying our tags (copied) but not our name, and one with our name but no tags.
    copied = tap_tags(rule="team-rule", bus="default") | {TAG_CREATED: OLD, TAG_HEARTBEAT: OLD, TAG_HOST: "elsewhere"}
    events.put_rule(
        Name="team-rule", EventPattern='{"source": ["x"]}', Tags=[{"Key": k, "Value": v} for k, v in copied.items()]
    )
    events.put_rule(Name=f"{TAP_PREFIX}events-2-untagged", EventPattern='{"source": ["x"]}')

    removed = await _sweep(moto_reset)

    assert "prod-critical" not in removed and "team-rule" not in removed
    assert _rule_names(events) == sorted(["prod-critical", "team-rule", f"{TAP_PREFIX}events-2-untagged"])
    targets = events.list_targets_by_rule(Rule="prod-critical")["Targets"]
    assert [target["Id"] for target in targets] == ["pager"]
    # The lure queue itself is ours by name and tags and stale: it goes.
    assert sqs.list_queues(QueueNamePrefix=TAP_PREFIX).get("QueueUrls", []) == []


async def test_a_live_tap_with_an_old_creation_time_survives_a_second_run(moto_reset: str) -> None:
    """The first run is a real `tail` process; its tap is backdated two hours and looks as if it
    came from another host, but its heartbeat is fresh: the second run's sweep leaves it alone."""
    sqs, sns = client("sqs", moto_reset), client("sns", moto_reset)
    topic = sns.create_topic(Name="order-notifications")["TopicArn"]
    first = TailProcess("--topic", "order-notifications", "--endpoint-url", moto_reset, "--wait-time", "1",
                        "--format", "jsonl")  # fmt: skip
    try:
        first.wait_err("topic:order-notifications live")
        (queue,) = sqs.list_queues(QueueNamePrefix=TAP_PREFIX)["QueueUrls"]
        sqs.tag_queue(QueueUrl=queue, Tags={TAG_CREATED: OLD, TAG_HOST: "elsewhere"})
        assert sqs.list_queue_tags(QueueUrl=queue)["Tags"][TAG_HEARTBEAT] > OLD

        second = SnsTap("order-notifications", aws=aws(moto_reset), wait_time=1)
        _, statuses = await collect(second, messages=None, timeout=20, stop=lambda e: getattr(e, "state", "") == "live")
        assert statuses[-1].state == "live"
        assert second.removed == []
        assert queue in sqs.list_queues(QueueNamePrefix=TAP_PREFIX)["QueueUrls"]
        # ...and the first run still receives what is published.
        sns.publish(TopicArn=topic, Message=json.dumps(numbered_record(41)))
        first.wait_lines(1)
        assert first.json_lines()[0]["request_id"] == "req-00041"
    finally:
        first.stop()
    assert sqs.list_queues(QueueNamePrefix=TAP_PREFIX).get("QueueUrls", []) == []


async def test_the_heartbeat_is_refreshed_while_the_tap_lives(moto_reset: str) -> None:
    """Backdate everything of a running tap (queue and rule) and say it is on another host: the
    heartbeat brings it back to life before a sweep can call it stale."""
    sqs, events = client("sqs", moto_reset), client("events", moto_reset)
    tap = EventBridgeTap("default", aws=aws(moto_reset), wait_time=1, heartbeat=0.2)
    stale = {TAG_CREATED: OLD, TAG_HEARTBEAT: OLD, TAG_HOST: "elsewhere"}
    done = asyncio.Event()

    async def run() -> None:
        async for event in tap:
            if getattr(event, "state", "") == "live":
                done.set()

    task = asyncio.create_task(run())
    try:
        await asyncio.wait_for(done.wait(), 20)
        (queue,) = sqs.list_queues(QueueNamePrefix=TAP_PREFIX)["QueueUrls"]
        rule = str(tap.rule_name)
        sqs.tag_queue(QueueUrl=queue, Tags=stale)
        rule_arn = events.describe_rule(Name=rule)["Arn"]
        events.tag_resource(ResourceARN=rule_arn, Tags=[{"Key": k, "Value": v} for k, v in stale.items()])

        def refreshed() -> bool:
            queue_beat = sqs.list_queue_tags(QueueUrl=queue)["Tags"][TAG_HEARTBEAT]
            return queue_beat > OLD and _rule_tags(events, rule)[TAG_HEARTBEAT] > OLD

        await asyncio.to_thread(wait_until, refreshed, 10, "a fresh heartbeat on the queue and the rule")
        assert await _sweep(moto_reset) == []
        assert queue in sqs.list_queues(QueueNamePrefix=TAP_PREFIX)["QueueUrls"]
        assert rule in _rule_names(events)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await tap.aclose()
    assert sqs.list_queues(QueueNamePrefix=TAP_PREFIX).get("QueueUrls", []) == []
    assert _rule_names(events) == []


async def test_a_tap_of_a_dead_process_on_this_host_is_swept_at_once(moto_reset: str) -> None:
    sqs, sns, events = client("sqs", moto_reset), client("sns", moto_reset), client("events", moto_reset)
    topic = sns.create_topic(Name="notifications")["TopicArn"]
    dead = {TAG_PID: str(_dead_pid())}
    # Created a second ago, heartbeat fresh: only the gone process makes it an orphan.
    queue = sqs.create_queue(QueueName=f"{TAP_PREFIX}sns-1-dead", tags=tap_tags(topic=topic) | dead)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    rule = f"{TAP_PREFIX}events-1-dead"
    rule_tags = tap_tags(rule=rule, bus="default") | dead
    events.put_rule(
        Name=rule, EventPattern='{"source": ["lambda"]}', Tags=[{"Key": k, "Value": v} for k, v in rule_tags.items()]
    )
    events.put_targets(Rule=rule, Targets=[{"Id": "t", "Arn": queue_arn}])
    # A tap of a live process on this host (this one), just as young: it stays.
    alive = sqs.create_queue(QueueName=f"{TAP_PREFIX}sns-2-alive", tags=tap_tags(topic=topic))["QueueUrl"]

    removed = await _sweep(moto_reset)

    assert queue in removed and rule in removed
    assert sqs.list_queues(QueueNamePrefix=TAP_PREFIX)["QueueUrls"] == [alive]
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []
    assert _rule_names(events) == []


async def test_a_dead_pid_on_another_host_waits_for_its_heartbeat(moto_reset: str) -> None:
    sqs = client("sqs", moto_reset)
    tags = tap_tags() | {TAG_PID: str(_dead_pid()), TAG_HOST: "another-host"}
    queue = sqs.create_queue(QueueName=f"{TAP_PREFIX}sns-1-remote", tags=tags)["QueueUrl"]
    assert await _sweep(moto_reset) == []
    sqs.tag_queue(QueueUrl=queue, Tags={TAG_HEARTBEAT: OLD, TAG_CREATED: OLD})
    assert await _sweep(moto_reset) == [queue]
