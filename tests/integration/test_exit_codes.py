"""Exit codes and the session file when sources never connect, against a real moto server:
`tail` at its idle timeout, `watch` (on a pseudo-terminal) quit by the user."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.factories import numbered_record
from tests.integration.pty_fixtures import PtyProcess
from tests.integration.sources_helpers import TailProcess, client, free_port, wait_until

FAST = ("--wait-time", "1", "--format", "jsonl")


def _sessions(state: Path) -> list[Path]:
    folder = state / "lambdest-tui" / "sessions"
    return sorted(folder.iterdir()) if folder.exists() else []


def test_tail_whose_source_never_connected_exits_1_at_its_idle_timeout(tmp_path: Path) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    tail = TailProcess("--queue", "orders", "--idle-timeout", "3", "--endpoint-url", nowhere, *FAST)
    assert tail.wait(60) == 1, tail.err
    assert tail.out == []
    assert "lambdest-tui tail: queue:orders never became live" in tail.err[-1], tail.err


def test_tail_idle_timeout_after_going_live_exits_0_and_keeps_no_empty_session(moto_reset: str, tmp_path: Path) -> None:
    client("sqs", moto_reset).create_queue(QueueName="quiet")
    tail = TailProcess(
        "--queue", "quiet", "--mode", "consume", "--idle-timeout", "2", "--endpoint-url", moto_reset, *FAST,
        env={"XDG_STATE_HOME": str(tmp_path)},
    )  # fmt: skip
    assert tail.wait(60) == 0, tail.err
    assert _sessions(tmp_path) == []
    assert tail.err[-1] == "lambdest-tui tail: nothing was received; no session file kept", tail.err


def _plain(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)


def test_watch_with_every_source_failed_exits_1_and_saves_nothing(moto_reset: str, tmp_path: Path) -> None:
    watch = PtyProcess(
        "watch", "--topic", "no-such-topic", "--bus", "no-such-bus", "--wait-time", "1", "--endpoint-url", moto_reset,
        env={"XDG_STATE_HOME": str(tmp_path)},
    )  # fmt: skip
    try:
        shown_both = lambda: all(name in _plain(watch.text()) for name in ("topic no-such-topic", "bus no-such-bus"))  # noqa: E731
        wait_until(shown_both, 30, "both failures shown")
        watch.type("q")
        assert watch.wait(30) == 1
    finally:
        watch.stop()
    shown = _plain(watch.text())
    assert "lambdest-tui watch: topic:no-such-topic never became live: topic no-such-topic does not exist" in shown
    assert "lambdest-tui watch: bus:no-such-bus never became live: event bus no-such-bus does not exist" in shown
    assert "lambdest-tui watch: nothing was received; no session file kept" in shown
    assert "saved" not in shown
    assert _sessions(tmp_path) == []


def test_watch_quit_after_a_record_exits_0_and_says_where_it_saved(moto_reset: str, tmp_path: Path) -> None:
    sns = client("sns", moto_reset)
    topic = sns.create_topic(Name="order-notifications")["TopicArn"]
    watch = PtyProcess(
        "watch", "--topic", "order-notifications", "--wait-time", "1", "--endpoint-url", moto_reset,
        env={"XDG_STATE_HOME": str(tmp_path)},
    )  # fmt: skip
    try:
        wait_until(lambda: len(_sessions(tmp_path)) == 1, 30, "the session file")
        wait_until(lambda: bool(sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]), 30, "the tap")
        sns.publish(TopicArn=topic, Message=json.dumps(numbered_record(3)))
        (session,) = _sessions(tmp_path)
        wait_until(lambda: session.stat().st_size > 0, 30, "the record saved")
        watch.type("q")
        assert watch.wait(30) == 0
    finally:
        watch.stop()
    assert f"lambdest-tui watch: session saved in {session}" in _plain(watch.text()).replace("\r\n", "\n")


def test_tail_with_a_session_file_it_cannot_write_says_so_and_exits_2(tmp_path: Path) -> None:
    folder = tmp_path / "a-folder"
    folder.mkdir()
    nowhere = f"http://127.0.0.1:{free_port()}"
    tail = TailProcess("--queue", "orders", "--save", str(folder), "--endpoint-url", nowhere, *FAST)
    assert tail.wait(60) == 2, tail.err
    assert len(tail.err) == 1, tail.err  # one sentence, no traceback
    assert tail.err[0].startswith(f"lambdest-tui tail: cannot write the session file {folder}: "), tail.err
