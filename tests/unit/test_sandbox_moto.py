"""MotoProcess failing to start says why (and what to install), and leaves nothing running."""

from __future__ import annotations

from pathlib import Path

import pytest

from records.sandbox.moto_process import MotoProcess, MotoProcessError


def test_a_missing_dependency_is_explained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "moto"
    fake.mkdir()
    (fake / "__init__.py").write_text("")
    (fake / "server.py").write_text("import no_such_module_for_lambdest\n")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    moto = MotoProcess(start_timeout=30)
    with pytest.raises(MotoProcessError, match=r"no_such_module_for_lambdest.*lambdest-tui\[sandbox\]"):
        moto.start()
    assert moto.pid is None  # stopped and forgotten


def test_endpoint_needs_a_running_server() -> None:
    with pytest.raises(MotoProcessError, match="not running"):
        _ = MotoProcess().endpoint_url
