"""Process memory tuning for the UI process, applied by the commands that run the UI (`tune_process`
in `tui.launch.run_app`), never by the App itself: a test creating apps leaves its process alone.

The collector: storing allocates (and frees) dozens of objects a record, so the UI process raises
the generation-0 threshold (`records.facts.GC_THRESHOLDS`, as the replay worker does).

The record store keeps a million rows in a few dozen `array` columns and string blobs of several
megabytes each, grown by `realloc` as rows arrive. glibc serves blocks under its mmap threshold
from the heap, and raises that threshold (up to 32 MB) as big blocks are freed: the columns then
move around the heap as they grow and leave holes behind (about 60 MB of a 1,000,000-record replay,
15 % of its peak). With a fixed 128 KB threshold every big block is its own mapping, grown with
`mremap` (no copy, no hole) and given back when freed.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import sys

from records.facts import GC_THRESHOLDS

__all__ = ["MMAP_THRESHOLD", "limit_heap_fragmentation", "tune_process"]

M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter
MMAP_THRESHOLD = 128 * 1024


def limit_heap_fragmentation() -> bool:
    """Fix glibc's mmap threshold (which also stops it from moving); False where that is not
    possible (not Linux, not glibc)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))


def tune_process() -> bool:
    """Set the UI process's collector thresholds and limit heap fragmentation; process-wide and for
    good. Returns whether the heap part took effect (see `limit_heap_fragmentation`)."""
    gc.set_threshold(*GC_THRESHOLDS)
    return limit_heap_fragmentation()
