"""`lambdest-tui inspect` as a user runs it: a real process, real files, the exit-code contract."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

GOLDEN = Path(__file__).parent.parent / "golden"


def inspect(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui.cli", "inspect", *args],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=60,
        check=False,
    )


def test_every_good_file_decodes_exit_0() -> None:
    result = inspect(str(GOLDEN / "good"), "--format", "jsonl")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) >= 30
    assert all(line["ok"] for line in lines)
    assert "Traceback" not in result.stderr


def test_bad_files_exit_1_with_reasons_and_raw() -> None:
    result = inspect(str(GOLDEN / "bad"), "--format", "jsonl")
    assert result.returncode == 1
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 9  # a dead-letter message is no longer refused: tests/golden/dead_letter
    for line in lines:
        assert set(line) == {"ok", "input", "error", "raw"}
        assert line["ok"] is False and line["error"] and line["raw"]
    assert "Traceback" not in result.stderr


def test_dead_letter_messages_decode_with_their_own_kind() -> None:
    result = inspect(str(GOLDEN / "dead_letter"), "--format", "jsonl")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(line["kind"], line["request_id"]) for line in lines] == [
        ("dead-letter", "7d6f2b1e-0002"),
        ("dead-letter", "7d6f2b1e-0003"),
    ]


def test_mixed_good_and_bad_exit_1() -> None:
    result = inspect(str(GOLDEN / "good" / "success.json"), str(GOLDEN / "bad" / "truncated.json"))
    assert result.returncode == 1
    assert "1 decoded, 1 not records" in result.stderr


def test_usage_errors_exit_2() -> None:
    assert inspect().returncode == 2
    missing = inspect("/no/such/file.json")
    assert missing.returncode == 2
    assert "no such file or folder: /no/such/file.json" in missing.stderr
    assert inspect(str(GOLDEN / "good"), "--format", "xml").returncode == 2
    assert inspect(str(GOLDEN / "good"), "--correlate", "a[?").returncode == 2


def test_standard_input() -> None:
    body = (GOLDEN / "good" / "mixed.jsonl").read_text()
    result = inspect("-", "--format", "jsonl", stdin=body)
    assert result.returncode == 0
    assert [json.loads(line)["input"] for line in result.stdout.splitlines()] == ["-:1", "-:2", "-:3"]


def test_text_format_shows_escapes_literally(tmp_path: Path) -> None:
    value = json.loads((GOLDEN / "good" / "retries_exhausted_unhandled.json").read_text())
    value["responsePayload"]["errorMessage"] = "boom \x1b[2J\x1b[31m[bold]red[/bold]\x07"
    path = tmp_path / "evil.json"
    path.write_text(json.dumps(value))
    result = inspect(str(path))
    assert result.returncode == 0
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert "boom \\e[2J\\e[31m[bold]red[/bold]\\x07" in result.stdout
