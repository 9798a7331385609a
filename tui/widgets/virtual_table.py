"""A virtual table: only the lines on screen are ever built (Textual's Line API).

A `DataTable` holding 200,000 rows takes ~27 s and 272 MB to fill (measured here), so the flows
list and the records table are this instead: a `ScrollView` whose `render_line` asks a `TableSource`
for the cells of the one row it draws. The source is in display order (row 0 is the newest).

Every cell is passed through `records.lines.visible` and drawn as plain segments, so payload text can
never be read as Rich markup or reach the terminal as an escape sequence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Protocol

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from records.lines import visible

__all__ = ["Column", "EmptySource", "TableSource", "VirtualTable"]


@dataclass(frozen=True, slots=True)
class Column:
    """A column: its title and width (0: takes the rest), the least it may shrink to when the line
    is too narrow (`least` = `width`: kept whole, shrunk last), and whether a long value is
    shortened in the middle (`queue:ord…failures`) rather than at the end."""

    label: str
    width: int  # cells; 0 means "take the rest of the line"
    least: int = 3  # cells it keeps on a narrow line (for a flexible column: its width)
    middle: bool = False


class TableSource(Protocol):
    """Rows in display order. Implementations keep compact rows and build cells on demand."""

    def __len__(self) -> int: ...

    def cells(self, index: int) -> Sequence[str]: ...

    def tone(self, index: int) -> str:
        """ "ok", "fail", "bad", "wait" or "" (colours the row)."""
        ...


class EmptySource:
    """A source with no rows (a table before it is given one)."""

    def __len__(self) -> int:
        return 0

    def cells(self, index: int) -> Sequence[str]:
        return ()

    def tone(self, index: int) -> str:
        return ""


class VirtualTable(ScrollView, can_focus=True):
    """A table over a `TableSource`; a header line and a cursor row; newest rows on top."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor_up", "Up", show=False, tooltip="move the cursor up"),
        Binding("down,j", "cursor_down", "Down", show=False, tooltip="move the cursor down"),
        Binding("pageup", "page_up", "Page up", show=False, tooltip="a page up"),
        Binding("pagedown", "page_down", "Page down", show=False, tooltip="a page down"),
        Binding("home,g", "first", "Newest", show=False, tooltip="newest row (the newest row follows new arrivals)"),
        Binding("end,G", "last", "Oldest", show=False, tooltip="oldest row"),
        Binding("enter", "select", "Open", show=False, tooltip="drill down (or click the selected row)"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "virtual-table--header",
        "virtual-table--cursor",
        "virtual-table--ok",
        "virtual-table--fail",
        "virtual-table--bad",
        "virtual-table--wait",
    }

    DEFAULT_CSS = """
    VirtualTable {
        background: $surface;
        scrollbar-gutter: stable;
        overflow-x: hidden;
    }
    VirtualTable > .virtual-table--header { text-style: bold; color: $text-accent; background: $panel; }
    VirtualTable > .virtual-table--cursor { background: $block-cursor-blurred-background; }
    VirtualTable:focus > .virtual-table--cursor {
        background: $block-cursor-background; color: $block-cursor-foreground; text-style: bold;
    }
    VirtualTable > .virtual-table--ok { color: $text-success; }
    VirtualTable > .virtual-table--fail { color: $text-error; }
    VirtualTable > .virtual-table--bad { color: $text-warning; }
    VirtualTable > .virtual-table--wait { color: $text-muted; }
    """

    cursor: reactive[int] = reactive(0, repaint=False)

    class Highlighted(Message):
        def __init__(self, table: VirtualTable, index: int) -> None:
            super().__init__()
            self.table = table
            self.index = index

        @property
        def control(self) -> VirtualTable:
            return self.table

    class Selected(Highlighted):
        pass

    def __init__(
        self,
        columns: Sequence[Column],
        source: TableSource | None = None,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.columns = tuple(columns)
        self.source: TableSource = source if source is not None else EmptySource()
        self._rows = 0

    # ----- data -------------------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        return self._rows

    def set_source(self, source: TableSource) -> None:
        """Show another source (a new filter): back to the top, following the newest."""
        self.source = source
        self._rows = len(source)
        self.set_reactive(VirtualTable.cursor, 0)
        self._sync_size()
        self.scroll_to(y=0, animate=False, immediate=True)
        self.refresh()
        self._post_highlight()

    def rows_added(self, added_on_top: int) -> None:
        """Rows arrived (newest first). A cursor on the newest row follows; any other cursor stays
        on the row it was on, and the view does not jump."""
        before = self._rows
        self._rows = len(self.source)
        if self._rows == before and added_on_top == 0:
            return
        following = self.cursor == 0 and self.scroll_y == 0
        self._sync_size()
        if not following and added_on_top:
            self.set_reactive(VirtualTable.cursor, min(self.cursor + added_on_top, max(self._rows - 1, 0)))
            self.scroll_to(y=self.scroll_y + added_on_top, animate=False, immediate=True)
        self.refresh()
        if following or before == 0:
            self._post_highlight()

    def _sync_size(self) -> None:
        self.virtual_size = Size(self.size.width, self._rows + 1)

    # ----- rendering --------------------------------------------------------------------------

    def _widths(self, total: int) -> list[int]:
        """Columns by priority: when every column fits at its width, the flexible ones share the
        rest; when not, the others shrink toward their `least` in proportion to what they can
        give (a column whose `least` is its width, like the time, stays whole); only when even
        that does not fit does every column shrink in proportion (never below 3 cells)."""
        columns = self.columns
        least = [max(column.least, 3) if column.width == 0 else min(column.least, column.width) for column in columns]
        wanted = [column.width or least[number] for number, column in enumerate(columns)]
        room = total - len(columns)  # one space after each column
        if sum(wanted) <= room:
            flex = [number for number, column in enumerate(columns) if not column.width]
            if flex:
                spare = room - sum(wanted)
                for position, number in enumerate(flex):
                    wanted[number] += spare // len(flex) + (1 if position < spare % len(flex) else 0)
            return wanted
        if sum(least) <= room:
            give = [wanted[number] - least[number] for number in range(len(columns))]
            excess = sum(wanted) - room
            total_give = sum(give)
            widths = [
                wanted[number] - (give[number] * excess + total_give - 1) // total_give
                for number in range(len(columns))
            ]
            spare = room - sum(widths)
            for number in range(len(columns)):  # rounding: hand cells back, leftmost first
                if spare <= 0:
                    break
                if widths[number] < wanted[number]:
                    widths[number] += 1
                    spare -= 1
            return widths
        scale = max(room, 0) / max(sum(least), 1)
        return [max(int(width * scale), 3) for width in least]

    def _line(self, cells: Sequence[str], style: Style, width: int) -> Strip:
        segments: list[Segment] = []
        for text, size, column in zip(cells, self._widths(width), self.columns, strict=False):
            shown = visible(text)
            if cell_len(shown) > size:
                if column.middle and size >= 5:
                    head = (size - 1) // 2
                    tail = size - 1 - head
                    shown = set_cell_size(shown, head) + "…" + _tail(shown, tail)
                    shown = set_cell_size(shown, size)
                else:
                    shown = set_cell_size(shown, max(size - 1, 0)) + "…"
            else:
                shown = set_cell_size(shown, size)
            segments.append(Segment(shown + " ", style))
        return Strip(segments).crop_extend(0, width, style)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        if y == 0:
            header = base + self.get_component_rich_style("virtual-table--header")
            return self._line([column.label for column in self.columns], header, width)
        index = int(self.scroll_y) + y - 1
        if index >= self._rows or index < 0:
            return Strip.blank(width, base)
        style = base
        tone = self.source.tone(index)
        if tone:
            style = style + self.get_component_rich_style(f"virtual-table--{tone}")
        if index == self.cursor:
            style = style + self.get_component_rich_style("virtual-table--cursor")
        return self._line(self.source.cells(index), style, width)

    def on_resize(self, event: events.Resize) -> None:
        self._sync_size()

    # ----- cursor -----------------------------------------------------------------------------

    def watch_cursor(self, old: int, new: int) -> None:
        self.refresh()
        self._scroll_cursor_into_view()
        self._post_highlight()

    def _post_highlight(self) -> None:
        if self._rows:
            self.post_message(self.Highlighted(self, self.cursor))

    def _page(self) -> int:
        return max(self.scrollable_content_region.height - 1, 1)

    def _scroll_cursor_into_view(self) -> None:
        top = int(self.scroll_y)
        page = self._page()
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + page:
            self.scroll_to(y=self.cursor - page + 1, animate=False, immediate=True)

    def move_cursor(self, index: int) -> None:
        if self._rows:
            self.cursor = max(0, min(index, self._rows - 1))

    def action_cursor_up(self) -> None:
        self.move_cursor(self.cursor - 1)

    def action_cursor_down(self) -> None:
        self.move_cursor(self.cursor + 1)

    def action_page_up(self) -> None:
        self.move_cursor(self.cursor - self._page())

    def action_page_down(self) -> None:
        self.move_cursor(self.cursor + self._page())

    def action_first(self) -> None:
        self.move_cursor(0)

    def action_last(self) -> None:
        self.move_cursor(self._rows - 1)

    def action_select(self) -> None:
        if self._rows:
            self.post_message(self.Selected(self, self.cursor))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)  # None on the border or a scrollbar
        if offset is None or offset.y < 1:
            return
        index = int(self.scroll_y) + offset.y - 1
        if 0 <= index < self._rows:
            already = index == self.cursor
            self.move_cursor(index)
            if already or event.chain >= 2:
                self.post_message(self.Selected(self, index))


def _tail(text: str, cells: int) -> str:
    """The last `cells` cells of a text."""
    taken = ""
    for character in reversed(text):
        if cell_len(character + taken) > cells:
            break
        taken = character + taken
    return taken
