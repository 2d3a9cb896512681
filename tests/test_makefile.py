"""The set-up step explains a missing or wrong Python instead of failing obscurely."""

import subprocess


def run_setup(root, python):
    # -B forces the recipe to run; it stops at the Python check, before .venv is touched.
    return subprocess.run(["make", "-s", "-B", "setup", f"PYTHON={python}"], cwd=root,
                          capture_output=True, text=True)


def test_missing_python_is_explained(root):
    result = run_setup(root, "/nonexistent/python3.11")
    assert result.returncode != 0
    assert "no Python 3.11 found" in result.stdout
    assert "make PYTHON=/path/to/python3.11" in result.stdout


def test_wrong_python_version_is_explained(root, tmp_path):
    fake = tmp_path / "python3.12"
    fake.write_text("#!/bin/sh\n"
                    "case \"$*\" in *platform*) echo 3.12.1;; esac\n"
                    "exit 1\n")
    fake.chmod(0o755)
    result = run_setup(root, fake)
    assert result.returncode != 0
    assert "is Python 3.12.1" in result.stdout and "needs Python 3.11" in result.stdout
