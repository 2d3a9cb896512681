"""ruff, configured in pyproject.toml, passes on the whole checkout."""

import subprocess
import sys
from pathlib import Path

from conftest import ROOT


def test_ruff_is_clean():
    ruff = Path(sys.executable).parent / "ruff"
    assert ruff.exists(), "ruff is missing from the venv: run `make setup` (requirements.lock)"
    done = subprocess.run([str(ruff), "check", "--no-cache", "--output-format", "concise", "."],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
