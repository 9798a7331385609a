"""The README's set-up commands are the ones CI runs."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).parent.parent.parent


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    install = next(line for line in ci if line.startswith("python3 -m venv .venv"))
    run_tests = next(line for line in ci if "-m pytest" in line)
    assert f"{install} && {run_tests}" in readme


def test_readme_demo_command_installs_the_sandbox_extra() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "pip install -e '.[sandbox]' && .venv/bin/lambdest-tui demo" in readme


def test_pre_commit_runs_the_checks_of_ci() -> None:
    """Every check of .ci/run between install and tests is a pre-commit hook with the same command."""
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    checks = [line for line in ci if line.startswith(".venv/bin/") and "pytest" not in line]
    hooks = (ROOT / ".pre-commit-config.yaml").read_text()
    entries = [line.split("entry:", 1)[1].strip() for line in hooks.splitlines() if line.strip().startswith("entry:")]
    assert checks, "no checks found in .ci/run"
    assert entries == checks
