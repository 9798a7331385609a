"""Helpers for the source and tail tests: boto3 clients on the moto endpoint, record bodies, a tail
subprocess whose output is read as it comes, and a moto server subprocess that can be killed."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from contextlib import suppress
from pathlib import Path
from typing import Any

import boto3

from records.aws_options import AwsOptions
from records.message import Message
from records.sources.base import FactsBatch, Source, SourceEvent, SourceStatus

ROOT = Path(__file__).resolve().parents[2]
MOTO_SERVER = Path(sys.executable).with_name("moto_server")


def client(service: str, endpoint: str) -> Any:
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1")


def aws(endpoint: str) -> AwsOptions:
    return AwsOptions(region="us-east-1", endpoint_url=endpoint)


def send_bodies(sqs: Any, url: str, bodies: Iterable[str]) -> list[str]:
    """Send bodies in batches of 10; returns the MessageIds in order."""
    ids: list[str] = []
    batch: list[str] = []

    def flush() -> None:
        entries = [{"Id": str(i), "MessageBody": body} for i, body in enumerate(batch)]
        response = sqs.send_message_batch(QueueUrl=url, Entries=entries)
        assert not response.get("Failed"), response
        by_id = {entry["Id"]: entry["MessageId"] for entry in response["Successful"]}
        ids.extend(by_id[str(i)] for i in range(len(batch)))
        batch.clear()

    for body in bodies:
        batch.append(body)
        if len(batch) == 10:
            flush()
    if batch:
        flush()
    return ids


def drain_ids(sqs: Any, url: str, *, visibility: int = 30, quiet_polls: int = 2) -> list[str]:
    """Receive (and delete) everything visible; stops after `quiet_polls` empty 1-second polls."""
    ids: list[str] = []
    empty = 0
    while empty < quiet_polls:
        response = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, VisibilityTimeout=visibility
        )
        messages = response.get("Messages", [])
        if not messages:
            empty += 1
            continue
        empty = 0
        ids.extend(message["MessageId"] for message in messages)
        sqs.delete_message_batch(
            QueueUrl=url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
        )
    return ids


def queue_depth(sqs: Any, url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


async def collect(
    source: Source,
    *,
    messages: int | None,
    timeout: float = 20.0,  # noqa: ASYNC109 - a test helper: the limit is the point
    stop: Callable[[SourceEvent], bool] | None = None,
) -> tuple[list[Message], list[SourceStatus]]:
    """Iterate until `messages` messages arrived (or a failed/done status, or `stop`), then aclose().
    With `messages=None` it runs for `timeout` seconds and returns what arrived (no error)."""
    import asyncio

    got: list[Message] = []
    statuses: list[SourceStatus] = []

    async def run() -> None:
        async for event in source:
            assert not isinstance(event, FactsBatch)  # these sources yield messages, not facts
            if isinstance(event, Message):
                got.append(event)
            else:
                statuses.append(event)
                if event.state in ("failed", "done"):
                    return
            if (messages is not None and len(got) >= messages) or (stop is not None and stop(event)):
                return

    try:
        if messages is None:
            with suppress(TimeoutError):
                await asyncio.wait_for(run(), timeout)
        else:
            await asyncio.wait_for(run(), timeout)
    finally:
        await source.aclose()
    return got, statuses


def wait_until(condition: Callable[[], bool], timeout: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


class TailProcess:
    """`lambdest-tui tail ...` as a subprocess; stdout and stderr lines collected by threads."""

    def __init__(self, *args: str, env: dict[str, str] | None = None, unset: Iterable[str] = ()) -> None:
        environment = {**os.environ, **(env or {})}
        for name in unset:
            environment.pop(name, None)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tui.cli", "tail", *args],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=environment,
        )
        self.out: list[str] = []
        self.err: list[str] = []
        assert self.process.stdout is not None and self.process.stderr is not None
        self._threads = [
            threading.Thread(target=self._read, args=(self.process.stdout, self.out), daemon=True),
            threading.Thread(target=self._read, args=(self.process.stderr, self.err), daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    @staticmethod
    def _read(stream: Any, into: list[str]) -> None:
        for line in stream:
            into.append(line.rstrip("\n"))

    def json_lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in list(self.out)]

    def wait_err(self, text: str, timeout: float = 20.0) -> None:
        wait_until(lambda: any(text in line for line in self.err), timeout, f"{text!r} on stderr: {self.err}")

    def wait_lines(self, count: int, timeout: float = 30.0) -> None:
        wait_until(lambda: len(self.out) >= count, timeout, f"{count} lines (have {len(self.out)}; err {self.err})")

    def wait(self, timeout: float = 30.0) -> int:
        code = self.process.wait(timeout)
        for thread in self._threads:
            thread.join(5)
        return code

    def signal(self, number: int) -> None:
        self.process.send_signal(number)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class MotoProcess:
    """A moto server subprocess on a fixed port (so it can be killed and started again there)."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 20.0) -> None:
        self.process = subprocess.Popen(
            [str(MOTO_SERVER), "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(self._listening, timeout, f"moto on port {self.port}")

    def _listening(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"moto exited with {self.process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return True
        except OSError:
            return False

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.process = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None
