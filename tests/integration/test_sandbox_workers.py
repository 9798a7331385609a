"""Handlers in worker processes: warm reuse, timeouts that kill, exits and crashes, throttles at reserved
concurrency, at-least-once duplicates, the context's client_context and the runtime's environment."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from records.sandbox import Sandbox
from tests.integration.sandbox_helpers import clients, process_alive, wait_gone, write_stack

STACK = """
[[functions]]
name = "state"
handler = "handlers.py:state"
timeout = 0.5

[[functions]]
name = "exits"
handler = "handlers.py:exits"

[[functions]]
name = "spawns"
handler = "handlers.py:spawns"
timeout = 0.5

[[functions]]
name = "one-at-a-time"
handler = "handlers.py:slow"
reserved_concurrency = 1

[[functions]]
name = "context"
handler = "handlers.py:context_of"
"""

HANDLERS = """
import ctypes, json, os, subprocess, sys, time

calls = 0

def state(event, context):
    global calls
    calls += 1
    if "sleep" in event:
        time.sleep(event["sleep"])
        with open(event["file"], "w") as out:
            out.write("the handler ran on past its timeout")
    print(f"state call {calls} in {os.getpid()}", flush=True)
    return {"calls": calls, "pid": os.getpid()}

def exits(event, context):
    how = event.get("how")
    if how == "exit":
        sys.exit(3)
    if how == "exit0":
        sys.exit()
    if how == "exit_message":
        print("last words on stdout")
        sys.exit("leaving: no more orders")
    if how == "_exit":
        os._exit(7)
    if how == "segfault":
        ctypes.string_at(0)
    return {"pid": os.getpid()}

def spawns(event, context):
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    with open(event["file"], "w") as out:
        out.write(str(child.pid))
    time.sleep(5)

def slow(event, context):
    time.sleep(0.6)
    with open(event["file"], "a") as out:
        out.write(context.aws_request_id + "\\n")
    return "done"

def context_of(event, context):
    found = {
        "env": {name: os.environ.get(name) for name in (
            "_X_AMZN_TRACE_ID", "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_VERSION", "AWS_REGION",
            "AWS_ENDPOINT_URL", "AWS_LAMBDA_LOG_STREAM_NAME")},
        "version": context.function_version,
        "arn": context.invoked_function_arn,
        "identity": [context.identity.cognito_identity_id, context.identity.cognito_identity_pool_id],
        "client_context": None,
    }
    cc = context.client_context
    if cc is not None:
        found["client_context"] = {"custom": cc.custom, "env": cc.env, "app_title": cc.client and cc.client.app_title}
    if "file" in event:
        with open(event["file"], "w") as out:
            json.dump(found, out)
    return found
"""

TRACE = re.compile(
    r"^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0;Lineage=[0-9a-f]{8}:1$"
)  # a first run: its own hop


@pytest.fixture(scope="module")
def box(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    # time factor 1: a throttled event waits AWS's first back-off, 1 s, long enough for the slot to free
    with Sandbox(write_stack(tmp_path_factory.mktemp("stack"), STACK, HANDLERS), time_factor=1.0) as sandbox:
        yield sandbox


def call(box: Sandbox, function: str, payload: Any, **extra: Any) -> tuple[Any, dict[str, Any]]:
    response = clients(box.endpoint_url)["lambda"].invoke(FunctionName=function, Payload=json.dumps(payload), **extra)
    return json.loads(response["Payload"].read()), response


def test_state_survives_while_warm_and_a_timeout_kills(box: Sandbox, tmp_path: Path) -> None:
    first, _ = call(box, "state", {})
    second, _ = call(box, "state", {})
    assert (first["calls"], second["calls"]) == (1, 2), "a warm process keeps its module state"
    assert first["pid"] == second["pid"]

    late = tmp_path / "late.txt"
    error, response = call(box, "state", {"sleep": 1.0, "file": str(late)})
    request_id = response["ResponseMetadata"]["RequestId"]
    assert response["FunctionError"] == "Unhandled"
    assert error == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": f"RequestId: {request_id} Error: Task timed out after 0.50 seconds",
    }
    assert wait_gone(first["pid"], 5), "the timed-out process was killed"
    after, _ = call(box, "state", {})
    assert after["calls"] == 1 and after["pid"] != first["pid"], "the next event gets a fresh process"
    time.sleep(0.8)  # past the moment the killed handler would have written its file
    assert not late.exists(), "a killed handler's side effects stop"


def test_a_timeout_ends_what_the_handler_started(box: Sandbox, tmp_path: Path) -> None:
    started = tmp_path / "child.pid"
    error, _ = call(box, "spawns", {"file": str(started)})
    assert error["errorType"] == "Sandbox.Timedout"
    assert wait_gone(int(started.read_text()), 5), "the environment's processes all end with it"


def test_exits_and_crashes_are_runtime_exit_errors(box: Sandbox) -> None:
    # Lambda's messages: "Runtime exited with error: exit status N" and "... without providing a
    # reason" (AWS-recorded, e.g. ballerina-platform/module-ballerinax-aws.lambda issue #229), and
    # "signal: segmentation fault (core dumped)" (awslabs/aws-lambda-cpp issue #30).
    reasons = {
        "exit": "Runtime exited with error: exit status 3",
        "exit0": "Runtime exited without providing a reason",
        "_exit": "Runtime exited with error: exit status 7",
        "segfault": "Runtime exited with error: signal: segmentation fault (core dumped)",
    }
    pids = set()
    for how, reason in reasons.items():
        error, response = call(box, "exits", {"how": how})
        request_id = response["ResponseMetadata"]["RequestId"]
        assert response["FunctionError"] == "Unhandled"
        assert error == {"errorType": "Runtime.ExitError", "errorMessage": f"RequestId: {request_id} Error: {reason}"}
        fine, _ = call(box, "exits", {})
        assert fine["pid"] not in pids, "each exit ends its process; the next event gets a new one"
        pids.add(fine["pid"])


def test_reserved_concurrency_throttles_and_retries(box: Sandbox, tmp_path: Path) -> None:
    import boto3
    from botocore.config import Config

    from tests.integration.sandbox_helpers import metric

    once = Config(retries={"mode": "standard", "total_max_attempts": 1})  # botocore would retry a 429
    lam = boto3.client("lambda", endpoint_url=box.endpoint_url, region_name=box.region, config=once)
    ran = tmp_path / "ran.txt"
    lam.invoke(FunctionName="one-at-a-time", Payload=json.dumps({"file": str(ran)}))  # warm: no cold start below
    assert box.wait_idle(10)
    before = box.stats()
    ids = [
        lam.invoke(FunctionName="one-at-a-time", InvocationType="Event", Payload=json.dumps({"file": str(ran)}))[
            "ResponseMetadata"
        ]["RequestId"]
        for _ in range(2)
    ]
    time.sleep(0.1)
    with pytest.raises(ClientError) as refused:  # the one slot is busy: a synchronous invoke is refused
        lam.invoke(FunctionName="one-at-a-time", Payload=json.dumps({"file": str(ran)}))
    assert refused.value.response["Error"] == {"Code": "TooManyRequestsException", "Message": "Rate Exceeded."}
    response: dict[str, Any] = dict(refused.value.response)
    assert response["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    assert box.wait_idle(20)
    after = box.stats()
    assert after.throttles - before.throttles == 2, "one async event throttled once, one sync invoke refused"
    assert after.succeeded - before.succeeded == 2 and after.failed == before.failed
    assert after.attempts - before.attempts == 2, "a throttle is not an attempt"
    assert sorted(ran.read_text().split()[1:]) == sorted(ids), "both events ran, once each"
    assert metric(box, "one-at-a-time", "Throttles") == 2


def test_client_context_and_environment(box: Sandbox, tmp_path: Path) -> None:
    client_context = {"custom": {"cart": "c-9"}, "env": {"locale": "fr"}, "client": {"app_title": "shop"}}
    encoded = base64.b64encode(json.dumps(client_context).encode()).decode()
    found, _ = call(box, "context", {}, ClientContext=encoded)
    assert found["client_context"] == {"custom": {"cart": "c-9"}, "env": {"locale": "fr"}, "app_title": "shop"}
    assert found["identity"] == [None, None], "awslambdaric's CognitoIdentity, fields None"
    assert found["version"] == "$LATEST" and found["arn"] == box.arn("function", "context")
    env = found["env"]
    assert TRACE.match(env["_X_AMZN_TRACE_ID"]), env
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "context" and env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_REGION"] == box.region and env["AWS_ENDPOINT_URL"] == box.endpoint_url
    assert env["AWS_LAMBDA_LOG_STREAM_NAME"].split("/")[3].startswith("[$LATEST]")
    again, _ = call(box, "context", {})
    assert again["client_context"] is None
    assert again["env"]["_X_AMZN_TRACE_ID"] != env["_X_AMZN_TRACE_ID"], "a trace id per invoke"

    written = tmp_path / "async.json"
    lam = clients(box.endpoint_url)["lambda"]
    lam.invoke(
        FunctionName="context",
        InvocationType="Event",
        ClientContext=encoded,
        Payload=json.dumps({"file": str(written)}),
    )
    assert box.wait_idle(10)
    assert json.loads(written.read_text())["client_context"] is None, "Lambda passes it to synchronous invokes only"

    with pytest.raises(ClientError) as bad:
        lam.invoke(FunctionName="context", ClientContext="not base64!", Payload=b"{}")
    assert bad.value.response["Error"] == {
        "Code": "InvalidRequestContentException",
        "Message": "Client context must be a valid Base64-encoded JSON object.",
    }


def test_handler_output_reaches_the_sandbox_stdout(box: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    result, _ = call(box, "state", {})
    error, _ = call(box, "exits", {"how": "exit_message"})
    assert error["errorMessage"].endswith("Error: Runtime exited with error: exit status 1")
    expected = [f"state call {result['calls']} in {result['pid']}", "last words on stdout"]
    out = err = ""
    deadline = time.monotonic() + 5
    while not (all(line in out for line in expected) and "leaving: no more orders" in err):
        assert time.monotonic() < deadline, (out, err)
        time.sleep(0.05)
        captured = capsys.readouterr()
        out, err = out + captured.out, err + captured.err
    assert "leaving: no more orders" not in out, "stderr stays stderr"


@pytest.mark.slow
def test_duplicates_cli_and_sigterm(tmp_path: Path) -> None:
    """`lambdest-tui sandbox --duplicates 1`: every event runs twice with one request id; the
    handler's print reaches the command's stdout; SIGTERM leaves no worker behind."""
    from tests.integration.cli_helpers import ROOT, start_sandbox

    handlers = (
        "import os\n"
        "def record(event, context):\n"
        "    with open(event['file'], 'a') as out:\n"
        "        out.write(f'{context.aws_request_id} {os.getpid()}\\n')\n"
        "    print('ran', context.aws_request_id, flush=True)\n"
    )
    stack = write_stack(tmp_path, '[[functions]]\nname = "record"\nhandler = "handlers.py:record"\n', handlers)
    running = start_sandbox("--stack", str(stack), "--duplicates", "1")
    try:
        lam = clients(running.endpoint)["lambda"]
        runs = tmp_path / "runs.txt"
        request_id = lam.invoke(FunctionName="record", InvocationType="Event", Payload=json.dumps({"file": str(runs)}))[
            "ResponseMetadata"
        ]["RequestId"]
        deadline = time.monotonic() + 15
        while (not runs.exists() or len(runs.read_text().splitlines()) < 2) and time.monotonic() < deadline:
            time.sleep(0.05)
        lines = [line.split() for line in runs.read_text().splitlines()]
        assert [rid for rid, _ in lines] == [request_id, request_id]
        workers = {int(pid) for _, pid in lines}
        assert all(process_alive(pid) for pid in workers)
    finally:
        running.process.send_signal(signal.SIGTERM)
        out, _ = running.process.communicate(timeout=20)
    assert running.process.returncode == 0
    assert out.count(f"ran {request_id}") == 2, out
    assert all(wait_gone(pid, 5) for pid in workers), "a worker outlived SIGTERM"
    bad = subprocess.run(
        [sys.executable, "-m", "tui.cli", "sandbox", "--duplicates", "2"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert bad.returncode == 2 and "duplicates must be between 0 and 1" in bad.stderr


async def test_run_once_hands_the_callers_trace_header_to_the_handler(tmp_path: Path) -> None:
    """The runtime's interface for callers that trace (recursion detection passes a Lineage)."""
    from records.sandbox.runtime import Runtime
    from records.sandbox.stack import load_stack

    async def deliver(*_: object) -> None:
        raise AssertionError("nothing is delivered by a synchronous run")

    runtime = Runtime(load_stack(write_stack(tmp_path, STACK, HANDLERS)), deliver)
    header = "Root=1-67891233-abcdef012345678912345678;Parent=53995c3f42cd8ad8;Sampled=0;Lineage=a87bd80c:1"
    try:
        function = runtime.functions["context"]
        outcome = await runtime.run_once(function, {}, "11111111-2222-3333-4444-555555555555", trace_header=header)
        assert outcome.ok and outcome.payload["env"]["_X_AMZN_TRACE_ID"] == header
        pids = runtime.pools["context"].pids
        assert len(pids) == 1
    finally:
        await runtime.stop()
    assert wait_gone(pids[0], 5)


async def test_duplicates_deliver_an_event_twice_with_one_request_id(tmp_path: Path) -> None:
    import random

    from records.sandbox.runtime import Runtime
    from records.sandbox.stack import load_stack

    delivered: list[dict[str, Any]] = []

    async def deliver(destination: str, record: dict[str, Any], function: object) -> None:
        delivered.append(record)

    stack = (
        STACK
        + '\n[[functions]]\nname = "noted"\nhandler = "handlers.py:slow"\non_success = "queue:done"\n'
        + '[[queues]]\nname = "done"\n'
        + '[[functions]]\nname = "off"\nhandler = "handlers.py:slow"\nreserved_concurrency = 0\n'
    )
    runtime = Runtime(load_stack(write_stack(tmp_path, stack, HANDLERS)), deliver, duplicates=1.0)
    seeded = Runtime(load_stack(tmp_path / "stack.toml"), deliver, duplicates=0.5, rng=random.Random(3))
    with pytest.raises(ValueError, match="duplicates must be between 0 and 1"):
        Runtime(load_stack(tmp_path / "stack.toml"), deliver, duplicates=1.5)
    await runtime.start()
    try:
        ran = tmp_path / "ran.txt"
        request_id = runtime.enqueue(runtime.functions["noted"], {"file": str(ran)})
        await asyncio.wait_for(runtime.idle(), 10)
        assert ran.read_text().split() == [request_id, request_id]
        assert [record["requestContext"]["requestId"] for record in delivered] == [request_id, request_id]
        assert runtime.stats.accepted == 1 and runtime.stats.duplicates == 1 and runtime.stats.succeeded == 2
    finally:
        await runtime.stop()
    await seeded.start()  # "off" throttles every event at once: no process runs
    try:
        for _ in range(20):
            seeded.enqueue(seeded.functions["off"], {})
        await asyncio.wait_for(seeded.idle(), 10)
    finally:
        await seeded.stop()
    assert 0 < seeded.stats.duplicates < 20, "a rate between 0 and 1 duplicates some"
    assert seeded.stats.failed == 20 + seeded.stats.duplicates
    draws = random.Random(3)
    assert seeded.stats.duplicates == sum(draws.random() < 0.5 for _ in range(20)), "seeded: deterministic"
