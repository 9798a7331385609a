"""Process tuning (glibc's mmap threshold, the collector's thresholds) is applied by the entry point
that runs the UI, never by the App: a test that creates apps leaves its own process alone."""

from __future__ import annotations

import gc
import json
import platform
import subprocess
import sys

import pytest

from records.facts import GC_THRESHOLDS
from tui.app import AppConfig, create_app
from tui.heap import limit_heap_fragmentation


@pytest.mark.skipif(not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_the_threshold_is_set_on_glibc() -> None:
    assert limit_heap_fragmentation() is True


def test_the_entry_point_tunes_the_process_the_app_runs_in() -> None:
    """`run_app` (what demo, watch and replay call) runs the app in a tuned process: the collector
    thresholds seen from inside the running app, in a fresh interpreter."""
    code = (
        "import gc, json\n"
        "from tui.app import AppConfig\n"
        "from tui.launch import run_app\n"
        "seen = {}\n"
        "async def pilot(p):\n"
        "    seen['before'] = before\n"
        "    seen['running'] = list(gc.get_threshold())\n"
        "    p.app.exit()\n"
        "before = list(gc.get_threshold())\n"
        "run_app(AppConfig(), headless=True, auto_pilot=pilot)\n"
        "print(json.dumps(seen))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert tuple(figures["running"]) == GC_THRESHOLDS
    assert tuple(figures["before"]) != GC_THRESHOLDS  # Python's defaults: the tuning is what changed them


async def test_an_app_leaves_the_test_process_alone() -> None:
    saved = gc.get_threshold()
    gc.set_threshold(700, 10, 10)  # Python's defaults, whatever ran before
    try:
        app = create_app(AppConfig())
        async with app.run_test() as pilot:
            await pilot.pause()
            assert gc.get_threshold() == (700, 10, 10)
        assert gc.get_threshold() == (700, 10, 10)
    finally:
        gc.set_threshold(*saved)
