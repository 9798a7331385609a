"""ReplaySource over an S3 prefix laid out as Lambda's S3 failure destination writes it (real moto)."""

from __future__ import annotations

import gzip
import json

import pytest

from records.message import Message
from records.sources.base import SourceStatus
from records.sources.replay import ReplaySource
from tests.factories import numbered_record
from tests.integration.sources_helpers import aws, client


@pytest.mark.parametrize("facts", [False, True])  # True: as `replay` asks (S3 is still read in-process)
async def test_replay_an_s3_prefix(moto_reset: str, facts: bool) -> None:
    s3 = client("s3", moto_reset)
    s3.create_bucket(Bucket="order-failures")
    prefix = "aws/lambda/async/update-inventory/2026/11/27"
    s3.put_object(
        Bucket="order-failures", Key=f"{prefix}/a", Body=json.dumps(numbered_record(1, condition="RetriesExhausted"))
    )
    s3.put_object(
        Bucket="order-failures", Key=f"{prefix}/b", Body=gzip.compress(json.dumps(numbered_record(2)).encode())
    )
    s3.put_object(Bucket="order-failures", Key=f"{prefix}/c", Body=b"\xff not text")
    s3.put_object(Bucket="order-failures", Key="elsewhere/d", Body=json.dumps(numbered_record(3)))
    source = ReplaySource([f"s3://order-failures/{prefix}/"], aws=aws(moto_reset), facts=facts)
    messages: list[Message] = []
    statuses: list[SourceStatus] = []
    try:
        async for event in source:
            if isinstance(event, Message):
                messages.append(event)
            else:
                assert isinstance(event, SourceStatus)  # S3 is read in-process: no facts batches
                statuses.append(event)
    finally:
        await source.aclose()
    assert [s.state for s in statuses] == ["live", "done"]
    assert [m.source for m in messages] == [f"s3://order-failures/{prefix}/{key}" for key in "abc"]
    decoded = [m.decoded[0] for m in messages]
    assert [d.record.request_id if d.record else None for d in decoded] == ["req-00001", "req-00002", None]
    assert "not UTF-8" in (decoded[2].error or "")
    assert messages[0].meta["Key"] == f"{prefix}/a"

    missing = ReplaySource(["s3://no-such-bucket/x"], aws=aws(moto_reset))
    statuses = [event async for event in missing if isinstance(event, SourceStatus)]
    await missing.aclose()
    assert statuses[-1].state == "failed"
    assert (statuses[-1].reason or "").startswith("S3 location s3://no-such-bucket/x does not exist")


async def test_replay_an_s3_prefix_over_many_pages(moto_reset: str) -> None:
    s3 = client("s3", moto_reset)
    s3.create_bucket(Bucket="order-failures")
    keys = [f"aws/lambda/async/order/2026/11/27/{number:02d}" for number in range(7)]
    for number, key in enumerate(keys):
        s3.put_object(Bucket="order-failures", Key=key, Body=json.dumps(numbered_record(number)))
    s3.put_object(Bucket="order-failures", Key="aws/lambda/async/order/2026/11/27/folder/", Body=b"")
    source = ReplaySource(["s3://order-failures/aws/lambda/async/order/"], aws=aws(moto_reset))
    source.s3_page_size = 2  # four list requests (the paginator follows S3's continuation tokens)
    try:
        messages = [event async for event in source if isinstance(event, Message)]
    finally:
        await source.aclose()
    assert [message.meta["Key"] for message in messages] == keys
    assert [m.decoded[0].record.request_id for m in messages if m.decoded[0].record] == [
        f"req-{number:05d}" for number in range(7)
    ]
