"""A closed terminal (SIGHUP: a killed tmux session, a dropped SSH connection) removes the taps like
SIGTERM does: `tail` as a subprocess, `watch` as a subprocess on a real pseudo-terminal that is then
hung up; both against a real moto server."""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Any

import pytest

from tests.factories import numbered_record
from tests.integration.pty_fixtures import PtyProcess
from tests.integration.sources_helpers import TailProcess, client, wait_until

FAST = ("--wait-time", "1", "--format", "jsonl")


def _tap_resources(endpoint: str) -> tuple[list[str], list[str], list[str]]:
    sqs, sns, events = client("sqs", endpoint), client("sns", endpoint), client("events", endpoint)
    queues = sqs.list_queues(QueueNamePrefix="lambdest-tap-").get("QueueUrls", [])
    subscriptions = [s["SubscriptionArn"] for s in sns.list_subscriptions()["Subscriptions"]]
    rules = [
        rule["Name"]
        for bus in ("default", "orders")
        for rule in events.list_rules(EventBusName=bus, NamePrefix="lambdest-tap-")["Rules"]
    ]
    return queues, subscriptions, rules


def _tap_ready(endpoint: str, kind: str) -> bool:
    """The tap is set up to its last step: the subscription, or the rule's target."""
    queues, subscriptions, rules = _tap_resources(endpoint)
    if len(queues) != 1:
        return False
    if kind == "topic":
        return len(subscriptions) == 1 and not rules
    targets = client("events", endpoint).list_targets_by_rule(Rule=rules[0], EventBusName="orders") if rules else {}
    return not subscriptions and len(rules) == 1 and bool(targets.get("Targets"))


def _publish(endpoint: str, kind: str) -> None:
    if kind == "topic":
        sns = client("sns", endpoint)
        sns.publish(
            TopicArn=sns.create_topic(Name="order-notifications")["TopicArn"], Message=json.dumps(numbered_record(5))
        )
    else:
        client("events", endpoint).put_events(
            Entries=[
                {
                    "Source": "aws.lambda",
                    "DetailType": "Lambda Function Invocation Result - Success",
                    "Detail": json.dumps(numbered_record(5)),
                    "EventBusName": "orders",
                }
            ]
        )


def _prepare(endpoint: str) -> None:
    client("sns", endpoint).create_topic(Name="order-notifications")
    client("events", endpoint).create_event_bus(Name="orders")


SOURCES = {"topic": ("--topic", "order-notifications"), "bus": ("--bus", "orders")}
LIVE = {"topic": "topic:order-notifications live", "bus": "bus:orders live"}


@pytest.mark.parametrize("kind", ["topic", "bus"])
def test_tail_removes_its_tap_on_sighup(moto_reset: str, kind: str) -> None:
    _prepare(moto_reset)
    tail = TailProcess(*SOURCES[kind], "--endpoint-url", moto_reset, *FAST)
    try:
        tail.wait_err(LIVE[kind])
        queues, subscriptions, rules = _tap_resources(moto_reset)
        assert len(queues) == 1 and (len(subscriptions), len(rules)) == ((1, 0) if kind == "topic" else (0, 1))
        _publish(moto_reset, kind)
        tail.wait_lines(1)
        tail.signal(signal.SIGHUP)
        assert tail.wait(30) == 129, tail.err
    finally:
        tail.stop()
    assert tail.json_lines()[0]["request_id"] == "req-00005"
    assert _tap_resources(moto_reset) == ([], [], [])


@pytest.mark.parametrize(
    ("kind", "how", "code"), [("topic", "hang up", 129), ("bus", "hang up", 129), ("topic", "SIGTERM", 143)]
)
def test_watch_removes_its_tap_when_its_terminal_is_closed(
    moto_reset: str, kind: str, how: str, code: int, tmp_path: Path
) -> None:
    _prepare(moto_reset)
    save = tmp_path / "session.jsonl"
    watch = PtyProcess("watch", *SOURCES[kind], "--wait-time", "1", "--save", str(save), "--endpoint-url", moto_reset)
    try:
        wait_until(lambda: _tap_ready(moto_reset, kind), 30, "the tap")
        _publish(moto_reset, kind)
        wait_until(lambda: save.exists() and save.stat().st_size > 0, 30, "the record in the session file")
        if how == "hang up":
            watch.hang_up()
        else:
            watch.process.send_signal(signal.SIGTERM)
        assert watch.wait(30) == code
    finally:
        watch.stop()
    assert _tap_resources(moto_reset) == ([], [], [])
    saved: Any = json.loads(save.read_text().splitlines()[0])
    assert "req-00005" in json.dumps(saved)
    if how == "SIGTERM":
        assert "session saved in" in watch.text()
