"""docs/fidelity.md opens with this suite's count by area; the count must be the suite's own.

Collects tests/conformance in a subprocess (collection only, nothing runs) and compares each
module's cases and xfails with the table's row, and the total."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from conformance.conftest import COUNT_CASES

ROOT = Path(__file__).resolve().parents[2]
ROW = re.compile(r"^\| [^|]*\(`(test_\w+\.py)`\) \| (\d+) \| (\d+) \| (\d+) \|$")
TOTAL = re.compile(r"^\| \*\*total\*\* \| \*\*(\d+)\*\* \| \*\*(\d+)\*\* \| \*\*(\d+)\*\* \|$")


def _collected(tmp_path: Path) -> dict[str, list[int]]:
    out = tmp_path / "counts.json"
    subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "tests/conformance"],
        cwd=ROOT,
        env={**os.environ, COUNT_CASES: str(out)},
        check=True,
        capture_output=True,
    )
    counts: dict[str, list[int]] = json.loads(out.read_text())
    return counts


def test_fidelity_md_counts_the_suite(tmp_path: Path) -> None:
    lines = (ROOT / "docs" / "fidelity.md").read_text().splitlines()
    table: dict[str, list[int]] = {}
    total: list[int] | None = None
    for line in lines:
        if m := ROW.match(line):
            cases, holding, xfails = map(int, m.groups()[1:])
            assert cases == holding + xfails, line
            table[m.group(1)] = [cases, xfails]
        elif m := TOTAL.match(line):
            total = [int(g) for g in m.groups()]
    collected = _collected(tmp_path)
    assert table == collected
    cases = sum(c for c, _ in collected.values())
    xfails = sum(x for _, x in collected.values())
    assert total == [cases, cases - xfails, xfails]
