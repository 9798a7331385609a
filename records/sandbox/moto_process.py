"""moto's server as a quiet child process on a free loopback port.

The port is chosen by the server itself (`-p 0`) and read from the line werkzeug writes to stderr
(` * Running on http://127.0.0.1:PORT`). Everything the child prints goes to a pipe that a daemon
thread drains, so nothing it logs ever reaches the terminal (the UI may be drawing there); the last
lines are kept for error messages. `stop()` sends SIGTERM, then SIGKILL after a grace period.
"""

from __future__ import annotations

import collections
import os
import re
import signal
import subprocess
import sys
import threading
import time

_RUNNING_ON = re.compile(r"Running on http://(?P<host>[0-9.]+):(?P<port>\d+)")


# Run moto's server, and exit when our end of its stdin closes: if this process dies without
# stopping it (SIGKILL, a crash), the pipe closes and the server goes with it.
_LAUNCHER = """
import os, sys, threading
def _watch():
    sys.stdin.buffer.read()
    os._exit(0)
threading.Thread(target=_watch, daemon=True).start()
from moto.server import main  # first: a broken moto install fails here, with its own missing module
# moto builds a service's app on its first request (~0.1 s each). Build the sandbox's while the
# parent makes its clients, in a thread; a request that comes first waits for its app.
import concurrent.futures, moto.server
_build, _apps, _apps_lock = moto.server.create_backend_app, {}, threading.Lock()
def _app(service):
    with _apps_lock:
        future, mine = _apps.get(service), False
        if future is None:
            future, mine = concurrent.futures.Future(), True
            _apps[service] = future
    if mine:
        try:
            future.set_result(_build(service))
        except BaseException as exc:
            future.set_exception(exc)
    return future.result()
moto.server.create_backend_app = _app
def _warm():
    for service in WARM_SERVICES:
        try:
            _app(service)
        except Exception:
            pass
threading.Thread(target=_warm, daemon=True).start()
# moto's events that reach a rule's target lack "account"; AWS's have it (the fields of "Amazon
# EventBridge events": version, id, detail-type, source, account, time, region, resources, detail).
from moto.events.utils import EventTemplateParser
if '"account"' not in EventTemplateParser.DEFAULT_EVENT_INPUT_TEMPLATE:
    EventTemplateParser.DEFAULT_EVENT_INPUT_TEMPLATE = (
        '{"version": "0", "id": "<id>", "detail-type": "<detail-type>", "source": "<source>", '
        '"account": "<account>", "time": <time>, "region": "<region>", "resources": <resources>, '
        '"detail": <detail>}'
    )
main(sys.argv[1:])
"""
# The services whose apps moto builds ahead (the sandbox's, in the order its set-up first calls them).
WARM_SERVICES = ("kms", "sqs", "sns", "events", "s3", "iam", "cloudwatch", "sts")
_LAUNCHER = _LAUNCHER.replace("WARM_SERVICES", repr(WARM_SERVICES))


class MotoProcessError(RuntimeError):
    """moto's server could not be started."""


class MotoProcess:
    """A `moto.server` child process. Use `start()` / `stop()` or `with MotoProcess() as moto:`."""

    def __init__(
        self, host: str = "127.0.0.1", start_timeout: float = 30.0, grace: float = 3.0, account: str | None = None
    ) -> None:
        self.host = host
        self.account = account  # MOTO_ACCOUNT_ID: every resource (and ARN) in this account
        self.start_timeout = start_timeout
        self.grace = grace
        self.port: int | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._tail: collections.deque[str] = collections.deque(maxlen=20)
        self._ready = threading.Event()
        self._drain: threading.Thread | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def endpoint_url(self) -> str:
        if self.port is None:
            raise MotoProcessError("moto is not running")
        return f"http://{self.host}:{self.port}"

    def start(self) -> str:
        """Start the server and wait until it listens; returns its endpoint URL."""
        if self._process is not None:
            return self.endpoint_url
        env = dict(os.environ)
        env.setdefault("AWS_ACCESS_KEY_ID", "testing")
        env.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
        env["PYTHONUNBUFFERED"] = "1"
        if self.account is not None:
            env["MOTO_ACCOUNT_ID"] = self.account
        self._process = subprocess.Popen(
            [sys.executable, "-c", _LAUNCHER, "-H", self.host, "-p", "0"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env,
            start_new_session=True,  # a Ctrl-C in the terminal is ours to handle, not moto's
        )
        self._drain = threading.Thread(target=self._read_stderr, name="moto-stderr", daemon=True)
        self._drain.start()
        deadline = time.monotonic() + self.start_timeout
        while not self._ready.wait(0.02):
            if self._process.poll() is not None or time.monotonic() > deadline:
                tail = " | ".join(self._tail) or "no output"
                self.stop()
                if "ModuleNotFoundError" in tail:
                    tail += " (install the sandbox's dependencies: pip install 'lambdest-tui[sandbox]')"
                raise MotoProcessError(f"moto's server did not start: {tail}")
        return self.endpoint_url

    def _read_stderr(self) -> None:
        process = self._process
        if process is None or process.stderr is None:
            return
        for raw in process.stderr:
            line = raw.decode("utf-8", "replace").rstrip()
            self._tail.append(line)
            if not self._ready.is_set():
                match = _RUNNING_ON.search(line)
                if match:
                    self.port = int(match["port"])
                    self._ready.set()

    def stop(self) -> None:
        """SIGTERM, then SIGKILL when it has not exited after the grace period. Idempotent."""
        process = self._process
        if process is None:
            return
        self._process = None
        if process.stdin is not None:
            process.stdin.close()
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(self.grace)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(self.grace)
        if self._drain is not None:
            self._drain.join(self.grace)  # the pipe reaches EOF once the child is gone
            self._drain = None
        if process.stderr is not None:
            process.stderr.close()
        self.port = None

    def __enter__(self) -> MotoProcess:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
