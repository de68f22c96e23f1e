"""The README's two commands are what a newcomer runs and what CI runs (``.ci/run``)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ci_runs_exactly_the_readmes_unpinned_test_command() -> None:
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    pattern = re.search(r"test_command=\$\(grep -m 1 '([^']+)' README\.md", script)
    assert pattern, "the way .ci/run finds the README's test command has changed"
    found = subprocess.run(["grep", "-m", "1", pattern[1], "README.md"], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.strip()
    assert found == 'pip install -e ".[test]" && python -m pytest'
    # torch is CI's environment step, before the README's command, never part of it.
    assert script.index('pip install -q "torch==2.13.0"') < script.index('eval "$test_command"')
    assert "MAMLVIZ_REQUIRE_DATA=1" in script and "MAMLVIZ_REQUIRE_BROWSER=1" in script
