"""The sandbox's processes: moto and the handlers' worker processes are children that go away on stop,
on exit, and when we are killed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from records.aws_options import AwsOptions
from records.invoke import PRESETS, invoke_event
from records.sandbox import Sandbox
from tests.integration.sandbox_helpers import TIME_FACTOR, process_alive, wait_gone, write_stack


def test_stop_leaves_no_process() -> None:
    import boto3

    with Sandbox(time_factor=TIME_FACTOR) as box:
        pid = box.moto_pid
        assert pid is not None and process_alive(pid)
        running_inside = box.running
        assert running_inside
        lam = boto3.client("lambda", endpoint_url=box.endpoint_url, region_name=box.region)
        lam.invoke(FunctionName="order", Payload=json.dumps(PRESETS["good"]))
        [worker] = box.worker_pids()["order"]
        assert process_alive(worker)
    assert not box.running
    assert wait_gone(pid)
    assert wait_gone(worker), "a handler's worker process outlived stop()"
    assert box.worker_pids() == {}
    box.stop()  # idempotent


async def test_runs_inside_an_event_loop() -> None:
    async with Sandbox(time_factor=TIME_FACTOR) as box:
        pid = box.moto_pid
        aws = AwsOptions(region=box.region, endpoint_url=box.endpoint_url)
        request_id = await invoke_event("order", PRESETS["good"], aws)
        assert len(request_id) == 36
        assert await box.await_idle(10)
        assert box.stats().succeeded >= 2  # order, then update-inventory
    assert pid is not None and wait_gone(pid)


def test_moto_goes_when_its_parent_is_killed(tmp_path: Path) -> None:
    """moto, and the worker processes (one of them in the middle of a handler)."""
    stack = write_stack(
        tmp_path,
        '[[functions]]\nname = "hang"\nhandler = "handlers.py:hang"\ntimeout = 60\n',
        "import time\ndef hang(event, context):\n    time.sleep(3600)\n",
    )
    code = (
        "from records.sandbox import Sandbox\n"
        "import boto3, sys, time\n"
        f"box = Sandbox({str(stack)!r}, time_factor=0.01)\n"
        "box.start()\n"
        "lam = boto3.client('lambda', endpoint_url=box.endpoint_url, region_name=box.region)\n"
        "lam.invoke(FunctionName='hang', InvocationType='Event', Payload=b'{}')\n"
        "while not box.worker_pids()['hang']:\n"
        "    time.sleep(0.05)\n"
        "print(box.moto_pid, *box.worker_pids()['hang'], flush=True)\n"
        "time.sleep(60)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        moto_pid, worker = map(int, parent.stdout.readline().split())
        assert process_alive(moto_pid) and process_alive(worker)
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
        assert wait_gone(moto_pid), "moto outlived a killed parent"
        assert wait_gone(worker), "a worker outlived a killed parent"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()


@pytest.mark.slow
def test_moto_goes_when_the_caller_forgets_to_stop() -> None:
    code = (
        "import boto3\n"
        "from records.sandbox import Sandbox\n"
        "box = Sandbox(time_factor=0.01)\n"
        "box.start()\n"
        "lam = boto3.client('lambda', endpoint_url=box.endpoint_url, region_name=box.region)\n"
        "lam.invoke(FunctionName='order', Payload=b'{}')\n"
        "print(box.moto_pid, *box.worker_pids()['order'], flush=True)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert result.stderr == ""  # nothing moto logs reaches the terminal
    moto_pid, worker = map(int, result.stdout.split())
    assert wait_gone(moto_pid)
    assert wait_gone(worker), "a worker outlived the interpreter's exit"


@pytest.mark.slow
def test_env_points_clients_at_the_sandbox() -> None:
    with Sandbox(time_factor=TIME_FACTOR) as box:
        env = {**os.environ, **box.env}
        code = "import boto3; print(boto3.client('lambda').list_functions()['Functions'][0]['FunctionName'])"
        command = [sys.executable, "-c", code]
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)
        assert result.stdout.strip() == "order", result.stderr
        only_lambda = {k: v for k, v in env.items() if k != "AWS_ENDPOINT_URL"}
        result = subprocess.run(command, env=only_lambda, capture_output=True, text=True, timeout=60, check=False)
        assert result.stdout.strip() == "order", result.stderr
        assert json.loads(json.dumps(box.env))["AWS_ENDPOINT_URL"] == box.endpoint_url


def test_a_dead_moto_is_a_clear_error_not_a_crash() -> None:
    import boto3
    import pytest
    from botocore.config import Config
    from botocore.exceptions import ClientError

    box = Sandbox(time_factor=TIME_FACTOR)
    box.start()
    try:
        pid = box.moto_pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        assert wait_gone(pid)
        config = Config(retries={"max_attempts": 1, "mode": "standard"})
        sqs = boto3.client("sqs", endpoint_url=box.endpoint_url, region_name=box.region, config=config)
        with pytest.raises(ClientError) as exc:
            sqs.list_queues()
        assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 502
        lam = boto3.client("lambda", endpoint_url=box.endpoint_url, region_name=box.region, config=config)
        assert lam.invoke(FunctionName="order", Payload=json.dumps(PRESETS["good"]))["StatusCode"] == 200
    finally:
        box.stop()


def test_stop_does_not_wait_for_a_long_poll() -> None:
    code = (
        "import threading, time, boto3\n"
        "from records.sandbox import Sandbox\n"
        "box = Sandbox(time_factor=0.01)\n"
        "box.start()\n"
        "sqs = boto3.client('sqs', endpoint_url=box.endpoint_url, region_name=box.region)\n"
        "url = sqs.get_queue_url(QueueName='order-failures')['QueueUrl']\n"
        "def poll():\n"
        "    try:\n"
        "        sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20)\n"
        "    except Exception:\n"
        "        pass\n"
        "threading.Thread(target=poll, daemon=True).start()\n"
        "time.sleep(0.5)\n"
        "started = time.monotonic()\n"
        "box.stop()\n"
        "print(time.monotonic() - started)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert float(result.stdout) < 5
    assert result.stderr == ""  # no noise from tasks or sessions left behind


def test_a_hung_handler_does_not_hold_exit(tmp_path: Path) -> None:
    handlers = (
        "import sys, time\n"
        "def hang(event, context):\n"
        "    time.sleep(3600)\n"
        "def leave(event, context):\n"
        "    sys.exit(3)\n"
    )
    stack = write_stack(
        tmp_path,
        '[[functions]]\nname = "hang"\nhandler = "handlers.py:hang"\ntimeout = 0.2\n'
        '[[functions]]\nname = "leave"\nhandler = "handlers.py:leave"\n',
        handlers,
    )
    code = (
        "import json, sys, boto3\n"
        "from records.sandbox import Sandbox\n"
        f"box = Sandbox({str(stack)!r}, time_factor=0.01)\n"
        "box.start()\n"
        "lam = boto3.client('lambda', endpoint_url=box.endpoint_url, region_name=box.region)\n"
        "for name in ('hang', 'leave'):\n"
        "    print(json.loads(lam.invoke(FunctionName=name, Payload=b'{}')['Payload'].read())['errorType'])\n"
        "box.stop()\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=True)
    assert result.stdout.split() == ["Sandbox.Timedout", "Runtime.ExitError"]


def test_a_port_in_use_is_a_sandbox_error() -> None:
    import socket

    import pytest

    from records.sandbox import SandboxError

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        box = Sandbox(time_factor=TIME_FACTOR, port=taken.getsockname()[1])
        with pytest.raises(SandboxError, match="setting up the stack failed"):
            box.start()
    assert not box.running and box.moto_pid is None
