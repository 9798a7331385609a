"""Record files: every layout reads in order, streaming; session files replay exactly what was received."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from records import files
from records.files import SessionWriter, read_at, read_file, read_inputs
from records.lines import json_line

GOOD = Path(__file__).parent.parent / "golden" / "good"


def record(n: int) -> dict[str, object]:
    value: dict[str, object] = json.loads((GOOD / "success.json").read_text())
    value["requestContext"]["requestId"] = f"req-{n}"  # type: ignore[index]
    value["requestPayload"] = {"orderId": f"ord-{n}", "note": "ü ✓ " + "x" * (n % 50)}
    return value


def request_ids(path: Path) -> list[str | None]:
    return [d.record.request_id if d.record else None for item in read_file(path) for d in item.decode()]


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Force values to straddle chunk boundaries."""
    monkeypatch.setattr(files, "_CHUNK", 37)


def test_json_array_streams_across_chunks(tmp_path: Path, small_chunks: None) -> None:
    path = tmp_path / "records.json"
    path.write_text(json.dumps([record(n) for n in range(30)], indent=2, ensure_ascii=False))
    assert request_ids(path) == [f"req-{n}" for n in range(30)]
    first = next(read_file(path))
    assert first.label == f"{path}:2"
    assert json.loads(first.raw or "") == record(0)


def test_numbers_at_chunk_end_are_not_cut(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "_CHUNK", 4)
    path = tmp_path / "numbers.json"
    path.write_text("[123456, 7890]")
    assert [item.data for item in read_file(path)] == [123456, 7890]


def test_concatenated_pretty_documents(tmp_path: Path, small_chunks: None) -> None:
    path = tmp_path / "docs.json"
    path.write_text("\n".join(json.dumps(record(n), indent=2) for n in range(5)))
    items = list(read_file(path))
    assert [d.record.request_id for item in items for d in item.decode() if d.record] == [f"req-{n}" for n in range(5)]
    assert items[1].label.startswith(f"{path}:") and int(items[1].label.rsplit(":", 1)[1]) > 2


def test_single_document_labelled_by_name(tmp_path: Path) -> None:
    path = tmp_path / "one.json"
    path.write_text(json.dumps(record(1), indent=2))
    [item] = list(read_file(path))
    assert item.label == str(path)


def test_jsonl_with_broken_line_keeps_going(tmp_path: Path) -> None:
    path = tmp_path / "records.jsonl"
    lines = [json.dumps(record(n)) for n in range(3)]
    lines.insert(1, '{"version": "1.0", "timestamp"')
    path.write_text("\n".join(lines) + "\n\n")
    decoded = [d for item in read_file(path) for d in item.decode()]
    assert [d.ok for d in decoded] == [True, False, True, True]
    assert decoded[1].raw == lines[1]
    labels = [item.label for item in read_file(path)]
    assert labels == [f"{path}:{n}" for n in (1, 2, 3, 4)]


def test_gzip_of_jsonl_and_array(tmp_path: Path) -> None:
    jsonl = tmp_path / "a.jsonl.gz"
    with gzip.open(jsonl, "wt") as handle:
        handle.writelines(json.dumps(record(n)) + "\n" for n in range(4))
    array = tmp_path / "b.json.gz"
    with gzip.open(array, "wt") as handle:
        json.dump([record(n) for n in range(4, 6)], handle)
    assert request_ids(jsonl) == [f"req-{n}" for n in range(4)]
    assert request_ids(array) == ["req-4", "req-5"]
    # gzip content has no byte offsets to re-read from
    assert all(item.offset is None for item in read_file(jsonl))


def test_folders_are_read_recursively_in_order(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "a.json").write_text(json.dumps(record(1)))
    (tmp_path / "b" / "c").write_text(json.dumps(record(2)))
    (tmp_path / ".hidden").write_text("not read")
    ids = [d.record.request_id for item in read_inputs([tmp_path]) for d in item.decode() if d.record]
    assert ids == ["req-1", "req-2"]


def test_session_file_round_trip_is_exact(tmp_path: Path) -> None:
    session = tmp_path / "session.jsonl"
    sns = (GOOD / "sns_notification.json").read_text()
    raws = [json.dumps(record(1)), sns, "not json at all \x1b[31m", json.dumps(record(2))]
    metas = [{"MessageId": f"m-{n}", "Attributes": {"ApproximateReceiveCount": "1"}} for n in range(4)]
    positions = []
    with SessionWriter(session) as writer:
        for raw, meta in zip(raws, metas, strict=True):
            positions.append(writer.append(raw, meta, "queue:order-failures"))
        writer.sync()
    items = list(read_file(session))
    assert [item.data for item in items] == raws
    assert [dict(item.meta) for item in items] == metas
    assert {item.source for item in items} == {"queue:order-failures"}
    # the replayed records decode exactly like the originals
    for item, raw, meta in zip(items, raws, metas, strict=True):
        from records.decode import decode

        assert [json_line(d, "x") for d in item.decode()] == [json_line(d, "x") for d in decode(raw, meta=meta)]
    # every line can be re-read on its own
    for item, (offset, length) in zip(items, positions, strict=True):
        assert (item.offset, item.length) == (offset, length)
        again = read_at(session, offset, length)
        assert again.data == item.data and dict(again.meta) == dict(item.meta)


def test_session_writer_appends_to_existing_file(tmp_path: Path) -> None:
    session = tmp_path / "s.jsonl"
    with SessionWriter(session) as writer:
        writer.append("one", {}, "x")
    with SessionWriter(session) as writer:
        offset, length = writer.append("two", {}, "x")
    assert read_at(session, offset, length).data == "two"
    assert [item.data for item in read_file(session)] == ["one", "two"]
