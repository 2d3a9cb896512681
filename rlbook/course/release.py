"""Student notebooks generated from the instructor sources by nbgrader.

``solutions/<assignment>/*.ipynb`` -> ``nbgrader generate_assignment`` ->
``notebooks/<assignment>/*.ipynb``. ``check_release`` regenerates into a
scratch folder and compares, so CI can prove the committed student versions
are exactly what the sources produce.
"""

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from .workbook import CONFIG_FILE, RELEASE_DIR, SOURCE_DIR, assignments, find_root


def _nbgrader(args, cwd):
    cmd = [sys.executable, "-m", "nbgrader", *args]
    result = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(
            f"`nbgrader {' '.join(args)}` failed in {cwd}:\n{result.stdout}{result.stderr}"
        )
    return result


def release(root=None, only=None):
    """Regenerate notebooks/ from solutions/; returns the written paths."""
    root = find_root(root)
    written = []
    for assignment in assignments(root):
        if only and assignment not in only:
            continue
        _nbgrader(["generate_assignment", assignment, "--force", "--no-db"], cwd=root)
        written.extend(sorted((root / RELEASE_DIR / assignment).glob("*.ipynb")))
    return written


def _comparable(path):
    # What a student receives: cell kinds, sources and nbgrader metadata.
    notebook = json.loads(Path(path).read_text())
    return [
        (cell["cell_type"], "".join(cell["source"]) if isinstance(cell["source"], list)
         else cell["source"], cell.get("metadata", {}).get("nbgrader"))
        for cell in notebook["cells"]
    ]


def check_release(root=None):
    """Problems that make notebooks/ differ from a fresh release (empty if in sync)."""
    root = find_root(root)
    problems = []
    with tempfile.TemporaryDirectory(prefix="rlbook-release-") as scratch:
        scratch = Path(scratch)
        shutil.copytree(root / SOURCE_DIR, scratch / SOURCE_DIR)
        shutil.copy(root / CONFIG_FILE, scratch / CONFIG_FILE)
        release(scratch)
        fresh = {p.relative_to(scratch / RELEASE_DIR): p
                 for p in (scratch / RELEASE_DIR).rglob("*.ipynb")}
        committed = {p.relative_to(root / RELEASE_DIR): p
                     for p in (root / RELEASE_DIR).rglob("*.ipynb")
                     if ".ipynb_checkpoints" not in p.parts}
        for rel in sorted(fresh.keys() - committed.keys()):
            problems.append(f"{RELEASE_DIR}/{rel} is missing")
        for rel in sorted(committed.keys() - fresh.keys()):
            problems.append(f"{RELEASE_DIR}/{rel} has no source in {SOURCE_DIR}/")
        for rel in sorted(fresh.keys() & committed.keys()):
            if _comparable(fresh[rel]) != _comparable(committed[rel]):
                problems.append(f"{RELEASE_DIR}/{rel} differs from its source")
    return problems
