"""Every snapshot SVG belongs to a test that still exists.

syrupy fails a run that leaves a snapshot unused, but not when the suite runs in parallel (pytest-xdist:
syrupy 4.8's session.py skips the check in workers and controller alike), so this test does it."""

from __future__ import annotations

import ast
from pathlib import Path

SNAPSHOTS = Path(__file__).parent / "__snapshots__"


def functions_in(source: Path) -> set[str]:
    tree = ast.parse(source.read_text(encoding="utf-8"))
    kinds = (ast.FunctionDef, ast.AsyncFunctionDef)
    return {node.name for node in ast.walk(tree) if isinstance(node, kinds) and node.name.startswith("test_")}


def test_every_snapshot_has_its_test() -> None:
    svgs = sorted(SNAPSHOTS.glob("*/*.svg"))
    assert svgs, f"no snapshots found in {SNAPSHOTS}"
    orphans = []
    for svg in svgs:
        module = Path(__file__).parent / f"{svg.parent.name}.py"
        name = svg.stem.split("[", 1)[0]  # a parametrized test's snapshots are test_name[params].svg
        if not module.is_file() or name not in functions_in(module):
            orphans.append(str(svg.relative_to(SNAPSHOTS)))
    assert orphans == [], "snapshots no test uses (pytest -n 0 --snapshot-update removes them)"
    assert not [path for path in SNAPSHOTS.iterdir() if path.is_file()], "snapshots belong in a folder per test file"
