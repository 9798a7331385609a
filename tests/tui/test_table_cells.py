"""Table cells are measured as a terminal draws them: text that terminals disagree about (a ZWJ
emoji sequence, zero-width and bidi characters) is shown escaped, so no row shifts (issue 10, item 12)."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from rich.cells import cell_len
from textual.app import App, ComposeResult

from tui.widgets.virtual_table import Column, VirtualTable

CELLS = [
    ("plain", "ord-1", "end"),
    ("zwj", "👩\u200d💻 ord-1", "end"),  # one glyph (2 cells) where joined, two (4 cells) where not
    ("zwsp", "ord-1\u200b", "end"),  # looks exactly like the plain row
    ("bidi", "\u202eord-1\u202c", "end"),  # draws right to left where honoured
    ("family", "👨\u200d👩\u200d👧\u200d👦", "end"),
    ("wide", "注文-1", "end"),
]


def codepoint_cells(text: str) -> int:
    """Cells as a terminal that joins nothing draws them: one per code point, two for wide ones,
    none for combining and format characters."""
    width = 0
    for char in text:
        if unicodedata.category(char) in ("Mn", "Me", "Cf") or char == "\u200d":
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


class Rows:
    def __len__(self) -> int:
        return len(CELLS)

    def cells(self, index: int) -> Sequence[str]:
        return CELLS[index]

    def tone(self, index: int) -> str:
        return ""


class TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield VirtualTable([Column("kind", 8), Column("text", 24), Column("last", 0)])

    def on_mount(self) -> None:
        self.query_one(VirtualTable).set_source(Rows())


async def test_every_row_is_as_wide_on_every_terminal_and_columns_line_up() -> None:
    app = TableApp()
    async with app.run_test(size=(60, 12)) as pilot:
        await pilot.pause()
        table = app.query_one(VirtualTable)
        width = table.scrollable_content_region.width
        lines = [table.render_line(y).text for y in range(1, len(CELLS) + 1)]
    for (kind, _, _), line in zip(CELLS, lines, strict=True):
        assert cell_len(line) == width, (kind, line)
        # a terminal that does not join emoji draws the line just as wide: nothing is left to join
        assert codepoint_cells(line) == width, (kind, line)
        assert cell_len(line[: line.index("end")]) == 8 + 1 + 24 + 1, (kind, line)
    assert "👩\\u200d💻 ord-1" in lines[1]
    assert "ord-1\\u200b" in lines[2]
    assert "\\u202eord-1\\u202c" in lines[3]
    assert not any(unicodedata.category(char) == "Cf" for line in lines for char in line)
