"""A command on its own pseudo-terminal, for tests of the UI as a user runs it (keys typed, the
terminal closed)."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import threading

from tests.integration.sources_helpers import ROOT


class PtyProcess:
    """A command on its own pseudo-terminal, as its controlling terminal (so closing the terminal
    sends SIGHUP, as the kernel does when a terminal window, tmux pane or SSH session goes away)."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.master, slave = os.openpty()
        os.set_blocking(self.master, False)
        become_controlling = (
            "import fcntl, os, sys, termios; fcntl.ioctl(0, termios.TIOCSCTTY, 0); os.execv(sys.argv[1], sys.argv[1:])"
        )
        self.process = subprocess.Popen(
            [sys.executable, "-c", become_controlling, sys.executable, "-m", "tui.cli", *args],
            cwd=ROOT,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            start_new_session=True,
            env={**os.environ, "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40", **(env or {})},
        )
        os.close(slave)
        self.output = bytearray()
        self._open = True
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while self._open:
            ready, _, _ = select.select([self.master], [], [], 0.1)
            if not ready or not self._open:
                continue
            try:
                chunk = os.read(self.master, 65536)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                return
            if not chunk:
                return
            self.output.extend(chunk)

    def hang_up(self) -> None:
        """Close the terminal: the kernel sends SIGHUP to the session's leading process."""
        self._open = False
        self._reader.join(5)
        os.close(self.master)

    def wait(self, timeout: float) -> int:
        return self.process.wait(timeout)

    def stop(self) -> None:
        if self._open:
            self.hang_up()
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def type(self, text: str) -> None:
        os.write(self.master, text.encode())

    def text(self) -> str:
        """Everything written to the terminal so far, decoded (escape sequences included)."""
        return bytes(self.output).decode("utf-8", "replace")
