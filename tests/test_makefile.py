"""The set-up finds a working Python 3.11-3.13, or explains why it cannot."""

import os
import subprocess
from pathlib import Path

import pytest


def run_setup(root, python):
    # It stops at the Python check, before .venv is touched.
    return subprocess.run(["make", "-s", "setup", f"PYTHON={python}"], cwd=root,
                          capture_output=True, text=True)


def find_python(root, tmp_path, path_dirs, *args):
    env = {"PATH": ":".join(map(str, path_dirs)), "HOME": str(tmp_path)}  # no pyenv root
    return subprocess.run([str(root / "scripts" / "find-python"), *args], cwd=root, env=env,
                          capture_output=True, text=True)


def real_python(minor):
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    found = sorted(root.glob(f"3.{minor}.*/bin/python3"))
    if not found:
        pytest.skip(f"no Python 3.{minor} under {root}")
    return found[-1]


def test_missing_python_is_explained(root):
    result = run_setup(root, "/nonexistent/python3.12")
    assert result.returncode != 0
    assert "PYTHON=/nonexistent/python3.12 does not run" in result.stdout + result.stderr


def test_unsupported_python_version_is_explained(root, tmp_path):
    fake = tmp_path / "python3.10"
    fake.write_text("#!/bin/sh\n"
                    "case \"$*\" in *platform*) echo 3.10.13;; *version_info*) exit 1;; esac\n"
                    "exit 3\n")
    fake.chmod(0o755)
    result = run_setup(root, fake)
    assert result.returncode != 0
    assert "is Python 3.10.13; the workbook supports 3.11, 3.12 and 3.13" in result.stderr


def test_a_broken_pyenv_shim_is_skipped_for_a_working_python(root, tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "python3"
    shim.write_text("#!/bin/sh\necho \"pyenv: python3: command not found\" >&2\nexit 127\n")
    shim.chmod(0o755)
    (bin_dir / "python3.12").symlink_to(real_python(12))
    result = find_python(root, tmp_path, [bin_dir, "/usr/bin", "/bin"])
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(bin_dir / "python3.12")  # not the shim


def test_no_python_at_all_says_how_to_get_one(root, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    for tool in ("sh", "cut", "head", "sed"):
        os.symlink(f"/bin/{tool}" if Path(f"/bin/{tool}").exists() else f"/usr/bin/{tool}",
                   empty / tool)
    result = find_python(root, tmp_path, [empty])
    assert result.returncode == 1
    assert "no working Python 3.11, 3.12 or 3.13 found" in result.stderr
    assert "make PYTHON=/path/to/python3" in result.stderr


def test_all_finds_one_interpreter_per_version(root):
    result = subprocess.run([str(root / "scripts" / "find-python"), "--all"], cwd=root,
                            capture_output=True, text=True)
    assert result.returncode == 0
    versions = [subprocess.run([line, "-c", "import sys; print(sys.version_info[:2])"],
                               capture_output=True, text=True).stdout for line in
                result.stdout.split()]
    assert len(versions) == len(set(versions)) >= 1


def test_test_fast_leaves_out_the_slow_and_notebook_tests(root):
    dry = subprocess.run(["make", "-n", "test-fast"], cwd=root, capture_output=True, text=True)
    assert dry.returncode == 0, dry.stderr
    assert '-m pytest -m "not slow and not notebook"' in dry.stdout
    import tomllib

    markers = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["pytest"][
        "ini_options"]["markers"]
    assert {line.split(":")[0] for line in markers} == {"slow", "notebook"}
