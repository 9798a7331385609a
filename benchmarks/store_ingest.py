"""Benchmark: ingest a 1,000,000-record JSON Lines file into the record store (issue 5, item 8).

    .venv/bin/python benchmarks/store_ingest.py [--records N] [--keep DIR]

Writes the file into a temporary folder (never into the repository): the demo's order system,
60% good orders (update-inventory's record through SNS, nesting order's), 20% out of stock
(rollback-order's record through SNS, nesting update-inventory's failure, nesting order's), 20%
declined cards (order's RetriesExhausted record as an SQS body), and 0.5% lines that are not
records. Each phase runs in a fresh interpreter so its peak RSS is its own:

  bare     json.loads of every line (the yardstick of the issue's target)
  read     records.files.read_inputs only
  decode   read_inputs + decode (what a replay source does)
  store    read_inputs + decode + RecordStore.ingest (the whole ingest path), then the
           per-row memory of the store, a filter over all rows and a save of all rows

This is the in-process path (decode and store in one process, as for live sources): its CPU time
is decode + store added up. The issue's replay targets (all counted within 3x the bare pass, at
most 500 MB) are measured on `replay` as it runs, with decoding in a worker process, by
benchmarks/ui_replay.py.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

ACCOUNT = "123456789012"


def _arn(function: str) -> str:
    return f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{function}:$LATEST"


def _record(function: str, payload: Any, when: str, *, error: tuple[str, str] | None = None) -> dict[str, Any]:
    context: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
    response: Any = {"status": "ok"}
    if error is not None:
        context["functionError"] = "Unhandled"
        response = {"errorType": error[0], "errorMessage": error[1], "stackTrace": ['  File "/var/task/h.py"']}
    return {
        "version": "1.0",
        "timestamp": when,
        "requestContext": {
            "requestId": str(uuid.UUID(int=random.getrandbits(128), version=4)),
            "functionArn": _arn(function),
            "condition": "Success" if error is None else "RetriesExhausted",
            "approximateInvokeCount": 1 if error is None else 3,
        },
        "requestPayload": payload,
        "responseContext": context,
        "responsePayload": response,
    }


def _sns(record: dict[str, Any]) -> dict[str, Any]:
    return {
        "Type": "Notification",
        "MessageId": str(uuid.uuid4()),
        "TopicArn": f"arn:aws:sns:us-east-1:{ACCOUNT}:order-notifications",
        "Message": json.dumps(record),
        "Timestamp": "2026-11-27T10:00:00.000Z",
        "SignatureVersion": "1",
        "UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
    }


def generate(path: Path, count: int) -> None:
    random.seed(5)
    with path.open("w", encoding="utf-8") as out:
        for number in range(count):
            when = (
                f"2026-11-27T{10 + number // 3_600_000 % 10:02d}:{number // 60_000 % 60:02d}:"
                f"{number // 1000 % 60:02d}.{number % 1000:03d}Z"
            )
            order_id = f"ORD-{number:08d}"
            order_event = {"orderId": order_id, "card": "4242424242424242", "items": [{"sku": "A-1", "qty": 2}]}
            kind = random.random()
            if kind < 0.005:
                out.write(json.dumps({"orderId": order_id, "note": "not a record"}) + "\n")
            elif kind < 0.605:
                order = _record("order", order_event, when)
                out.write(json.dumps(_sns(_record("update-inventory", order, when))) + "\n")
            elif kind < 0.805:
                order = _record("order", order_event, when)
                failed = _record("update-inventory", order, when, error=("OutOfStock", f"{order_id}: A-1 out of stock"))
                out.write(json.dumps(_sns(_record("rollback-order", failed, when))) + "\n")
            else:
                error = ("CardDeclined", f"card declined for order {order_id}")
                out.write(json.dumps(_record("order", order_event, when, error=error)) + "\n")


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu() -> float:
    """CPU seconds of this process: steadier than wall time on a shared machine."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def phase(name: str, path: Path) -> dict[str, Any]:
    from records.files import read_inputs

    start = time.perf_counter()
    cpu = _cpu()
    result: dict[str, Any] = {"phase": name}
    if name == "bare":
        count = 0
        with path.open("rb") as handle:
            for line in handle:
                json.loads(line)
                count += 1
        result["count"] = count
    elif name == "read":
        result["count"] = sum(1 for _ in read_inputs([path]))
    elif name == "decode":
        result["count"] = sum(len(item.decode()) for item in read_inputs([path]))
    else:
        from records.message import Message
        from records.store.record_store import RecordStore
        from records.store.views import RecordFilter, RecordView

        store = RecordStore()
        received = "2026-11-27T12:00:00.000Z"
        file = str(path)
        for item in read_inputs([path]):
            raw = item.data if isinstance(item.data, str) else item.raw or ""
            message = Message(
                raw, "file:bench", received, item.meta, tuple(item.decode()), file, item.offset, item.length
            )
            store.ingest(message)
            if len(store) % 10_000 == 0:
                store.drain_changes()  # as the UI does every ~100 ms
        store.drain_changes()
        result["count"] = len(store)
        result["seconds"] = time.perf_counter() - start
        result["cpu"] = _cpu() - cpu
        memory = store.memory()
        result["store_bytes"] = sum(memory.values())
        result["bytes_per_row"] = sum(memory.values()) / max(1, len(store))
        result["memory"] = memory
        stats = store.stats()
        result["stats"] = {
            "records": stats.records,
            "succeeded": stats.succeeded,
            "failed": stats.failed,
            "undecodable": stats.undecodable,
            "flows": stats.flows,
        }
        started = time.perf_counter()
        view = RecordView(store, RecordFilter(outcome="failed", function="order"))
        result["filter_seconds"] = time.perf_counter() - started
        result["filter_matches"] = len(view)
        started = time.perf_counter()
        view = RecordView(store, RecordFilter(text="ORD-00099999", search_raw=False))
        result["text_filter_seconds"] = time.perf_counter() - started
        started = time.perf_counter()
        flows = store.flows()
        for position in range(40):
            store.flow(flows[position])
        rows = [store.row(RecordView(store)[position]) for position in range(40)]
        result["screen_seconds"] = time.perf_counter() - started
        assert len(rows) == 40
        started = time.perf_counter()
        store.load(len(store) // 2)
        result["load_seconds"] = time.perf_counter() - started
        with tempfile.TemporaryDirectory() as folder:
            started = time.perf_counter()
            store.save(Path(folder) / "saved.jsonl")
            result["save_seconds"] = time.perf_counter() - started
        result["peak_rss_mb"] = _peak_rss_mb()
        return result
    result["seconds"] = time.perf_counter() - start
    result["cpu"] = _cpu() - cpu
    result["peak_rss_mb"] = _peak_rss_mb()
    return result


def run_phase(name: str, path: Path) -> dict[str, Any]:
    output = subprocess.run(
        [sys.executable, __file__, "--phase", name, "--file", str(path)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--keep", help="write the file into this folder and keep it")
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(phase(args.phase, Path(args.file))))
        return 0
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(args.keep or temporary)
        path = folder / "records.jsonl"
        started = time.perf_counter()
        if not path.exists():
            generate(path, args.records)
        size = os.path.getsize(path) / 1e6
        print(f"file: {args.records:,} lines, {size:.0f} MB ({time.perf_counter() - started:.1f} s)")
        results = {name: run_phase(name, path) for name in ("bare", "read", "decode", "store")}
    bare = results["bare"]["seconds"]
    bare_cpu = results["bare"]["cpu"]
    for name, result in results.items():
        print(
            f"{name:7s} {result['seconds']:7.2f} s wall ({result['seconds'] / bare:5.2f}x bare), "
            f"{result['cpu']:7.2f} s CPU ({result['cpu'] / bare_cpu:5.2f}x bare), "
            f"peak RSS {result['peak_rss_mb']:4.0f} MB ({result['count']:,} items)"
        )
    store = results["store"]
    ingest_only = store["cpu"] - results["decode"]["cpu"]
    per_row = ingest_only / store["count"] * 1e6
    print(f"store.ingest alone (store - decode, CPU): {ingest_only:.2f} s, {per_row:.1f} µs a row")
    print(
        f"store memory: {store['store_bytes'] / 1e6:.0f} MB, {store['bytes_per_row']:.0f} bytes a row {store['memory']}"
    )
    print(f"stats: {store['stats']}")
    print(
        f"filter failed+order over all rows: {store['filter_seconds']:.2f} s ({store['filter_matches']:,} matches); "
        f"text filter over summary fields: {store['text_filter_seconds']:.2f} s"
    )
    print(
        f"40 flows + 40 rows for a screen: {store['screen_seconds'] * 1000:.1f} ms; "
        f"load() of one record: {store['load_seconds'] * 1000:.1f} ms; save all: {store['save_seconds']:.1f} s"
    )
    ratio = store["cpu"] / bare_cpu
    print(
        f"in one process: decode + store {ratio:.2f}x the bare pass (CPU), {store['peak_rss_mb']:.0f} MB resident "
        "(store phase, no UI); the replay targets: benchmarks/ui_replay.py"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
