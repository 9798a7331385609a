"""The flow graph: invocations (by request id) linked into flows, in columns, and the interned names they share."""

from __future__ import annotations

import math
from array import array
from collections.abc import Sequence

from records.facts import StageFacts
from records.store.columns import Columns
from records.store.rows import DEAD_LETTER, NONE, SUCCEEDED, Flow, Stage, StageState, flow_status
from records.store.strings import Interner, StringTable

__all__ = ["DEAD_LETTERED", "KNOWN", "NESTED", "OWN", "PENDING", "PLACEHOLDER", "REQ_SUCCEEDED", "FlowGraph", "Names"]

# flag bits of a request (an invocation, a flow stage)
KNOWN = 1  # its outcome is known (its own record or a nested copy was seen)
REQ_SUCCEEDED = 2
OWN = 4  # its own record is a row
NESTED = 8  # seen nested in a downstream record
PENDING = 16  # expected (a test order was sent), nothing seen yet
PLACEHOLDER = 32  # expected without a known request id
DEAD_LETTERED = 64  # a dead-letter message of it was seen (its event reached the dead-letter queue)

_NAN = math.nan


_INT32_MAX = 2**31 - 1


def _int32(value: int | None) -> int:
    return NONE if value is None else max(-1, min(value, _INT32_MAX))


class Names:
    """The interned strings shared by the rows and the flow graph."""

    def __init__(self) -> None:
        self.sources = Interner()
        self.functions = Interner()
        self.conditions = Interner()
        self.error_types = Interner()
        self.error_messages = StringTable()
        self.correlations = StringTable()
        self.requests = StringTable(pack_uuids=True)

    def all(self) -> tuple[Interner | StringTable, ...]:
        return (
            self.sources,
            self.functions,
            self.conditions,
            self.error_types,
            self.error_messages,
            self.correlations,
            self.requests,
        )


class FlowGraph:
    """Invocations (by request id) linked into flows, in columns.

    A flow is a linked list of requests; flows are joined by correlation id or by a request id
    that two records share (one record nesting the other). Merged-away flow ids forward to the
    flow they joined.
    """

    def __init__(self, names: Names, columns: Columns) -> None:
        self.names = names
        self.columns = columns
        self._request_number = names.requests.id
        # per request (allocated in chunks; `len(names.requests)` are in use)
        self.flags = array("B")
        self.parent = array("i")
        self.info = array("i")  # OWN: its (first) row; otherwise its entry in the facts table, or -1
        self.more_rows: dict[int, list[int]] = {}  # further rows of a request (other conditions/counts)
        self.flow = array("i")
        self.next = array("i")  # next request of the same flow
        # facts of requests seen only nested (or expected): the row columns hold those of the others
        self.fact_function = array("i")
        self.fact_condition = array("i")
        self.fact_attempts = array("i")
        self.fact_timestamp = array("d")
        self.fact_error_type = array("i")
        # per flow
        self.flow_correlation = array("i")
        # seconds after `base` (float32: ample for ages, half the memory)
        self.base = math.nan
        self.first_seen = array("f")
        self.last_seen = array("f")
        self.head = array("i")  # first request of the flow (a linked list through `next`)
        self.alias: dict[int, int] = {}  # merged-away flow -> the flow it joined
        self.order = array("i")  # live flow ids in creation order
        self.correlation_flow = array("i")  # per correlation id
        self.changed: set[int] = set()
        # per function: invocations whose outcome is known (own record or nested), and successes
        self.invocations = array("q")
        self.invocations_succeeded = array("q")
        # failures known only nested in a downstream record: request -> the row that carries it
        # (dropped when the failure's own record arrives); `carriers`: row -> how many it carries
        self.nested_failures: dict[int, int] = {}
        self.invoke_failures: dict[int, str] = {}  # expected request -> why its invoke failed
        self.carriers: dict[int, int] = {}
        # dead-letter messages: row -> the queue or topic it came from (its name, or the source's label)
        self.dead_letter_queues: dict[int, str] = {}

    def request(self, request_id: str) -> int:
        number = self._request_number(request_id)
        if number >= len(self.flags):
            self.make_room(number)
        return number

    def make_room(self, request: int) -> None:
        """Grow the per-request columns to hold `request` (numbers come from `names.requests`)."""
        while request >= len(self.flags):
            grow = max(1024, len(self.flags) // 8)
            self.flags.frombytes(bytes(grow))
            nones = array("i", [NONE]) * grow
            for column in (self.parent, self.info, self.flow, self.next):
                column.extend(nones)

    def _set_facts(
        self, request: int, function: int, condition: int, attempts: int, timestamp: float, error_type: int
    ) -> None:
        entry = self.info[request]
        if entry == NONE:
            self.info[request] = len(self.fact_function)
            self.fact_function.append(function)
            self.fact_condition.append(condition)
            self.fact_attempts.append(attempts)
            self.fact_timestamp.append(timestamp)
            self.fact_error_type.append(error_type)
        else:
            self.fact_function[entry] = function
            self.fact_condition[entry] = condition
            self.fact_attempts[entry] = attempts
            self.fact_timestamp[entry] = timestamp
            self.fact_error_type[entry] = error_type

    def facts(self, request: int) -> tuple[int, int, int, float, int]:
        """(function, condition, attempts, timestamp, error type) of a request, from its own row or
        from what a downstream record said of it."""
        info = self.info[request]
        if self.flags[request] & OWN:
            c = self.columns
            return c.function[info], c.condition[info], c.attempts[info], c.timestamp[info], c.error_type[info]
        if info != NONE:
            return (
                self.fact_function[info],
                self.fact_condition[info],
                self.fact_attempts[info],
                self.fact_timestamp[info],
                self.fact_error_type[info],
            )
        return NONE, NONE, NONE, _NAN, NONE

    def link(
        self, request: int, row: int, parent: int, nested: Sequence[StageFacts], numbers: list[int], received: float
    ) -> int:
        """Record a row's own invocation and the upstream ones nested in it (`numbers` are their
        request numbers, nearest first); returns the flow they are in."""
        c = self.columns
        flags = self.flags
        if not flags[request] & OWN:  # the first row of a request is its stage
            if self.nested_failures:
                self._forget_nested_failure(request)
            self.info[request] = row
            self.parent[request] = parent
            own = KNOWN | OWN | (REQ_SUCCEEDED if c.flags[row] & SUCCEEDED else 0)
            if not flags[request] & KNOWN:
                self._count(c.function[row], own & REQ_SUCCEEDED)
            flags[request] = (flags[request] & (NESTED | PLACEHOLDER | DEAD_LETTERED)) | own
        elif flags[request] & DEAD_LETTERED:
            self._prefer_record(request, row, parent)
        last = len(numbers) - 1
        names = self.names
        for position, stage in enumerate(nested):
            number = numbers[position]
            if flags[number] & OWN:  # its own record is authoritative
                flags[number] |= NESTED
                continue
            _, function_name, condition, attempts, succeeded, timestamp, error_type = stage
            function = names.functions.id(function_name)
            if not flags[number] & KNOWN:
                self._count(function, succeeded)
            if attempts is None or not -1 <= attempts <= _INT32_MAX:
                attempts = _int32(attempts)
            self._set_facts(
                number,
                function,
                names.conditions.id(condition),
                attempts,
                timestamp,
                names.error_types.id(error_type) if error_type else NONE,
            )
            self.parent[number] = numbers[position + 1] if position < last else NONE
            known = KNOWN | NESTED | (REQ_SUCCEEDED if succeeded else 0)
            flags[number] = (flags[number] & PLACEHOLDER) | known
            if not succeeded and number not in self.nested_failures:
                self.nested_failures[number] = row
                self.carriers[row] = self.carriers.get(row, 0) + 1
        if numbers:
            return self.join([request, *numbers], c.correlation[row], received)
        return self.join([request] if parent == NONE else [request, parent], c.correlation[row], received)

    def _prefer_record(self, request: int, row: int, parent: int) -> None:
        """A request's stage is its record rather than its dead-letter message: the record says
        more (its function, condition, invoke count and error)."""
        c = self.columns
        first = self.info[request]
        if not c.flags[first] & DEAD_LETTER or c.flags[row] & DEAD_LETTER:
            return
        more = self.more_rows.get(request, [])
        self.more_rows[request] = [first if other == row else other for other in more]
        self.info[request] = row
        self.parent[request] = parent
        succeeded = REQ_SUCCEEDED if c.flags[row] & SUCCEEDED else 0
        self.flags[request] = (self.flags[request] & ~REQ_SUCCEEDED) | succeeded

    def _forget_nested_failure(self, request: int) -> None:
        """Its own record arrived: the failure is counted and listed by that row from now on."""
        carrier = self.nested_failures.pop(request, None)
        if carrier is not None:
            left = self.carriers[carrier] - 1
            if left:
                self.carriers[carrier] = left
            else:
                del self.carriers[carrier]

    def carried_failures(self, row: int) -> list[Stage]:
        """The failed upstream invocations known only from this row's record (seen nested),
        nearest first: up the chain of requests its record handled."""
        if row not in self.carriers:
            return []
        found: list[Stage] = []
        request = self.parent[self.columns.request[row]]
        for _ in range(len(self.nested_failures) + 1):
            if request == NONE:
                break
            if self.nested_failures.get(request) == row:
                found.append(self.stage(request))
            request = self.parent[request]
        return found

    def count_invocation(self, function: int, succeeded: bool | int) -> None:
        """Count an invocation of `function` whose outcome became known outside `link`."""
        self._count(function, succeeded)

    def _count(self, function: int, succeeded: bool | int) -> None:
        if function < 0:  # a dead-letter message whose function is not known (yet)
            return
        invocations = self.invocations
        if function >= len(invocations):
            grow = function + 1 - len(invocations)
            invocations.extend([0] * grow)
            self.invocations_succeeded.extend([0] * grow)
        invocations[function] += 1
        if succeeded:
            self.invocations_succeeded[function] += 1

    def expect(self, correlation: int, function: int, request_id: str | None, now: float) -> int:
        key = request_id if request_id is not None else f"\x00expected:{len(self.names.requests)}"
        request = self.request(key)
        if not self.flags[request] & (KNOWN | OWN):
            self._set_facts(request, function, NONE, NONE, _NAN, NONE)
            self.flags[request] |= PENDING | (PLACEHOLDER if request_id is None else 0)
        return self.join([request], correlation, now)

    def invoke_failed(self, correlation: int, function: int, reason: str) -> int | None:
        """The invoke of a test order expected in the flow of `correlation` was refused: its pending
        stage of `function` says so. Returns the flow (None when there is no such flow)."""
        if correlation == NONE or correlation >= len(self.correlation_flow):
            return None
        flow = self.resolve(self.correlation_flow[correlation])
        if flow is None:
            return None
        request = self.head[flow]
        while request != NONE:
            if self.flags[request] & PENDING and not self.flags[request] & KNOWN and self.facts(request)[0] == function:
                self.invoke_failures[request] = reason
            request = self.next[request]
        self.changed.add(flow)
        return flow

    def join(self, requests: list[int], correlation: int, seen: float) -> int:
        """Find (creating or merging) the flow these requests and this correlation id belong to."""
        flow_of = self.flow
        known = self.correlation_flow
        if correlation == NONE or correlation >= len(known) or known[correlation] == NONE:
            for request in requests:
                if flow_of[request] != NONE:
                    break
            else:  # nothing here belongs to a flow yet: a new one (the common case)
                target = self._new_flow(seen)
                for request in requests:
                    if flow_of[request] == NONE:  # a request may be named twice
                        self._append(target, request)
                if correlation != NONE:
                    while len(self.correlation_flow) <= correlation:
                        self.correlation_flow.append(NONE)
                    self.correlation_flow[correlation] = target
                    self.flow_correlation[target] = correlation
                self.changed.add(target)
                return target
        target = NONE
        if correlation != NONE and correlation < len(self.correlation_flow):
            target = self.correlation_flow[correlation]
        others: list[int] = []
        for request in requests:
            flow = self.flow[request]
            if flow not in (NONE, target):
                if target == NONE:
                    target = flow
                else:
                    others.append(flow)
        if target == NONE:
            target = self._new_flow(seen)
        elif others:
            for other in sorted(set(others)):
                if other < target:
                    self._merge(target, other)
                    target = other
                elif other != target:
                    self._merge(other, target)
        for request in requests:
            if self.flow[request] == NONE:
                self._append(target, request)
        if correlation != NONE:
            while len(self.correlation_flow) <= correlation:
                self.correlation_flow.append(NONE)
            self.correlation_flow[correlation] = target
            if self.flow_correlation[target] == NONE:
                self.flow_correlation[target] = correlation
        offset = seen - self.base
        self.first_seen[target] = min(self.first_seen[target], offset)
        self.last_seen[target] = max(self.last_seen[target], offset)
        self.changed.add(target)
        return target

    def _new_flow(self, seen: float) -> int:
        flow = len(self.head)
        self.flow_correlation.append(NONE)
        self.head.append(NONE)
        if math.isnan(self.base):
            self.base = seen
        self.first_seen.append(seen - self.base)
        self.last_seen.append(seen - self.base)
        self.order.append(flow)
        return flow

    def _append(self, flow: int, request: int) -> None:
        self.flow[request] = flow
        self.next[request] = self.head[flow]
        self.head[flow] = request

    def _merge(self, source: int, target: int) -> None:
        request = self.head[source]
        last = NONE
        while request != NONE:
            self.flow[request] = target
            last = request
            request = self.next[request]
        if last != NONE:
            self.next[last] = self.head[target]
            self.head[target] = self.head[source]
        self.first_seen[target] = min(self.first_seen[target], self.first_seen[source])
        self.last_seen[target] = max(self.last_seen[target], self.last_seen[source])
        correlation = self.flow_correlation[source]
        if correlation != NONE:
            self.correlation_flow[correlation] = target
            if self.flow_correlation[target] == NONE:
                self.flow_correlation[target] = correlation
        self.alias[source] = target
        self.head[source] = NONE
        self.order.remove(source)
        self.changed.add(source)

    def resolve(self, flow: int) -> int | None:
        """A live flow id (following merges), or None for an unknown id."""
        if not 0 <= flow < len(self.head):
            return None
        for _ in range(len(self.alias) + 1):
            alias = self.alias.get(flow)
            if alias is None:
                return flow
            flow = alias
        return None

    def build(self, flow_id: int) -> Flow | None:
        resolved = self.resolve(flow_id)
        if resolved is None:
            return None
        stages: list[tuple[float, int, Stage]] = []
        rows: list[int] = []
        request = self.head[resolved]
        while request != NONE:
            stage = self.stage(request)
            rows.extend(self.rows_of(request))
            stamp = self.facts(request)[3]
            stages.append((math.inf if math.isnan(stamp) else stamp, request, stage))
            request = self.next[request]
        # an expected stage without a request id gives way to any other stage of its function
        named = {stage.function_name for _, request, stage in stages if not self.flags[request] & PLACEHOLDER}
        ordered = tuple(
            stage
            for _, request, stage in sorted(stages, key=lambda item: (item[0], item[1]))
            if not (self.flags[request] & PLACEHOLDER and stage.function_name in named)
        )
        return Flow(
            id=resolved,
            correlation_id=self.names.correlations.get(self.flow_correlation[resolved]),
            stages=ordered,
            status=flow_status(ordered),
            first_seen=self.base + self.first_seen[resolved],
            last_seen=self.base + self.last_seen[resolved],
            rows=tuple(sorted(rows)),
        )

    def stage(self, request: int) -> Stage:
        flags = self.flags[request]
        state: StageState = ("succeeded" if flags & REQ_SUCCEEDED else "failed") if flags & KNOWN else "pending"
        reason = self.invoke_failures.get(request) if state == "pending" and self.invoke_failures else None
        if reason is not None:
            state = "invoke failed"
        function, condition, attempts, stamp, error_type = self.facts(request)
        names = self.names
        name = names.functions.get(function)
        if name is None and flags & OWN and self.info[request] in self.dead_letter_queues:
            name = f"dead-letter message from {self.dead_letter_queues[self.info[request]]}"
        return Stage(
            function_name=name or "?",
            request_id=None if flags & PLACEHOLDER else names.requests.get(request),
            parent_request_id=names.requests.get(self.parent[request]),
            state=state,
            condition=names.conditions.get(condition),
            attempts=None if attempts == NONE else attempts,
            timestamp=None if math.isnan(stamp) else stamp,
            error_type=names.error_types.get(error_type),
            row=self.info[request] if flags & OWN else None,
            nested=bool(flags & NESTED) and not flags & OWN,
            reason=reason,
            dead_lettered=bool(flags & DEAD_LETTERED),
        )

    def rows_of(self, request: int) -> list[int]:
        """Every row holding this request's own record (usually one)."""
        if not self.flags[request] & OWN:
            return []
        more = self.more_rows.get(request)
        return [self.info[request], *more] if more else [self.info[request]]

    def nbytes(self) -> int:
        columns = [value for value in vars(self).values() if isinstance(value, array)]
        return sum(column.itemsize * column.buffer_info()[1] for column in columns)
