"""Shared fixtures: a real moto server over HTTP on a free loopback port, and AWS settings for it; how the
suite runs in parallel (pytest-xdist, see [tool.pytest.ini_options] in pyproject.toml)."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import tempfile
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from records.sandbox import Sandbox
from tests.integration.sandbox_helpers import TIME_FACTOR

GOLDEN = Path(__file__).parent / "golden"

# Never let a test reach real AWS, whatever the developer's shell holds.
for _name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
    os.environ.pop(_name, None)
os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_DEFAULT_REGION="us-east-1",
    AWS_REGION="us-east-1",
    AWS_CONFIG_FILE=os.devnull,
    AWS_SHARED_CREDENTIALS_FILE=os.devnull,
    AWS_EC2_METADATA_DISABLED="true",
)


@pytest.hookimpl(optionalhook=True, tryfirst=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """`-n auto` (pyproject's addopts): two workers a core, at most 8. Most of a test's time is spent
    waiting (on moto, the sandbox's back-offs, subprocesses starting, the UI's pauses), so one worker a
    core leaves the cores half idle. Test files named on the command line get one worker each, and a
    single file none (it runs in this process: starting workers would take longer than it saves).
    PYTEST_XDIST_AUTO_NUM_WORKERS still decides when it is set."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None  # pytest-xdist's own hook reads it
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    workers = min(2 * cores, 8)
    named = {arg.split("::")[0] for arg in config.args}
    if named and all((config.invocation_params.dir / name).is_file() for name in named):
        workers = min(workers, len(named) if len(named) > 1 else 0)
    return workers


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Test files with a slow test first: under `--dist loadfile` a long file started last would be
    the tail of the run (see pyproject's addopts: --no-loadscope-reorder keeps this order)."""
    slow = {item.path for item in items if item.get_closest_marker("slow") is not None}
    items.sort(key=lambda item: item.path not in slow)  # stable: the order within a file stays


class _RunLock:
    """Tests marked `timing` run with no other test at the same time when the suite runs in parallel.

    A readers-writer lock on two files shared by the workers of one run: every test holds the run lock
    shared, a `timing` test holds it exclusive. A `timing` test takes the gate first, so that tests
    starting meanwhile wait behind it instead of keeping it out for ever."""

    def __init__(self, stem: Path) -> None:
        self.gate = os.open(f"{stem}.gate", os.O_RDWR | os.O_CREAT, 0o600)
        self.run = os.open(f"{stem}.run", os.O_RDWR | os.O_CREAT, 0o600)

    @contextlib.contextmanager
    def held(self, exclusive: bool) -> Iterator[None]:
        if exclusive:
            fcntl.flock(self.gate, fcntl.LOCK_EX)
            fcntl.flock(self.run, fcntl.LOCK_EX)
        else:
            fcntl.flock(self.gate, fcntl.LOCK_SH)
            fcntl.flock(self.run, fcntl.LOCK_SH)
            fcntl.flock(self.gate, fcntl.LOCK_UN)
        try:
            yield
        finally:
            fcntl.flock(self.run, fcntl.LOCK_UN)
            if exclusive:
                fcntl.flock(self.gate, fcntl.LOCK_UN)


_run_lock = pytest.StashKey[_RunLock]()  # in a worker of pytest-xdist
_lock_folder = pytest.StashKey[str]()  # in pytest-xdist's controller


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """pytest-xdist's controller, for each worker it starts: the folder of the run lock."""
    config = node.config
    if _lock_folder not in config.stash:
        config.stash[_lock_folder] = tempfile.mkdtemp(prefix="lambdest-tests-")
    node.workerinput["lambdest_lock_folder"] = config.stash[_lock_folder]


def pytest_configure(config: pytest.Config) -> None:
    worker = getattr(config, "workerinput", None)  # set in pytest-xdist's workers only
    if worker is not None and "lambdest_lock_folder" in worker:
        config.stash[_run_lock] = _RunLock(Path(worker["lambdest_lock_folder"]) / "lock")
    if worker is not None:
        # At its end pytest collects garbage 5 times (for exceptions raised in __del__, which a worker
        # can only print to stderr): ~1 s each in a worker of this suite, and a worker still busy 5 s
        # after it reported its results is sent a SIGINT by execnet (a KeyboardInterrupt traceback).
        with contextlib.suppress(ImportError):
            from _pytest.unraisableexception import gc_collect_iterations_key

            config.stash[gc_collect_iterations_key] = 1


def pytest_unconfigure(config: pytest.Config) -> None:
    if _lock_folder in config.stash:
        shutil.rmtree(config.stash[_lock_folder], ignore_errors=True)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None]:
    """Set-up, call and tear-down of each test under the run lock (only in pytest-xdist's workers)."""
    lock = item.config.stash.get(_run_lock, None)
    if lock is None:
        yield
        return
    with lock.held(exclusive=item.get_closest_marker("timing") is not None):
        yield


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """A real moto server (threaded, in this process) on 127.0.0.1 and a free port."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def moto_reset(moto_endpoint: str) -> str:
    """The moto endpoint with all state wiped, so tests never depend on each other's resources."""
    import urllib.request

    request = urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10):
        pass
    return moto_endpoint


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    """The shipped order system, fast back-offs; one per test module."""
    from records.sandbox.order_system import handlers

    handlers.reset()
    box = Sandbox(time_factor=TIME_FACTOR)
    box.start()
    try:
        yield box
    finally:
        box.stop()


@pytest.fixture
def sandbox_env(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    """The module's sandbox with its AWS settings in the environment, restored after the test (the
    `demo` command sets them for good)."""
    for name, value in sandbox.env.items():
        monkeypatch.setenv(name, value)
    return sandbox
