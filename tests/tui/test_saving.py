"""Pilot tests: `s` saves to a timestamped file in the session directory, asks before
overwriting, and says the absolute path; the file is private."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from textual.widgets import Input

from records.sources.replay import ReplaySource
from tests.factories import FIXED_NOW, mixed_records, write_jsonl
from tests.tui.waiting import until
from tui.app import AppConfig, create_app
from tui.screens.dialogs import ConfirmDialog, SaveDialog
from tui.screens.main import MainScreen


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def content(path: Path) -> bytes:
    return path.read_bytes()


async def test_s_saves_in_the_session_directory_and_asks_before_overwriting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    monkeypatch.setenv("XDG_STATE_HOME", str(state))
    source = write_jsonl(tmp_path / "in.jsonl", mixed_records(3))
    app = create_app(AppConfig(sources=[ReplaySource([str(source)])], clock=lambda: FIXED_NOW))
    async with app.run_test(size=(150, 40), notifications=True) as pilot:
        await until(pilot, lambda: len(app.session.records) == 4, "records")
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, SaveDialog), "dialog")
        default = Path(app.screen.query_one("#save-path", Input).value)
        assert default.is_absolute()
        assert default.parent == state / "lambdest-tui" / "sessions"
        assert default.name.startswith("saved-20") and default.suffix == ".jsonl"
        await pilot.press("enter")
        await until(pilot, default.exists, "saved")
        await until(pilot, lambda: any(str(default) in n.message for n in app._notifications), "the absolute path said")
        assert mode(default) == 0o600
        assert mode(default.parent) == 0o700
        # saving again to the same file asks first; "no" leaves it as it was
        before = content(default)
        os.truncate(default, 0)
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, SaveDialog), "dialog")
        app.screen.query_one("#save-path", Input).value = str(default)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "asks before overwriting")
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, MainScreen), "declined")
        await pilot.pause(0.2)
        assert content(default) == b""
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, SaveDialog), "dialog")
        app.screen.query_one("#save-path", Input).value = str(default)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "asks again")
        await pilot.press("y")
        await until(pilot, lambda: content(default) == before, "overwritten")
