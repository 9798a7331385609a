"""An instant replay decoded in a worker process (`ReplaySource(facts=True)`) stores exactly what the
in-process replay stores: every row, flow, count and re-read payload, for every golden input."""

from __future__ import annotations

import dataclasses
import gzip
import json
import marshal
import pickle
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from records.decode import Correlator
from records.sources.base import FactsBatch
from records.sources.replay import ReplaySource
from records.sources.replay_worker import _HEADER, FactsProcess, _encode
from records.store.record_store import RecordStore
from tests.factories import session_file, store_of

GOLDEN = Path(__file__).parent.parent / "golden"


def _rows(store: RecordStore) -> list[dict[str, Any]]:
    # `received` is when the batch was read (the worker reads its batches at other moments)
    return [{**dataclasses.asdict(row), "received": None} for row in store]


def _flows(store: RecordStore) -> list[Any]:
    flows = store.flows()
    built = [store.flow(flows[position]) for position in range(len(flows))]
    # first and last seen are received times too
    return [dataclasses.replace(flow, first_seen=0.0, last_seen=0.0) for flow in built if flow is not None]


def _golden_folder(tmp_path: Path) -> Path:
    """Every golden input (good and bad) in one folder, plus a gzipped copy and a session file."""
    folder = tmp_path / "inputs"
    shutil.copytree(GOLDEN, folder)
    (folder / "good" / "success.json.gz").write_bytes(gzip.compress((GOLDEN / "good" / "success.json").read_bytes()))
    session_file(folder / "session.jsonl", [0.0, 1.0, 2.0])
    return folder


@pytest.mark.parametrize("correlate", [None, ("requestPayload.orderId || orderId", "id")])
async def test_worker_process_stores_what_the_in_process_replay_stores(
    tmp_path: Path, correlate: tuple[str, ...] | None
) -> None:
    folder = _golden_folder(tmp_path)
    correlator = Correlator(correlate) if correlate else Correlator()
    here, here_statuses, none = await store_of(ReplaySource([str(folder)], correlator=correlator))
    there, there_statuses, batches = await store_of(ReplaySource([str(folder)], correlator=correlator, facts=True))
    assert none == 0 and batches > 0
    assert [s.state for s in here_statuses] == [s.state for s in there_statuses] == ["live", "done"]
    assert len(here) > 30 and len(there) == len(here)
    assert _rows(there) == _rows(here)
    assert there.stats() == here.stats()
    assert _flows(there) == _flows(here)
    assert here.stats().undecodable > 0  # the bad inputs are rows too, with their reasons
    for index in range(len(here)):  # payloads re-read from the files, and the raw text
        assert there.load(index) == here.load(index)
        assert there.raw(index) == here.raw(index)


@pytest.mark.slow
async def test_worker_process_matches_file_by_file() -> None:
    """One file at a time (in a folder, one file's record can hide what another's lacks)."""
    files = sorted(path for path in GOLDEN.rglob("*") if path.is_file())
    assert len(files) > 30
    for path in files:
        here, _, _ = await store_of(ReplaySource([str(path)]))
        there, _, batches = await store_of(ReplaySource([str(path)], facts=True))
        assert batches > 0, path
        assert _rows(there) == _rows(here), path
        assert _flows(there) == _flows(here), path
        assert there.stats() == here.stats(), path


async def test_worker_process_batches_a_large_file(tmp_path: Path) -> None:
    record = json.loads((GOLDEN / "good" / "success.json").read_text())
    path = tmp_path / "many.jsonl"
    with path.open("w") as handle:
        for number in range(1234):
            record["requestContext"]["requestId"] = f"r-{number}"
            handle.write(json.dumps(record) + "\n")
    store, statuses, batches = await store_of(ReplaySource([str(path)], facts=True, batch=500))
    assert batches == 3
    assert store.stats().records == 1234 and store.stats().succeeded == 1234
    assert [s.state for s in statuses] == ["live", "done"]
    assert store.row(1233).request_id == "r-1233"


async def test_a_worker_process_that_dies_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "one.json"
    shutil.copy(GOLDEN / "good" / "success.json", path)
    worker = FactsProcess(str(path), Correlator())
    worker.start()
    try:
        assert worker._process is not None
        worker._process.kill()
        reason = await worker.next()
        assert isinstance(reason, str) and "ended early" in reason, reason
        assert await worker.next() is None
    finally:
        worker.close()


@pytest.mark.parametrize("facts", [True, False])
async def test_a_dangling_link_in_a_folder_is_one_row_and_the_rest_is_read(tmp_path: Path, facts: bool) -> None:
    folder = tmp_path / "gone"
    folder.mkdir()
    (folder / "a.json").symlink_to(folder / "missing.json")  # listed, but there is nothing to open
    shutil.copy(GOLDEN / "good" / "success.json", folder / "b.json")
    store, statuses, _ = await store_of(ReplaySource([str(folder)], facts=facts))
    assert statuses[-1].state == "done"
    rows = list(store)
    assert len(rows) == 2
    problems = [row.error_message for row in rows if not row.ok]
    dangling = f"{folder / 'a.json'} is a symbolic link to {folder / 'missing.json'}, which does not exist: skipped"
    assert problems == [dangling]


async def test_a_timed_replay_does_not_use_the_worker(tmp_path: Path) -> None:
    path = tmp_path / "one.json"
    shutil.copy(GOLDEN / "good" / "success.json", path)
    source = ReplaySource([str(path)], facts=True, speed=100.0)
    assert source.facts is False
    store, _, batches = await store_of(source)
    assert batches == 0 and len(store) == 1


async def test_a_source_never_iterated_stops_its_worker(tmp_path: Path) -> None:
    path = tmp_path / "one.json"
    shutil.copy(GOLDEN / "good" / "success.json", path)
    source = ReplaySource([str(path)], facts=True)
    early = source._early  # started with the source, to read while the UI starts
    assert early is not None and early._process is not None
    process = early._process
    await source.aclose()
    assert process.poll() is not None  # ended, not left behind


async def test_storing_goes_on_after_a_message_that_cannot_be_stored(tmp_path: Path) -> None:
    record = json.loads((GOLDEN / "good" / "success.json").read_text())
    path = tmp_path / "three.jsonl"
    with path.open("w") as handle:
        for number in range(3):
            record["requestContext"]["requestId"] = f"r-{number}"
            handle.write(json.dumps(record) + "\n")
    facts: list[Any] = []
    async for event in ReplaySource([str(path)], facts=True):
        if isinstance(event, FactsBatch):
            facts.extend(event.messages)
    broken: Any = ("raw", "file:x", "2026-11-27T10:00:00.000Z", {}, (("not", "a", "row"),), None, None, None)
    store = RecordStore()
    pending = iter([facts[0], broken, facts[1], facts[2]])
    with pytest.raises(ValueError):
        store.ingest_facts_many(pending)
    assert store.ingest_facts_many(pending) == 2  # the app calls again with the same iterator
    assert [row.request_id for row in store] == ["r-0", "r-1", "r-2"]
    assert store.stats().records == 3


def test_a_batch_marshal_cannot_hold_is_pickled() -> None:
    plain: list[tuple[Any, ...]] = [("raw", "file:x:1", "2026-11-27T10:00:00.000Z", {}, (), "x", 0, 3)]
    when = datetime(2026, 11, 27, tzinfo=UTC)
    odd = [("raw", "file:x:1", "2026-11-27T10:00:00.000Z", {"when": when}, (), None, None, None)]
    for batch, kind in ((plain, b"M"), (odd, b"P")):
        frame = _encode(batch)  # type: ignore[arg-type]
        found, length = _HEADER.unpack_from(frame)
        assert found == kind and length == len(frame) - _HEADER.size
        body = frame[_HEADER.size :]
        assert (marshal.loads(body) if kind == b"M" else pickle.loads(body)) == batch
