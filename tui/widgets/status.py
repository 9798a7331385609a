"""The status bar: each source with its mode and state, totals, success rate, a records/s sparkline."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Sparkline, Static

from records.lines import visible
from records.sources.base import SourceStatus

__all__ = ["LABEL_CELLS", "STATE_STYLES", "StatusBar", "short_label", "sources_text", "totals_text"]

STATE_STYLES = {
    "live": "green",
    "done": "green",
    "connecting": "yellow",
    "reconnecting": "yellow",
    "failed": "bold red",
}


LABEL_CELLS = 28
"""The most cells a source's name takes in the status bar (shortened in the middle)."""


def short_label(label: str, cells: int = LABEL_CELLS) -> str:
    """A source's name in at most `cells` characters: its kind and the end of its name stay."""
    shown = visible(label)
    if len(shown) <= cells:
        return shown
    head = (cells - 1) // 2
    return shown[:head] + "…" + shown[len(shown) - (cells - 1 - head) :]


def sources_text(statuses: Mapping[str, SourceStatus]) -> Text:
    """One short state per source (the reasons, in full, are in the sources panel: `S`)."""
    text = Text()
    if not statuses:
        text.append("no sources", style="dim")
    for number, status in enumerate(statuses.values()):
        if number:
            text.append("  ")
        text.append(short_label(status.source), style="bold")
        text.append(" ")
        text.append(status.state, style=STATE_STYLES.get(status.state, ""))
        if status.reason and status.state != "live":
            text.append("!", style="bold yellow")
    if any(status.reason for status in statuses.values()):
        text.append("   S: sources", style="dim")
    return text


def totals_text(total: int, succeeded: int, failed: int, undecodable: int, nested: int = 0) -> Text:
    """Records, succeeded, failed (invocations: failed records and failures seen only nested in a
    downstream record, `nested` of them), undecodable and the success rate of the records."""
    decided = succeeded + failed - nested
    rate = f"{100 * succeeded / decided:.1f}%" if decided else "-"
    return Text.assemble(
        ("records ", "dim"),
        (str(total), "bold"),
        ("  ok ", "dim"),
        (str(succeeded), "bold green"),
        ("  failed ", "dim"),
        (str(failed), "bold red"),
        (f" ({nested} nested)" if nested else "", "dim"),
        ("  undecodable ", "dim"),
        (str(undecodable), "bold yellow"),
        ("  success ", "dim"),
        (rate, "bold"),
    )


class StatusBar(Vertical):
    """Two lines: the sources; then totals, success rate and the records/s sparkline."""

    DEFAULT_CSS = """
    StatusBar { height: 2; background: $panel; padding: 0 1; }
    StatusBar #status-sources { width: 1fr; height: 1; }
    StatusBar Horizontal { height: 1; }
    StatusBar #status-totals { width: auto; height: 1; }
    StatusBar #status-rate-label { width: auto; height: 1; margin-left: 2; color: $text-muted; }
    StatusBar Sparkline { width: 1fr; max-width: 40; height: 1; margin-left: 1; }
    StatusBar #status-badge { width: auto; height: 1; margin-left: 2; display: none; }
    StatusBar #status-badge.shown { display: block; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._texts: dict[str, Text] = {}  # what each Static shows

    def compose(self) -> ComposeResult:
        yield Static(id="status-sources", markup=False)
        with Horizontal():
            yield Static(id="status-totals", markup=False)
            yield Static("rec/s", id="status-rate-label", markup=False)
            yield Sparkline([0.0], id="status-rate", summary_function=max)
            yield Static(id="status-badge", markup=False)

    def show(
        self,
        statuses: Mapping[str, SourceStatus],
        totals: tuple[int, int, int, int, int],
        rates: Sequence[float],
    ) -> None:
        self._set("#status-sources", sources_text(statuses), sized=False)
        self._set("#status-totals", totals_text(*totals))
        self._set("#status-rate-label", f"rec/s {rates[-1]:.0f}" if rates else "rec/s")
        self.query_one(Sparkline).data = list(rates) or [0.0]

    def show_badge(self, badge: Text | None) -> None:
        """The health badge (losses counted by CloudWatch), or none."""
        widget = self.query_one("#status-badge", Static)
        widget.update(badge or "")
        widget.set_class(badge is not None, "shown")

    def _set(self, selector: str, text: Text | str, *, sized: bool = True) -> None:
        """Show `text` in a Static; a layout pass (the whole screen's: costly while records pour in)
        only when a `sized` (width: auto) one changes width."""
        text = text if isinstance(text, Text) else Text(text)
        shown = self._texts.get(selector)
        if shown is not None and text.plain == shown.plain and text.spans == shown.spans:
            return
        self._texts[selector] = text
        layout = sized and (shown is None or text.cell_len != shown.cell_len)
        self.query_one(selector, Static).update(text, layout=layout)
