"""`lambdest-tui tail` as a subprocess against a real moto server."""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Any

import pytest

from records.files import read_inputs
from records.lines import dumps_json_line
from tests.factories import numbered_record
from tests.integration.sources_helpers import (
    TailProcess,
    client,
    drain_ids,
    queue_depth,
    send_bodies,
    wait_until,
)

FAST = ("--wait-time", "1", "--format", "jsonl")


def _bodies() -> list[str]:
    bodies = []
    for index in range(200):
        if index % 20 == 3:
            bodies.append(["{broken", "", "null", '{"orderId": "x"}', "\x1b[2Jplain text"][index % 5] + f" #{index}")
        else:
            bodies.append(json.dumps(numbered_record(index, condition="Success" if index % 3 else "RetriesExhausted")))
    return bodies


@pytest.mark.slow
def test_tail_consume_prints_every_message_and_empties_the_queue(moto_reset: str, tmp_path: Path) -> None:
    sqs = client("sqs", moto_reset)
    url = sqs.create_queue(QueueName="order-failures")["QueueUrl"]
    bodies = _bodies()
    send_bodies(sqs, url, bodies)
    save = tmp_path / "session.jsonl"
    tail = TailProcess(
        "--queue", "order-failures", "--mode", "consume", "--save", str(save), "--max-records", "200",
        "--endpoint-url", moto_reset, *FAST,
    )  # fmt: skip
    assert tail.wait(60) == 0, tail.err
    lines = tail.json_lines()
    assert len(lines) == 200
    bad = [line for line in lines if not line["ok"]]
    assert len(bad) == 10
    assert all(line["error"] and line["raw"].endswith(f"#{line['raw'].rsplit('#', 1)[1]}") for line in bad)
    assert sorted(line["raw"] for line in bad) == sorted(body for body in bodies if not body.startswith('{"version'))
    good = [line for line in lines if line["ok"]]
    assert len({line["request_id"] for line in good}) == 190
    assert {line["input"] for line in lines} == {"queue:order-failures"}
    assert queue_depth(sqs, url) == 0
    # The saved file replays to exactly the same lines.
    replayed = [
        dumps_json_line(decoded, item.source or "") for item in read_inputs([save]) for decoded in item.decode()
    ]
    assert sorted(replayed) == sorted(tail.out)


@pytest.mark.slow
def test_tail_peek_removes_nothing_and_prints_nothing_twice(moto_reset: str) -> None:
    sqs = client("sqs", moto_reset)
    url = sqs.create_queue(QueueName="order-notifications")["QueueUrl"]
    ids = send_bodies(sqs, url, [json.dumps(numbered_record(i)) for i in range(12)])
    tail = TailProcess(
        "--queue", url, "--visibility-timeout", "1", "--idle-timeout", "3", "--endpoint-url", moto_reset, *FAST
    )
    assert tail.wait(60) == 0, tail.err
    lines = tail.json_lines()
    assert sorted(line["request_id"] for line in lines) == [f"req-{i:05d}" for i in range(12)]
    assert queue_depth(sqs, url) == 12
    assert sorted(drain_ids(sqs, url, quiet_polls=1)) == sorted(ids)


def test_tail_text_format_shows_escapes_not_terminal_codes(moto_reset: str) -> None:
    sqs = client("sqs", moto_reset)
    url = sqs.create_queue(QueueName="texts")["QueueUrl"]
    hostile = numbered_record(1)
    hostile["responsePayload"] = {"errorMessage": "\x1b[31mred\x07", "errorType": "E\x1b]0;title\x07"}
    hostile["responseContext"]["functionError"] = "Unhandled"
    send_bodies(sqs, url, [json.dumps(hostile), "\x1b[2J not json"])
    tail = TailProcess("--queue", "texts", "--max-records", "2", "--wait-time", "1", "--endpoint-url", moto_reset)
    assert tail.wait(30) == 0, tail.err
    output = "\n".join(tail.out)
    assert "\x1b" not in output and "\x07" not in output
    assert "\\e[31mred" in output and "\\e[2J not json" in output


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--queue", "no-such-queue"), "queue no-such-queue does not exist"),
        (("--topic", "no-such-topic"), "topic no-such-topic does not exist"),
        (("--bus", "no-such-bus"), "event bus no-such-bus does not exist"),
    ],
)
def test_tail_missing_resource_is_one_clear_line_and_exit_1(
    moto_reset: str, args: tuple[str, ...], expected: str
) -> None:
    tail = TailProcess(*args, "--quiet", "--endpoint-url", moto_reset, *FAST)
    assert tail.wait(30) == 1
    assert tail.out == []
    assert len(tail.err) == 1 and expected in tail.err[0], tail.err


def test_tail_without_credentials_says_how_to_fix_it(moto_reset: str, tmp_path: Path) -> None:
    tail = TailProcess(
        "--queue", "anything", "--quiet", "--endpoint-url", moto_reset, *FAST,
        unset=("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"),
        env={"HOME": str(tmp_path)},
    )  # fmt: skip
    assert tail.wait(30) == 1
    assert len(tail.err) == 1 and "no AWS credentials found" in tail.err[0], tail.err


def test_tail_usage_errors_exit_2(moto_reset: str) -> None:
    assert TailProcess("--endpoint-url", moto_reset).wait(30) == 2
    tail = TailProcess("--queue", "q", "--pattern", "{}", "--endpoint-url", moto_reset)
    assert tail.wait(30) == 2 and "--pattern applies to --bus" in "\n".join(tail.err)


def _tap_resources(endpoint: str) -> tuple[list[str], list[Any], list[Any]]:
    sqs, sns, events = client("sqs", endpoint), client("sns", endpoint), client("events", endpoint)
    queues = sqs.list_queues(QueueNamePrefix="lambdest-tap-").get("QueueUrls", [])
    subscriptions = sns.list_subscriptions()["Subscriptions"]
    rules = events.list_rules(NamePrefix="lambdest-tap-")["Rules"]
    return queues, subscriptions, rules


@pytest.mark.slow
@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_tail_sns_tap_removes_its_resources_on_signals(moto_reset: str, sig: int, code: int) -> None:
    sns = client("sns", moto_reset)
    topic = sns.create_topic(Name="order-notifications")["TopicArn"]
    tail = TailProcess("--topic", "order-notifications", "--endpoint-url", moto_reset, *FAST)
    try:
        tail.wait_err("topic:order-notifications live")
        queues, subscriptions, _ = _tap_resources(moto_reset)
        assert len(queues) == 1 and len(subscriptions) == 1
        sns.publish(TopicArn=topic, Message=json.dumps(numbered_record(7)))
        tail.wait_lines(1)
        tail.signal(sig)
        assert tail.wait(30) == code
    finally:
        tail.stop()
    line = tail.json_lines()[0]
    assert line["request_id"] == "req-00007" and line["envelope"] == ["sns"]
    assert _tap_resources(moto_reset) == ([], [], [])


@pytest.mark.slow
def test_tail_eventbridge_tap_cleans_up_after_max_records(moto_reset: str) -> None:
    events = client("events", moto_reset)
    tail = TailProcess("--bus", "default", "--max-records", "1", "--endpoint-url", moto_reset, *FAST)
    try:
        tail.wait_err("bus:default live")
        assert len(_tap_resources(moto_reset)[2]) == 1
        events.put_events(
            Entries=[
                {
                    "Source": "aws.lambda",
                    "DetailType": "Lambda Function Invocation Result - Failure",
                    "Detail": json.dumps(numbered_record(8, condition="RetriesExhausted")),
                }
            ]
        )
        assert tail.wait(30) == 0
    finally:
        tail.stop()
    line = tail.json_lines()[0]
    assert line["condition"] == "RetriesExhausted" and line["envelope"] == ["eventbridge"]
    assert _tap_resources(moto_reset) == ([], [], [])


@pytest.mark.slow
def test_kill_9_of_a_consuming_tail_loses_nothing(moto_reset: str, tmp_path: Path) -> None:
    sqs = client("sqs", moto_reset)
    url = sqs.create_queue(QueueName="orders-kill")["QueueUrl"]
    ids = send_bodies(sqs, url, [json.dumps(numbered_record(i)) for i in range(150)])
    save = tmp_path / "session.jsonl"
    tail = TailProcess(
        "--queue", "orders-kill", "--mode", "consume", "--save", str(save), "--visibility-timeout", "1",
        "--pollers", "3", "--endpoint-url", moto_reset, *FAST,
    )  # fmt: skip
    try:
        wait_until(lambda: save.exists() and save.read_bytes().count(b"\n") >= 40, 30, "40 saved messages")
        tail.signal(signal.SIGKILL)
        tail.wait(10)
    finally:
        tail.stop()
    saved = {item.meta["MessageId"] for item in read_inputs([save])}
    remaining = set(drain_ids(sqs, url, quiet_polls=2))
    assert 40 <= len(saved) < 150
    assert saved | remaining == set(ids), "every message is in the session file or still in the queue"


def test_tail_consume_without_save_keeps_a_session_file(moto_reset: str, tmp_path: Path) -> None:
    sqs = client("sqs", moto_reset)
    url = sqs.create_queue(QueueName="auto-session")["QueueUrl"]
    ids = send_bodies(sqs, url, [json.dumps(numbered_record(1)), json.dumps(numbered_record(2))])
    tail = TailProcess(
        "--queue", "auto-session", "--mode", "consume", "--max-records", "2", "--endpoint-url", moto_reset, *FAST,
        env={"XDG_STATE_HOME": str(tmp_path)},
    )  # fmt: skip
    assert tail.wait(30) == 0, tail.err
    sessions = list((tmp_path / "lambdest-tui" / "sessions").glob("tail-*.jsonl"))
    assert len(sessions) == 1 and any(str(sessions[0]) in line for line in tail.err)
    assert sorted(item.meta["MessageId"] for item in read_inputs(sessions)) == sorted(ids)
    assert queue_depth(sqs, url) == 0
