"""The health screen (`h`): per watched function the CloudWatch metrics of the last hour as numbers
and sparklines beside what this session has seen (its records by condition), then the doctor's
findings, problems first, each a sentence with its fix.

It does no I/O: the app hands it the latest `Health` (read by `tui.health.HealthPoller`) with
`show()`, and a `seen()` callable that counts the session's records (memory only, incremental),
which it calls once a second.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Sparkline, Static

from records.doctor.health import LOSS_METRICS, FunctionHealth, Health, losses
from records.doctor.metrics import METRICS
from records.lines import visible

__all__ = ["HealthScreen", "findings_text", "loss_badge", "numbers_text", "seen_text"]

Seen = Mapping[str, Mapping[str, int]]
"""function -> condition -> records this session holds."""

STATUS_STYLES = {"problem": ("PROBLEM", "bold red"), "unknown": ("unknown", "yellow"), "pass": ("ok", "green")}


def loss_badge(health: Health | None) -> Text | None:
    """The status bar's badge: the loss metrics above zero, or None when there are none."""
    if health is None:
        return None
    found = losses(health)
    if not found:
        return None
    totals = {name: sum(one.get(name, 0) for one in found.values()) for name in LOSS_METRICS}
    short = {"AsyncEventsDropped": "dropped", "DestinationDeliveryFailures": "undelivered", "DeadLetterErrors": "DLQ"}
    parts = [f"{count} {short[name]}" for name, count in totals.items() if count]
    return Text(f" ⚠ losses: {', '.join(parts)} (h) ", style="bold white on red")


def metric_value(value: float | None, metric: str) -> str:
    if value is None:
        return "-"
    if metric == "AsyncEventAge":
        return f"{value / 1000:.1f} s"
    return f"{value:.0f}" if math.isclose(value, round(value)) else f"{value:.1f}"


def numbers_text(one: FunctionHealth | None) -> Text:
    """One line per metric: its name and its total over the window (a loss above zero in red)."""
    text = Text()
    for number, (metric, _stat) in enumerate(METRICS):
        total = one.totals.get(metric) if one is not None else None
        loss = metric in LOSS_METRICS and bool(total)
        text.append(f"{metric:<29}", style="bold red" if loss else "")
        text.append(f"{metric_value(total, metric):>10}", style="bold red" if loss else "bold")
        if number < len(METRICS) - 1:
            text.append("\n")
    return text


def seen_text(counts: Mapping[str, int]) -> Text:
    """A function's records by condition, then their total."""
    text = Text()
    text.append("seen this session\n", style="bold")
    if not counts:
        text.append("no records yet", style="dim")
        return text
    for condition, count in sorted(counts.items(), key=lambda item: (item[0] != "Success", item[0])):
        style = "green" if condition == "Success" else "red"
        text.append(f"{visible(condition):<22}", style=style)
        text.append(f"{count:>6}\n")
    text.append(f"{'records':<22}", style="dim")
    text.append(f"{sum(counts.values()):>6}", style="bold")
    return text


def findings_text(health: Health | None) -> Text:
    """The doctor's findings, problems first (the order `check` gives), with their fixes."""
    text = Text()
    text.append("The doctor's findings\n", style="bold")
    if health is None:
        text.append("Reading the doctor's checks…", style="dim")
        return text
    if health.doctor_error:
        text.append(visible(health.doctor_error), style="yellow")
        return text
    if not health.findings:
        text.append("No findings.", style="dim")
        return text
    for finding in health.findings:
        label, style = STATUS_STYLES.get(finding.status, (finding.status, ""))
        text.append(f"{label:<8}", style=style)
        text.append(f" {finding.check:<19} ", style="dim")
        sentence = _sentence(finding.message, finding.function)
        text.append(visible(sentence) + "\n", style="" if finding.status != "pass" else "dim")
        if finding.fix and finding.status != "pass":
            text.append(f"{'':<29}fix: {visible(finding.fix)}\n", style="cyan")
    return text


def _sentence(message: str, function: str) -> str:
    """A full sentence: a capital first letter (unless it starts with the function's own name) and a stop."""
    message = message.strip()
    if not message:
        return message
    if not message.startswith(function):
        message = message[0].upper() + message[1:]
    return message if message.endswith((".", "!", "?")) else message + "."


class HealthScreen(Screen[None]):
    """Metrics and sparklines per function, records seen by condition, the doctor's findings."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,h", "app.pop_screen", "Close", tooltip="back to the records"),
        Binding("u", "update_now", "Update now", tooltip="read CloudWatch and the doctor's checks again now"),
    ]

    DEFAULT_CSS = """
    HealthScreen #health-head { height: auto; background: $boost; padding: 0 1; }
    HealthScreen #health-body { height: 1fr; }
    HealthScreen .fn-title { height: 1; margin-top: 1; padding: 0 1; background: $primary-muted; text-style: bold; }
    HealthScreen .fn-body { height: auto; }
    HealthScreen .fn-numbers { width: 42; height: auto; padding: 0 1; }
    HealthScreen .fn-sparklines { width: 1fr; max-width: 62; height: auto; padding-right: 2; }
    HealthScreen .fn-sparklines Sparkline { width: 1fr; height: 1; }
    HealthScreen .fn-seen { width: 1fr; min-width: 32; height: auto; padding: 0 1; }
    HealthScreen #health-findings { height: auto; margin-top: 1; padding: 0 1; }
    """

    def __init__(
        self,
        functions: Sequence[str],
        seen: Callable[[], Seen],
        health: Health | None = None,
        *,
        update: Callable[[], object] = lambda: None,
        note: str | None = None,
    ) -> None:
        super().__init__()
        self.functions = list(functions)
        self.seen = seen
        self.health = health
        self.update = update
        self.note = note  # why there is nothing to read (no watched function)
        self.shown_seen: dict[str, dict[str, int]] = {}

    def compose(self) -> ComposeResult:
        yield Static(id="health-head", markup=False)
        with VerticalScroll(id="health-body"):
            for number, function in enumerate(self.functions):
                yield Static(visible(function), classes="fn-title", markup=False)
                # few widgets: scrolling repaints every one on screen (benchmarks/health_latency.py)
                with Horizontal(classes="fn-body"):
                    yield Static(numbers_text(None), id=f"numbers{number}", classes="fn-numbers", markup=False)
                    with Vertical(classes="fn-sparklines"):
                        for metric, _stat in METRICS:
                            yield Sparkline([0.0], id=f"s{number}-{metric}", summary_function=max)
                    yield Static(id=f"seen{number}", classes="fn-seen", markup=False)
            yield Static(id="health-findings", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.show(self.health)
        self.set_interval(1.0, self.show_seen)

    def action_update_now(self) -> None:
        self.update()
        self.notify("Reading the metrics and the doctor's checks…", timeout=2)

    def show(self, health: Health | None) -> None:
        """Show a new reading (the app calls this when the poller posts one)."""
        self.health = health
        if not self.query("#health-head"):
            return  # not composed yet (on_mount shows it) or closing: the widgets are not there
        self.query_one("#health-head", Static).update(self._head())
        by_name = {one.function: one for one in health.functions} if health is not None else {}
        for number, function in enumerate(self.functions):
            one = by_name.get(function)
            self.query_one(f"#numbers{number}", Static).update(numbers_text(one), layout=False)
            for metric, _stat in METRICS:
                series = one.series.get(metric) if one is not None else None
                self.query_one(f"#s{number}-{metric}", Sparkline).data = list(series) if series else [0.0]
        self.query_one("#health-findings", Static).update(findings_text(health))
        self.show_seen()

    def show_seen(self) -> None:
        if not self.query("#health-head"):
            return
        seen = {name: dict(counts) for name, counts in self.seen().items()}
        if seen == self.shown_seen:
            return
        self.shown_seen = seen
        for number, function in enumerate(self.functions):
            self.query_one(f"#seen{number}", Static).update(seen_text(seen.get(function, {})))

    def _head(self) -> Text:
        text = Text()
        text.append("Health", style="bold")
        text.append("  CloudWatch AWS/Lambda, last 60 min, 1-minute periods; read about once a minute", style="dim")
        health = self.health
        if self.note:
            text.append("\n" + self.note, style="yellow")
        elif health is None:
            text.append("\nReading CloudWatch and the doctor's checks…", style="dim")
        else:
            stamp = datetime.fromtimestamp(health.read_at, UTC).strftime("%H:%M:%S")
            text.append(f"\nread at {stamp} UTC", style="dim")
            found = losses(health)
            if found:
                for function, counted in found.items():
                    parts = ", ".join(f"{name} {count}" for name, count in counted.items())
                    text.append(f"\n⚠ {visible(function)}: {parts}", style="bold red")
            else:
                text.append("   no losses counted", style="green")
            if health.metrics_error:
                text.append("\n" + visible(health.metrics_error), style="yellow")
        return text
