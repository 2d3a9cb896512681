"""Resolve requirements.in on every supported Python into one requirements.lock.

For each interpreter given (one per minor version, `scripts/find-python
--all` finds them), a throw-away venv installs requirements.in, then
requirements-nodeps.in without dependencies, and is frozen. The freezes are
merged: a package pinned alike everywhere is one line; one that differs, or
exists for some versions only, gets a line per version with a
``python_version`` marker. tf-agents stays out of the lock: every installer
adds it afterwards with --no-deps from requirements-nodeps.in, so the lock
itself installs with an ordinary `pip install -r` (conda and repo2docker
can do nothing else).

    python scripts/lock.py /path/python3.11 /path/python3.12 /path/python3.13
"""

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SKIP = {"pip", "setuptools", "wheel", "rlbook", "tf-agents"}
HEADER = """\
# Exact pins that resolve together on Python {versions}; one source of truth:
# the Makefile, environment.yml and binder/ all install this file, then
# tf-agents from requirements-nodeps.in with --no-deps (its own pins are
# overridden on purpose). Lines with a python_version marker differ by version.
# Regenerate with: make lock
"""


def canonical(name):
    return name.lower().replace("_", "-").replace(".", "-")


def freeze_for(python, scratch):
    version = subprocess.run(
        [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True, text=True, check=True).stdout.strip()
    venv = Path(scratch) / f"lock-{version}"
    print(f"==> resolving on Python {version} ({python})", flush=True)
    subprocess.run([python, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip"]
    subprocess.run([*pip, "install", "--quiet", "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "install", "--quiet", "-r", str(ROOT / "requirements.in")], check=True)
    subprocess.run([*pip, "install", "--quiet", "--no-deps", "-r",
                    str(ROOT / "requirements-nodeps.in")], check=True)
    frozen = subprocess.run([*pip, "freeze", "--exclude-editable"], capture_output=True,
                            text=True, check=True).stdout
    pins = {}
    for line in frozen.splitlines():
        name, _, pinned = line.partition("==")
        if pinned and canonical(name) not in SKIP:
            pins[name] = pinned
    return version, pins


def merge(freezes):
    """``{version: {name: pin}}`` -> lock lines, markers where versions differ."""
    versions = sorted(freezes, key=lambda v: tuple(map(int, v.split("."))))
    names = {}
    for pins in freezes.values():
        for name in pins:
            names.setdefault(canonical(name), name)
    lines = []
    for key in sorted(names):
        pinned = {v: next((p for n, p in freezes[v].items() if canonical(n) == key), None)
                  for v in versions}
        if len(set(pinned.values())) == 1:
            lines.append(f"{names[key]}=={pinned[versions[0]]}")
            continue
        for version in versions:
            if pinned[version] is not None:
                lines.append(f'{names[key]}=={pinned[version]} ; python_version == "{version}"')
    return versions, lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pythons", nargs="+", help="one interpreter per Python version")
    parser.add_argument("--output", type=Path, default=ROOT / "requirements.lock")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        freezes = dict(freeze_for(python, scratch) for python in args.pythons)
    versions, lines = merge(freezes)
    args.output.write_text(HEADER.format(versions=", ".join(versions)) + "\n".join(lines) + "\n")
    print(f"==> {args.output.name}: {len(lines)} lines for Python {', '.join(versions)}")


if __name__ == "__main__":
    sys.exit(main())
