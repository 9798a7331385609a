"""Session and saved files lose nothing and are private (issue 10, items 5 and 6)."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import platformdirs
import pytest

from records.files import read_at, read_file
from records.session_file import SessionWriter, open_private_append, private_folder, replace_privately
from records.store.record_store import RecordStore
from tests.factories import declined, message
from tui.commands.tail import default_session_path

GOOD = Path(__file__).parent.parent / "golden" / "good"
ROOT = Path(__file__).resolve().parents[2]


def record(n: int) -> str:
    value = json.loads((GOOD / "success.json").read_text())
    value["requestContext"]["requestId"] = f"req-{n}"
    return json.dumps(value)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The usual umask (022): what is private must be private by our own doing."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


# A writer that appends 20 whole messages, then writes a 21st slowly, piece by piece, and is
# killed before its second half.
WRITER = """
import os, sys, time
from records.session_file import SessionWriter, saved_line
sys.path.insert(0, sys.argv[2])
from tests.unit.test_session_file import record
writer = SessionWriter(sys.argv[1])
for n in range(20):
    writer.append(record(n), {"MessageId": f"m-{n}"}, "queue:orders")
writer.sync()
line = saved_line(record(20), {"MessageId": "m-20"}, "queue:orders")
handle = writer._handle
for start in range(0, len(line) // 2, 64):
    handle.write(line[start : min(start + 64, len(line) // 2)])
    handle.flush()
    os.fsync(handle.fileno())
    if start == 0:
        print("writing", flush=True)
    time.sleep(0.01)
time.sleep(120)  # the kill comes during this, or during the pieces
"""


def test_a_writer_killed_mid_line_loses_no_later_message(tmp_path: Path) -> None:
    path = tmp_path / "session.jsonl"
    child = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path), str(ROOT)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "writing"
        time.sleep(0.05)  # a few pieces more
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == -signal.SIGKILL
    torn = path.read_bytes()
    assert not torn.endswith(b"\n"), "the writer was not killed mid-line"
    assert torn.count(b"\n") == 20

    with SessionWriter(path) as writer:  # the next run appends to the same file
        places = [writer.append(record(n), {"MessageId": f"m-{n}"}, "queue:orders") for n in range(100, 105)]
    decoded = [(d.ok, d.record.request_id if d.record else None) for item in read_file(path) for d in item.decode()]
    expected = [(True, f"req-{n}") for n in range(20)] + [(False, None)] + [(True, f"req-{n}") for n in range(100, 105)]
    assert decoded == expected
    offset, length = places[0]
    assert read_at(path, offset, length).meta == {"MessageId": "m-100"}  # its place is right
    assert mode(path) == 0o600


def test_a_file_ending_in_a_whole_line_gets_no_blank_line(tmp_path: Path) -> None:
    path = tmp_path / "whole.jsonl"
    with SessionWriter(path) as writer:
        writer.append(record(1), {}, "queue:orders")
    size = path.stat().st_size
    with SessionWriter(path) as writer:
        assert writer.append(record(2), {}, "queue:orders")[0] == size
    assert b"\n\n" not in path.read_bytes()


def test_session_files_and_their_folders_are_private(tmp_path: Path, open_umask: None) -> None:
    path = tmp_path / "state" / "lambdest-tui" / "sessions" / "tail.jsonl"
    with SessionWriter(path) as writer:
        writer.append(record(1), {}, "queue:orders")
    assert mode(path) == 0o600
    assert [mode(folder) for folder in (path.parent, path.parent.parent, tmp_path / "state")] == [0o700] * 3
    assert mode(tmp_path) == stat.S_IMODE(tmp_path.stat().st_mode)  # a folder that existed is left alone


def test_appending_to_something_that_is_not_a_file_is_refused(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(OSError, match="not a regular file"):
        open_private_append(tmp_path / "pipe").close()


def test_private_folder_creates_missing_parents_only(tmp_path: Path, open_umask: None) -> None:
    existing = tmp_path / "existing"
    existing.mkdir(mode=0o755)
    private_folder(existing / "a" / "b")
    assert (mode(existing), mode(existing / "a"), mode(existing / "a" / "b")) == (0o755, 0o700, 0o700)


def _store_with_records(count: int) -> RecordStore:
    store = RecordStore()
    for n in range(count):
        store.ingest(message(declined(f"S-{n}"), meta={"MessageId": f"m-{n}"}))
    return store


def test_a_saved_file_is_private_even_over_a_public_one(tmp_path: Path, open_umask: None) -> None:
    target = tmp_path / "saved.jsonl"
    target.write_text("old\n")
    target.chmod(0o644)
    assert _store_with_records(3).save(target) == 3
    assert mode(target) == 0o600
    assert sum(1 for _ in read_file(target)) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["saved.jsonl"]  # no temporary file left


def test_saving_never_writes_through_a_planted_link(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    target = tmp_path / "saved.jsonl"
    # the temporary name an earlier version used, planted by someone else
    (tmp_path / ".saved.jsonl.partial").symlink_to(victim)
    _store_with_records(2).save(target)
    assert victim.read_text() == "precious\n"
    assert mode(target) == 0o600 and not target.is_symlink()
    link = tmp_path / "link.jsonl"  # a link at the target itself is replaced, not followed
    link.symlink_to(victim)
    _store_with_records(1).save(link)
    assert victim.read_text() == "precious\n" and not link.is_symlink()


def test_a_failed_save_leaves_the_earlier_file_and_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "saved.jsonl"
    target.write_text("keep me\n")
    with pytest.raises(RuntimeError), replace_privately(target) as out:
        out.write(b"half")
        raise RuntimeError("disk gone")
    assert target.read_text() == "keep me\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["saved.jsonl"]


def test_the_default_session_folder_is_platformdirs_state_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    path = default_session_path("watch")
    assert path.parent == platformdirs.user_state_path("lambdest-tui", appauthor=False) / "sessions"
    assert path.parent == tmp_path / "state" / "lambdest-tui" / "sessions"
    assert path.name.startswith("watch-") and path.name.endswith(f"-{os.getpid()}.jsonl")
