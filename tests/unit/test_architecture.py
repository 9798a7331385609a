"""`records` is the domain: it must import without Textual or Rich."""

from __future__ import annotations

import subprocess
import sys

MODULES = [
    "records.models",
    "records.decode",
    "records.files",
    "records.lines",
]


def test_records_imports_no_ui() -> None:
    code = (
        "import importlib, pkgutil, sys, records\n"
        "for info in pkgutil.walk_packages(records.__path__, 'records.'):\n"
        "    importlib.import_module(info.name)\n"
        f"for name in {MODULES!r}:\n"
        "    importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "", f"records imported UI modules: {result.stdout.strip()}"
