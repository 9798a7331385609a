"""Running `lambdest-tui sandbox` as a user does, and driving it with the AWS CLI v1 (for the CLI tests)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.integration.sandbox_helpers import children, wait_gone

ROOT = Path(__file__).resolve().parents[2]
AWS_CLI = Path(sys.executable).with_name("aws")


class Running:
    def __init__(self, process: subprocess.Popen[str], env: dict[str, str], lines: list[str]) -> None:
        self.process = process
        self.env = env
        self.lines = lines

    @property
    def endpoint(self) -> str:
        return self.env["AWS_ENDPOINT_URL"]


def start_sandbox(*extra: str) -> Running:
    process = subprocess.Popen(
        [sys.executable, "-m", "tui.cli", "sandbox", "--time-factor", "0.005", *extra],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    env: dict[str, str] = {}
    lines: list[str] = []
    for line in process.stdout:
        lines.append(line.rstrip("\n"))
        if line.startswith("export "):
            name, _, value = line[len("export ") :].strip().partition("=")
            env[name] = value
        if "ready" in line:
            break
    else:
        raise AssertionError(f"no ready line: {lines} {process.stderr.read() if process.stderr else ''}")
    return Running(process, env, lines)


def stop_sandbox(running: Running, sig: int = signal.SIGTERM) -> tuple[int, str]:
    moto = children(running.process.pid)
    running.process.send_signal(sig)
    _, err = running.process.communicate(timeout=20)
    for pid in moto:
        assert wait_gone(pid), f"process {pid} left behind"
    return running.process.returncode, err


def aws_cli(running: Running, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **running.env}
    return subprocess.run(
        [str(AWS_CLI), *args, "--endpoint-url", running.endpoint, "--output", "json"],
        env=env,
        check=False,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def lambdest(running: Running, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **running.env}
    return subprocess.run(
        [sys.executable, "-m", "tui.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
