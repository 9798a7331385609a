"""SqsQueueSource against a real moto server: consume, peek, redrive refusal, names/URLs/ARNs."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from records.files import SessionWriter, read_at, read_inputs
from records.sources.faults import Backoff
from records.sources.sqs import SqsQueueSource
from tests.factories import numbered_record
from tests.integration.sources_helpers import aws, client, collect, queue_depth, send_bodies


def _bodies(total: int, malformed_every: int = 20) -> list[str]:
    bodies = []
    for index in range(total):
        if index % malformed_every == 7:
            bodies.append(f"not json {index} \x1b[31m")
        else:
            bodies.append(json.dumps(numbered_record(index)))
    return bodies


@pytest.mark.slow
async def test_consume_writes_then_deletes_everything(moto_reset: str, tmp_path: Path) -> None:
    sqs = client("sqs", moto_reset)
    url = sqs.create_queue(QueueName="order-failures")["QueueUrl"]
    bodies = _bodies(200)
    ids = send_bodies(sqs, url, bodies)
    session_path = tmp_path / "session.jsonl"
    with SessionWriter(session_path) as session:
        source = SqsQueueSource(
            "order-failures", mode="consume", session=session, aws=aws(moto_reset), wait_time=1, pollers=2
        )
        got, statuses = await collect(source, messages=200, timeout=60)
    assert [status.state for status in statuses][:2] == ["connecting", "live"]
    assert sorted(message.meta["MessageId"] for message in got) == sorted(ids)
    assert queue_depth(sqs, url) == 0
    bad = [message for message in got if not message.decoded[0].ok]
    assert len(bad) == 10
    assert all(message.raw.startswith("not json") for message in bad)
    assert all("invalid JSON" in (message.decoded[0].error or "") for message in bad)
    # Every message points at its line in the session file, and the file replays to the same bodies.
    for message in got[:20]:
        assert message.file == str(session_path) and message.offset is not None and message.length is not None
        assert read_at(session_path, message.offset, message.length).data == message.raw
    replayed = list(read_inputs([session_path]))
    assert sorted(item.data for item in replayed) == sorted(bodies)
    assert {item.meta["MessageId"] for item in replayed} == set(ids)


async def test_peek_deletes_nothing_and_shows_each_message_once(moto_reset: str) -> None:
    sqs = client("sqs", moto_reset)
    url = sqs.create_queue(QueueName="order-notifications")["QueueUrl"]
    ids = send_bodies(sqs, url, (json.dumps(numbered_record(i)) for i in range(15)))
    # A 1-second visibility timeout makes the messages come round again while we still poll:
    # 3 seconds is three passes over the queue.
    source = SqsQueueSource(url, mode="peek", aws=aws(moto_reset), wait_time=1, visibility_timeout=1)
    got, statuses = await collect(source, messages=None, timeout=3.0)
    assert "failed" not in [status.state for status in statuses]
    assert sorted(message.meta["MessageId"] for message in got) == sorted(ids), "each message shown exactly once"
    assert all(message.meta["Attributes"]["ApproximateReceiveCount"] == "1" for message in got)
    assert queue_depth(sqs, url) == 15, "peek deleted nothing"
    # aclose() released the held messages at once, and they had been received again meanwhile.
    again = sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["ApproximateReceiveCount"]
    )["Messages"]
    assert len(again) == 10
    assert max(int(m["Attributes"]["ApproximateReceiveCount"]) for m in again) >= 3, "peek kept receiving"


async def test_peek_refuses_a_queue_with_a_redrive_policy(moto_reset: str) -> None:
    sqs = client("sqs", moto_reset)
    dlq_url = sqs.create_queue(QueueName="orders-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 3})
    url = sqs.create_queue(QueueName="orders", Attributes={"RedrivePolicy": policy})["QueueUrl"]
    send_bodies(sqs, url, [json.dumps(numbered_record(1))])
    source = SqsQueueSource("orders", aws=aws(moto_reset), wait_time=1)
    got, statuses = await collect(source, messages=1, timeout=10)
    assert got == []
    assert statuses[-1].state == "failed"
    reason = statuses[-1].reason or ""
    assert "redrive policy" in reason and "maxReceiveCount 3" in reason and "orders-dlq" in reason
    assert "--allow-redrive-peek" in reason
    assert queue_depth(sqs, url) == 1
    allowed = SqsQueueSource("orders", aws=aws(moto_reset), wait_time=1, allow_redrive_peek=True)
    got, _ = await collect(allowed, messages=1, timeout=10)
    assert [message.decoded[0].record.request_id for message in got if message.decoded[0].record] == ["req-00001"]


async def test_queue_named_by_arn_and_url_and_missing_queue(moto_reset: str) -> None:
    sqs = client("sqs", moto_reset)
    url = sqs.create_queue(QueueName="by-arn")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    send_bodies(sqs, url, [json.dumps(numbered_record(2)), json.dumps(numbered_record(3))])
    source = SqsQueueSource(arn, aws=aws(moto_reset), wait_time=1)
    assert source.label == "queue:by-arn"
    got, _ = await collect(source, messages=2, timeout=10)
    assert len(got) == 2 and source.queue_url == url
    missing = SqsQueueSource("no-such-queue", aws=aws(moto_reset), wait_time=1, backoff=lambda: Backoff(0.01, 0.05))
    got, statuses = await collect(missing, messages=1, timeout=10)
    assert got == [] and statuses[-1].state == "failed"
    assert statuses[-1].reason is not None and statuses[-1].reason.startswith("queue no-such-queue does not exist")


async def test_consume_dedupes_by_message_id_and_keeps_transport_metadata(moto_reset: str) -> None:
    sqs = client("sqs", moto_reset)
    url = sqs.create_queue(QueueName="with-attributes")["QueueUrl"]
    sqs.send_message(
        QueueUrl=url,
        MessageBody=json.dumps(numbered_record(4)),
        MessageAttributes={"origin": {"DataType": "String", "StringValue": "test"}},
    )
    source = SqsQueueSource(url, mode="consume", aws=aws(moto_reset), wait_time=1, pollers=3)
    got, _ = await collect(source, messages=1, timeout=10)
    meta = got[0].meta
    assert meta["MessageAttributes"]["origin"]["StringValue"] == "test"
    assert meta["Attributes"]["ApproximateReceiveCount"] == "1"
    assert got[0].decoded[0].meta["MessageId"] == meta["MessageId"]
    assert queue_depth(sqs, url) == 0


async def test_a_quiet_queue_is_live_once_its_first_long_poll_is_issued(moto_reset: str) -> None:
    sqs = client("sqs", moto_reset)
    sqs.create_queue(QueueName="quiet-failures")
    source = SqsQueueSource("quiet-failures", mode="peek", aws=aws(moto_reset), wait_time=20)
    started = time.monotonic()
    _, statuses = await collect(
        source, messages=None, timeout=20, stop=lambda event: getattr(event, "state", "") == "live"
    )
    assert [status.state for status in statuses] == ["connecting", "live"]
    assert time.monotonic() - started < 5, "live as soon as the receive is issued, not after a 20 s poll"


async def test_a_missing_queue_never_says_live(moto_reset: str) -> None:
    source = SqsQueueSource("no-such-queue", mode="peek", aws=aws(moto_reset), wait_time=20)
    _, statuses = await collect(source, messages=None, timeout=20)
    assert [status.state for status in statuses] == ["connecting", "failed"]
