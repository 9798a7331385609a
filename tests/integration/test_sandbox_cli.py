"""`lambdest-tui sandbox` as a user runs it, driven with the AWS CLI (a client nobody here wrote)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.cli_helpers import ROOT, Running, aws_cli, lambdest, start_sandbox, stop_sandbox

UPDATE_INVENTORY = "arn:aws:lambda:us-east-1:123456789012:function:update-inventory"


@pytest.fixture(scope="module")
def cli_sandbox() -> Iterator[Running]:
    running = start_sandbox()
    try:
        yield running
    finally:
        if running.process.poll() is None:
            code, err = stop_sandbox(running)
            assert code == 0, err


def test_prints_exports_then_ready(cli_sandbox: Running) -> None:
    assert cli_sandbox.lines[0].startswith("export AWS_ENDPOINT_URL=http://127.0.0.1:")
    assert {"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_LAMBDA", "AWS_REGION", "AWS_ACCESS_KEY_ID"} <= set(cli_sandbox.env)
    assert "ready" in cli_sandbox.lines[-1]


def test_aws_cli_configures_destinations_and_invokes(cli_sandbox: Running, tmp_path: Path) -> None:
    config = json.dumps({"OnSuccess": {"Destination": UPDATE_INVENTORY}})
    updated = aws_cli(
        cli_sandbox,
        "lambda",
        "update-function-event-invoke-config",
        "--function-name",
        "order",
        "--destination-config",
        config,
    )
    assert updated.returncode == 0, updated.stderr
    assert json.loads(updated.stdout)["DestinationConfig"]["OnSuccess"]["Destination"] == UPDATE_INVENTORY
    order = json.dumps({"orderId": "cli-1", "customerId": "c-1", "items": [{"sku": "SKU-2", "qty": 1}], "card": "4242"})
    invoked = aws_cli(
        cli_sandbox,
        "lambda",
        "invoke",
        "--function-name",
        "order",
        "--invocation-type",
        "Event",
        "--payload",
        order,
        "out.json",
        cwd=tmp_path,
    )
    assert invoked.returncode == 0, invoked.stderr
    assert json.loads(invoked.stdout)["StatusCode"] == 202
    missing = aws_cli(cli_sandbox, "lambda", "get-function", "--function-name", "nope")
    assert missing.returncode != 0 and "ResourceNotFoundException" in missing.stderr


@pytest.mark.slow
def test_invoke_wait_follows_each_flow(cli_sandbox: Running) -> None:
    good = lambdest(cli_sandbox, "invoke", "order", "--order", "good", "--wait", "20", "--format", "jsonl")
    assert good.returncode == 0, good.stderr
    lines = [json.loads(line) for line in good.stdout.splitlines()]
    assert [(x["function_name"], x["condition"]) for x in lines] == [
        ("order", "Success"),
        ("update-inventory", "Success"),
    ]
    assert all(x["ok"] for x in lines)
    assert "flow completed" in good.stderr

    oos = lambdest(cli_sandbox, "invoke", "order", "--order", "out-of-stock", "--wait", "20", "--format", "jsonl")
    assert oos.returncode == 1, oos.stderr
    lines = [json.loads(line) for line in oos.stdout.splitlines()]
    assert [(x["function_name"], x["condition"], x["approximate_invoke_count"]) for x in lines] == [
        ("order", "Success", 1),
        ("update-inventory", "RetriesExhausted", 3),
        ("rollback-order", "Success", 1),
    ]
    assert lines[-1]["envelope"] == ["sns"] and lines[1]["error_type"] == "OutOfStock"
    assert "flow rolled back" in oos.stderr, "the UI's word for a failure handled downstream"

    declined = lambdest(
        cli_sandbox,
        "invoke",
        "order",
        "--payload",
        '{"orderId": "d-1", "customerId": "c", "items": [{"sku": "SKU-1", "qty": 1}], "card": "4000000000000002"}',
        "--wait",
        "20",
    )
    assert declined.returncode == 1, declined.stderr
    assert "✗ RetriesExhausted" in declined.stdout and "PaymentDeclined" in declined.stdout
    assert "queue:order-failures" in declined.stdout and "flow failed" in declined.stdout
    assert declined.stdout.startswith("request id: ")


@pytest.mark.slow
def test_invoke_wait_diagnoses_a_function_without_destinations(cli_sandbox: Running) -> None:
    deleted = aws_cli(cli_sandbox, "lambda", "delete-function-event-invoke-config", "--function-name", "rollback-order")
    assert deleted.returncode == 0, deleted.stderr
    try:
        result = lambdest(cli_sandbox, "invoke", "rollback-order", "--wait", "5")
        assert result.returncode == 3
        assert "no event-invoke config" in result.stderr
    finally:
        restore = json.dumps(
            {
                "OnSuccess": {"Destination": "arn:aws:sns:us-east-1:123456789012:order-notifications"},
                "OnFailure": {"Destination": "arn:aws:sqs:us-east-1:123456789012:order-failures"},
            }
        )
        put = aws_cli(
            cli_sandbox,
            "lambda",
            "put-function-event-invoke-config",
            "--function-name",
            "rollback-order",
            "--destination-config",
            restore,
        )
        assert put.returncode == 0, put.stderr


@pytest.mark.slow
def test_invoke_usage_errors(cli_sandbox: Running, tmp_path: Path) -> None:
    plain = lambdest(cli_sandbox, "invoke", "order", "--order", "good")
    assert plain.returncode == 0 and len(plain.stdout.strip()) == 36
    bad = lambdest(cli_sandbox, "invoke", "order", "--payload", "{nope")
    assert bad.returncode == 2 and "not valid JSON" in bad.stderr
    missing_file = lambdest(cli_sandbox, "invoke", "order", "--payload", f"@{tmp_path / 'none.json'}")
    assert missing_file.returncode == 2 and "cannot read" in missing_file.stderr
    (tmp_path / "order.json").write_text(json.dumps({"orderId": "f-1"}))
    from_file = lambdest(cli_sandbox, "invoke", "order", "--payload", f"@{tmp_path / 'order.json'}")
    assert from_file.returncode == 0, from_file.stderr
    unknown = lambdest(cli_sandbox, "invoke", "nope")
    assert unknown.returncode == 1 and "ResourceNotFoundException" in unknown.stderr


def test_interrupt_stops_everything() -> None:
    running = start_sandbox()
    code, err = stop_sandbox(running, signal.SIGINT)
    assert code == 0
    assert err == ""  # nothing moto logs reaches the terminal


def test_bad_stack_file_is_a_usage_error(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tui.cli", "sandbox", "--stack", str(tmp_path / "missing.toml")],
        check=False,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "cannot read stack file" in result.stderr


@pytest.mark.slow
def test_invoke_wait_removes_its_taps_on_sigterm(cli_sandbox: Running) -> None:
    import boto3

    sqs = boto3.client("sqs", endpoint_url=cli_sandbox.endpoint, region_name="us-east-1")
    process = subprocess.Popen(
        # update-inventory fails 3 times, then so does rollback-order (no payment): >= 1.8 s of back-offs
        [sys.executable, "-m", "tui.cli", "invoke", "update-inventory", "--order", "out-of-stock", "--wait", "60"],
        cwd=ROOT,
        env={**os.environ, **cli_sandbox.env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().startswith("request id: ")  # the taps are live
        taps = [url for url in sqs.list_queues().get("QueueUrls", []) if "lambdest-tap-" in url]
        assert taps, "the topic tap queue should exist while waiting"
        process.send_signal(signal.SIGTERM)
        assert process.wait(20) == 143
        left = [url for url in sqs.list_queues().get("QueueUrls", []) if "lambdest-tap-" in url]
        assert not set(left) & set(taps)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
