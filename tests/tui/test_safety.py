"""Safety against real accounts: read-only mode hides and refuses o/O/r; against an account that is
not the local sandbox, the first o asks first, naming the account id (STS over HTTP), region and
function."""

from __future__ import annotations

from typing import Any

from textual.notifications import Notify

from records.aws_options import AwsOptions
from records.identity import is_local
from tests.tui.waiting import until
from tui.app import AppConfig, LambdestApp, create_app
from tui.launch import live_config
from tui.messages import OrderFailed, OrderSent
from tui.screens.dialogs import ConfirmDialog

NOWHERE = AwsOptions(endpoint_url="http://127.0.0.1:9", region="us-east-1")  # nothing listens: never reached


def _footer(app: LambdestApp) -> list[str]:
    """What the footer shows: the screen's active bindings that are shown (what Footer renders)."""
    return [active.binding.description for active in app.screen.active_bindings.values() if active.binding.show]


def _config(aws: AwsOptions, read_only: bool) -> AppConfig:
    config = live_config([], aws, "order", "lambdest-tui watch", "test")
    config.read_only = read_only
    return config


async def test_read_only_has_no_o_or_r_in_its_footer_and_refuses_them() -> None:
    sent: list[object] = []
    for read_only in (False, True):
        app = create_app(_config(NOWHERE, read_only))
        async with app.run_test(size=(150, 40), message_hook=sent.append) as pilot:
            await pilot.pause()
            footer = _footer(app)
            if not read_only:
                assert {"Test order", "Edit order", "Re-drive"} <= set(footer)
                continue
            assert footer and not {"Test order", "Edit order", "Re-drive"} & set(footer)
            assert app.session.order_function is None  # the status line offers no "o: test order to ..."
            for key in ("o", "O", "r"):
                await pilot.press(key)
            await pilot.pause()
            app.action_test_order()  # what the palette's "Send a test order" calls
            app.action_redrive()
            await pilot.pause()
            messages = [str(m.notification.message) for m in sent if isinstance(m, Notify)]
            assert sum("Read-only mode" in message for message in messages) == 5, messages
            assert not isinstance(app.screen, ConfirmDialog)
    assert not [message for message in sent if isinstance(message, OrderSent | OrderFailed)]


async def test_the_first_order_to_a_real_account_asks_naming_account_region_and_function(
    moto_endpoint: str,
) -> None:
    aws = AwsOptions(endpoint_url=moto_endpoint, region="eu-west-2")
    config = _config(aws, False)
    assert config.confirm_account is None  # a loopback endpoint: the sandbox needs no confirmation
    config.confirm_account = aws  # as for a real account: the account id comes from STS (moto here)
    seen: list[Any] = []
    app = create_app(config)
    async with app.run_test(size=(150, 40), message_hook=seen.append) as pilot:
        await pilot.press("o")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the confirmation")
        question = str(app.screen.question)  # type: ignore[attr-defined]
        assert "123456789012" in question and "eu-west-2" in question and "order" in question
        await pilot.press("n")
        await pilot.pause()
        assert not [m for m in seen if isinstance(m, OrderSent | OrderFailed)]
        await pilot.press("o")  # not confirmed yet: asks again
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the confirmation again")
        await pilot.press("y")
        # moto has no function `order`: the invoke is made and fails, which is what shows it was sent
        await until(pilot, lambda: any(isinstance(m, OrderSent | OrderFailed) for m in seen), "the invoke")
        await pilot.press("o")  # confirmed for this function: no second question
        await until(pilot, lambda: sum(isinstance(m, OrderSent | OrderFailed) for m in seen) == 2, "second invoke")
        assert not isinstance(app.screen, ConfirmDialog)


def test_only_loopback_endpoints_count_as_local(monkeypatch: Any) -> None:
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_LAMBDA"):
        monkeypatch.delenv(name, raising=False)
    assert is_local(AwsOptions(endpoint_url="http://127.0.0.1:4566"))
    assert is_local(AwsOptions(endpoint_url="http://localhost:5000"))
    assert not is_local(AwsOptions(endpoint_url="https://lambda.eu-west-1.amazonaws.com"))
    assert not is_local(AwsOptions(profile="prod"))
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1234")
    assert is_local(AwsOptions())


def test_a_config_without_aws_is_read_write_and_never_asks() -> None:
    config = AppConfig()
    assert not config.read_only and config.confirm_account is None


async def test_the_palette_saves_the_sources_as_a_setup(tmp_path: Any, monkeypatch: Any) -> None:
    import stat

    from records.setups import Setup, load_config
    from tui.screens.save_setup import SaveSetupDialog, SetupSaved

    path = tmp_path / "config.toml"
    monkeypatch.setenv("LAMBDEST_TUI_CONFIG", str(path))
    setup = Setup(functions=["order"], queues=["order-failures"], region="eu-west-1", read_only=True)
    config = _config(NOWHERE, True)
    config.setup = setup
    seen: list[Any] = []
    app = create_app(config)
    async with app.run_test(size=(150, 40), message_hook=seen.append) as pilot:
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert "Save the sources as a setup" in titles
        for count in (1, 2):  # the second time the name is taken
            app.action_save_setup()  # what the palette's command calls
            await until(pilot, lambda: isinstance(app.screen, SaveSetupDialog), "the name dialog")
            await pilot.press(*"checkout", "enter")

            def saved_times(n: int = count) -> bool:
                return sum(isinstance(m, SetupSaved) for m in seen) == n

            await until(pilot, saved_times, f"save {count}")
        saved = [m for m in seen if isinstance(m, SetupSaved)]
        assert saved[0].error is None and saved[1].error is not None and "already exists" in saved[1].error
    assert load_config(path).setups["checkout"] == setup
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
