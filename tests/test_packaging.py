"""One set of pins, installed as locked, with nothing broken."""

import re
import subprocess
import sys
from importlib import metadata

import pytest

try:
    import tomllib
except ImportError:  # Python < 3.11
    tomllib = None

from packaging.requirements import Requirement


def read_lock(root):
    pins = {}
    for line in (root / "requirements.lock").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[name.lower().replace("_", "-")] = version
    return pins


def test_pip_check_is_clean():
    out = subprocess.run([sys.executable, "-m", "pip", "check"], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_installed_versions_are_the_locked_ones(root):
    mismatched = {}
    for name, version in read_lock(root).items():
        installed = metadata.version(name)
        if installed != version:
            mismatched[name] = (version, installed)
    assert mismatched == {}, "run `make setup` (the .venv is older than requirements.lock)"


def test_lock_satisfies_the_package_ranges(root):
    pins = read_lock(root)
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    for spec in project["dependencies"]:
        requirement = Requirement(spec)
        name = requirement.name.lower().replace("_", "-")
        assert name in pins, f"{name} is a dependency but not in requirements.lock"
        assert requirement.specifier.contains(pins[name]), f"{name}=={pins[name]} outside {spec}"


def test_lock_keeps_the_stack_constraints(root):
    pins = read_lock(root)
    assert int(pins["numpy"].split(".")[0]) < 2, "numpy 2 breaks TF-Agents 0.19 (uint8 overflow)"
    assert pins["gym"] == "0.23.0" and pins["tf-agents"] == "0.19.0"
    assert pins["typing-extensions"] == "4.5.0"
    major, minor = map(int, pins["ipython"].split(".")[:2])
    assert (major, minor) < (8, 23), "IPython 8.23+ needs a newer typing-extensions than tf-agents allows"


def test_environment_yml_installs_the_lock(root):
    text = (root / "environment.yml").read_text()
    assert re.search(r"^\s*- python=3\.11\s*$", text, re.M)
    assert "-r requirements.lock" in text and "-e ." in text


def test_binder_installs_the_same_pins(root):
    binder = [line for line in (root / "binder/requirements.txt").read_text().splitlines()
              if line and not line.startswith("#")]
    lock = [line for line in (root / "requirements.lock").read_text().splitlines()
            if line and not line.startswith("#")]
    assert binder == lock, "binder/requirements.txt must equal requirements.lock: run `make lock`"
    assert (root / "binder/runtime.txt").read_text().strip() == "python-3.11"
