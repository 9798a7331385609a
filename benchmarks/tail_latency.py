"""Latency and throughput of `lambdest-tui tail` against moto, side by side with a bare aiobotocore loop.

Run by hand (not in CI):   .venv/bin/python benchmarks/tail_latency.py [--records 200] [--rate 20]

1. Latency: messages are sent at --rate per second; each carries its send time. We time from
   SendMessage to the line read from the reader's stdout, for `lambdest-tui tail --queue Q`
   (peek, 2 pollers) and for a bare aiobotocore long-poll loop (2 pollers, prints each body).
   Target: tail p50 within 1.5x of the bare loop.
2. Throughput with N pollers: a producer keeps the queue's visible depth under 50 (moto's SQS slows with
   depth); both readers consume (receive + delete; tail also fsyncs its session file first).
   Target: tail at least 0.8x the bare loop's messages per second.

Both readers run as subprocesses and are timed identically, on a moto server subprocess of their own.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from types_aiobotocore_sqs.type_defs import DeleteMessageBatchRequestEntryTypeDef

ROOT = Path(__file__).resolve().parents[1]
ENV = {
    **os.environ,
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}


def body(index: int) -> str:
    return json.dumps(
        {
            "version": "1.0",
            "timestamp": "2026-11-27T10:00:00.000Z",
            "requestContext": {
                "requestId": f"req-{index}",
                "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:order:$LATEST",
                "condition": "Success",
                "approximateInvokeCount": 1,
            },
            "requestPayload": {"orderId": f"o-{index}", "sentAt": time.time()},
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST"},
            "responsePayload": {"ok": True},
        }
    )


# -- the bare loop (run as a subprocess: `tail_latency.py --bare ENDPOINT QUEUE POLLERS DELETE`) ------
async def bare_loop(endpoint: str, queue: str, pollers: int, delete: bool) -> None:
    from aiobotocore.session import get_session

    session = get_session()
    async with session.create_client("sqs", endpoint_url=endpoint, region_name="us-east-1") as sqs:
        url = (await sqs.get_queue_url(QueueName=queue))["QueueUrl"]
        print("live", file=sys.stderr, flush=True)

        async def poll() -> None:
            while True:
                response = await sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=20)
                messages = response.get("Messages", [])
                if delete and messages:
                    entries: list[DeleteMessageBatchRequestEntryTypeDef] = [
                        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)
                    ]
                    await sqs.delete_message_batch(QueueUrl=url, Entries=entries)
                for message in messages:
                    sys.stdout.write(message["Body"] + "\n")
                sys.stdout.flush()

        await asyncio.gather(*(poll() for _ in range(pollers)))


# -- the harness ------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_moto() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    moto = Path(sys.executable).with_name("moto_server")
    process = subprocess.Popen(
        [str(moto), "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("moto did not start")


class Reader:
    """A reader subprocess; records (arrival time, line) for every stdout line."""

    def __init__(self, argv: list[str]) -> None:
        self.process = subprocess.Popen(
            argv, cwd=ROOT, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1
        )
        self.lines: list[tuple[float, str]] = []
        self.live = threading.Event()
        threading.Thread(target=self._out, daemon=True).start()
        threading.Thread(target=self._err, daemon=True).start()

    def _out(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append((time.time(), line))

    def _err(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            if "live" in line:
                self.live.set()
            elif "connecting" not in line:
                sys.stderr.write("  reader: " + line)

    def cpu_seconds(self) -> float:
        """User + system CPU time the reader used so far (Linux /proc)."""
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return float("nan")
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def tail_argv(endpoint: str, queue: str, pollers: int, consume: bool, save: str) -> list[str]:
    argv = [sys.executable, "-m", "tui.cli", "tail", "--queue", queue, "--format", "jsonl"]
    argv += ["--pollers", str(pollers), "--endpoint-url", endpoint]
    if consume:
        argv += ["--mode", "consume", "--save", save]
    return argv


def bare_argv(endpoint: str, queue: str, pollers: int, consume: bool) -> list[str]:
    return [sys.executable, __file__, "--bare", endpoint, queue, str(pollers), "1" if consume else "0"]


def sent_at(line: str) -> float:
    value = json.loads(line)
    payload = value.get("request_payload") or value.get("requestPayload")
    return float(payload["sentAt"])


def measure_latency(sqs: Any, targets: list[tuple[str, Reader]], records: int, rate: float) -> list[list[float]]:
    """Send each record to every reader's queue (alternating which goes first) at `rate` per second,
    so the readers are measured at the same time under the same load."""
    for _, reader in targets:
        if not reader.live.wait(60):
            raise SystemExit("reader never went live")
    time.sleep(0.5)  # let every poller reach its first long poll
    start = time.monotonic()
    for index in range(records):
        pause = start + index / rate - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        order = targets if index % 2 == 0 else list(reversed(targets))
        for url, _ in order:
            sqs.send_message(QueueUrl=url, MessageBody=body(index))
    deadline = time.monotonic() + 30
    while any(len(reader.lines) < records for _, reader in targets) and time.monotonic() < deadline:
        time.sleep(0.05)
    return [[(arrived - sent_at(line)) * 1000 for arrived, line in reader.lines] for _, reader in targets]


def visible_depth(sqs: Any, url: str) -> int:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def measure_throughput(sqs: Any, url: str, reader: Reader, total: int) -> tuple[float, float]:
    """Messages per second until `total` lines were read, and the reader's CPU seconds meanwhile.
    The producer keeps the queue's visible depth under 50 (moto slows with depth)."""
    if not reader.live.wait(60):
        raise SystemExit("reader never went live")
    time.sleep(0.3)
    sent = 0
    cpu = reader.cpu_seconds()
    started = time.monotonic()
    while len(reader.lines) < total:
        if sent < total and visible_depth(sqs, url) < 50:
            entries = [{"Id": str(i), "MessageBody": body(sent + i)} for i in range(10)]
            sqs.send_message_batch(QueueUrl=url, Entries=entries)
            sent += 10
        else:
            time.sleep(0.002)
        if time.monotonic() - started > 300:
            raise SystemExit("throughput run took over 5 minutes")
    return total / (time.monotonic() - started), reader.cpu_seconds() - cpu


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def run_reader(make: Callable[[], Reader], work: Callable[[Reader], Any]) -> Any:
    reader = make()
    try:
        return work(reader)
    finally:
        reader.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=200, help="messages in the latency run (default 200)")
    parser.add_argument("--rate", type=float, default=20.0, help="messages per second (default 20)")
    parser.add_argument("--throughput", type=int, default=1000, help="messages per throughput run (default 1000)")
    parser.add_argument("--pollers", default="1,2,4", help="poller counts for throughput (default 1,2,4)")
    parser.add_argument("--only", choices=("latency", "throughput"), help="run one of the two parts")
    parser.add_argument("--repeat", type=int, default=3, help="throughput runs per reader and poller count")
    options = parser.parse_args()

    import boto3

    moto, endpoint = start_moto()
    try:
        sqs = boto3.client(
            "sqs", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="b", aws_secret_access_key="b"
        )
        print(f"moto at {endpoint}")
        if options.only != "throughput":
            latency_part(sqs, endpoint, options)
        if options.only != "latency":
            throughput_part(sqs, endpoint, options)
    finally:
        moto.terminate()
        try:
            moto.wait(5)
        except subprocess.TimeoutExpired:
            moto.kill()


def latency_part(sqs: Any, endpoint: str, options: argparse.Namespace) -> None:
    print(f"latency: {options.records} records at {options.rate}/s to each reader at the same time; 2 pollers, peek")
    urls = [sqs.create_queue(QueueName=name)["QueueUrl"] for name in ("latency-bare", "latency-tail")]
    readers = [
        Reader(bare_argv(endpoint, "latency-bare", 2, False)),
        Reader(tail_argv(endpoint, "latency-tail", 2, False, "")),
    ]
    try:
        results = measure_latency(sqs, list(zip(urls, readers, strict=True)), options.records, options.rate)
    finally:
        for reader in readers:
            reader.stop()
    print(f"{'reader':<10} {'n':>5} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for name, latencies in zip(("bare loop", "tail"), results, strict=True):
        print(
            f"{name:<10} {len(latencies):>5} {percentile(latencies, 0.5):>8.1f} {percentile(latencies, 0.9):>8.1f}"
            f" {percentile(latencies, 0.99):>8.1f} {max(latencies):>8.1f}"
        )
    ratio = percentile(results[1], 0.5) / max(percentile(results[0], 0.5), 1e-9)
    print(f"tail p50 / bare p50 = {ratio:.2f}x (target <= 1.5x)")


def throughput_part(sqs: Any, endpoint: str, options: argparse.Namespace) -> None:
    print(
        f"\nthroughput: {options.throughput} messages a run, consume (receive + delete; tail also fsyncs), "
        f"visible depth kept under 50; {options.repeat} runs each, alternating order, median"
    )
    print(f"{'pollers':>7} {'bare msg/s':>11} {'tail msg/s':>11} {'ratio':>6} {'bare cpu s':>11} {'tail cpu s':>11}")
    with tempfile.TemporaryDirectory() as folder:
        for pollers in (int(p) for p in options.pollers.split(",")):
            rates: dict[str, list[float]] = {"bare": [], "tail": []}
            cpu: dict[str, list[float]] = {"bare": [], "tail": []}
            for round_number in range(options.repeat):
                order = ("bare", "tail") if round_number % 2 == 0 else ("tail", "bare")
                for name in order:
                    queue = f"throughput-{name}-{pollers}-{round_number}"
                    url = sqs.create_queue(QueueName=queue)["QueueUrl"]
                    save = str(Path(folder) / f"{queue}.jsonl")
                    argv = (
                        bare_argv(endpoint, queue, pollers, True)
                        if name == "bare"
                        else tail_argv(endpoint, queue, pollers, True, save)
                    )

                    def make(argv: list[str] = argv) -> Reader:
                        return Reader(argv)

                    def work(reader: Reader, url: str = url) -> tuple[float, float]:
                        return measure_throughput(sqs, url, reader, options.throughput)

                    rate, seconds = run_reader(make, work)
                    rates[name].append(rate)
                    cpu[name].append(seconds)
            bare, tail = statistics.median(rates["bare"]), statistics.median(rates["tail"])
            bare_cpu, tail_cpu = statistics.median(cpu["bare"]), statistics.median(cpu["tail"])
            print(f"{pollers:>7} {bare:>11.1f} {tail:>11.1f} {tail / bare:>5.2f}x {bare_cpu:>11.2f} {tail_cpu:>11.2f}")
    print("target: tail >= 0.8x the bare loop")


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "--bare":
        with suppress(KeyboardInterrupt):
            asyncio.run(bare_loop(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5] == "1"))
    else:
        main()
