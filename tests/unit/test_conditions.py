"""`ConditionCounts`: a session's records by function and condition, caught up incrementally."""

from __future__ import annotations

import json

from records.store.conditions import ConditionCounts
from records.store.record_store import RecordStore
from tests.factories import T0, mixed_records, seed_message


def test_counts_follow_the_store_incrementally() -> None:
    store = RecordStore()
    counts = ConditionCounts(store)
    assert counts.counts() == {}
    documents = mixed_records(5, T0)  # good, good, out-of-stock, good, declined
    for number, document in enumerate(documents[:3]):
        store.ingest(seed_message(json.dumps(document), number=number))
    first = counts.counts()
    for number, document in enumerate(documents[3:], start=3):
        store.ingest(seed_message(json.dumps(document), number=number))
    store.ingest(seed_message("not json", number=99))  # undecodable: belongs to no function
    second = counts.counts()
    expected: dict[str, dict[str, int]] = {}
    for index in range(len(store)):
        row = store.row(index)
        if row.function_name:
            by = expected.setdefault(row.function_name, {})
            by[row.condition or "(no condition)"] = by.get(row.condition or "(no condition)", 0) + 1
    assert second == expected
    assert sum(sum(c.values()) for c in second.values()) == len(documents)
    assert sum(sum(c.values()) for c in first.values()) == 3
    assert second != first
    assert counts.counts() == second  # nothing new: the same answer
