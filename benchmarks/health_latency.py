"""Key-press latency with the health screen open while its metrics are being fetched.

Run by hand (not in CI):   .venv/bin/python benchmarks/health_latency.py [--seconds 20] [--orders 9]

Starts the sandbox (the order system), sends --orders test orders so that CloudWatch has counts,
then runs the demo's app (its sources live) with the health poller reading back to back (interval
0: a reading, made of a GetMetricData call and every doctor check of the three functions over HTTP,
is always in flight) and the health screen open. It presses down/up (scrolling the screen) every
100 ms and times each press until the next frame the app produces after the scroll moved.
Target: p95 < 100 ms.

--sandbox-process: the sandbox runs as `lambdest-tui sandbox` in a process of its own and the app
has no sources, only the health poller (as against AWS: nothing but the UI in the UI's process).
By default the sandbox runs in the benchmark's process, as `demo` runs it, serving the doctor's
Lambda calls there.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from records.files import SessionWriter
from records.invoke import ORDER_KINDS, generate_order
from records.sandbox import Sandbox
from tui.app import AppConfig, LambdestApp, create_app
from tui.commands.demo import demo_config
from tui.screens.health import HealthScreen


async def wait_for(condition: Callable[[], bool], limit: float, every: float = 0.002) -> bool:
    """Poll with plain sleeps (a `pilot.pause()` would force repaints the app would not make)."""
    deadline = time.perf_counter() + limit
    while not condition():
        if time.perf_counter() > deadline:
            return False
        await asyncio.sleep(every)
    return True


def spy_frames(app: LambdestApp, frames: list[float]) -> None:
    """Record the time of every frame the app hands to its driver."""
    original = app._display

    def display(screen: Any, renderable: Any) -> None:
        if renderable is not None:
            frames.append(time.perf_counter())
        original(screen, renderable)

    app._display = display  # type: ignore[method-assign]


async def measure(config: AppConfig, seconds: float, interval: float) -> dict[str, float]:
    config.health_seconds = interval  # 0: read back to back, a fetch is always in flight
    app = create_app(config)
    latencies: list[float] = []
    during_fetch = 0
    async with app.run_test(size=(160, 40)):
        assert await wait_for(lambda: all(s.state == "live" for s in app.session.statuses.values()), 60)
        assert await wait_for(lambda: app.health is not None, 60)  # with the records' functions on screen
        app.simulate_key("h")
        assert await wait_for(lambda: isinstance(app.screen, HealthScreen), 10)
        assert await wait_for(lambda: app.health is not None, 60)
        screen = app.screen
        assert isinstance(screen, HealthScreen)
        body = screen.query_one("#health-body")
        body.focus()
        poller = app.poller
        assert poller is not None
        frames: list[float] = []
        spy_frames(app, frames)
        readings = poller.readings
        started = time.perf_counter()
        while time.perf_counter() - started < seconds:
            before = body.scroll_y
            key = "down" if before < 4 else "up"
            frames.clear()
            during_fetch += poller.reading
            pressed = time.perf_counter()
            app.simulate_key(key)
            moved = await wait_for(lambda before=before: body.scroll_y != before, 5)  # type: ignore[misc]
            if moved and await wait_for(lambda pressed=pressed: any(t > pressed for t in frames), 5):  # type: ignore[misc]
                latencies.append(min(t for t in frames if t > pressed) - pressed)
            await asyncio.sleep(0.1)
        readings = poller.readings - readings
        await app.stop_sources()
    latencies.sort()
    return {
        "p50": statistics.median(latencies) * 1000,
        "p95": latencies[max(int(len(latencies) * 0.95) - 1, 0)] * 1000,
        "max": latencies[-1] * 1000,
        "samples": len(latencies),
        "during_fetch": during_fetch,
        "readings": readings,
        "reading_seconds": seconds / max(readings, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20.0, help="how long to press keys (default 20)")
    parser.add_argument("--orders", type=int, default=9, help="test orders sent first (default 9)")
    parser.add_argument(
        "--interval", type=float, default=0.0, help="seconds between readings (default 0: back to back; 3600: none)"
    )
    parser.add_argument("--sandbox-process", action="store_true", help="the sandbox in a process of its own")
    args = parser.parse_args()
    if args.sandbox_process:
        result = separate(args)
    else:
        with Sandbox() as sandbox, tempfile.TemporaryDirectory() as folder:
            os.environ.update(sandbox.env)
            send_orders(sandbox.endpoint_url, args.orders)
            sandbox.wait_idle(120)
            sandbox.flush_metrics()
            with SessionWriter(Path(folder) / "session.jsonl") as session:
                result = asyncio.run(measure(demo_config(sandbox, session), args.seconds, args.interval))
    print(
        f"key press to frame, health screen open, metrics being fetched: p50 {result['p50']:.0f} ms, "
        f"p95 {result['p95']:.0f} ms, max {result['max']:.0f} ms ({result['samples']} presses, "
        f"{result['during_fetch']} while a reading was in flight; {result['readings']} readings, "
        f"{result['reading_seconds']:.2f} s each)   target p95 < 100 ms"
    )


def send_orders(endpoint: str, count: int) -> None:
    import boto3

    lam = boto3.client("lambda", endpoint_url=endpoint, region_name="us-east-1")
    for number in range(count):
        order = generate_order(ORDER_KINDS[number % len(ORDER_KINDS)])
        lam.invoke(FunctionName="order", InvocationType="Event", Payload=json.dumps(order))


def separate(args: argparse.Namespace) -> dict[str, float]:
    """The sandbox as `lambdest-tui sandbox` (its own process); the app with the poller only."""
    from records.aws_options import AwsOptions
    from tui.launch import live_config

    process = subprocess.Popen(
        [sys.executable, "-m", "tui.cli", "sandbox"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith("export "):
                name, _, value = line.removeprefix("export ").strip().partition("=")
                os.environ[name] = shlex.split(value)[0] if value else ""
            if "ready" in line:
                break
        endpoint = os.environ["AWS_ENDPOINT_URL"]
        send_orders(endpoint, args.orders)
        time.sleep(8)  # the orders' retries (about 3 s) and a metrics flush (every second)
        aws = AwsOptions(endpoint_url=endpoint, region="us-east-1")
        functions = ["order", "update-inventory", "rollback-order"]
        config = live_config([], aws, "order", "benchmark", "", watched=functions)
        return asyncio.run(measure(config, args.seconds, args.interval))
    finally:
        process.terminate()
        process.wait(30)


if __name__ == "__main__":
    main()
