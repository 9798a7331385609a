"""One health reading in a process of its own: `python -m records.doctor.health_worker TASK`, where
TASK is JSON {"functions": [...], "profile", "region", "endpoint_url", "window": seconds}; prints the
`Health` as one JSON line on standard output and exits 0 (AWS trouble is inside the reading, as
sentences).

Why a process: building AWS clients loads botocore's service models (large JSON files parsed in
single calls that hold the interpreter lock for tens of milliseconds) and parsing answers costs CPU
in bursts; in the UI's process, even in another thread, that would sit between a key and its
repaint. A plain subprocess, like the replay worker: multiprocessing cannot start one under Textual.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Sequence
from datetime import timedelta

from records.aws_options import AwsOptions
from records.doctor.health import check

__all__ = ["main", "task"]


def task(functions: Sequence[str], aws: AwsOptions, window: timedelta) -> str:
    """The TASK argument for `functions` read with `aws` over `window`."""
    return json.dumps(
        {
            "functions": list(functions),
            "profile": aws.profile,
            "region": aws.region,
            "endpoint_url": aws.endpoint_url,
            "window": window.total_seconds(),
        }
    )


def main(argv: Sequence[str]) -> int:
    spec = json.loads(argv[0])
    aws = AwsOptions(profile=spec.get("profile"), region=spec.get("region"), endpoint_url=spec.get("endpoint_url"))
    health = asyncio.run(check(spec["functions"], aws, window=timedelta(seconds=float(spec.get("window", 3600)))))
    sys.stdout.write(json.dumps(health.to_json()) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
