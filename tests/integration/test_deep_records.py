"""Records nested beyond the payload limit through the commands, as real processes: `inspect` and
`tail` print them (payload marked too deep), or a reason when the JSON cannot be read at all, and
never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from records.rules import MAX_DEPTH
from tests.factories import deep_record_text as record_text
from tests.factories import wrapped
from tests.integration.sources_helpers import TailProcess, client, send_bodies

DEPTHS = (MAX_DEPTH, MAX_DEPTH + 1, 260, 900)


def bodies() -> list[str]:
    return [record_text(depth) for depth in DEPTHS] + [wrapped("sns", record_text(300)), record_text(5000)]


def check_lines(lines: list[dict[str, object]]) -> None:
    assert len(lines) == len(DEPTHS) + 2
    assert all(line["ok"] for line in lines[:-1])
    payloads = [line["request_payload"] for line in lines[:-1]]
    assert json.dumps(payloads[0]).count("[") == MAX_DEPTH  # at the limit: whole
    too_deep = f"too deep: nested more than {MAX_DEPTH} levels (the raw text keeps it)"
    assert payloads[1:] == [too_deep] * len(DEPTHS)  # the deeper ones and the SNS-wrapped one
    assert lines[-1]["ok"] is False and lines[-1]["error"] == "the JSON is nested too deeply to read"


def test_inspect_prints_deep_records_without_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "deep.jsonl"
    path.write_text("\n".join(bodies()) + "\n")
    for output in ("jsonl", "text"):
        result = subprocess.run(
            [sys.executable, "-m", "tui.cli", "inspect", "--format", output, str(path)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 1, result.stderr  # one input is not readable JSON
        assert "Traceback" not in result.stderr
        if output == "jsonl":
            check_lines([json.loads(line) for line in result.stdout.splitlines()])
        else:
            assert len(result.stdout.splitlines()) == len(DEPTHS) + 2


def test_tail_prints_deep_records_without_a_traceback(moto_reset: str) -> None:
    sqs = client("sqs", moto_reset)
    url = sqs.create_queue(QueueName="deep")["QueueUrl"]
    send_bodies(sqs, url, bodies())
    tail = TailProcess(
        "--queue", "deep", "--max-records", str(len(DEPTHS) + 2), "--wait-time", "1", "--format", "jsonl",
        "--endpoint-url", moto_reset,
    )  # fmt: skip
    assert tail.wait(60) == 0, tail.err
    assert not any("Traceback" in line for line in tail.err)
    lines = tail.json_lines()  # in the order SQS delivered them
    good = [line for line in lines if line["ok"]]
    bad = [line for line in lines if not line["ok"]]
    assert len(good) == len(DEPTHS) + 1 and len(bad) == 1
    too_deep = f"too deep: nested more than {MAX_DEPTH} levels (the raw text keeps it)"
    marked = [line for line in good if line["request_payload"] == too_deep]
    assert len(marked) == len(DEPTHS)  # every record past the limit, the SNS-wrapped one included
    assert bad[0]["error"] == "the JSON is nested too deeply to read"
