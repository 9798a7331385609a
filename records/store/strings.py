"""Strings stored once and referred to by number: `Interner` (few, repeated) and `StringTable` (many, distinct)."""

from __future__ import annotations

import re
import sys
from array import array

from records.store.rows import NONE

__all__ = ["Interner", "StringTable"]


class Interner:
    """Strings stored once, referred to by a number (-1 is None)."""

    __slots__ = ("_ids", "strings")

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}
        self.strings: list[str] = []

    def id(self, value: str | None) -> int:
        if value is None:
            return NONE
        found = self._ids.get(value)
        if found is None:
            found = len(self.strings)
            self._ids[value] = found
            self.strings.append(value)
        return found

    def find(self, value: str) -> int:
        """The number of a string already stored, or -1."""
        return self._ids.get(value, NONE)

    def get(self, number: int) -> str | None:
        return None if number < 0 else self.strings[number]

    def __len__(self) -> int:
        return len(self.strings)

    def nbytes(self) -> int:
        """Approximate memory held (strings, list and dict)."""
        total = sys.getsizeof(self.strings) + sys.getsizeof(self._ids)
        return total + sum(sys.getsizeof(text) for text in self.strings)


_PACKED_UUID = 0xFE  # never the first byte of UTF-8 text
_PACKED_PREFIX = bytes((_PACKED_UUID,))
# only this spelling is packed: `get()` gives back exactly the string that was stored
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class StringTable:
    """Many distinct strings (request ids, correlation ids, error messages), compactly: their UTF-8
    bytes in one bytearray (a canonical UUID packed into 17 bytes), numbered in order, with the low
    32 bits of each one's hash, and an open-addressing hash index (the number in each slot). 8 to 16
    bytes of index a string, no Python object per string; `get()` decodes on demand. Same API as
    Interner. The stored hash skips most byte comparisons and makes growing the index cheap (no
    string is hashed again).

    The index doubles when it is half full: a new string (most of a replay's) then probes about 1.5
    slots on average instead of about 3 at 70% (a tenth of a replay's storing time). To keep every
    call short (the UI ingests on its event loop), the old index is moved into the new one a few
    strings a call, and looked in until then.
    """

    _MIGRATE = 16  # strings moved a call: done long before the new index fills up

    def __init__(self, *, pack_uuids: bool = False) -> None:
        self._pack = pack_uuids
        self._blob = bytearray()
        self._ends = array("I")  # end of each string in the blob (widened to "q" past 4 GB)
        self._hashes = array("I")  # low 32 bits of each string's hash (the index never has 2**32 slots)
        self._slots = array("i", [NONE]) * 8
        self._old: array[int] | None = None  # the index being moved into `_slots` (while it grows)
        self._cursor = 0  # the next number to move
        self._moving = 0  # numbers below this are in `_old`

    def _encode(self, value: str) -> bytes:
        if self._pack and len(value) == 36 and _CANONICAL_UUID.fullmatch(value) is not None:
            return _PACKED_PREFIX + bytes.fromhex(value.replace("-", ""))
        return value.encode("utf-8", "surrogatepass")

    def _stored(self, number: int) -> bytearray:
        start = self._ends[number - 1] if number else 0
        return self._blob[start : self._ends[number]]

    def _search(self, slots: array[int], encoded: bytes, hashed: int) -> tuple[int, int]:
        """(number or -1, the slot where the probe stopped) in one index."""
        mask = len(slots) - 1
        low = hashed & 0xFFFFFFFF
        hashes = self._hashes
        slot = hashed & mask
        while True:
            number = slots[slot]
            if number == NONE:
                return NONE, slot
            if hashes[number] == low and self._stored(number) == encoded:
                return number, slot
            slot = (slot + 1) & mask

    def id(self, value: str | None) -> int:
        if value is None:
            return NONE
        encoded = self._encode(value)
        hashed = hash(encoded)
        low = hashed & 0xFFFFFFFF
        # the probe of _search(), inlined: this runs several times for every record
        slots = self._slots
        hashes = self._hashes
        mask = len(slots) - 1
        slot = hashed & mask
        ends = self._ends
        blob = self._blob
        while True:
            number = slots[slot]
            if number == NONE:
                break
            if hashes[number] == low and blob[ends[number - 1] if number else 0 : ends[number]] == encoded:
                return number
            slot = (slot + 1) & mask
        if self._old is not None:
            found, _ = self._search(self._old, encoded, hashed)
            self._migrate()
            if found != NONE:
                return found
            slots = self._slots
            number, slot = self._search(slots, encoded, hashed)
        blob += encoded
        number = len(ends)
        if len(blob) > 0xFFFFFFFF and ends.typecode == "I":
            self._ends = ends = array("q", ends)
        ends.append(len(blob))
        hashes.append(low)
        slots[slot] = number
        if (number + 1) * 2 > len(slots):
            self._start_growing()
        return number

    def _start_growing(self) -> None:
        if self._old is not None:  # cannot happen with _MIGRATE >= 2, but never lose entries
            while self._old is not None:
                self._migrate()
        self._old = self._slots
        self._slots = array("i", [NONE]) * (len(self._slots) * 2)
        self._cursor = 0
        self._moving = len(self._ends)  # the numbers the old index holds
        self._migrate()

    def _migrate(self) -> None:
        """Move the next few strings of the old index into the new one (by number: no empty slot
        is visited)."""
        slots = self._slots
        hashes = self._hashes
        mask = len(slots) - 1
        end = min(self._moving, self._cursor + self._MIGRATE)
        for number in range(self._cursor, end):
            slot = hashes[number] & mask
            while slots[slot] != NONE:
                slot = (slot + 1) & mask
            slots[slot] = number
        self._cursor = end
        if end >= self._moving:
            self._old = None

    def find(self, value: str) -> int:
        encoded = self._encode(value)
        hashed = hash(encoded)
        old = self._old  # read once: another thread may be ingesting
        number, _ = self._search(self._slots, encoded, hashed)
        if number == NONE and old is not None:
            number, _ = self._search(old, encoded, hashed)
        return number

    def get(self, number: int) -> str | None:
        if number < 0:
            return None
        data = self._stored(number)
        if len(data) == 17 and data[0] == _PACKED_UUID:
            text = data[1:].hex()
            return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
        return data.decode("utf-8", "surrogatepass")

    def __len__(self) -> int:
        return len(self._ends)

    def nbytes(self) -> int:
        size = len(self._blob) + (self._ends.itemsize + 4) * len(self._ends) + 4 * len(self._slots)
        return size + (4 * len(self._old) if self._old is not None else 0)
