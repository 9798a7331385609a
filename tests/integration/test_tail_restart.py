"""An endpoint that goes away and comes back: tail reports it, retries with back-off and loses nothing."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from records.files import read_inputs
from tests.factories import numbered_record
from tests.integration.sources_helpers import MotoProcess, TailProcess, client, send_bodies, wait_until


@pytest.fixture
def moto_process() -> Iterator[MotoProcess]:
    server = MotoProcess()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.slow
def test_moto_killed_and_restarted_mid_tail(moto_process: MotoProcess, tmp_path: Path) -> None:
    endpoint = moto_process.endpoint
    sqs = client("sqs", endpoint)
    url = sqs.create_queue(QueueName="order-failures")["QueueUrl"]
    before = send_bodies(sqs, url, [json.dumps(numbered_record(i)) for i in range(5)])
    save = tmp_path / "session.jsonl"
    tail = TailProcess(
        "--queue", "order-failures", "--mode", "consume", "--save", str(save),
        "--wait-time", "1", "--format", "jsonl", "--endpoint-url", endpoint,
    )  # fmt: skip
    try:
        tail.wait_lines(5)
        moto_process.kill()
        tail.wait_err("reconnecting")
        moto_process.start()
        # The new server starts empty: the queue is created again (the tail keeps retrying meanwhile).
        sqs = client("sqs", endpoint)
        url = sqs.create_queue(QueueName="order-failures")["QueueUrl"]
        after = send_bodies(sqs, url, [json.dumps(numbered_record(i)) for i in range(5, 10)])
        tail.wait_lines(10, timeout=40)
        assert tail.process.poll() is None, "tail kept running"
    finally:
        tail.stop()
    lines = tail.json_lines()
    assert sorted(line["request_id"] for line in lines) == [f"req-{i:05d}" for i in range(10)]
    assert any("reconnecting" in line and "cannot reach the endpoint" in line for line in tail.err), tail.err
    assert any(line.endswith("queue:order-failures live") for line in tail.err[-3:]), tail.err
    saved = [item.meta["MessageId"] for item in read_inputs([save])]
    assert sorted(saved) == sorted(before + after)


@pytest.mark.slow
def test_sns_tap_sets_itself_up_again_after_a_restart(moto_process: MotoProcess) -> None:
    endpoint = moto_process.endpoint
    topic = client("sns", endpoint).create_topic(Name="order-notifications")["TopicArn"]
    tail = TailProcess(
        "--topic", "order-notifications", "--wait-time", "1", "--format", "jsonl", "--endpoint-url", endpoint
    )  # fmt: skip
    try:
        tail.wait_err("topic:order-notifications live")
        client("sns", endpoint).publish(TopicArn=topic, Message=json.dumps(numbered_record(1)))
        tail.wait_lines(1)
        moto_process.kill()
        tail.wait_err("reconnecting")
        moto_process.start()
        sns = client("sns", endpoint)
        topic = sns.create_topic(Name="order-notifications")["TopicArn"]
        tail.wait_err("setting the tap up again", timeout=30)
        wait_until(
            lambda: len(sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]) == 1, 30, "resubscribed"
        )
        sns.publish(TopicArn=topic, Message=json.dumps(numbered_record(2)))
        tail.wait_lines(2)
        tail.signal(signal.SIGTERM)
        assert tail.wait(30) == 143, tail.err
    finally:
        tail.stop()
    assert [line["request_id"] for line in tail.json_lines()] == ["req-00001", "req-00002"]
    sqs = client("sqs", endpoint)
    assert sqs.list_queues(QueueNamePrefix="lambdest-tap-").get("QueueUrls", []) == []
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []
    assert not any("clean-up" in line for line in tail.err), tail.err


def test_endpoint_restarted_within_a_second_is_seen_and_waited_out(moto_process: MotoProcess) -> None:
    """botocore's own retries used to hide a quick restart from the source: its next call found the
    new, empty server, and the queue that "does not exist" ended the tail (exit 1) at once. With
    the source's back-off the only retrying, the outage is seen, reported as reconnecting, and the
    missing queue waited for (the documented grace) until it is created again."""
    endpoint = moto_process.endpoint
    sqs = client("sqs", endpoint)
    url = sqs.create_queue(QueueName="order-failures")["QueueUrl"]
    send_bodies(sqs, url, [json.dumps(numbered_record(1))])
    tail = TailProcess(
        "--queue", "order-failures", "--wait-time", "1", "--format", "jsonl", "--endpoint-url", endpoint
    )  # fmt: skip
    try:
        tail.wait_lines(1)
        moto_process.kill()
        moto_process.start()  # back on the same port at once, empty
        tail.wait_err("reconnecting", timeout=20)
        wait_until(lambda: any("does not exist" in line for line in tail.err), 20, "the missing queue reported")
        assert tail.process.poll() is None, f"tail ended: {tail.err}"
        sqs = client("sqs", endpoint)
        url = sqs.create_queue(QueueName="order-failures")["QueueUrl"]
        send_bodies(sqs, url, [json.dumps(numbered_record(2))])
        tail.wait_lines(2, timeout=40)
        assert tail.process.poll() is None, "tail kept running"
    finally:
        tail.stop()
    assert [line["request_id"] for line in tail.json_lines()] == ["req-00001", "req-00002"]
    assert any("cannot reach the endpoint" in line for line in tail.err), tail.err
    assert any("waiting for the queue to reappear" in line for line in tail.err), tail.err
    assert any(line.endswith("queue:order-failures live") for line in tail.err[-3:]), tail.err
