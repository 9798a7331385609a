"""Benchmark of `lambdest-tui doctor` on one function against the sandbox (run by hand:
`.venv/bin/python benchmarks/doctor.py`). Target: the checks on one function finish in under 3 s.

Prints, for the order stack's `order` and `update-inventory` (after a few test orders, so the
metrics have data):
  1. `diagnose([...])` in-process, each run with fresh clients (what the command does after import);
  2. `lambdest-tui doctor FUNCTION` as a process, from spawn to exit (imports included).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")


def main() -> None:
    import boto3

    from records.aws_options import AwsOptions
    from records.doctor import diagnose
    from records.invoke import generate_order
    from records.sandbox import Sandbox

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with Sandbox() as box:
        lam = boto3.client("lambda", endpoint_url=box.endpoint_url, region_name=box.region)
        for preset in ("good", "good", "declined"):
            lam.invoke(FunctionName="order", InvocationType="Event", Payload=json.dumps(generate_order(preset)))
        box.wait_idle(60)
        options = AwsOptions(region=box.region, endpoint_url=box.endpoint_url)
        for function in ("order", "update-inventory"):
            times = []
            for _ in range(args.runs):
                started = time.perf_counter()
                findings = asyncio.run(diagnose([function], options))
                times.append(time.perf_counter() - started)
            print(
                f"diagnose([{function!r}]) in-process, {len(findings)} checks, {args.runs} runs: median "
                f"{statistics.median(times):.2f} s, max {max(times):.2f} s   target < 3 s"
            )
            times = []
            for _ in range(args.runs):
                started = time.perf_counter()
                subprocess.run(
                    [sys.executable, "-m", "tui.cli", "doctor", function, "--endpoint-url", box.endpoint_url,
                     "--region", box.region],
                    cwd=ROOT, capture_output=True, check=False,
                )  # fmt: skip
                times.append(time.perf_counter() - started)
            print(
                f"lambdest-tui doctor {function} (process, spawn to exit), {args.runs} runs: median "
                f"{statistics.median(times):.2f} s, max {max(times):.2f} s"
            )


if __name__ == "__main__":
    main()
