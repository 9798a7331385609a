"""Benchmark of the local sandbox (run by hand: `.venv/bin/python benchmarks/sandbox.py`).

Prints:
  1. start to ready: `lambdest-tui sandbox` from spawn to its ready line (target < 1.5 s), and
     `Sandbox().start()` in-process (what `demo` pays);
  2. happy orders per second with the default time factor: N good orders invoked at once
     (InvocationType Event) until the last update-inventory record reached a queue subscribed to
     the SNS topic, with the per-order latency (invoke -> record in the queue).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")


def cli_start_to_ready(runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "tui.cli", "sandbox"], cwd=ROOT, stdout=subprocess.PIPE, text=True
        )
        assert process.stdout is not None
        for line in process.stdout:
            if "ready" in line:
                break
        times.append(time.perf_counter() - started)
        process.send_signal(signal.SIGTERM)
        process.wait(30)
    return times


def happy_orders(count: int, workers: int) -> tuple[float, float, list[float]]:
    import boto3

    from records.invoke import generate_order
    from records.sandbox import Sandbox
    from records.sandbox.order_system import handlers

    handlers.reset()
    with Sandbox() as box:  # the default time factor
        region = box.region
        lam = boto3.client("lambda", endpoint_url=box.endpoint_url, region_name=region)
        sqs = boto3.client("sqs", endpoint_url=box.endpoint_url, region_name=region)
        sns = boto3.client("sns", endpoint_url=box.endpoint_url, region_name=region)
        url = sqs.create_queue(QueueName="bench-inbox")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(
            TopicArn=box.arn("topic", "order-notifications"),
            Protocol="sqs",
            Endpoint=arn,
            Attributes={"RawMessageDelivery": "true"},
        )
        orders = [generate_order("good") for _ in range(count)]
        sent: dict[str, float] = {}

        def fire(order: dict[str, object]) -> None:
            sent[str(order["orderId"])] = time.perf_counter()
            lam.invoke(FunctionName="order", InvocationType="Event", Payload=json.dumps(order))

        started = time.perf_counter()
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(fire, orders))
        idle: list[float] = []

        def watch() -> None:
            box.wait_idle(120)
            idle.append(time.perf_counter())

        watcher = threading.Thread(target=watch)
        watcher.start()
        latencies: list[float] = []
        deadline = time.monotonic() + 120
        while len(latencies) < count and time.monotonic() < deadline:
            messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
            now = time.perf_counter()
            for message in messages:
                record = json.loads(message["Body"])
                order_id = record["requestPayload"]["requestPayload"]["orderId"]
                latencies.append(now - sent[order_id])
            if messages:
                sqs.delete_message_batch(
                    QueueUrl=url,
                    Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
                )
        elapsed = time.perf_counter() - started
        watcher.join()
        if len(latencies) < count:
            raise SystemExit(f"only {len(latencies)} of {count} orders finished; stats: {box.stats()}")
        return count / (idle[0] - started), count / elapsed, latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="start-to-ready runs")
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--workers", type=int, default=8, help="threads invoking")
    args = parser.parse_args()

    from records.sandbox import Sandbox

    ready = cli_start_to_ready(args.runs)
    print(
        f"start to ready (lambdest-tui sandbox, {args.runs} runs): median {statistics.median(ready):.2f} s, "
        f"max {max(ready):.2f} s   target < 1.5 s"
    )
    in_process = []
    for _ in range(args.runs):
        started = time.perf_counter()
        box = Sandbox()
        box.start()
        in_process.append(time.perf_counter() - started)
        box.stop()
    print(
        f"start to ready (Sandbox().start() in-process): median {statistics.median(in_process):.2f} s, "
        f"max {max(in_process):.2f} s"
    )
    delivered, read, latencies = happy_orders(args.orders, args.workers)
    latencies.sort()
    p95 = latencies[int(len(latencies) * 0.95) - 1]
    print(
        f"happy orders ({args.orders} invoked at once, default time factor): {delivered:.1f} orders/s until the "
        f"last record was published to SNS; {read:.1f} orders/s until the last one was read from a subscribed "
        f"SQS queue (latency median {statistics.median(latencies):.2f} s, p95 {p95:.2f} s)"
    )


if __name__ == "__main__":
    main()
