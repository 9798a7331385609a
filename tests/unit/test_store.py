"""Re-reading records on demand, saving sessions that replay identically, and row size (records.store)."""

from __future__ import annotations

import json
import tracemalloc
from dataclasses import replace
from pathlib import Path

import pytest

from records.decode import decode
from records.files import SessionWriter, read_inputs
from records.message import Message
from records.store.record_store import RecordStore
from records.store.rows import RowSummary
from tests.factories import declined, happy_order, message, out_of_stock, sns


def written(writer: SessionWriter, body: str, source: str, meta: dict[str, object] | None = None) -> Message:
    """A message as a live source delivers it after writing it to the session file."""
    meta = meta or {}
    received = "2026-11-27T10:00:05.000Z"
    offset, length = writer.append(body, meta, source, received)
    return Message(
        raw=body,
        source=source,
        received=received,
        meta=meta,
        decoded=tuple(decode(body, meta=meta)),
        file=str(writer.path),
        offset=offset,
        length=length,
    )


def replayed(path: Path) -> list[Message]:
    """Messages read back from a file as a replay delivers them."""
    messages = []
    for item in read_inputs([path]):
        assert isinstance(item.data, str)
        messages.append(
            Message(
                raw=item.data,
                source=item.source or f"file:{item.label}",
                received=item.received or "2026-01-01T00:00:00.000Z",
                meta=dict(item.meta),
                decoded=tuple(item.decode()),
                file=str(path) if item.offset is not None else None,
                offset=item.offset,
                length=item.length,
            )
        )
    return messages


def comparable(row: RowSummary) -> RowSummary:
    return replace(row, file=None, offset=None, length=None)


def test_load_rereads_the_record_from_its_file(tmp_path: Path) -> None:
    session = tmp_path / "session.jsonl"
    store = RecordStore(cache_size=1, recent_raw=0)
    with SessionWriter(session) as writer:
        _order, _inventory, rollback = out_of_stock("L-1")
        first = written(writer, sns(rollback), "topic:order-notifications", {"MessageId": "m-1"})
        second = written(writer, json.dumps(declined("L-2")), "queue:order-failures")
        writer.sync()
        store.ingest(first)
        store.ingest(second)
    assert store.raws.in_memory(0) is None  # nothing of it is held: it must come from the file

    loaded = store.load(0)
    assert loaded.record is not None
    assert loaded.record.function_name == "rollback-order"
    assert loaded.envelope == ("sns",)
    assert loaded.meta["MessageId"] == "m-1"
    payload = loaded.record.request_payload
    assert isinstance(payload, dict) and payload["requestContext"]["condition"] == "RetriesExhausted"
    assert store.raw(0) == first.raw
    assert store.row(0).file == str(session)
    assert store.load(1).correlation_id == "L-2"

    session.write_bytes(b"")  # the file went away under us: a clear reason, no exception
    gone = RecordStore(cache_size=0, recent_raw=0)
    gone.ingest(first)
    result = gone.load(0)
    assert not result.ok
    assert result.error is not None and "could not re-read this record" in result.error
    assert gone.raw(0) == ""


def test_load_of_a_message_that_has_no_file_uses_the_kept_raw_text() -> None:
    store = RecordStore(cache_size=0)
    store.ingest(message(declined("M-1")))
    store.ingest(message("{not json"))
    assert store.load(0).correlation_id == "M-1"
    undecodable = store.load(1)
    assert not undecodable.ok and undecodable.raw == "{not json"
    assert store.row(1).file is None


def test_recent_messages_load_before_the_session_file_is_flushed(tmp_path: Path) -> None:
    store = RecordStore(cache_size=0)
    with SessionWriter(tmp_path / "s.jsonl") as writer:
        live = written(writer, json.dumps(declined("F-1")), "queue:order-failures")  # not synced yet
        store.ingest(live)
        assert store.load(0).correlation_id == "F-1"


def test_save_and_replay_give_the_same_rows(tmp_path: Path) -> None:
    session = tmp_path / "session.jsonl"
    store = RecordStore()
    _order, inventory = happy_order("P-1")
    lambda_event = {
        "Records": [
            {"eventSource": "aws:sqs", "messageId": "a", "body": json.dumps(declined("P-3"))},
            {"eventSource": "aws:sqs", "messageId": "b", "body": json.dumps(declined("P-4"))},
        ]
    }
    with SessionWriter(session) as writer:
        store.ingest(written(writer, sns(inventory), "topic:order-notifications", {"MessageId": "x1"}))
        store.ingest(written(writer, json.dumps(declined("P-2")), "queue:order-failures", {"MessageId": "x2"}))
        writer.sync()
    store.ingest(message(json.dumps(lambda_event), source="file:logs.json"))  # held in memory only
    store.ingest(message("garbage \x1b[31m", source="queue:order-failures"))
    assert len(store) == 5

    saved = tmp_path / "saved.jsonl"
    assert store.save(saved) == 4  # four messages; the Lambda event holds two records
    again = RecordStore()
    for replay in replayed(saved):
        again.ingest(replay)

    assert [comparable(row) for row in again] == [comparable(row) for row in store]
    assert again.stats() == store.stats()
    for index in range(len(store)):
        assert again.load(index).raw == store.load(index).raw
        assert again.load(index).meta == store.load(index).meta
    # lines of the session file are copied byte for byte
    session_lines = session.read_bytes().splitlines()
    assert saved.read_bytes().splitlines()[:2] == session_lines

    # saving the replayed store gives the same file again
    twice = tmp_path / "twice.jsonl"
    again.save(twice)
    assert twice.read_bytes() == saved.read_bytes()


def test_save_a_filtered_view(tmp_path: Path) -> None:
    from records.store.views import RecordFilter, RecordView

    store = RecordStore()
    _order, inventory = happy_order("V-1")
    store.ingest(message(sns(inventory)))
    store.ingest(message(declined("V-2")))
    store.ingest(message(declined("V-3")))
    view = RecordView(store, RecordFilter(outcome="failed"))
    saved = tmp_path / "failed.jsonl"
    assert store.save(saved, view.indices()) == 2
    again = RecordStore()
    for replay in replayed(saved):
        again.ingest(replay)
    assert [row.correlation_id for row in again] == ["V-2", "V-3"]
    assert again.stats().succeeded == 0


@pytest.mark.slow
def test_rows_are_compact(tmp_path: Path) -> None:
    """Measured with tracemalloc: everything the store holds per row (columns, strings, request
    ids, flows, dedupe), caches off, on the demo's mix: 3 good orders (2 invocations a row), 1 out
    of stock (3 invocations) and 1 declined card (1 invocation) in 5 rows."""
    session = tmp_path / "big.jsonl"
    count = 6000
    store = RecordStore(cache_size=0, recent_raw=0)
    bodies = []
    for number in range(count // 5):
        order_id = f"ORD-{number:07d}"
        for good in range(3):
            _order, inventory = happy_order(f"{order_id}-{good}")
            bodies.append(sns(inventory, f"mid-{number}-{good}"))
        _order, _inventory, rollback = out_of_stock(order_id + "-s")
        bodies += [sns(rollback, f"mid-{number}-s"), json.dumps(declined(order_id))]
    with SessionWriter(session) as writer:
        messages = [
            written(writer, body, "queue:order-failures", {"MessageId": f"sqs-{n}"}) for n, body in enumerate(bodies)
        ]
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for item in messages:
            store.ingest(item)
        store.drain_changes()  # the UI drains changes every ~100 ms
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert len(store) == count
    per_row = held / count
    assert per_row < 320, f"{per_row:.0f} bytes per row"
    assert store.flow_count() == count


def test_save_refuses_the_file_it_reads_from_and_leaves_no_partial_file(tmp_path: Path) -> None:
    import pytest

    session = tmp_path / "session.jsonl"
    store = RecordStore()
    with SessionWriter(session) as writer:
        store.ingest(written(writer, json.dumps(declined("S-1")), "queue:order-failures"))
    before = session.read_bytes()
    with pytest.raises(ValueError, match="holds records of this session"):
        store.save(session)
    assert session.read_bytes() == before

    gone = tmp_path / "gone.jsonl"
    forgetful = RecordStore(recent_raw=0)
    with SessionWriter(gone) as writer:
        forgetful.ingest(written(writer, json.dumps(declined("S-2")), "queue:order-failures"))
    gone.unlink()
    existing = tmp_path / "existing.jsonl"
    existing.write_text("keep me\n")
    with pytest.raises(OSError):
        forgetful.save(existing)  # its record cannot be re-read: nothing is replaced
    assert existing.read_text() == "keep me\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["existing.jsonl", "session.jsonl"]
