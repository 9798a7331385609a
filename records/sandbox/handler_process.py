"""Handlers run in worker processes, a small pool per function, as Lambda runs execution environments.

A pool holds at most the function's concurrency (the runtime's `concurrency`, bounded by the
function's reserved concurrency) processes, started lazily: the first event of a function, or one
that finds every process busy, pays a cold start (a fresh Python importing the handler, not counted
against the timeout, as Lambda's init phase is not). A process is reused for the next events, so
module state survives between invokes as in a warm environment. A handler that runs past its timeout
is killed (its side effects stop there) and reported as `Sandbox.Timedout`; one that exits
(`sys.exit()`, `os._exit()`) or crashes is reported as `Runtime.ExitError` with Lambda's message. The
process is gone either way and the next event gets a fresh one (module state starts over).

Processes are started with fork+exec (`subprocess`), never a bare fork: the sandbox runs inside
threaded programs (the Textual app). What they print goes to pipes drained on the event loop into this
process's `sys.stdout` / `sys.stderr` (the objects, so an app that captures them, as Textual does,
keeps them off the terminal it draws on). Each process exits when its lifeline pipe closes, so none
outlives the sandbox: `stop()`, exit without stop, SIGKILL of the sandbox's process.

The process itself: `handler_worker.py`.
"""

from __future__ import annotations

import asyncio
import codecs
import collections
import contextlib
import json
import logging
import os
import secrets
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from records.sandbox import handler_worker

log = logging.getLogger(__name__)

INIT_TIMEOUT = 10.0  # Lambda's limit on an environment's init phase
MEMORY_MB = "128"
_LAUNCHER = "import runpy, sys; runpy.run_path(sys.argv[3], run_name='__main__')"
# Go's names of the signals (Lambda's runtime API reports a runtime's end as Go's os.ProcessState
# does: "signal: killed", as in AWS-recorded records; "signal: segmentation fault (core dumped)" as
# quoted from CloudWatch in awslabs/aws-lambda-cpp issue #30).
_SIGNAL_NAMES = {
    signal.SIGABRT: "aborted (core dumped)",
    signal.SIGBUS: "bus error (core dumped)",
    signal.SIGFPE: "floating point exception (core dumped)",
    signal.SIGILL: "illegal instruction (core dumped)",
    signal.SIGSEGV: "segmentation fault (core dumped)",
    signal.SIGKILL: "killed",
    signal.SIGTERM: "terminated",
    signal.SIGINT: "interrupt",
    signal.SIGHUP: "hangup",
    signal.SIGPIPE: "broken pipe",
    signal.SIGUSR1: "user defined signal 1",
    signal.SIGUSR2: "user defined signal 2",
}


@dataclass(frozen=True, slots=True)
class Call:
    """What one invoke hands the worker (the context's fields and the environment's variables)."""

    request_id: str
    payload: Any
    timeout: float
    invoked_function_arn: str
    version: str = "$LATEST"
    client_context: dict[str, Any] | None = None
    trace_header: str | None = None


@dataclass(frozen=True, slots=True)
class Ran:
    """A call's outcome: the response payload and, on error, Lambda's functionError."""

    payload: Any
    function_error: str | None = None


def new_trace_header() -> str:
    """A fresh X-Ray trace header as Lambda sets _X_AMZN_TRACE_ID for an untraced invoke."""
    return f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)};Parent={secrets.token_hex(8)};Sampled=0"


def exit_message(request_id: str, returncode: int | None) -> str:
    """Lambda's Runtime.ExitError message for a runtime that ended with this status."""
    if returncode == 0:
        reason = "Runtime exited without providing a reason"
    elif returncode is not None and returncode < 0:
        try:
            number = signal.Signals(-returncode)
        except ValueError:
            name = f"signal {-returncode}"
        else:
            name = _SIGNAL_NAMES.get(number, number.name.lower())
        reason = f"Runtime exited with error: signal: {name}"
    else:
        reason = f"Runtime exited with error: exit status {1 if returncode is None else returncode}"
    return f"RequestId: {request_id} Error: {reason}"


def timed_out(request_id: str, timeout: float) -> Ran:
    message = f"RequestId: {request_id} Error: Task timed out after {timeout:.2f} seconds"
    return Ran({"errorType": "Sandbox.Timedout", "errorMessage": message}, "Unhandled")


def _frame(kind: bytes, body: Any) -> bytes:
    data = kind + (json.dumps(body).encode() if body is not None else b"")
    return len(data).to_bytes(handler_worker.HEADER, "big") + data


class _Exited(Exception):
    """The worker process is gone (its answer pipe closed)."""


@dataclass(slots=True)
class Environment:
    """What a pool's processes are started with."""

    name: str
    handler: str
    base_dir: Path
    region: str
    env: dict[str, str] = field(default_factory=dict)  # the sandbox's endpoint and dummy credentials


class Worker:
    """One worker process: its pipes, read and drained on the event loop."""

    def __init__(self, environment: Environment, version: str) -> None:
        self.loop = asyncio.get_running_loop()
        answers_r, answers_w = os.pipe()
        lifeline_r, lifeline_w = os.pipe()
        log_stream = f"{datetime.now(UTC):%Y/%m/%d}/[{version}]{uuid.uuid4().hex}"
        env = {
            **{k: v for k, v in os.environ.items() if k not in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE")},
            **environment.env,
            # Lambda's defined runtime environment variables (AWS Lambda Developer Guide,
            # "Defined runtime environment variables"); the call sets _X_AMZN_TRACE_ID and the version.
            "_HANDLER": environment.handler,
            "AWS_REGION": environment.region,
            "AWS_DEFAULT_REGION": environment.region,
            "AWS_LAMBDA_FUNCTION_NAME": environment.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": MEMORY_MB,
            "AWS_LAMBDA_FUNCTION_VERSION": version,
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{environment.name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": log_stream,
        }
        if "AWS_ACCESS_KEY_ID" in environment.env:  # the sandbox's dummy credentials: no real session
            env.pop("AWS_SESSION_TOKEN", None)
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-u", "-c", _LAUNCHER, str(answers_w), str(lifeline_r), handler_worker.__file__],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                pass_fds=(answers_w, lifeline_r),
                env=env,
                start_new_session=True,  # a Ctrl-C in the terminal is the sandbox's to handle
            )
        except BaseException:
            for fd in (answers_r, answers_w, lifeline_r, lifeline_w):
                os.close(fd)
            raise
        os.close(answers_w)
        os.close(lifeline_r)
        self._answers = answers_r
        self._lifeline = lifeline_w
        self._buffer = bytearray()
        self._waiting: asyncio.Future[tuple[bytes, Any]] | None = None
        self._frames: collections.deque[tuple[bytes, Any]] = collections.deque()
        self._eof = False
        self.alive = True
        os.set_blocking(answers_r, False)
        self.loop.add_reader(answers_r, self._on_answers)
        assert self.process.stdout is not None and self.process.stderr is not None
        self._outputs: dict[int, Callable[[], bool]] = {}
        for stream, target in ((self.process.stdout, "stdout"), (self.process.stderr, "stderr")):
            self._drain(stream, target)
        stdin = self.process.stdin
        assert stdin is not None
        self._stdin: IO[bytes] = stdin
        init = {"sys_path": sys.path, "handler": environment.handler, "base_dir": str(environment.base_dir)}
        with contextlib.suppress(_Exited):  # gone at once: `ready` reports how it ended
            self._send(_frame(b"I", init))

    @property
    def pid(self) -> int:
        return self.process.pid

    def _drain(self, stream: IO[bytes], target: str) -> None:
        fd = stream.fileno()
        os.set_blocking(fd, False)
        decoder = codecs.getincrementaldecoder("utf-8")("replace")

        def on_output() -> bool:
            """Pass what the worker printed on; False when nothing was there to read."""
            try:
                data = os.read(fd, 65536)
            except BlockingIOError:
                return False
            except OSError:
                data = b""
            if not data:
                self.loop.remove_reader(fd)
                self._outputs.pop(fd, None)
                return False
            out = getattr(sys, target, None)  # looked up now: an app may have replaced it meanwhile
            if out is not None:
                with contextlib.suppress(Exception):
                    out.write(decoder.decode(data))
                    out.flush()
            return True

        self._outputs[fd] = on_output
        self.loop.add_reader(fd, on_output)

    def _send(self, data: bytes) -> None:
        try:
            self._stdin.write(data)
            self._stdin.flush()
        except OSError as exc:  # BrokenPipeError: the process is gone
            raise _Exited from exc

    def _on_answers(self) -> None:
        try:
            data = os.read(self._answers, 1 << 20)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._eof = True
            self.loop.remove_reader(self._answers)
        self._buffer += data
        while len(self._buffer) >= handler_worker.HEADER:
            size = int.from_bytes(self._buffer[: handler_worker.HEADER], "big")
            if len(self._buffer) < handler_worker.HEADER + size:
                break
            frame = bytes(self._buffer[handler_worker.HEADER : handler_worker.HEADER + size])
            del self._buffer[: handler_worker.HEADER + size]
            self._frames.append((frame[:1], json.loads(frame[1:]) if len(frame) > 1 else None))
        self._wake()

    def _wake(self) -> None:
        waiting = self._waiting
        if waiting is None or waiting.done():
            return
        if self._frames:
            waiting.set_result(self._frames.popleft())
        elif self._eof:
            waiting.set_exception(_Exited())

    async def _answer(self, seconds: float) -> tuple[bytes, Any]:
        """The next frame from the worker; TimeoutError after `seconds`, _Exited when it is gone."""
        self._waiting = self.loop.create_future()
        self._wake()
        try:
            async with asyncio.timeout(seconds):
                return await self._waiting
        finally:
            self._waiting = None

    async def ready(self, call: Call) -> Ran | None:
        """Wait for the handler's import; None when ready, else what the call gets (the process is gone).
        The init phase has Lambda's 10 s of its own; past that it eats into the call's timeout."""
        try:
            kind, body = await self._answer(INIT_TIMEOUT + call.timeout)
        except TimeoutError:
            await self.kill()
            return timed_out(call.request_id, call.timeout)
        except _Exited:
            return await self._ended(call.request_id)
        if kind == b"R":
            return None
        await self.kill()
        if isinstance(body, dict) and not body.get("requestId"):
            body["requestId"] = call.request_id
        return Ran(body, "Unhandled")

    async def call(self, call: Call) -> Ran:
        deadline_ms = int((time.time() + call.timeout) * 1000)
        request = {
            "id": call.request_id,
            "payload": call.payload,
            "deadline_ms": deadline_ms,
            "arn": call.invoked_function_arn,
            "version": call.version,
            "client_context": call.client_context,
            "trace": call.trace_header or new_trace_header(),
        }
        try:
            self._send(_frame(b"V", request))
            kind, body = await self._answer(call.timeout)
        except TimeoutError:
            await self.kill()
            return timed_out(call.request_id, call.timeout)
        except _Exited:
            return await self._ended(call.request_id)
        return Ran(body, None if kind == b"O" else "Unhandled")

    async def _ended(self, request_id: str) -> Ran:
        """The process ended by itself: Lambda's Runtime.ExitError with its exit status."""
        for _ in range(200):  # its answer pipe closed; the exit follows within moments
            if self.process.poll() is not None:
                break
            await asyncio.sleep(0.01)
        await self.kill()  # what it started goes with it
        message = exit_message(request_id, self.process.returncode)
        return Ran({"errorType": "Runtime.ExitError", "errorMessage": message}, "Unhandled")

    def _kill_group(self) -> None:
        """SIGKILL the worker's process group (it leads a session of its own): the handler and any
        process it started, as Lambda ends a whole environment."""
        if self.alive:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)

    async def kill(self) -> None:
        """SIGKILL (its side effects stop here) and reap; idempotent."""
        self._kill_group()
        for _ in range(500):
            if self.process.poll() is not None:
                break
            await asyncio.sleep(0.01)
        self._close()

    def kill_now(self) -> None:
        """SIGKILL and reap at once (no await: a cancelled call)."""
        self._kill_group()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(5)
        self._close()

    def _close(self) -> None:
        if not self.alive:
            return
        self.alive = False
        with contextlib.suppress(Exception):
            self.loop.remove_reader(self._answers)
        for fd, read in list(self._outputs.items()):
            for _ in range(64):  # its last words (a traceback, a print before exiting) still go out
                if not read():
                    break
            with contextlib.suppress(Exception):
                self.loop.remove_reader(fd)
        self._outputs.clear()
        for fd in (self._answers, self._lifeline):
            with contextlib.suppress(OSError):
                os.close(fd)
        for stream in (self._stdin, self.process.stdout, self.process.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()


class WorkerPool:
    """A function's processes: at most `limit` at once, idle ones reused, started on demand."""

    def __init__(self, environment: Environment, limit: int) -> None:
        self.environment = environment
        self.limit = max(1, limit)
        self.busy = 0  # calls holding a slot (running, or starting their process)
        self._idle: list[Worker] = []
        self._all: set[Worker] = set()
        self._slots: collections.deque[asyncio.Future[None]] = collections.deque()
        self.started = 0  # processes started (cold starts)

    @property
    def pids(self) -> list[int]:
        return [worker.pid for worker in self._all if worker.alive]

    def take(self) -> asyncio.Future[None] | None:
        """Hold a slot now (None), or a future that resolves when one is handed over. Synchronous,
        so a throttle check and the take that follows it cannot be interleaved."""
        if self.busy < self.limit:
            self.busy += 1
            return None
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._slots.append(waiter)
        return waiter

    def give_back(self) -> None:
        while self._slots:
            waiter = self._slots.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the slot passes to the waiter: busy stays the same
                return
        self.busy -= 1

    async def run(self, call: Call) -> Ran:
        """Run one call in a process of the pool (the caller holds a slot, see `take`)."""
        worker = None
        while self._idle:
            candidate = self._idle.pop()
            if candidate.alive and candidate.process.poll() is None:
                worker = candidate
                break
            await candidate.kill()
            self._all.discard(candidate)
        if worker is None:
            worker = Worker(self.environment, call.version)
            self._all.add(worker)
            self.started += 1
            try:
                failed = await worker.ready(call)
            except BaseException:  # cancelled: the sandbox stops
                worker.kill_now()
                self._all.discard(worker)
                raise
            if failed is not None:
                self._all.discard(worker)
                return failed
        try:
            ran = await worker.call(call)
        except BaseException:
            worker.kill_now()
            self._all.discard(worker)
            raise
        if worker.alive:
            self._idle.append(worker)
        else:
            self._all.discard(worker)
        return ran

    async def close(self) -> None:
        for waiter in self._slots:
            waiter.cancel()
        self._slots.clear()
        await asyncio.gather(*(worker.kill() for worker in list(self._all)), return_exceptions=True)
        self._all.clear()
        self._idle.clear()
