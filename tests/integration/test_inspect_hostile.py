"""`lambdest-tui inspect` on damaged files, as a user runs it: each fault is a line with a sentence,
every readable record is kept and the next file is read; never a traceback (issue 10, item 9)."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

from tests.factories import record_line, truncated_gz

GOOD = Path(__file__).parent.parent / "golden" / "good"


def inspect(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui.cli", "inspect", "--format", "jsonl", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_truncated_gz_then_a_good_file(tmp_path: Path) -> None:
    cut = tmp_path / "cut.jsonl.gz"
    readable = truncated_gz(cut)
    good = tmp_path / "good.jsonl"
    good.write_text(record_line(5000) + "\n")
    result = inspect(str(cut), str(good))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and result.stderr == ""
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["request_id"] for line in lines if line["ok"]] == [f"req-{n}" for n in range(readable)] + ["req-5000"]
    errors = [line["error"] for line in lines if not line["ok"]]
    assert errors[-1].startswith(f"{cut}: the gzip data ends early (the file is truncated) after ")
    assert errors[-1].endswith(" bytes: the records before that were read")
    assert lines[-1]["input"] == f"{good}:1"


def test_a_corrupt_gz(tmp_path: Path) -> None:
    data = bytearray(gzip.compress("".join(record_line(n) + "\n" for n in range(500)).encode()))
    data[len(data) // 2 : len(data) // 2 + 32] = b"\xff" * 32
    path = tmp_path / "bad.gz"
    path.write_bytes(bytes(data))
    result = inspect(str(path))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert sum(line["ok"] for line in lines) > 50
    assert "the gzip data is corrupt after" in lines[-1]["error"]


def test_a_5000_digit_integer_in_a_json_document(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    path.write_text(record_line(1)[:-1] + ', "n": ' + "9" * 5000 + "}")
    result = inspect(str(path))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    [line] = [json.loads(line) for line in result.stdout.splitlines()]
    assert line["ok"] is False and line["input"] == str(path)
    assert line["error"].startswith("the JSON cannot be read: Exceeds the limit (4300 digits)")
    assert line["raw"].startswith('{"version"')
