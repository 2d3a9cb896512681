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
    """The lock's pins for this interpreter (markers evaluated)."""
    from rlbook.doctor import read_lock as pins_for_this_python

    return pins_for_this_python(root / "requirements.lock")


def lock_lines(path):
    return [line for line in path.read_text().splitlines() if line and not line.startswith("#")]


def test_pip_check_is_clean_but_for_the_overridden_tf_agents_pins():
    from rlbook.doctor import OVERRIDDEN_PINS, pip_check_problems

    assert pip_check_problems() == []
    out = subprocess.run([sys.executable, "-m", "pip", "check"], capture_output=True, text=True)
    reported = [line for line in out.stdout.splitlines() if line.startswith("tf-agents ")]
    # Exactly the pins requirements-nodeps.in explains, nothing more.
    assert all(any(pin in line for pin in OVERRIDDEN_PINS) for line in reported), reported


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
    assert int(pins["numpy"].split(".")[0]) >= 2, "the workbook runs on NumPy 2 (rlbook.compat)"
    assert pins["gym"] == "0.23.0" and metadata.version("tf-agents") == "0.19.0"
    assert pins["pygame"] != "2.1.3", "pygame 2.1.3 has no wheel after Python 3.11"


def test_tf_agents_is_installed_only_without_its_pins(root):
    assert "tf-agents==0.19.0" in (root / "requirements-nodeps.in").read_text()
    asked = [line.split("#")[0].strip()
             for line in (root / "requirements.in").read_text().splitlines()]
    locked = lock_lines(root / "requirements.lock")
    for where, lines in (("requirements.in", asked), ("requirements.lock", locked)):
        assert not any(line.startswith("tf-agents") for line in lines), \
            f"tf-agents goes in requirements-nodeps.in (--no-deps), not in {where}"


def test_lock_covers_every_supported_python(root):
    from rlbook.doctor import SUPPORTED_PYTHONS

    header = (root / "requirements.lock").read_text().splitlines()[0]
    for version in SUPPORTED_PYTHONS:
        assert "%d.%d" % version in header, header
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    assert project["requires-python"] == ">=3.11,<3.14"
    markers = [line.split(";", 1)[1] for line in lock_lines(root / "requirements.lock")
               if ";" in line]
    assert all(re.fullmatch(r' python_version == "3\.1[123]"', m) for m in markers), markers


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
            name, version = line.split(";", 1)[0].split("==", 1)
            pins[name.strip().lower().replace("_", "-")] = version.strip()
    return pins


# Each way in and the file that installs tf-agents and rlbook; the ways that do
# not read requirements.lock itself carry a copy of its pins.
INSTALLERS = {
    "make setup": "scripts/setup-venv",
    "binder": "binder/postBuild",
    "conda": "environment.yml",
}
PIN_COPIES = ("binder/requirements.txt", "environment.yml")


@pytest.mark.parametrize("copy", PIN_COPIES)
def test_every_copy_of_the_pins_is_exactly_the_lock(root, copy):
    lock = pins_of(root / "requirements.lock")
    assert len(lock) > 100
    assert pins_of(root / copy) == lock, f"{copy} must pin exactly requirements.lock " \
                                         "(`make lock` rewrites binder/requirements.txt)"


@pytest.mark.parametrize("installer", INSTALLERS)
def test_every_installer_installs_tf_agents_without_its_pins_then_rlbook(root, installer):
    script = root / INSTALLERS[installer]
    text = script.read_text()
    # conda's pip section cannot say --no-deps, so environment.yml tells the user to.
    assert re.search(r"--no-deps (-r|--requirement) requirements-nodeps\.in", text), script
    assert re.search(r"(--editable|-e) \.$", text, re.M), f"{script} should install rlbook"


def test_binder_runs_python_3_11_from_binder_alone(root):
    assert (root / "binder/runtime.txt").read_text().strip() == "python-3.11"
    # repo2docker reads only binder/ when it exists: no stray config beside it.
    assert not (root / "binder/environment.yml").exists()
    assert re.search(r"^\s*- python=3\.1[123]\s*$", (root / "environment.yml").read_text(), re.M)


def test_binder_postbuild_installs_rlbook_and_names_real_extensions(root, venv_bin):
    import importlib
    import os

    script = root / "binder/postBuild"
    text = script.read_text()
    assert os.access(script, os.X_OK), "chmod +x binder/postBuild"
    assert text.startswith("#!/usr/bin/env bash\n")
    assert re.search(r"^set -e", text, re.M), "postBuild must stop at the first failing command"
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
