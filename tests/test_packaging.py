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


# --- Binder, environment.yml and the lock agree pin for pin -------------------

def pins_of(path, seen=()):
    """name -> version for every `name==version` line, following `-r file` includes."""
    pins = {}
    for line in path.read_text().splitlines():
        line = re.sub(r"^-\s+", "", line.split("#", 1)[0].strip())  # a YAML list item
        if line.startswith("-r "):
            included = (path.parent / line[3:].strip()).resolve()
            assert included not in seen, f"{path} includes {included} twice"
            pins.update(pins_of(included, (*seen, included)))
        elif "==" in line and not line.startswith("python"):
            name, version = line.split("==", 1)
            pins[name.strip().lower().replace("_", "-")] = version.strip()
    return pins


def test_binder_environment_and_lock_agree_pin_for_pin(root):
    lock = pins_of(root / "requirements.lock")
    binder = pins_of(root / "binder/requirements.txt")
    conda = pins_of(root / "environment.yml")
    assert len(lock) > 100
    assert binder == lock, {k: (binder.get(k), lock.get(k)) for k in binder.keys() ^ lock.keys()
                            or {k for k in lock if binder[k] != lock[k]}}
    assert conda == lock, "environment.yml must install requirements.lock and pin nothing else"
    # One Python everywhere: the lock's header, repo2docker's runtime, conda's.
    assert "Python 3.11" in (root / "requirements.lock").read_text().splitlines()[0]
    assert (root / "binder/runtime.txt").read_text().strip() == "python-3.11"
    assert re.search(r"^\s*- python=3\.11\s*$", (root / "environment.yml").read_text(), re.M)
    # repo2docker reads only binder/ when it exists: no stray config beside it.
    assert not (root / "binder/environment.yml").exists()


def test_binder_postbuild_installs_rlbook_and_names_real_extensions(root, venv_bin):
    import importlib
    import os

    script = root / "binder/postBuild"
    text = script.read_text()
    assert os.access(script, os.X_OK), "chmod +x binder/postBuild"
    assert text.startswith("#!/usr/bin/env bash\n")
    assert re.search(r"^set -e", text, re.M), "postBuild must stop at the first failing command"
    assert re.search(r"pip install --no-deps --editable \.$", text, re.M)
    # Every nbgrader extension it switches must exist in the nbgrader we lock.
    plugins = re.findall(r"@jupyter/nbgrader:([\w-]+)", text)
    plugins += re.findall(r"disable --level=sys_prefix \"@jupyter/nbgrader:\$plugin\"", text) and \
        re.search(r"for plugin in ([\w\s-]+); do", text).group(1).split()
    bundle = "".join(p.read_text(errors="ignore") for p in (venv_bin.parent / "share/jupyter/"
                     "labextensions/@jupyter/nbgrader/static").glob("*.js"))
    for plugin in plugins:
        assert f'"@jupyter/nbgrader:{plugin}"' in bundle, f"no nbgrader lab plugin {plugin}"
    modules = re.findall(r"nbgrader\.server_extensions\.(\w+)", text)
    modules += re.search(r"for extension in ([\w\s]+); do", text).group(1).split()
    for module in modules:
        importlib.import_module(f"nbgrader.server_extensions.{module}")
    assert "validate_assignment" in modules and "validate-assignment" in plugins
