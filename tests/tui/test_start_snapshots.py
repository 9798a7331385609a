"""Snapshots of plain `lambdest-tui`: the start screen and the problem screen, on fixed data (no AWS:
the listing and the account come from the fixed functions below). Update with
`pytest tests/tui --snapshot-update` after looking at the change."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from textual.pilot import Pilot

from records.aws_options import AwsOptions
from records.identity import AccessProblem, Identity
from records.listing import FunctionDestinations, Listing
from records.setups import Setup
from tests.tui.waiting import until
from tui.commands.start import StartApp
from tui.screens.start import ProblemScreen

SIZE = (150, 30)
ARN = "arn:aws:{}:eu-west-1:111122223333:{}"
FUNCTIONS = [
    FunctionDestinations(
        "order",
        ("$LATEST", "live"),
        (ARN.format("lambda", "function:update-inventory"),),
        (ARN.format("sqs", "order-failures"),),
    ),
    FunctionDestinations(
        "update-inventory",
        ("$LATEST",),
        (ARN.format("sns", "order-notifications"),),
        (ARN.format("lambda", "function:rollback-order"),),
    ),
    FunctionDestinations("stream-reader", ("$LATEST",), stream_failure=(ARN.format("sqs", "stream-dlq"),)),
    FunctionDestinations("legacy", ("$LATEST",), dead_letter=(ARN.format("sqs", "legacy-dlq"),)),
]


async def _fixed_listing(aws: AwsOptions) -> AsyncIterator[Listing]:
    yield Listing(FUNCTIONS[:2], 40)
    yield Listing(FUNCTIONS[2:], 120, done=True)


async def _fixed_identity(aws: AwsOptions) -> Identity:
    return Identity("111122223333", "arn:aws:sts::111122223333:assumed-role/Dev/alice", "eu-west-1")


async def _expired(aws: AwsOptions) -> Identity:
    raise AccessProblem("The AWS SSO session of profile 'work' has expired.", "aws sso login --profile work")


def test_start_screen(snap_compare: Any) -> None:
    app = StartApp(
        AwsOptions(profile="work"),
        setups={"checkout": Setup(functions=["order*"], region="eu-west-1", read_only=True)},
        region="eu-west-1",
        lister=_fixed_listing,
        identify=_fixed_identity,
    )

    async def run_before(pilot: Pilot[None]) -> None:
        screen = app.start_screen
        await until(pilot, lambda: screen is not None and screen.done and screen.identity is not None)
        await pilot.press("down", "space")

    assert snap_compare(app, run_before=run_before, terminal_size=SIZE)


def test_problem_screen(snap_compare: Any) -> None:
    app = StartApp(AwsOptions(profile="work"), region="eu-west-1", lister=_fixed_listing, identify=_expired)

    async def run_before(pilot: Pilot[None]) -> None:
        await until(pilot, lambda: isinstance(pilot.app.screen, ProblemScreen))

    assert snap_compare(app, run_before=run_before, terminal_size=SIZE)
