"""The screens of plain `lambdest-tui`: pick functions (or a saved setup) to watch, or learn what is
missing to reach AWS. They do no I/O: the app's workers post the messages below and the screens
show what they carry; a choice ends the app with a `StartChoice`.

StartScreen     the account id and region, the listing's progress, a filter line and a table of
                saved setups (first) and of the functions that have destinations. Typing filters;
                space selects; Enter watches the selection (or the row under the cursor).
ProblemScreen   what is missing (no credentials, an expired SSO token, no region, an unknown
                profile...), the command that fixes it, `d` for the demo and `q` to quit.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import ClassVar, Literal

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Static

from records.identity import Identity
from records.lines import visible
from records.listing import FunctionDestinations, Listing, short
from records.setups import Setup

COLUMNS = ("", "Function", "Qualifiers", "On success", "On failure", "DLQ", "Stream failures")


@dataclass(frozen=True, slots=True)
class StartChoice:
    """What the person chose: watch functions, watch a saved setup, or start the demo."""

    action: Literal["watch", "setup", "demo"]
    functions: tuple[str, ...] = ()
    setup: str | None = None


class Identified(Message):
    def __init__(self, identity: Identity) -> None:
        super().__init__()
        self.identity = identity


class FunctionsListed(Message):
    def __init__(self, listing: Listing) -> None:
        super().__init__()
        self.listing = listing


class AccessFailed(Message):
    """AWS cannot be used: `missing` names what is missing, `fix` the command that fixes it."""

    def __init__(self, missing: str, fix: str) -> None:
        super().__init__()
        self.missing = missing
        self.fix = fix


class FilterInput(Input):
    """The filter line: names never hold spaces, so space selects a row instead of typing."""

    def check_consume_key(self, key: str, character: str | None) -> bool:
        return character != " " and super().check_consume_key(key, character)


@dataclass(frozen=True, slots=True)
class _Row:
    key: str  # "@name" for a setup, the function name otherwise
    cells: tuple[str, ...]


def _cell(values: Iterable[str]) -> str:
    return ", ".join(short(value) for value in values)


def function_row(item: FunctionDestinations) -> _Row:
    problem = f"⚠ {item.problems[0]}" if item.problems and not item.has_destinations else ""
    cells = (
        item.name,
        ", ".join(item.qualifiers),
        _cell(item.on_success) or problem,
        _cell(item.on_failure),
        _cell(item.dead_letter),
        _cell(item.stream_failure),
    )
    return _Row(item.name, cells)


def setup_row(name: str, setup: Setup) -> _Row:
    what = [*setup.functions, *(f"queue:{q}" for q in setup.queues), *(f"topic:{t}" for t in setup.topics)]
    what += [f"bus:{b}" for b in setup.buses]
    where = " ".join(
        part
        for part in (
            f"profile {setup.profile}" if setup.profile else "",
            f"region {setup.region}" if setup.region else "",
            "read-only" if setup.read_only else "",
        )
        if part
    )
    return _Row(f"@{name}", (f"@{name}", where, ", ".join(what), "", "", ""))


class StartScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit_start", "Quit"),
        Binding("space", "toggle_row", "Select", priority=True),
        Binding("enter", "watch", "Watch", priority=True),
        Binding("slash", "focus_filter", "Filter"),
        Binding("escape", "clear_filter", "Clear filter", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("up", "cursor(-1)", "Up", show=False),
    ]
    DEFAULT_CSS = """
    StartScreen #account { height: 1; padding: 0 1; background: $boost; }
    StartScreen #progress { height: 1; padding: 0 1; color: $text-muted; }
    StartScreen #filter { height: 3; margin: 0 1; }
    StartScreen DataTable { height: 1fr; }
    StartScreen #notice { height: auto; padding: 0 1; color: $text-warning; }
    """

    def __init__(self, region: str | None, profile: str | None, setups: Mapping[str, Setup], notice: str = "") -> None:
        super().__init__()
        self.aws_region = region
        self.profile = profile
        self.identity: Identity | None = None
        self.rows: dict[str, _Row] = {setup_row(n, s).key: setup_row(n, s) for n, s in setups.items()}
        self.selected: set[str] = set()
        self.read = 0
        self.functions = 0
        self.done = False
        self.notice = notice
        self.ready = False  # mounted with its widgets: what arrives before waits for on_mount

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self._account_text(), id="account", markup=False)
            yield Static(self._progress_text(), id="progress", markup=False)
            if self.notice:
                yield Static(Text(visible(self.notice)), id="notice")
            yield FilterInput(
                placeholder="type to filter (names or globs such as order*)", id="filter", select_on_focus=False
            )
            table: DataTable[str] = DataTable(cursor_type="row", zebra_stripes=True, id="functions")
            yield table
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns(*COLUMNS)
        self._rebuild()
        self._show_texts()
        table.focus()
        self.ready = True

    # ----- what the workers found ---------------------------------------------------------------

    def show_identity(self, identity: Identity) -> None:
        self.identity = identity
        if self.ready:  # else on_mount shows it
            self._show_texts()

    def add_functions(self, listing: Listing) -> None:
        for item in listing.functions:
            row = function_row(item)
            self.rows[row.key] = row
            self.functions += 1
        self.read = max(self.read, listing.read)
        self.done = self.done or listing.done
        if not self.ready:
            return  # on_mount shows what arrived before it
        self._show_texts()
        if listing.functions:
            self._rebuild()

    def _show_texts(self) -> None:
        # `query`, not `query_one`: while the app closes, the widgets may already be gone
        for account in self.query("#account").results(Static):
            account.update(self._account_text())
        for progress in self.query("#progress").results(Static):
            progress.update(self._progress_text())

    def _account_text(self) -> Text:
        text = Text()
        identity = self.identity
        text.append("account ")
        text.append(visible(identity.account) if identity else "(looking up…)", style="bold")
        text.append("   region ")
        region = (identity.region if identity else None) or self.aws_region
        text.append(visible(region or "(none)"), style="bold")
        if self.profile:
            text.append("   profile ")
            text.append(visible(self.profile), style="bold")
        if identity is not None:
            text.append(f"   {visible(identity.arn)}", style="dim")
        return text

    def _progress_text(self) -> Text:
        noun = "function" if self.read == 1 else "functions"
        if self.done:
            return Text(f"Read {self.read} {noun}: {self.functions} with destinations.")
        return Text(f"Reading the region's functions… {self.read} read, {self.functions} with destinations so far.")

    # ----- the table ----------------------------------------------------------------------------

    def _matches(self, key: str) -> bool:
        pattern = self.query_one("#filter", Input).value.strip().lower()
        if not pattern:
            return True
        name = key.lower()
        if any(char in pattern for char in "*?["):
            return fnmatch.fnmatchcase(name, pattern) or fnmatch.fnmatchcase(name.lstrip("@"), pattern)
        return pattern in name

    def _ordered(self) -> list[_Row]:
        setups = [row for key, row in self.rows.items() if key.startswith("@")]
        functions = sorted((row for key, row in self.rows.items() if not key.startswith("@")), key=lambda r: r.key)
        return [row for row in (*setups, *functions) if self._matches(row.key)]

    def _rebuild(self) -> None:
        tables = list(self.query(DataTable).results())
        if not tables or not self.query("#filter"):
            return  # the app is closing
        table = tables[0]
        current = self.current_key()
        table.clear()
        for row in self._ordered():
            mark = "✓" if row.key in self.selected else ""
            table.add_row(mark, *(Text(visible(cell)) for cell in row.cells), key=row.key)
        if current is not None and current in table.rows:
            table.move_cursor(row=table.get_row_index(current))

    def current_key(self) -> str | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return str(key) if key is not None else None

    def visible_keys(self) -> list[str]:
        return [str(key.value) for key in self.query_one(DataTable).rows]

    # ----- keys ---------------------------------------------------------------------------------

    def action_quit_start(self) -> None:
        self.app.exit(None)

    def action_cursor(self, step: int) -> None:
        table = self.query_one(DataTable)
        if step > 0:
            table.action_cursor_down()
        else:
            table.action_cursor_up()

    def action_toggle_row(self) -> None:
        key = self.current_key()
        if key is None or key.startswith("@"):
            return  # a setup is watched on its own (Enter)
        if key in self.selected:
            self.selected.discard(key)
        else:
            self.selected.add(key)
        table = self.query_one(DataTable)
        table.update_cell(key, table.ordered_columns[0].key, "✓" if key in self.selected else "")
        table.action_cursor_down()

    def action_watch(self) -> None:
        key = self.current_key()
        if self.selected:
            chosen = [key for key in self.visible_keys() if key in self.selected]
            chosen += sorted(self.selected - set(chosen))
            self.app.exit(StartChoice("watch", tuple(chosen)))
        elif key is not None and key.startswith("@"):
            self.app.exit(StartChoice("setup", setup=key[1:]))
        elif key is not None:
            self.app.exit(StartChoice("watch", (key,)))
        else:
            self.notify("Nothing to watch yet: no function matches.", severity="warning")

    def action_focus_filter(self) -> None:
        self.query_one("#filter", Input).focus()

    def action_clear_filter(self) -> None:
        self.query_one("#filter", Input).value = ""
        self.query_one(DataTable).focus()

    @on(Input.Changed, "#filter")
    def filter_changed(self) -> None:
        self._rebuild()

    def on_key(self, event: events.Key) -> None:
        """Type-to-filter: a printable key the table does not use goes to the filter line."""
        table = self.query_one(DataTable)
        if self.focused is table and event.is_printable and event.character and event.character not in " q/":
            event.stop()
            line = self.query_one("#filter", Input)
            line.focus()
            line.insert_text_at_cursor(event.character)


class ProblemScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("d", "demo", "Start the demo"),
        Binding("q", "quit_start", "Quit"),
    ]
    DEFAULT_CSS = """
    ProblemScreen { align: center middle; }
    ProblemScreen > Vertical { width: 100; max-width: 95%; height: auto; border: thick $warning; padding: 1 2; }
    ProblemScreen .missing { text-style: bold; }
    ProblemScreen .fix { margin: 1 0; color: $text-success; }
    """

    def __init__(self, missing: str, fix: str) -> None:
        super().__init__()
        self.missing = missing
        self.fix = fix

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(visible(self.missing)), classes="missing")
            yield Static(Text.assemble(("To fix it, run:  ", ""), (visible(self.fix), "bold")), classes="fix")
            yield Static(
                Text("Press d to start the demo instead (a local sandbox, no AWS account needed), or q to quit.")
            )
        yield Footer()

    def action_demo(self) -> None:
        self.app.exit(StartChoice("demo"))

    def action_quit_start(self) -> None:
        self.app.exit(None)
