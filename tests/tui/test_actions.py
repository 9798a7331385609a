"""Pilot tests of the actions: test orders through an injected invoker, re-drive, save and replay."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input, Select, TextArea

from records.decode import decode
from records.sources.replay import ReplaySource
from records.store.rows import RowSummary
from tests.factories import FIXED_NOW, T0, ListSource, flow_records, mixed_records, order, seed_message, write_jsonl
from tests.tui.waiting import until
from tui.app import AppConfig, LambdestApp, create_app
from tui.messages import SourceEvents
from tui.screens.dialogs import ConfirmDialog, OrderDialog, SaveDialog
from tui.screens.main import MainScreen

SIZE = (150, 45)


class RecordingInvoker:
    """The one fake the UI tests use: an async invoker that records its calls."""

    def __init__(self, fail: bool = False) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.fail = fail

    async def __call__(self, function: str, payload: Any) -> str:
        self.calls.append((function, payload))
        if self.fail:
            raise RuntimeError("AccessDeniedException: not allowed to invoke")
        return f"req-{len(self.calls)}"


def app_with(raws: list[str], invoker: RecordingInvoker, **options: Any) -> LambdestApp:
    return create_app(
        AppConfig(
            sources=[ListSource(raws, stay_open=True)],
            invoker=invoker,
            order_function="order",
            clock=lambda: FIXED_NOW,
            **options,
        )
    )


async def test_test_order_shows_awaiting_flow_then_fills_in() -> None:
    invoker = RecordingInvoker()
    app = app_with([], invoker, order_generator=lambda: order("ord-00042"))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("o")
        await until(pilot, lambda: invoker.calls == [("order", order("ord-00042"))], "invoke")
        await until(pilot, lambda: len(app.session.flows) == 1, "awaiting flow")
        flow = app.session.store.flow(app.session.flows.flow_id_at(0))
        assert flow is not None and flow.status == "awaiting records" and flow.correlation_id == "ord-00042"
        screen = app.screen
        assert isinstance(screen, MainScreen)
        assert "awaiting records" in screen.flows_table.render_line(1).text
        # its records arrive: the same flow fills in
        raws = [json.dumps(document) for document in flow_records(42, "good", T0)]
        app.post_message(SourceEvents([seed_message(raw) for raw in raws]))
        await until(pilot, lambda: "completed" in screen.flows_table.render_line(1).text, "completed")
        assert len(app.session.flows) == 1
        assert "order✓ → update-inventory✓" in screen.flows_table.render_line(1).text


async def test_order_dialog_preset_and_edit() -> None:
    invoker = RecordingInvoker()
    presets = {"good": order("ord-good"), "declined": order("ord-bad", card="4000000000000002")}
    app = app_with([], invoker, presets=presets)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("O")
        await until(pilot, lambda: isinstance(app.screen, OrderDialog), "dialog")
        dialog = app.screen
        dialog.query_one("#preset", Select).value = "declined"
        await until(pilot, lambda: "ord-bad" in dialog.query_one("#payload", TextArea).text, "preset text")
        area = dialog.query_one("#payload", TextArea)
        area.text = area.text.replace("ord-bad", "ord-edited")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: len(invoker.calls) == 1, "invoke")
        assert invoker.calls[0] == ("order", order("ord-edited", card="4000000000000002"))
        # bad JSON is refused with the place it breaks, nothing is sent
        await pilot.press("O")
        await until(pilot, lambda: isinstance(app.screen, OrderDialog), "dialog")
        app.screen.query_one("#payload", TextArea).text = '{"orderId": '
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, OrderDialog)
        assert "not JSON" in str(app.screen.query_one("#order-error").render())
        await pilot.press("escape")
        assert len(invoker.calls) == 1


async def test_failed_invoke_is_reported() -> None:
    invoker = RecordingInvoker(fail=True)
    app = app_with([], invoker, order_generator=lambda: order("ord-x"))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("o")
        await until(pilot, lambda: any("AccessDenied" in n.message for n in app._notifications), "notification")


async def test_redrive_asks_then_invokes_the_failed_request() -> None:
    invoker = RecordingInvoker()
    raws = [json.dumps(document) for document in flow_records(7, "out-of-stock", T0)]
    app = app_with(raws, invoker)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(app.session.records) == 2, "records")
        await pilot.press("r")  # the newest row is the rollback's success: refused
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmDialog)
        await pilot.press("down", "r")  # the update-inventory failure
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "confirm")
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, MainScreen), "cancelled")
        assert invoker.calls == []
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "confirm")
        await pilot.press("y")
        await until(pilot, lambda: len(invoker.calls) == 1, "redrive")
        function, payload = invoker.calls[0]
        assert function == "update-inventory"
        expected = json.loads(raws[0])["requestPayload"]
        assert payload == expected  # the upstream record, exactly as Lambda delivered it


@pytest.mark.slow
async def test_save_then_replay_gives_the_same_records(tmp_path: Path) -> None:
    source_file = write_jsonl(tmp_path / "in.jsonl", mixed_records(12), ["not json {"])
    saved = tmp_path / "saved.jsonl"
    app = create_app(AppConfig(sources=[ReplaySource([str(source_file)], facts=True)], clock=lambda: FIXED_NOW))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(app.session.records) == 15, "records")
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, SaveDialog), "dialog")
        app.screen.query_one("#save-path", Input).value = str(saved)
        await pilot.press("enter")
        await until(pilot, lambda: saved.exists() and any("Saved 15" in n.message for n in app._notifications), "saved")
        before = [app.session.store.row(index) for index in range(len(app.session.store))]
        # the filtered view alone
        await pilot.press("x")
        await until(pilot, lambda: len(app.session.records) == 4, "failures")
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, SaveDialog), "dialog")
        app.screen.query_one("#save-path", Input).value = str(tmp_path / "failures.jsonl")
        await pilot.press("enter")
        await until(pilot, (tmp_path / "failures.jsonl").exists, "saved failures")
    replayed = create_app(AppConfig(sources=[ReplaySource([str(saved)], facts=True)], clock=lambda: FIXED_NOW))
    async with replayed.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(replayed.session.records) == 15, "replayed")
        after = [replayed.session.store.row(index) for index in range(len(replayed.session.store))]

    def key(row: RowSummary) -> tuple[object, ...]:
        return (row.ok, row.function_name, row.condition, row.request_id, row.correlation_id, row.error_type)

    assert [key(row) for row in after] == [key(row) for row in before]
    lines = (tmp_path / "failures.jsonl").read_text().splitlines()
    assert len(lines) == 4
    assert all(not decode(json.loads(line)["raw"])[0].record.succeeded for line in lines)  # type: ignore[union-attr]
