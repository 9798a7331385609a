"""A replay of damaged files keeps every readable record and reads the next file, on both paths
(in this process, and in the worker process) (issue 10, item 9)."""

from __future__ import annotations

from pathlib import Path

import pytest

from records.sources.replay import ReplaySource
from tests.factories import record_line, store_of, truncated_gz


@pytest.mark.parametrize("facts", [False, True], ids=["in-process", "worker"])
async def test_a_truncated_gz_then_a_good_file(tmp_path: Path, facts: bool) -> None:
    cut = tmp_path / "cut.jsonl.gz"
    readable = truncated_gz(cut)
    assert 400 < readable < 978
    good = tmp_path / "good.jsonl"
    good.write_text("".join(record_line(5000 + n) + "\n" for n in range(3)))
    store, statuses, _ = await store_of(ReplaySource([str(cut), str(good)], facts=facts))
    assert statuses[-1].state == "done"
    rows = list(store)
    assert sum(row.ok for row in rows) == readable + 3
    assert {row.request_id for row in rows if row.ok} >= {"req-0", f"req-{readable - 1}", "req-5002"}
    problems = [row.error_message or "" for row in rows if not row.ok]
    assert any(problem.startswith(f"{cut}: the gzip data ends early") for problem in problems), problems


@pytest.mark.parametrize("facts", [False, True], ids=["in-process", "worker"])
async def test_a_5000_digit_integer_then_a_good_file(tmp_path: Path, facts: bool) -> None:
    big = tmp_path / "big.json"
    big.write_text(record_line(1)[:-1] + ', "n": ' + "9" * 5000 + "}")
    good = tmp_path / "good.json"
    good.write_text(record_line(2))
    store, statuses, _ = await store_of(ReplaySource([str(big), str(good)], facts=facts))
    assert statuses[-1].state == "done"
    rows = list(store)
    assert [row.ok for row in rows] == [False, True]
    assert (rows[0].error_message or "").startswith("the JSON cannot be read: Exceeds the limit (4300 digits)")
