"""Plain `lambdest-tui`: the start screen against the sandbox (the three functions, filter, select,
Enter watches them), and the problem screen when AWS cannot be used (it offers the demo; q exits 0)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from textual.widgets import Input

from records.aws_options import AwsOptions
from records.sandbox import Sandbox
from records.setups import Setup
from tests.tui.waiting import until
from tui.cli import build_parser
from tui.commands.functions import plan_for
from tui.commands.start import StartApp, follow, watch_argv
from tui.screens.start import ProblemScreen, StartChoice, StartScreen

ORDER_SYSTEM = ["order", "rollback-order", "update-inventory"]


def _start(app: StartApp) -> StartScreen:
    screen = app.start_screen
    assert screen is not None
    return screen


async def test_the_start_screen_lists_the_sandboxs_functions_and_enter_watches_the_selection(
    sandbox: Sandbox,
) -> None:
    aws = AwsOptions(endpoint_url=sandbox.endpoint_url, region=sandbox.region)
    app = StartApp(aws, setups={"prod": Setup(functions=["order*"], read_only=True)})
    async with app.run_test(size=(160, 40)) as pilot:
        await until(pilot, lambda: _start(app).done and _start(app).identity is not None, "the listing", 3000)
        screen = _start(app)
        assert screen.visible_keys() == ["@prod", *ORDER_SYSTEM]  # setups first
        row = screen.rows["order"].cells
        assert row[2] == "function:update-inventory" and row[3] == "queue:order-failures"
        assert screen.rows["update-inventory"].cells[2] == "topic:order-notifications"
        account = str(screen.query_one("#account").render())
        assert "123456789012" in account and "us-east-1" in account
        await pilot.press("u", "p", "d")  # type-to-filter
        assert screen.query_one("#filter", Input).value == "upd"
        assert screen.visible_keys() == ["update-inventory"]
        await pilot.press("space")
        await pilot.press("escape")
        assert screen.visible_keys() == ["@prod", *ORDER_SYSTEM]
        assert screen.current_key() == "update-inventory"  # the cursor stays on its row
        await pilot.press("up", "up")
        assert screen.current_key() == "order"
        await pilot.press("space")
        await pilot.press("enter")
    choice = app.return_value
    assert choice == StartChoice("watch", ("order", "update-inventory"))
    args = build_parser("start").parse_args(["start", "--endpoint-url", sandbox.endpoint_url, "--region", "us-east-1"])
    argv = watch_argv(choice, args)
    assert argv[:5] == ["watch", "--function", "order", "--function", "update-inventory"]
    watch_args = build_parser("watch").parse_args(argv)
    plan = await plan_for(watch_args, AwsOptions(endpoint_url=sandbox.endpoint_url, region="us-east-1"))
    assert plan is not None and set(plan.topics()) and set(plan.queues())


async def test_enter_on_a_setup_watches_it_and_q_quits(sandbox: Sandbox) -> None:
    aws = AwsOptions(endpoint_url=sandbox.endpoint_url, region=sandbox.region)
    app = StartApp(aws, setups={"prod": Setup(functions=["order*"])})
    async with app.run_test(size=(160, 40)) as pilot:
        await until(pilot, lambda: _start(app).done, "the listing", 3000)
        await pilot.press("enter")
    assert app.return_value == StartChoice("setup", setup="prod")
    args = build_parser("start").parse_args(["start", "--read-only"])
    assert watch_argv(StartChoice("setup", setup="prod"), args) == ["watch", "@prod", "--read-only"]
    app = StartApp(aws)
    async with app.run_test(size=(160, 40)) as pilot:
        await until(pilot, lambda: _start(app).read > 0, "the first functions", 3000)
        await pilot.press("q")
    assert app.return_value is None
    assert follow(app.return_value, args) == 0


@pytest.mark.parametrize(
    ("aws", "unset", "missing", "fix"),
    [
        (AwsOptions(region="eu-west-1"), True, "No AWS credentials were found.", "aws sso login"),
        (AwsOptions(), True, "No AWS region is set.", "lambdest-tui --region"),
        (AwsOptions(profile="nope"), False, "The AWS profile 'nope' is not in ~/.aws/config.", "--profile nope"),
        (AwsOptions(profile="nope"), True, "The AWS profile 'nope' is not in ~/.aws/config.", "--profile nope"),
    ],
)
async def test_without_credentials_the_problem_screen_names_the_fix_and_offers_the_demo(
    monkeypatch: pytest.MonkeyPatch, aws: AwsOptions, unset: bool, missing: str, fix: str
) -> None:
    if unset:
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION", "AWS_REGION"):
            monkeypatch.delenv(name, raising=False)
    app = StartApp(aws)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, ProblemScreen), "the problem screen", 1000)
        screen = app.screen
        assert isinstance(screen, ProblemScreen)
        assert screen.missing == missing and fix in screen.fix
        await pilot.press("d")
    assert app.return_value == StartChoice("demo")


async def test_an_expired_sso_token_says_to_log_in(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text(
        "[profile work]\nsso_session = corp\nsso_account_id = 111122223333\nsso_role_name = Dev\n"
        "region = eu-west-1\n\n[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\n"
        "sso_region = eu-west-1\n"
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("HOME", str(tmp_path))  # no cached SSO token
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name, raising=False)
    app = StartApp(AwsOptions(profile="work"))
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, ProblemScreen), "the problem screen", 1000)
        screen = app.screen
        assert isinstance(screen, ProblemScreen)
        assert "SSO" in screen.missing and screen.fix == "aws sso login --profile work"
        await pilot.press("q")
    assert app.return_value is None


async def test_the_first_functions_show_while_the_rest_load(sandbox: Sandbox) -> None:
    """The listing streams: the table fills batch by batch, before the last function is read."""
    aws = AwsOptions(endpoint_url=sandbox.endpoint_url, region=sandbox.region)
    batches: list[int] = []

    async def lister(options: AwsOptions):  # type: ignore[no-untyped-def]
        from records.listing import list_destinations

        async for listing in list_destinations(options, batch=1):
            batches.append(len(listing.functions))
            yield listing
            await asyncio.sleep(0)

    app = StartApp(aws, lister=lister)
    async with app.run_test(size=(160, 40)) as pilot:
        await until(pilot, lambda: _start(app).done, "the listing", 3000)
    assert len(batches) >= 3  # one function at a time, then the end
