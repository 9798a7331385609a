"""Benchmark of the start screen's listing (run by hand: `.venv/bin/python benchmarks/start_listing.py`).

Starts the sandbox with N functions (as benchmarks/discovery.py does) and times
`records.listing.list_destinations`: when the first functions arrive and when the whole region is
read; then the start screen itself (headless, Textual's run_test): from starting the app to its
first function rows. Target: the first functions within 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from discovery import stack_text  # (sets the dummy AWS variables too)


async def listing(endpoint: str, region: str) -> tuple[float, float, int]:
    from records.aws_options import AwsOptions
    from records.listing import list_destinations

    started = time.perf_counter()
    first = None
    found = 0
    async for batch in list_destinations(AwsOptions(region=region, endpoint_url=endpoint)):
        found += len(batch.functions)
        if first is None and batch.functions:
            first = time.perf_counter() - started
    return first or float("nan"), time.perf_counter() - started, found


async def start_screen(endpoint: str, region: str) -> float:
    """Seconds from starting the start screen (headless) to its first function rows."""
    from records.aws_options import AwsOptions
    from tui.commands.start import StartApp

    app = StartApp(AwsOptions(region=region, endpoint_url=endpoint))
    started = time.perf_counter()
    async with app.run_test(size=(160, 45)) as pilot:
        while True:
            screen = app.start_screen
            if screen is not None and screen.functions:
                return time.perf_counter() - started
            await pilot.pause(0.005)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--functions", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5)
    options = parser.parse_args()
    from records.sandbox import Sandbox

    firsts: list[float] = []
    totals: list[float] = []
    screens: list[float] = []
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "handlers.py").write_text("def echo(event, context):\n    return event\n")
        stack = Path(folder) / "stack.toml"
        stack.write_text(stack_text(options.functions))
        with Sandbox(stack) as box:
            for _ in range(options.runs):
                first, total, found = asyncio.run(listing(box.endpoint_url, box.region))
                assert found == options.functions, found
                firsts.append(first)
                totals.append(total)
                screens.append(asyncio.run(start_screen(box.endpoint_url, box.region)))
    print(f"{options.functions} functions, median of {options.runs} runs:")
    for label, times in (
        ("first functions listed", firsts),
        ("whole region listed", totals),
        ("start screen first rows", screens),
    ):
        runs = ", ".join(f"{t:.2f}" for t in times)
        print(f"  {label:<24}{statistics.median(times):.3f} s   (runs: {runs})")


if __name__ == "__main__":
    main()
