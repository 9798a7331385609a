"""`tail` stays fast: neither the sources nor the command import Textual or Rich."""

from __future__ import annotations

import subprocess
import sys


def test_tail_and_sources_import_no_ui() -> None:
    code = (
        "import sys\n"
        "import tui.commands.tail, records.sources.sqs, records.sources.sns, records.sources.eventbridge\n"
        "import records.sources.replay, records.sources.merge, tui.commands.sources_args\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


def test_tail_help_lists_the_contract() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tui.cli", "tail", "--help"], capture_output=True, text=True, check=True
    )
    for option in ("--queue", "--topic", "--bus", "--mode", "--format", "--max-records", "--idle-timeout", "--save"):
        assert option in result.stdout
