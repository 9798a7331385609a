"""Benchmark of discovery (run by hand: `.venv/bin/python benchmarks/discovery.py [--functions 500]`).

Starts the sandbox with N functions, each with an event-invoke config (OnSuccess to one of 10
queues, OnFailure to one of 10 topics), then times, alternately and in the same run:
  1. `records.discovery.discover([], aws)`: every function in the region, as `lambdest-tui
     destinations` does it;
  2. a bare aiobotocore loop making the same API calls with the same concurrency (ListFunctions
     pages; per function ListFunctionEventInvokeConfigs and ListEventSourceMappings; one
     GetQueueUrl or GetTopicAttributes per distinct destination) and nothing else.
Prints the median of each and their ratio (target: discovery within 1.5x of the bare loop).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

CONCURRENCY = 16


def stack_text(functions: int) -> str:
    parts = [f'[[queues]]\nname = "q{n}"\n\n[[topics]]\nname = "t{n}"\n' for n in range(10)]
    parts += [
        f'[[functions]]\nname = "fn-{n:04d}"\nhandler = "handlers.py:echo"\n'
        f'on_success = "queue:q{n % 10}"\non_failure = "topic:t{n % 10}"\n'
        for n in range(functions)
    ]
    return "\n".join(parts)


async def bare_loop(endpoint: str, region: str) -> int:
    """The same calls as discovery, with nothing around them; returns the number of calls."""
    from aiobotocore.config import AioConfig
    from aiobotocore.session import get_session

    session = get_session()
    config = AioConfig(retries={"mode": "standard"}, max_pool_connections=CONCURRENCY)
    limit = asyncio.Semaphore(CONCURRENCY)
    calls = 0
    kwargs: dict[str, Any] = {"endpoint_url": endpoint, "region_name": region, "config": config}
    async with (
        session.create_client("lambda", **kwargs) as lam,
        session.create_client("sqs", **kwargs) as sqs,
        session.create_client("sns", **kwargs) as sns,
    ):
        names = []
        async for page in lam.get_paginator("list_functions").paginate():
            calls += 1
            names += [item["FunctionName"] for item in page["Functions"]]
        destinations: set[str] = set()

        async def one(name: str) -> None:
            nonlocal calls
            async with limit:
                configs = await lam.list_function_event_invoke_configs(FunctionName=name)
            async with limit:
                await lam.list_event_source_mappings(FunctionName=name)
            calls += 2
            for item in configs["FunctionEventInvokeConfigs"]:
                for key in ("OnSuccess", "OnFailure"):
                    destinations.add(item["DestinationConfig"][key]["Destination"])

        await asyncio.gather(*(one(name) for name in names))

        async def check(arn: str) -> None:
            async with limit:
                if arn.split(":")[2] == "sqs":
                    await sqs.get_queue_url(QueueName=arn.rsplit(":", 1)[-1])
                else:
                    await sns.get_topic_attributes(TopicArn=arn)

        await asyncio.gather(*(check(arn) for arn in destinations))
        return calls + len(destinations)


async def discovery(endpoint: str, region: str) -> int:
    from records.aws_options import AwsOptions
    from records.discovery import discover

    plan = await discover([], AwsOptions(region=region, endpoint_url=endpoint), concurrency=CONCURRENCY)
    assert not plan.problems, plan.problems[:3]
    return len(plan.routes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--functions", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5)
    options = parser.parse_args()
    from records.sandbox import Sandbox

    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "handlers.py").write_text("def echo(event, context):\n    return event\n")
        stack = Path(folder) / "stack.toml"
        stack.write_text(stack_text(options.functions))
        with Sandbox(stack) as box:
            times: dict[str, list[float]] = {"discovery": [], "bare loop": []}
            for _ in range(options.runs):
                for label, run in (("bare loop", bare_loop), ("discovery", discovery)):
                    started = time.perf_counter()
                    count = asyncio.run(run(box.endpoint_url, box.region))
                    times[label].append(time.perf_counter() - started)
                    if label == "discovery":
                        assert count == 2 * options.functions, count
    bare = statistics.median(times["bare loop"])
    ours = statistics.median(times["discovery"])
    print(f"{options.functions} functions, concurrency {CONCURRENCY}, median of {options.runs} runs each:")
    print(f"  bare aiobotocore loop  {bare:.3f} s   (runs: {', '.join(f'{t:.2f}' for t in times['bare loop'])})")
    print(f"  records.discovery      {ours:.3f} s   (runs: {', '.join(f'{t:.2f}' for t in times['discovery'])})")
    print(f"  ratio                  {ours / bare:.2f}x (target <= 1.5x)")


if __name__ == "__main__":
    main()
