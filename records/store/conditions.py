"""What a session has seen per function: its records by condition (Success, RetriesExhausted,
EventAgeExceeded, ...), counted incrementally so that a look costs only the rows added since the last."""

from __future__ import annotations

from collections import Counter

from records.store.record_store import RecordStore
from records.store.rows import NONE

__all__ = ["ConditionCounts"]


class ConditionCounts:
    """`counts()` -> {function: {condition: records}}, catching up on the rows stored since the last call.
    Undecodable rows and records without a function are not counted (they belong to no function)."""

    def __init__(self, store: RecordStore) -> None:
        self.store = store
        self._done = 0
        self._counts: Counter[tuple[int, int]] = Counter()

    def counts(self) -> dict[str, dict[str, int]]:
        columns = self.store.columns
        functions, conditions = columns.function, columns.condition
        end = len(columns)
        counts = self._counts
        for index in range(self._done, end):
            function = functions[index]
            if function != NONE:
                counts[(function, conditions[index])] += 1
        self._done = end
        names = self.store.names
        found: dict[str, dict[str, int]] = {}
        for (function, condition), count in sorted(counts.items()):
            name = names.functions.get(function)
            if name is None:
                continue
            label = names.conditions.get(condition) if condition != NONE else None
            found.setdefault(name, {})[label or "(no condition)"] = count
        return found
