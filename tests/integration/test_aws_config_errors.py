"""A missing region or an unknown profile is one sentence saying what is missing and how to set it
(exit 2), for every command that talks to AWS, run as a subprocess with a clean environment (no
AWS_* variables, HOME an empty folder); a resource that does not exist names where it was looked for."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from records.sources.sqs import SqsQueueSource
from tests.integration.sources_helpers import ROOT, collect

NO_REGION = "no AWS region is set: pass --region REGION or set AWS_DEFAULT_REGION (botocore does not read AWS_REGION)"


def _run(home: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, list[str]]:
    clean = {"PATH": os.environ["PATH"], "HOME": str(home), "PYTHONPATH": str(ROOT), **(env or {})}
    done = subprocess.run(
        [sys.executable, "-m", "tui.cli", *args],
        check=False,
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done.returncode, done.stderr.splitlines()


COMMANDS = {
    "tail --queue": ("tail", "--queue", "orders"),
    "tail --topic": ("tail", "--topic", "notifications"),
    "tail --bus": ("tail", "--bus", "default"),
    "watch --topic": ("watch", "--topic", "notifications"),
    "invoke": ("invoke", "order"),
    "invoke --wait": ("invoke", "order", "--wait", "5"),
}


@pytest.mark.parametrize("name", list(COMMANDS))
def test_no_region_is_one_sentence_and_exit_2(tmp_path: Path, name: str) -> None:
    command = COMMANDS[name]
    code, err = _run(tmp_path, *command)
    assert (code, err) == (2, [f"lambdest-tui {command[0]}: {NO_REGION}"])


def test_aws_region_alone_is_named_as_ignored(tmp_path: Path) -> None:
    code, err = _run(tmp_path, "invoke", "order", "--wait", "5", env={"AWS_REGION": "eu-west-1"})
    assert code == 2
    assert err == [
        "lambdest-tui invoke: no AWS region is set: pass --region REGION or set AWS_DEFAULT_REGION "
        "(AWS_REGION=eu-west-1 is set, but botocore does not read AWS_REGION)"
    ]


@pytest.mark.parametrize("name", [*COMMANDS, "replay s3://"])
def test_unknown_profile_is_one_sentence_and_exit_2(tmp_path: Path, name: str) -> None:
    command = COMMANDS.get(name, ("replay", "s3://bucket/prefix"))
    code, err = _run(tmp_path, *command, "--profile", "nope", "--region", "eu-west-1")
    assert code == 2
    assert err == [
        f"lambdest-tui {command[0]}: the AWS profile 'nope' (from --profile) is in neither ~/.aws/config "
        "nor ~/.aws/credentials: create it (aws configure --profile nope) or name another one"
    ]


def test_unknown_profile_from_the_environment_says_so(tmp_path: Path) -> None:
    code, err = _run(tmp_path, "tail", "--queue", "orders", env={"AWS_PROFILE": "gone", "AWS_DEFAULT_REGION": "x-1"})
    assert code == 2
    assert "the AWS profile 'gone' (from AWS_PROFILE) is in neither" in err[0]


def test_a_queue_arn_needs_no_configured_region(tmp_path: Path, moto_endpoint: str) -> None:
    """The ARN names the region: no region error; without credentials it says so instead."""
    code, err = _run(
        tmp_path, "tail", "--queue", "arn:aws:sqs:eu-west-1:123456789012:orders", "--quiet", "--endpoint-url",
        moto_endpoint,
    )  # fmt: skip
    assert code == 1
    assert len(err) == 1 and "no AWS credentials found" in err[0]


def test_does_not_exist_names_the_region_and_account(tmp_path: Path, moto_reset: str) -> None:
    code, err = _run(
        tmp_path, "tail", "--queue", "no-such-queue", "--quiet", "--endpoint-url", moto_reset,
        env={"AWS_DEFAULT_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"},
    )  # fmt: skip
    assert code == 1
    assert len(err) == 1
    assert err[0].startswith(
        "lambdest-tui tail: queue no-such-queue does not exist in region eu-west-1, account 123456789012 "
        "(or is in another region or account)"
    ), err


async def test_a_source_without_a_region_fails_with_the_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    """The library path (no command in front): the source fails with the same sentence."""
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.delenv("AWS_REGION", raising=False)
    _, statuses = await collect(SqsQueueSource("orders", wait_time=1), messages=1, timeout=10)
    assert statuses[-1].state == "failed"
    assert statuses[-1].reason == f"queue orders: {NO_REGION}"
