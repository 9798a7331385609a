"""The UI process fixes glibc's mmap threshold (less heap fragmentation while the store grows)."""

from __future__ import annotations

import platform
import sys

import pytest

from tui.heap import limit_heap_fragmentation


@pytest.mark.skipif(not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_the_threshold_is_set_on_glibc() -> None:
    assert limit_heap_fragmentation() is True
