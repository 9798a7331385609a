"""The UI commands refuse bad arguments with one clear line and exit 2, before starting any UI."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.cli import main


def test_replay_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", str(tmp_path / "nope.jsonl")]) == 2
    assert "no such file or folder" in capsys.readouterr().err


def test_replay_bad_speed(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["replay", "x.jsonl", "--speed", "0"])
    assert exit_info.value.code == 2
    assert "must be greater than 0" in capsys.readouterr().err


def test_watch_needs_a_source(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["watch", "--save", str(tmp_path / "s.jsonl")]) == 2
    assert "name at least one source" in capsys.readouterr().err


def test_watch_pattern_without_bus(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["watch", "--queue", "q", "--pattern", "{}", "--save", str(tmp_path / "s.jsonl")])
    assert code == 2
    assert "--pattern" in capsys.readouterr().err


def test_ui_commands_are_listed(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for command in ("demo", "watch", "replay"):
        assert command in out
