"""`demo --stack FILE`: every destination kind of the stack is watched (a bus and an S3 failure bucket
found by discovery, besides the stack's topics and queues), and the order presets are offered only
for the order system."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from records.files import SessionWriter
from records.sandbox import Sandbox
from tests.integration.sandbox_helpers import TIME_FACTOR, write_stack
from tests.tui.waiting import sources_live, until
from tui.app import create_app
from tui.commands.demo import demo_config, is_order_system

STACK = """
[[functions]]
name = "resize"
handler = "handlers.py:echo"
maximum_retry_attempts = 0
on_success = "bus:results"
on_failure = "bucket:failed-records"

[[functions]]
name = "notify"
handler = "handlers.py:echo"
on_success = "topic:sent"
on_failure = "queue:unsent"

[[queues]]
name = "unsent"

[[topics]]
name = "sent"

[[buses]]
name = "results"

[[buckets]]
name = "failed-records"
"""
HANDLERS = """
def echo(event, context):
    if isinstance(event, dict) and event.get("fail"):
        raise RuntimeError("asked to fail")
    return event
"""


@pytest.fixture
def stack_sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    box = Sandbox(write_stack(tmp_path, STACK, HANDLERS), time_factor=TIME_FACTOR)
    box.start()
    try:
        for name, value in box.env.items():
            monkeypatch.setenv(name, value)  # restored after the test; demo_config sets them too
        yield box
    finally:
        box.stop()


@pytest.mark.slow
async def test_demo_with_a_stack_watches_its_bus_and_bucket_and_offers_no_order_presets(
    stack_sandbox: Sandbox, tmp_path: Path
) -> None:
    assert not is_order_system(stack_sandbox)
    with SessionWriter(tmp_path / "session.jsonl") as session:
        config = await asyncio.to_thread(demo_config, stack_sandbox, session)
        assert config.presets == {} and config.order_generator is None
        assert config.order_function == "resize"
        app = create_app(config)
        async with app.run_test(size=(150, 45)) as pilot:
            await sources_live(pilot, app)
            assert set(app.session.statuses) == {"topic:sent", "queue:unsent", "bus:results", "bucket:failed-records"}
            app.send("resize", {"id": "ok-1"})  # its success record goes to the bus
            app.send("resize", {"id": "bad-1", "fail": True})  # its failure record to the bucket

            def sources_with_records() -> set[str]:
                return {app.session.store.row(i).source for i in range(len(app.session.store))}

            await until(
                pilot,
                lambda: {"bus:results", "bucket:failed-records"} <= sources_with_records(),
                "records from the bus and the bucket",
                3000,
            )
            await app.stop_sources()
        await asyncio.to_thread(app.wait_sources_closed)


def test_the_shipped_stack_is_the_order_system() -> None:
    assert is_order_system(Sandbox())
