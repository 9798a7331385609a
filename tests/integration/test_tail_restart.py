"""An endpoint that goes away and comes back: tail reports it, retries with back-off and loses nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from records.files import read_inputs
from tests.integration.sources_fixtures import MotoProcess, TailProcess, client, record, send_bodies


@pytest.fixture
def moto_process() -> Iterator[MotoProcess]:
    server = MotoProcess()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_moto_killed_and_restarted_mid_tail(moto_process: MotoProcess, tmp_path: Path) -> None:
    endpoint = moto_process.endpoint
    sqs = client("sqs", endpoint)
    url = sqs.create_queue(QueueName="order-failures")["QueueUrl"]
    before = send_bodies(sqs, url, [json.dumps(record(i)) for i in range(5)])
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
        after = send_bodies(sqs, url, [json.dumps(record(i)) for i in range(5, 10)])
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
