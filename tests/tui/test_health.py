"""The health screen (`h`) against the real sandbox over HTTP: after test orders of each preset its
CloudWatch counts equal what the sandbox did and its "seen" counts equal what the records table
holds; a stack fault makes the loss badge appear and the screen show the doctor's sentence; a
CloudWatch that cannot be reached is a sentence, never a crash."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from itertools import cycle
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Static

from records.aws_options import AwsOptions
from records.files import SessionWriter
from records.invoke import ORDER_KINDS, generate_order
from records.sandbox import Sandbox
from tests.integration.sandbox_helpers import TIME_FACTOR, write_stack
from tests.tui.waiting import sources_live, until
from tui.app import AppConfig, LambdestApp, create_app
from tui.commands.demo import demo_config
from tui.screens.health import HealthScreen

PER_KIND = 2


def table_counts(app: LambdestApp) -> dict[str, dict[str, int]]:
    """Records by function and condition, read row by row from the records table's view."""
    counts: Counter[tuple[str, str]] = Counter()
    records, store = app.session.records, app.session.store
    for position in range(len(records)):
        row = store.row(records.index_at(position))
        if row.function_name:
            counts[(row.function_name, row.condition or "(no condition)")] += 1
    found: dict[str, dict[str, int]] = {}
    for (function, condition), count in counts.items():
        found.setdefault(function, {})[condition] = count
    return found


def total(app: LambdestApp, metric: str) -> int:
    assert app.health is not None
    return sum(int(one.totals.get(metric) or 0) for one in app.health.functions)


def shown(screen: HealthScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).content)


def number(screen: HealthScreen, function: int, metric: str) -> str:
    """The total the screen shows for `metric` of its `function`-th function."""
    for line in shown(screen, f"#numbers{function}").splitlines():
        name, _, value = line.partition(" ")
        if name == metric:
            return value.strip()
    raise AssertionError(f"{metric} is not shown")


async def read_now(pilot: Pilot[None], app: LambdestApp, box: Sandbox) -> HealthScreen:
    """Publish the sandbox's counts, open the health screen and wait for a reading made after that."""
    await asyncio.to_thread(box.flush_metrics)
    flushed = time.time()
    if not isinstance(app.screen, HealthScreen):
        await pilot.press("h")
    screen = app.screen
    assert isinstance(screen, HealthScreen)
    await pilot.press("u")
    await until(pilot, lambda: app.health is not None and app.health.read_at >= flushed, "a fresh reading", 3000)
    await pilot.pause()
    return screen


@pytest.mark.slow
@pytest.mark.usefixtures("sandbox_env")
async def test_health_counts_equal_the_sandbox_and_the_records_table(sandbox: Sandbox, tmp_path: Path) -> None:
    kinds = cycle(ORDER_KINDS)
    with SessionWriter(tmp_path / "session.jsonl") as session:
        config = demo_config(sandbox, session)
        config.order_generator = lambda: generate_order(next(kinds))
        app = create_app(config)
        async with app.run_test(size=(160, 60)) as pilot:
            await sources_live(pilot, app)
            for _ in range(PER_KIND * len(ORDER_KINDS)):
                await pilot.press("o")
            assert await sandbox.await_idle(60)
            stats = sandbox.stats()
            # what reached a queue or topic the demo watches (records sent to a function are its input)
            to_watched = sum(n for arn, n in stats.delivered_to.items() if ":function:" not in arn)
            await until(pilot, lambda: len(app.session.store) == to_watched, "every delivered record", 3000)
            screen = await read_now(pilot, app, sandbox)

            # CloudWatch in the view == what the sandbox did
            assert stats.accepted == total(app, "AsyncEventsReceived") == 6 * PER_KIND
            assert stats.failed == total(app, "AsyncEventsDropped") == 2 * PER_KIND  # declined, out of stock
            assert len(stats.delivery_failures) == total(app, "DestinationDeliveryFailures") == 0
            assert stats.delivered == 6 * PER_KIND  # a record per event: 3 order, 2 inventory, 1 rollback
            assert number(screen, 0, "AsyncEventsReceived") == str(3 * PER_KIND)  # order: every preset
            assert number(screen, 0, "Invocations") == str(5 * PER_KIND)  # declined ones retried twice
            assert number(screen, 0, "AsyncEventsDropped") == str(PER_KIND)
            assert number(screen, 2, "AsyncEventsReceived") == str(PER_KIND)  # rollback-order
            # what this session has seen == what the records table holds == what was delivered to it
            seen = {name: dict(counts) for name, counts in screen.shown_seen.items()}
            assert seen == table_counts(app)
            assert seen == {
                "order": {"RetriesExhausted": PER_KIND},
                "update-inventory": {"Success": PER_KIND},
                "rollback-order": {"Success": PER_KIND},
            }
            assert sum(sum(counts.values()) for counts in seen.values()) == to_watched
            words = shown(screen, "#seen0").split()
            assert words == ["seen", "this", "session", "RetriesExhausted", str(PER_KIND), "records", str(PER_KIND)]
            # the doctor's findings: the healthy order stack has none but passes
            assert app.health is not None and app.health.doctor_error is None
            assert {f.status for f in app.health.findings} == {"pass"}
            # dropped events with an OnFailure destination are a loss metric above zero: the badge says so
            badge = app.screen_stack[1].query_one("#status-badge", Static)
            assert badge.has_class("shown") and "dropped" in str(badge.content)
            await app.stop_sources()
        await asyncio.to_thread(app.wait_sources_closed)


FAULTY = """
[[functions]]
name = "denied"
handler = "handlers.py:fail"
maximum_retry_attempts = 0
on_failure = "queue:denied-failures"
deny = ["sqs:SendMessage"]

[[queues]]
name = "denied-failures"
"""

HANDLERS = """
def fail(event, context):
    raise RuntimeError("always fails")
"""


@pytest.mark.slow
async def test_a_stack_fault_shows_the_badge_and_the_doctors_sentence(tmp_path: Path) -> None:
    stack = write_stack(tmp_path, FAULTY, HANDLERS)
    with Sandbox(stack, time_factor=TIME_FACTOR) as box, SessionWriter(tmp_path / "session.jsonl") as session:
        config = demo_config(box, session)
        config.order_generator = lambda: {"n": 1}
        app = create_app(config)
        async with app.run_test(size=(160, 50)) as pilot:
            await sources_live(pilot, app)
            badge = app.screen.query_one("#status-badge", Static)
            assert not badge.has_class("shown")
            await pilot.press("o", "o")
            assert await box.await_idle(30)
            assert len(box.stats().delivery_failures) == 2  # AccessDenied: the records are lost
            screen = await read_now(pilot, app, box)
            assert total(app, "DestinationDeliveryFailures") == 2
            assert number(screen, 0, "DestinationDeliveryFailures") == "2"
            assert "⚠ denied: AsyncEventsDropped 2, DestinationDeliveryFailures 2" in shown(screen, "#health-head")
            findings = shown(screen, "#health-findings")
            first = findings.splitlines()[1]  # problems first
            assert first.startswith("PROBLEM")
            assert "role-permission" in findings and "sqs:SendMessage" in findings and "denied-failures" in findings
            assert "fix: " in findings
            assert badge.has_class("shown") and "2 undelivered" in str(badge.content)
            await pilot.press("h")  # closes the health screen
            assert not isinstance(app.screen, HealthScreen)
            await app.stop_sources()
        await asyncio.to_thread(app.wait_sources_closed)


async def test_an_unreachable_cloudwatch_is_a_sentence_not_a_crash() -> None:
    config = AppConfig(
        aws=AwsOptions(endpoint_url="http://127.0.0.1:9", region="us-east-1"),  # nothing listens there
        watched_functions=["order"],
    )
    app = create_app(config)
    async with app.run_test(size=(120, 40)) as pilot:
        palette = {command.title: command.help for command in app.get_system_commands(app.screen)}
        assert palette["Health"] == "health: CloudWatch metrics and the doctor's findings"  # from the binding
        await pilot.press("h")
        screen = app.screen
        assert isinstance(screen, HealthScreen)
        await until(pilot, lambda: app.health is not None, "a reading", 3000)
        await pilot.pause()
        assert app.health is not None
        assert app.health.metrics_error and app.health.metrics_error.startswith("No CloudWatch metrics: ")
        assert app.health.doctor_error and app.health.doctor_error.startswith("The doctor's checks could not run: ")
        assert "No CloudWatch metrics" in shown(screen, "#health-head")
        assert number(screen, 0, "Invocations") == "-"
        assert app.is_running  # still here: keys work
        await pilot.press("h")
        assert not isinstance(app.screen, HealthScreen)
