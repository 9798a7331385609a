"""`lambdest-tui destinations`, `tail --function` and `--version` as a user runs them, against the sandbox."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from typing import Any

import boto3

from records.sandbox import Sandbox
from tests.integration.discovery_stack import ARN
from tests.integration.sources_helpers import ROOT, TailProcess


def lambdest(box: Sandbox | None, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    where = ["--endpoint-url", box.endpoint_url, "--region", box.region] if box is not None else []
    return subprocess.run(
        [sys.executable, "-m", "tui.cli", *args, *where],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_destinations_jsonl_lists_the_order_flow(sandbox: Sandbox) -> None:
    done = lambdest(sandbox, "destinations", "--function", "order", "--format", "jsonl")
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert all(set(line) == {"function", "qualifier", "route", "destination", "destination_type", "via",
                             "watch", "problem"} for line in lines)  # fmt: skip
    found = {(line["function"], line["route"], line["destination"]): line for line in lines}
    on_success = found["order", "on-success", ARN.format("lambda", "function:update-inventory")]
    assert (on_success["destination_type"], on_success["watch"], on_success["via"]) == ("lambda", "follow", None)
    on_failure = found["order", "on-failure", ARN.format("sqs", "order-failures")]
    assert (on_failure["destination_type"], on_failure["watch"], on_failure["problem"]) == ("sqs", "peek", None)
    topic = found["update-inventory", "on-success", ARN.format("sns", "order-notifications")]
    assert (topic["via"], topic["watch"]) == ("order", "tap")
    assert len(lines) == 6 and done.stderr == ""


def test_destinations_with_problems_exit_1_and_the_table_is_aligned(custom: Sandbox) -> None:
    done = lambdest(custom, "destinations", "--function", "a")
    assert done.returncode == 1, done.stderr
    header, *rows = done.stdout.splitlines()
    assert header.split() == ["FUNCTION", "QUALIFIER", "ROUTE", "TYPE", "DESTINATION", "VIA", "WATCH", "PROBLEM"]
    assert len(rows) == 4
    column = header.index("WATCH")
    assert [row[column:].split()[0] for row in rows] == ["follow", "none", "follow", "none"]
    assert "FIFO" in rows[3] and "records.fifo" in rows[3]
    assert "missing: queue" in rows[1] and rows[2].split()[:6] == ["b", "$LATEST", "on-success", "lambda", "a", "a"]


def test_destinations_glob(custom: Sandbox) -> None:
    done = lambdest(custom, "destinations", "--function", "bulk-0*", "--format", "jsonl")
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [line["function"] for line in lines] == [f"bulk-0{n}" for n in range(10)]
    assert {line["watch"] for line in lines} == {"tap"}


def test_no_region_or_credentials_is_one_sentence() -> None:
    no_region = lambdest(None, "destinations", env={"AWS_DEFAULT_REGION": "", "AWS_REGION": ""})
    assert no_region.returncode == 1
    assert no_region.stderr.startswith("lambdest-tui destinations: no AWS region is set")
    assert "Traceback" not in no_region.stderr and len(no_region.stderr.splitlines()) == 1
    no_keys = {"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""}
    no_credentials = lambdest(None, "tail", "--function", "order", "--region", "us-east-1", env=no_keys)
    assert no_credentials.returncode == 1
    assert "no AWS credentials were found" in no_credentials.stderr and "Traceback" not in no_credentials.stderr


def test_version() -> None:
    done = lambdest(None, "--version")
    assert done.returncode == 0
    assert done.stdout.startswith("lambdest-tui ") and done.stdout.split()[1][0].isdigit()


def _invoke(box: Sandbox, function: str, payload: dict[str, Any]) -> str:
    client = boto3.client("lambda", endpoint_url=box.endpoint_url, region_name=box.region)
    response = client.invoke(FunctionName=function, InvocationType="Event", Payload=json.dumps(payload))
    return str(response["ResponseMetadata"]["RequestId"])


def _tail(box: Sandbox, *args: str) -> TailProcess:
    return TailProcess(
        *args, "--format", "jsonl", "--wait-time", "1", "--idle-timeout", "30",
        "--endpoint-url", box.endpoint_url, "--region", box.region,
    )  # fmt: skip


def test_tail_function_order_receives_the_records_of_an_invoke(sandbox: Sandbox) -> None:
    from records.invoke import PRESETS

    tail = _tail(sandbox, "--function", "order", "--max-records", "2")
    try:
        tail.wait_err("queue:order-failures live")
        tail.wait_err("topic:order-notifications live")
        good = _invoke(sandbox, "order", PRESETS["good"] | {"orderId": f"ord-{uuid.uuid4().hex[:8]}"})
        declined = _invoke(sandbox, "order", PRESETS["declined"] | {"orderId": f"ord-{uuid.uuid4().hex[:8]}"})
        assert tail.wait(60) == 0, tail.err
    finally:
        tail.stop()
    lines = {line["input"]: line for line in tail.json_lines()}
    assert lines["topic:order-notifications"]["parent_request_id"] == good
    assert lines["topic:order-notifications"]["function_name"] == "update-inventory"
    assert lines["queue:order-failures"]["request_id"] == declined
    assert lines["queue:order-failures"]["condition"] == "RetriesExhausted"


def test_tail_function_taps_only_its_bus_events_and_polls_its_bucket(custom: Sandbox) -> None:
    tail = _tail(custom, "--function", "c", "--function", "a", "--max-records", "2")
    try:
        tail.wait_err("bus:results live")
        tail.wait_err("bucket:failed-records live")
        tail.wait_err("queue:gone done: not watched: missing")
        tail.wait_err("queue:records.fifo done: not watched: FIFO")
        other = _invoke(custom, "bulk-00", {"fail": True})  # to the same bus, from a function not asked for
        succeeded = _invoke(custom, "c", {"n": 1})
        failed = _invoke(custom, "c", {"fail": True})
        assert tail.wait(60) == 0, tail.err
    finally:
        tail.stop()
    lines = {line["input"]: line for line in tail.json_lines()}
    assert set(lines) == {"bus:results", "bucket:failed-records"}
    assert lines["bus:results"]["request_id"] == succeeded and lines["bus:results"]["function_name"] == "c"
    assert lines["bucket:failed-records"]["request_id"] == failed
    assert other not in {line["request_id"] for line in lines.values()}


def test_tail_function_with_nothing_to_watch_exits_1(custom: Sandbox) -> None:
    done = lambdest(custom, "tail", "--function", "plain", "--function", "zz*")
    assert done.returncode == 1
    assert "nothing to watch for plain, zz*" in done.stderr and "Traceback" not in done.stderr
