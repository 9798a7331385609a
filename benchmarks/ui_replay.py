"""Benchmark: the UI replaying a large JSON Lines file (issue 5). Run by hand, prints its figures.

    .venv/bin/python benchmarks/ui_replay.py [--records 1000000] [--file PATH] [--latency-seconds 10]

Figures, each beside its target:
  first screen     from creating the app to the first painted line of records      target < 1 s
  all counted      until the status bar counts every record, next to a bare
                   `json.loads` pass over the same file                             target <= 3x bare
  peak RSS         resident memory at its peak: the app's process plus the replay
                   worker process that decodes the file for it                      target <= 500 MB
  key latency      a key press (posted like a terminal key) until the records table
                   repaints the moved cursor, while records arrive at ~1,000/s       target < 100 ms

The app runs headless (Textual's test driver) with the real store and widgets: the replay part
through the real ReplaySource as `lambdest-tui replay` runs it (instant, decoded in a worker
process), the latency part through a paced source that decodes and
sends 1,000 records a second, as a busy live queue would.
The generated file is deleted afterwards unless --file names one to keep.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from records.facts import GC_THRESHOLDS
from records.files import now_iso, read_file
from records.lines import iso_timestamp
from records.message import Message
from records.sources.base import FactsBatch, Mode, SourceEvent, SourceStatus
from records.sources.replay import ReplaySource
from records.store.views import RecordFilter
from tui.app import AppConfig, LambdestApp, create_app
from tui.heap import tune_process
from tui.screens.main import MainScreen
from tui.widgets.virtual_table import VirtualTable

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
ARN = "arn:aws:lambda:us-east-1:123456789012:function:{}:$LATEST"


def _record(function: str, number: int, when: datetime, payload: Any, ok: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "version": "1.0",
        "timestamp": iso_timestamp(when),
        "requestContext": {
            "requestId": f"{number:012x}-0000-4000-8000-{number:012x}",
            "functionArn": ARN.format(function),
            "condition": "Success" if ok else "RetriesExhausted",
            "approximateInvokeCount": 1 if ok else 3,
        },
        "requestPayload": payload,
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST"},
        "responsePayload": {"reserved": True},
    }
    if not ok:
        body["responseContext"]["functionError"] = "Unhandled"
        body["responsePayload"] = {"errorType": "OutOfStock", "errorMessage": "SKU-1: 500 wanted, 100 left"}
    return body


def generate(path: Path, count: int, per_10ms: int = 10) -> None:
    """`count` update-inventory records (one in ten failing), each nesting its order record, their
    timestamps `per_10ms` records every 10 ms (10: 1,000 records a second of original timing)."""
    with path.open("w", encoding="utf-8") as handle:
        for number in range(count):
            when = T0 + timedelta(milliseconds=10 * (number // per_10ms))
            order = {"orderId": f"ord-{number:08d}", "items": [{"sku": "SKU-1", "qty": 1}], "card": "4242"}
            placed = _record("order", 2 * number, when, order, True)
            document = _record("update-inventory", 2 * number + 1, when, placed, number % 10 != 3)
            handle.write(json.dumps(document, separators=(",", ":")) + "\n")


def bare_pass(path: Path) -> float:
    started = time.perf_counter()
    with path.open("rb") as handle:
        for line in handle:
            json.loads(line)
    return time.perf_counter() - started


async def pipeline(path: Path, store: bool) -> float:
    """The same replay without the UI, as `replay` runs it (decoded in the worker process): the
    worker's batches alone, or stored in a record store (with the collector thresholds the UI
    process runs with)."""
    from records.store.record_store import RecordStore

    thresholds = gc.get_threshold()
    gc.set_threshold(*GC_THRESHOLDS)
    try:
        started = time.perf_counter()
        records = RecordStore() if store else None
        async for event in ReplaySource([str(path)], facts=True):
            if records is not None and isinstance(event, FactsBatch):
                records.ingest_facts_many(event.messages)
        return time.perf_counter() - started
    finally:
        gc.set_threshold(*thresholds)


def rss_mb() -> float:
    """Peak resident memory of this process."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def spy_on(table: VirtualTable, on_row_line: Callable[[], None]) -> None:
    """Call `on_row_line` whenever the table paints a line holding a row."""
    original = table.render_line

    def render_line(y: int) -> Any:
        if y >= 1 and table.row_count:
            on_row_line()
        return original(y)

    table.render_line = render_line  # type: ignore[method-assign]


async def wait_for(condition: Callable[[], bool], limit: float, every: float = 0.002) -> bool:
    """Poll `condition` every `every` seconds. A plain sleep, not `pilot.pause()`: that also forces
    a screen update each time, which the app would not do by itself (it repaints on its own timer)."""
    deadline = time.perf_counter() + limit
    while not condition():
        if time.perf_counter() > deadline:
            return False
        await asyncio.sleep(every)
    return True


def worker_peaks() -> dict[int, float]:
    """Peak resident memory (VmHWM, MB) of this process's replay worker processes now running.
    (getrusage's figure for children is no use here: it counts the parent's pages a child shares
    between fork and exec.)"""
    peaks: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if b"records.sources.replay_worker" not in (entry / "cmdline").read_bytes():
                continue
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if int(fields.get("PPid", "0")) == os.getpid() and "VmHWM" in fields:
            peaks[int(entry.name)] = int(fields["VmHWM"].split()[0]) / 1024
    return peaks


async def watch_workers(peaks: dict[int, float]) -> None:
    while True:
        for pid, peak in worker_peaks().items():
            peaks[pid] = max(peak, peaks.get(pid, 0.0))
        await asyncio.sleep(0.25)


async def replay_all(path: Path, count: int) -> dict[str, float]:
    started = time.perf_counter()
    painted: list[float] = []
    app: LambdestApp = create_app(AppConfig(sources=[ReplaySource([str(path)], facts=True)]))
    workers: dict[int, float] = {}
    watcher = asyncio.create_task(watch_workers(workers))
    async with app.run_test(size=(160, 45)):
        screen = app.screen
        assert isinstance(screen, MainScreen)
        spy_on(screen.records_table, lambda: None if painted else painted.append(time.perf_counter()))
        await wait_for(lambda: bool(painted), 600)
        # checked every 20 ms (not 2): the check itself must not take time from the app
        await wait_for(
            lambda: app.session.store.stats().records >= count and len(app.session.records) >= count, 3600, 0.02
        )
        counted = time.perf_counter()
        stats = app.session.store.stats()
        assert stats.records == count, stats
    watcher.cancel()
    return {
        "first_screen": painted[0] - started,
        "all_counted": counted - started,
        "worker_mb": max(workers.values(), default=0.0),
    }


class PacedSource:
    """The lines of a file, decoded as they are sent, at a steady `rate` a second (like a busy
    live queue: ReplaySource's --speed sleeps per message and under-delivers at 1,000/s)."""

    def __init__(self, path: Path, rate: float) -> None:
        self.path = path
        self.rate = rate
        self.label = f"paced:{path.name}"
        self.mode: Mode = "replay"

    async def __aiter__(self) -> AsyncIterator[SourceEvent]:
        yield SourceStatus(self.label, self.mode, "live")
        started = time.perf_counter()
        for sent, item in enumerate(read_file(self.path)):
            due = started + sent / self.rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            raw = item.data if isinstance(item.data, str) else json.dumps(item.data)
            yield Message(raw, self.label, now_iso(), {}, tuple(item.decode()))
        yield SourceStatus(self.label, self.mode, "done")

    async def aclose(self) -> None:
        return None


async def key_latency(path: Path, seconds: float, spec: RecordFilter | None = None) -> dict[str, float]:
    """Ingest ~1,000 records a second and time key press -> repaint of the moved cursor; with
    `spec`, that filter applies to both tables (records, and flows with a matching record)."""
    app: LambdestApp = create_app(AppConfig(sources=[PacedSource(path, 1000.0)]))
    latencies: list[float] = []
    async with app.run_test(size=(160, 45)):
        screen = app.screen
        assert isinstance(screen, MainScreen)
        table = screen.records_table
        painted: list[float] = []
        spy_on(table, lambda: painted.append(time.perf_counter()))
        if spec is not None:
            await wait_for(lambda: len(app.session.store) > 0, 60)
            app.apply_filter(spec)
            assert app.session.flows.view is not None, "the flows table follows the filter"
        await wait_for(lambda: len(app.session.records) > 500, 60)
        start_count = app.session.store.stats().records
        started = time.perf_counter()
        while time.perf_counter() - started < seconds:
            before = table.cursor
            painted.clear()
            pressed = time.perf_counter()
            app.simulate_key("down" if before < 20 else "up")
            moved = await wait_for(lambda before=before: table.cursor != before, 5)  # type: ignore[misc]
            if moved and await wait_for(lambda pressed=pressed: any(t > pressed for t in painted), 5):  # type: ignore[misc]
                latencies.append(min(t for t in painted if t > pressed) - pressed)
            await asyncio.sleep(0.1)
        rate = (app.session.store.stats().records - start_count) / (time.perf_counter() - started)
    latencies.sort()
    return {
        "rate": rate,
        "p50": statistics.median(latencies) * 1000,
        "p95": latencies[int(len(latencies) * 0.95) - 1] * 1000,
        "max": latencies[-1] * 1000,
        "samples": len(latencies),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--file", help="generate the file here and keep it (default: a temporary file)")
    parser.add_argument("--latency-seconds", type=float, default=10.0, help="0 skips the key-latency part")
    parser.add_argument(
        "--filtered",
        action="store_true",
        help="measure the key latency with a filter on both tables (failures whose source contains 'paced')",
    )
    parser.add_argument(
        "--breakdown", action="store_true", help="also time the replay without the UI (decode only; decode + store)"
    )
    args = parser.parse_args()
    folder = tempfile.TemporaryDirectory(prefix="lambdest-bench-")
    path = Path(args.file) if args.file else Path(folder.name) / "records.jsonl"
    paced = Path(folder.name) / "paced.jsonl"
    try:
        if not path.exists():
            print(f"writing {args.records:,} records to {path} …", flush=True)
            generate(path, args.records)
        if args.latency_seconds > 0:
            generate(paced, int(args.latency_seconds * 1000) + 5_000)
        size = path.stat().st_size / 1e6
        bare = bare_pass(path)
        print(f"file: {args.records:,} records, {size:,.0f} MB; bare json.loads pass {bare:.1f} s", flush=True)
        tune_process()  # as the `replay` command does before it runs the app
        figures = asyncio.run(replay_all(path, args.records))
        peak, worker_peak = rss_mb(), figures["worker_mb"]
        spec = RecordFilter(outcome="failed", source="paced") if args.filtered else None
        latency = asyncio.run(key_latency(paced, args.latency_seconds, spec)) if args.latency_seconds > 0 else None
        if args.breakdown:
            decode_only = asyncio.run(pipeline(path, store=False))
            with_store = asyncio.run(pipeline(path, store=True))
    finally:
        folder.cleanup()
    ratio = figures["all_counted"] / bare
    print()
    print(f"{'figure':<34}{'measured':>16}   target")
    print(f"{'time to first screen':<34}{figures['first_screen']:>14.2f} s   < 1 s")
    print(f"{'time until all counted':<34}{figures['all_counted']:>14.1f} s   <= {3 * bare:.1f} s (3x bare)")
    print(f"{'  (vs bare json.loads pass)':<34}{ratio:>15.1f}x   <= 3x")
    print(
        f"{'peak resident memory':<34}{peak + worker_peak:>13.0f} MB   <= 500 MB"
        f"  (app {peak:.0f} MB + replay worker process {worker_peak:.0f} MB)"
    )
    if latency is not None:
        print(
            f"{'key-press-to-repaint latency':<34}{latency['p50']:>11.0f} ms p50   < 100 ms"
            f"  (p95 {latency['p95']:.0f} ms, max {latency['max']:.0f} ms, {latency['samples']} presses,"
            f" ingesting {latency['rate']:.0f} rec/s{', filter on both tables' if args.filtered else ''})"
        )
    if args.breakdown:
        print(f"{'  of which: worker process alone':<34}{decode_only:>14.1f} s   (read + decode, no store, no UI)")
        print(f"{'  worker + RecordStore':<34}{with_store:>14.1f} s   (no UI)")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
