"""Benchmark: reading files is linear: the time per MB stays the same from 1 to 16 MB (issue 10, item 8).

    .venv/bin/python benchmarks/file_read.py [--sizes 1,2,4,8,16] [--root DIR] [--repeat 3]

For each size it writes, into a temporary folder (never into the repository):
  text    log-like text that is not JSON (lines of 20-200 characters, some non-ASCII)
  braced  the same text after a first "{" (so it is read as JSON documents, not as lines)
  jsonl   JSON Lines of execution records (the reference: what record files hold)
and reads each with `records.files.read_inputs` in a fresh interpreter (so its peak RSS is its
own), then with read + decode (what `lambdest-tui inspect` does). Prints seconds per MB (the best
of --repeat runs) and the peak RSS. `--root DIR` reads with the `records` package of another
checkout (e.g. one before the change) to compare.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOOD = ROOT / "tests" / "golden" / "good" / "success.json"
MB = 1 << 20

MEASURE = """
import resource, sys, time
import records
from records.files import read_inputs
assert records.__file__.startswith(sys.argv[3]), records.__file__
path, decode = sys.argv[1], sys.argv[2] == "decode"
started = time.perf_counter()
count = 0
for item in read_inputs([path]):
    count += len(item.decode()) if decode else 1
seconds = time.perf_counter() - started
print(seconds, count, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def write_text(path: Path, size: int, first: str = "") -> None:
    rng = random.Random(7)
    words = ["ERROR", "order", "ord-17", "timed", "out", "after", "3.00", "s", "retry", "ü", "✓", "payment", "{", "}"]
    with path.open("w", encoding="utf-8") as out:
        out.write(first)
        written = len(first)
        while written < size:
            line = " ".join(rng.choice(words) for _ in range(rng.randint(4, 40))) + "\n"
            out.write(line)
            written += len(line.encode())


def write_jsonl(path: Path, size: int) -> None:
    template = json.loads(GOOD.read_text())
    with path.open("w", encoding="utf-8") as out:
        written = 0
        number = 0
        while written < size:
            template["requestContext"]["requestId"] = f"req-{number}"
            template["requestPayload"] = {"orderId": f"ord-{number}", "amount": number % 997}
            line = json.dumps(template) + "\n"
            out.write(line)
            written += len(line.encode())
            number += 1


def measure(root: Path, path: Path, mode: str, repeat: int) -> tuple[float, int, int]:
    best: tuple[float, int, int] | None = None
    for _ in range(repeat):
        done = subprocess.run(
            [sys.executable, "-c", MEASURE, str(path), mode, str(root.resolve())],
            capture_output=True,
            text=True,
            check=True,
            cwd=root,  # `python -c` puts the working folder first on sys.path
            env={**os.environ, "PYTHONPATH": str(root)},
        )
        seconds, count, peak = done.stdout.split()
        result = (float(seconds), int(count), int(peak))
        if best is None or result[0] < best[0]:
            best = result
    assert best is not None
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1,2,4,8,16", help="file sizes in MB (comma separated)")
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout whose `records` is measured")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (the best is shown)")
    parser.add_argument("--kinds", default="text,braced,jsonl")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    kinds = args.kinds.split(",")
    print(f"records from {args.root.resolve()}; python {sys.version.split()[0]}; best of {args.repeat}")
    print(f"{'kind':6} {'MB':>3} {'inputs':>8} {'read s/MB':>10} {'read+decode s/MB':>17} {'peak RSS MB':>12}")
    with tempfile.TemporaryDirectory() as folder:
        for kind in kinds:
            for size in sizes:
                path = Path(folder) / f"{kind}-{size}.{'jsonl' if kind == 'jsonl' else 'log'}"
                if kind == "jsonl":
                    write_jsonl(path, size * MB)
                else:
                    write_text(path, size * MB, "{" if kind == "braced" else "")
                megabytes = path.stat().st_size / MB
                read, count, peak_read = measure(args.root, path, "read", args.repeat)
                decoded, _, peak_decode = measure(args.root, path, "decode", args.repeat)
                peak = max(peak_read, peak_decode) / 1024
                per_mb = f"{read / megabytes:>10.3f} {decoded / megabytes:>17.3f}"
                print(f"{kind:6} {size:>3} {count:>8} {per_mb} {peak:>12.0f}", flush=True)
                path.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
