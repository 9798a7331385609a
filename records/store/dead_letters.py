"""Dead-letter messages in the record store (docs/flows.md, "Dead-letter messages").

A dead-letter message names no function: its function is the one discovery says the queue is the
dead-letter queue of (`learn`), else the one its request's flow already knows, else it is learnt
when a record of that request arrives (its own, or a copy nested in a downstream record: `adopt`).
Until then the row and its stage say "dead-letter message from QUEUE". Its request's stage is
marked DEAD_LETTERED ("dead-lettered" on the flow).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from records.facts import StageFacts
from records.store.graph import DEAD_LETTERED, KNOWN, FlowGraph
from records.store.rows import NONE

__all__ = ["DeadLetters", "queue_name"]


def queue_name(text: str) -> str:
    """The name in a queue or topic name, URL, ARN or source label (`queue:NAME`)."""
    return text.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]


class DeadLetters:
    """The store's dead-letter bookkeeping: `function_of` finds a function's number by name (adding
    it), `count_record(function)` counts a row of it in the store's stats."""

    def __init__(
        self, graph: FlowGraph, function_of: Callable[[str], int], count_record: Callable[[int], None]
    ) -> None:
        self.graph = graph
        self._function_of = function_of
        self._count_record = count_record
        self._functions: dict[str, str] = {}  # queue or topic name -> its function
        self.orphans: dict[int, int] = {}  # request number -> row of a message whose function is not known

    def learn(self, queue: str, function: str) -> None:
        self._functions[queue_name(queue)] = function

    def function(self, queue: str, request: int) -> int:
        """The function number of a dead-letter message from `queue` of `request` (NONE: not known)."""
        function = self._functions.get(queue_name(queue))
        if function is not None:
            return self._function_of(function)
        if self.graph.flags[request] & KNOWN:
            return self.graph.facts(request)[0]
        return NONE

    def link(self, index: int, request: int, function: int, queue: str, received: float) -> None:
        """Link a dead-letter message's row (already in the columns) into its request's flow."""
        graph = self.graph
        if function != NONE:
            self._count_record(function)
        graph.dead_letter_queues[index] = queue
        graph.link(request, index, NONE, (), [], received)
        graph.flags[request] |= DEAD_LETTERED
        if function == NONE:
            self.orphans[request] = index

    def adopt(self, request: int, row: int, nested: Sequence[StageFacts], numbers: list[int]) -> None:
        """Messages of these requests whose function was not known get it now: from the record of
        the request (`row`), or from its copy nested in that record."""
        columns = self.graph.columns
        found = [(request, columns.function[row])]
        found.extend((number, self._function_of(stage[1])) for number, stage in zip(numbers, nested, strict=False))
        for number, function in found:
            dead = self.orphans.pop(number, None)
            if dead is None:
                continue
            columns.function[dead] = function
            self._count_record(function)
            self.graph.count_invocation(function, False)  # its dead-letter stage was not counted
