"""Decode throughput: `lambdest-tui inspect --format jsonl` against a bare json.loads unwrap-and-print loop.

Writes 100,000 mixed records (raw, SNS-wrapped, EventBridge) as JSON Lines to a temporary folder, then
times, in the same run, both as separate processes writing to /dev/null. Target: inspect <= 1.5x bare.

    .venv/bin/python benchmarks/decode.py [--records N] [--repeat R]
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BARE_LOOP = r"""
import json, sys
out = sys.stdout
for line in open(sys.argv[1], "rb"):
    value = json.loads(line)
    if value.get("Type") == "Notification":
        value = json.loads(value["Message"])
    elif "detail-type" in value:
        value = value["detail"]
    out.write(json.dumps(value))
    out.write("\n")
"""


def make_record(n: int, rng: random.Random) -> dict[str, object]:
    failed = rng.random() < 0.2
    order = {
        "orderId": f"ord-{n}",
        "customerId": f"cust-{n % 97}",
        "items": [{"sku": f"SKU-{n % 20 + 1}", "qty": 1 + n % 3}],
        "card": "4242424242424242",
    }
    record: dict[str, object] = {
        "version": "1.0",
        "timestamp": "2026-11-27T10:15:30.123Z",
        "requestContext": {
            "requestId": f"7d6f2b1e-{n:04x}-4a7b-9c1d-{n:012x}",
            "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:order:$LATEST",
            "condition": "RetriesExhausted" if failed else "Success",
            "approximateInvokeCount": 3 if failed else 1,
        },
        "requestPayload": order,
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST"},
        "responsePayload": {"orderId": f"ord-{n}", "status": "PAID"},
    }
    if failed:
        record["responseContext"] = {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"}
        record["responsePayload"] = {"errorMessage": "declined", "errorType": "CardDeclined", "stackTrace": []}
    return record


def wrap(record: dict[str, object], n: int) -> dict[str, object]:
    kind = n % 3
    if kind == 1:
        return {
            "Type": "Notification",
            "MessageId": f"m-{n}",
            "TopicArn": "arn:aws:sns:us-east-1:123456789012:t",
            "Message": json.dumps(record),
            "Timestamp": "2026-11-27T10:15:31.000Z",
        }
    if kind == 2:
        return {
            "version": "0",
            "id": f"e-{n}",
            "detail-type": "Lambda Function Invocation Result - Success",
            "source": "lambda",
            "account": "123456789012",
            "time": "2026-11-27T10:15:31Z",
            "region": "us-east-1",
            "resources": [],
            "detail": record,
        }
    return record


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "mixed.jsonl"
        with path.open("w") as handle:
            for n in range(args.records):
                handle.write(json.dumps(wrap(make_record(n, rng), n)) + "\n")
        size = path.stat().st_size
        bare_script = Path(folder) / "bare.py"
        bare_script.write_text(BARE_LOOP)
        inspect_cmd = [sys.executable, "-m", "tui.cli", "inspect", "--format", "jsonl", str(path)]
        bare_cmd = [sys.executable, str(bare_script), str(path)]
        bare = min(timed(bare_cmd) for _ in range(args.repeat))
        ours = min(timed(inspect_cmd) for _ in range(args.repeat))
    print(f"records: {args.records:,} ({size / 1e6:.1f} MB JSON Lines, 1/3 raw, 1/3 SNS, 1/3 EventBridge)")
    print(f"bare json.loads unwrap-and-print loop: {bare:.2f} s ({args.records / bare:,.0f} records/s)")
    print(f"lambdest-tui inspect --format jsonl:   {ours:.2f} s ({args.records / ours:,.0f} records/s)")
    print(f"ratio: {ours / bare:.2f}x (target: at most 1.5x)")


if __name__ == "__main__":
    main()
