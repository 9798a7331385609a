"""ReplaySource over files, MergedSource, and the shared source arguments."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import pytest

from records.files import read_at
from records.message import Message
from records.sources.base import SourceStatus
from records.sources.eventbridge import DEFAULT_PATTERN, EventBridgeTap
from records.sources.merge import MergedSource
from records.sources.replay import ReplaySource
from records.sources.sns import SnsTap
from records.sources.sqs import SqsQueueSource
from tests.factories import numbered_record, session_file
from tui.commands.sources_args import SourceArgumentError, add_source_arguments, sources_from_args


async def _drain(source: Any) -> tuple[list[Message], list[SourceStatus]]:
    messages: list[Message] = []
    statuses: list[SourceStatus] = []
    try:
        async for event in source:
            (messages if isinstance(event, Message) else statuses).append(event)
    finally:
        await source.aclose()
    return messages, statuses


async def test_replay_of_a_session_file_gives_back_what_was_received(tmp_path: Path) -> None:
    path = tmp_path / "session.jsonl"
    places = session_file(path, [0, 0, 0])
    messages, statuses = await _drain(ReplaySource([str(path)]))
    assert [s.state for s in statuses] == ["live", "done"]
    assert [m.meta["MessageId"] for m in messages] == ["m-0", "m-1", "m-2", "m-bad"]
    assert all(m.source == "queue:orders" for m in messages)
    assert [(m.offset, m.length) for m in messages[:3]] == places
    assert messages[0].file == str(path)
    assert read_at(path, messages[1].offset or 0, messages[1].length or 0).data == messages[1].raw
    assert [m.decoded[0].ok for m in messages] == [True, True, True, False]
    assert messages[3].raw == "not json \x1b[31m"


@pytest.mark.timing
async def test_replay_speed_scales_the_original_gaps(tmp_path: Path) -> None:
    path = tmp_path / "timed.jsonl"
    session_file(path, [0, 1.0, 1.0])  # the bad line comes 57 s later; stop before it
    source = ReplaySource([str(path)], speed=10.0)
    started = time.monotonic()
    count = 0
    async for event in source:
        if isinstance(event, Message):
            count += 1
            if count == 3:
                break
    await source.aclose()
    elapsed = time.monotonic() - started
    assert 0.18 <= elapsed < 1.5
    started = time.monotonic()
    messages, _ = await _drain(ReplaySource([str(path)]))
    assert len(messages) == 4 and time.monotonic() - started < 1.0


async def test_replay_of_plain_files_folders_and_a_missing_file(tmp_path: Path) -> None:
    folder = tmp_path / "s3-copy" / "aws" / "lambda" / "async" / "order"
    folder.mkdir(parents=True)
    (folder / "object-1").write_text(json.dumps(numbered_record(1), indent=2))
    (folder / "object-2").write_text(json.dumps(numbered_record(2)))
    messages, statuses = await _drain(ReplaySource([str(tmp_path / "s3-copy")]))
    assert statuses[-1].state == "done"
    assert sorted(m.decoded[0].record.request_id for m in messages if m.decoded[0].record) == ["req-00001", "req-00002"]
    assert all(m.source.startswith("file:") for m in messages)
    messages, statuses = await _drain(ReplaySource([str(tmp_path / "nope.jsonl")]))
    assert messages == [] and statuses[-1].state == "failed" and "no such file" in (statuses[-1].reason or "")
    with pytest.raises(ValueError, match="speed"):
        ReplaySource(["x"], speed=0)


async def test_merge_interleaves_sources_and_ends_when_all_end(tmp_path: Path) -> None:
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    session_file(first, [0, 0])
    session_file(second, [0, 0, 0])
    merged = MergedSource(
        [ReplaySource([str(first)]), ReplaySource([str(second)]), ReplaySource([str(tmp_path / "x")])]
    )
    messages, statuses = await _drain(merged)
    assert len(messages) == 3 + 4
    assert sorted(s.state for s in statuses) == ["done", "done", "failed", "live", "live", "live"]
    assert {s.source for s in statuses} == {f"replay:{first}", f"replay:{second}", f"replay:{tmp_path / 'x'}"}


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_source_arguments(parser)
    return parser.parse_args(argv)


def test_sources_from_args() -> None:
    args = _parse(
        "--queue", "a", "--queue", "arn:aws:sqs:eu-west-1:123456789012:b", "--topic", "t",
        "--bus", "default", "--mode", "consume", "--pollers", "4", "--visibility-timeout", "5",
    )  # fmt: skip
    sources = sources_from_args(args, None)
    assert [type(s) for s in sources] == [SqsQueueSource, SqsQueueSource, SnsTap, EventBridgeTap]
    assert [s.label for s in sources] == ["queue:a", "queue:b", "topic:t", "bus:default"]
    first = sources[0]
    assert isinstance(first, SqsQueueSource)
    assert (first.queue_mode, first.pollers, first.visibility_timeout) == ("consume", 4, 5)
    bus = sources[3]
    assert isinstance(bus, EventBridgeTap) and json.loads(bus.pattern) == DEFAULT_PATTERN
    with pytest.raises(SourceArgumentError, match="at least one source"):
        sources_from_args(_parse(), None)
    with pytest.raises(SourceArgumentError, match="--bus sources only"):
        sources_from_args(_parse("--queue", "a", "--pattern", "{}"), None)
    with pytest.raises(SourceArgumentError, match="not valid JSON"):
        sources_from_args(_parse("--bus", "b", "--pattern", "{source"), None)
    with pytest.raises(SystemExit):
        _parse("--queue", "a", "--pollers", "0")


def test_queue_names_and_regions() -> None:
    from records.sources.sqs import queue_display_name, queue_region

    assert queue_region("https://sqs.eu-west-1.amazonaws.com/123456789012/q") == "eu-west-1"
    assert queue_region("https://eu-west-2.queue.amazonaws.com/123456789012/q") == "eu-west-2"
    assert queue_region("arn:aws:sqs:ap-south-1:123456789012:q") == "ap-south-1"
    assert queue_region("http://127.0.0.1:5000/123456789012/q") is None
    assert queue_region("q") is None
    assert queue_display_name("http://127.0.0.1:5000/123456789012/orders") == "orders"
    assert SnsTap("arn:aws:sns:eu-central-1:123456789012:notes").region == "eu-central-1"
    with pytest.raises(ValueError, match="peek or consume"):
        SqsQueueSource("q", mode="tap")  # type: ignore[arg-type]
