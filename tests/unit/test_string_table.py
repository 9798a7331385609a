"""StringTable: numbers in first-seen order, every string found again, through index growth."""

from __future__ import annotations

import uuid

from hypothesis import given, settings
from hypothesis import strategies as st

from records.store.rows import NONE
from records.store.strings import StringTable

texts = st.one_of(
    st.text(max_size=40),
    st.uuids().map(str),
    st.uuids().map(lambda value: str(value).upper()),  # not canonical: stored as text
    st.sampled_from(["", "a", "ord-1", "\ud800", "\x00"]),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(texts, max_size=300), st.booleans())
def test_numbers_are_first_seen_order_and_strings_come_back(values: list[str], pack: bool) -> None:
    table = StringTable(pack_uuids=pack)
    expected: dict[str, int] = {}
    for value in values:
        number = table.id(value)
        assert number == expected.setdefault(value, len(expected))
    assert len(table) == len(expected)
    for value, number in expected.items():
        assert table.find(value) == number
        assert table.get(number) == value
        assert table.id(value) == number


def test_many_strings_through_every_growth_step() -> None:
    table = StringTable(pack_uuids=True)
    values = [str(uuid.UUID(int=n * 7919 + 1)) for n in range(50_000)] + [f"ord-{n}" for n in range(20_000)]
    numbers = [table.id(value) for value in values]
    assert numbers == list(range(len(values)))
    # looked up while a growth is half done, and after
    for index in range(0, len(values), 97):
        assert table.find(values[index]) == index
        assert table.id(values[index]) == index
        assert table.get(index) == values[index]
    assert table.find("missing") == NONE and table.id(None) == NONE
    # a canonical UUID costs 17 bytes, other text its UTF-8 length
    assert table.nbytes() < 50_000 * 17 + 20_000 * 9 + 24 * len(values)
