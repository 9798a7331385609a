"""Saved setups: the config file's errors name file, line and key; `watch @NAME` builds its sources;
saving appends a table atomically to a private file."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from records.setups import ConfigError, Setup, load_config, save_setup
from tui.cli import build_parser, main
from tui.commands.setups import apply_setup, correlator
from tui.commands.sources_args import sources_from_args

GOOD = """\
# my setups
[setups.checkout]
functions = ["order"]
queues = ["order-failures"]
topics = ["order-notifications"]
region = "eu-west-1"
correlate = ["detail.orderId"]

[setups.prod]
buses = ["default"]
profile = "prod"
read_only = true
"""


@pytest.fixture
def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "config.toml"
    monkeypatch.setenv("LAMBDEST_TUI_CONFIG", str(path))
    return path


def test_a_missing_file_is_an_empty_config(config_file: Path) -> None:
    assert load_config().setups == {}


def test_setups_load(config_file: Path) -> None:
    config_file.write_text(GOOD)
    config = load_config()
    assert list(config.setups) == ["checkout", "prod"]
    assert config.setups["prod"].read_only and config.setups["prod"].profile == "prod"
    assert config.setups["checkout"].functions == ["order"]


def test_a_toml_syntax_error_names_the_file_and_line(config_file: Path) -> None:
    config_file.write_text(GOOD.replace('region = "eu-west-1"', "region = eu-west-1"))
    with pytest.raises(ConfigError) as caught:
        load_config()
    message = str(caught.value)
    assert str(config_file) in message and "line 6" in message


@pytest.mark.parametrize(
    ("change", "line", "key"),
    [
        (("read_only = true", 'read_only = "maybe"'), 12, "setups.prod.read_only"),
        (('profile = "prod"', 'profile = "prod"\nmode = "delete-all"'), 12, "setups.prod.mode"),
        (('queues = ["order-failures"]', 'queues = "order-failures"'), 4, "setups.checkout.queues"),
        (('region = "eu-west-1"', 'regoin = "eu-west-1"'), 6, "setups.checkout.regoin"),
        (('correlate = ["detail.orderId"]', 'correlate = ["detail.["]'), 7, "setups.checkout.correlate"),
    ],
)
def test_a_wrong_value_names_the_file_line_and_key(
    config_file: Path, change: tuple[str, str], line: int, key: str
) -> None:
    config_file.write_text(GOOD.replace(*change))
    with pytest.raises(ConfigError) as caught:
        load_config()
    message = str(caught.value)
    assert message.startswith(f"{config_file}:{line}: key {key}: "), message


def test_watch_with_a_malformed_config_exits_2_naming_the_file(
    config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_file.write_text("[setups.x]\nmode = 3\n")
    assert main(["watch", "@x"]) == 2
    error = capsys.readouterr().err
    assert f"{config_file}:2: key setups.x.mode" in error


def test_an_unknown_setup_exits_2_listing_the_known_ones(config_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config_file.write_text(GOOD)
    assert main(["tail", "@nope"]) == 2
    assert "@checkout, @prod" in capsys.readouterr().err


def test_watch_at_name_builds_the_setups_sources(config_file: Path) -> None:
    config_file.write_text(GOOD)
    args = build_parser("watch").parse_args(["watch", "@checkout", "--queue", "extra", "--region", "us-east-1"])
    assert apply_setup(args, "lambdest-tui watch") is None
    assert args.function == ["order"] and args.queue == ["order-failures", "extra"]
    assert args.region == "us-east-1"  # the command line wins
    assert correlator(args).expressions == ("detail.orderId",)
    labels = [source.label for source in sources_from_args(args, None)]
    assert labels == ["queue:order-failures", "queue:extra", "topic:order-notifications"]


def test_a_read_only_setup_refuses_consume_mode(config_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config_file.write_text(GOOD)
    args = build_parser("watch").parse_args(["watch", "@prod", "--mode", "consume"])
    assert apply_setup(args, "lambdest-tui watch") == 2
    assert args.read_only
    assert "read-only" in capsys.readouterr().err
    args = build_parser("tail").parse_args(["tail", "--read-only", "--queue", "q", "--mode", "consume"])
    assert apply_setup(args, "lambdest-tui tail") == 2


def test_save_setup_appends_a_table_keeping_comments_in_a_private_file(config_file: Path) -> None:
    config_file.write_text(GOOD)
    config_file.chmod(0o644)
    save_setup("new-one", Setup(functions=["order*"], read_only=True))
    text = config_file.read_text()
    assert text.startswith("# my setups\n")
    assert stat.S_IMODE(config_file.stat().st_mode) == 0o600
    config = load_config()
    assert config.setups["new-one"] == Setup(functions=["order*"], read_only=True)
    assert list(config.setups) == ["checkout", "prod", "new-one"]
    with pytest.raises(ConfigError, match="already exists"):
        save_setup("prod", Setup())
    with pytest.raises(ConfigError, match="letters, digits"):
        save_setup("a b", Setup())
    assert [p.name for p in config_file.parent.iterdir()] == ["config.toml"]  # no temporary file left


def test_save_setup_creates_the_file_and_folder(tmp_path: Path) -> None:
    path = tmp_path / "new" / "config.toml"
    save_setup("first", Setup(queues=["q"]), path)
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert load_config(path).setups["first"].queues == ["q"]


def test_replay_takes_correlate_and_refuses_a_bad_expression(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saved = tmp_path / "dump.jsonl"
    saved.write_text("{}\n")
    args = build_parser("replay").parse_args(["replay", str(saved), "--correlate", "detail.id", "--profile", "p"])
    assert args.correlate == ["detail.id"] and args.profile == "p"
    assert main(["replay", str(saved), "--correlate", "detail.["]) == 2
    assert "invalid JMESPath expression" in capsys.readouterr().err


def test_demo_and_watch_take_correlate(capsys: pytest.CaptureFixture[str]) -> None:
    assert build_parser("demo").parse_args(["demo", "--correlate", "detail.id"]).correlate == ["detail.id"]
    assert main(["demo", "--correlate", "detail.["]) == 2  # refused before the sandbox starts
    assert main(["watch", "--queue", "q", "--correlate", "detail.["]) == 2
    assert capsys.readouterr().err.count("invalid JMESPath expression") == 2
