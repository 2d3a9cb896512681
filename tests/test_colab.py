"""The Colab launch cell and every chapter, in a faithful replica of Colab.

The replica is a fresh venv of Colab's Python holding exactly the versions
tests/colab_replica.txt lists (Colab's current runtime: Python 3.13,
TensorFlow 2.20, NumPy 2.1). Colab detection is forced with RLBOOK_COLAB=1
and rlbook comes from this checkout (RLBOOK_SOURCE) instead of the
repository address. Then, as a student's Colab would:

1. the launch block of chapter 01 runs twice: the first run installs what is
   missing without touching NumPy or TensorFlow (no restart), the second
   installs nothing;
2. every chapter's source runs top to bottom in quick mode in a kernel of
   the replica's Python, and every graded test passes.

Colab still offers older runtimes on Python 3.12: the same test runs there
with the same package list (the set-up differs by Python version only
through which wheels exist, which is what this checks).
"""

import json
import os
import re
import subprocess

from rlbook.course import badges
from rlbook.course.grading.validate import validate

import nbformat
import pytest

from conftest import ROOT, source_notebooks, student_notebook

REPLICA = ROOT / "tests" / "colab_replica.txt"
SOURCES = source_notebooks()


def replica_pins():
    lines = [line.split("#", 1)[0].strip() for line in REPLICA.read_text().splitlines()]
    return [line for line in lines if line]


def interpreter(version):
    """A working interpreter of that version (pyenv's, not a broken shim)."""
    # Without PYTHON: `make test PYTHON=...` exports it, and find-python then
    # names only that one, which would skip the other replica.
    env = {k: v for k, v in os.environ.items() if k != "PYTHON"}
    found = subprocess.run([str(ROOT / "scripts" / "find-python"), "--all"],
                           capture_output=True, text=True, env=env).stdout.split()
    for python in found:
        out = subprocess.run([python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                             capture_output=True, text=True)
        if out.stdout.strip() == version:
            return python
    return None


def launch_code():
    notebook = nbformat.read(str(student_notebook(SOURCES[0])), as_version=4)
    first = next(cell for cell in notebook.cells if cell.cell_type == "code")
    start, end = first.source.index(badges.BLOCK_START), first.source.index(badges.BLOCK_END)
    return first.source[start:end]


def freeze(python):
    return subprocess.run([str(python), "-m", "pip", "freeze"], capture_output=True,
                          text=True, check=True).stdout


def version_of(frozen, name):
    """The version of ``name`` in a pip freeze (tf-keras, tf_keras and tf.keras alike)."""
    spelled = "[-_.]".join(re.escape(part) for part in re.split(r"[-_.]", name))
    match = re.search(rf"^{spelled}==(\S+)$", frozen, re.MULTILINE | re.IGNORECASE)
    return match and match.group(1)


class Replica:
    def __init__(self, folder, version):
        self.folder, self.version = folder, version
        self.python = folder / "venv" / "bin" / "python"
        self.env = {key: value for key, value in os.environ.items()
                    if not key.startswith(("VIRTUAL_ENV", "PYTHON", "TF_", "RLBOOK", "JUPYTER"))}
        self.env.update(RLBOOK_COLAB="1", RLBOOK_SOURCE=str(ROOT),
                        PATH=f"{self.python.parent}:{self.env['PATH']}")
        self.launches = []

    def build(self):
        base = interpreter(self.version)
        if base is None:
            pytest.skip(f"no working Python {self.version} here (scripts/find-python --all)")
        subprocess.run([base, "-m", "venv", str(self.python.parents[1])], check=True)
        subprocess.run([str(self.python), "-m", "pip", "install", "--quiet", "-r", str(REPLICA)],
                       check=True, timeout=1500)
        self.colab_freeze = freeze(self.python)

    def run(self, code, timeout=1500):
        # From a folder of its own, as Colab's /content: never the checkout,
        # whose rlbook/ would be imported without being installed.
        return subprocess.run([str(self.python), "-c", code], env=self.env, capture_output=True,
                              text=True, timeout=timeout, cwd=self.folder)

    def launch_twice(self):
        for _ in range(2):
            before = freeze(self.python)
            result = self.run(launch_code())
            self.launches.append((before, result, freeze(self.python)))

    def kernelspec(self):
        """A Jupyter kernelspec that starts the replica's Python, with Colab's env."""
        spec_dir = self.folder / "jupyter" / "kernels" / "colab-replica"
        spec_dir.mkdir(parents=True, exist_ok=True)
        spec = {"argv": [str(self.python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": f"Colab replica (Python {self.version})", "language": "python",
                "env": {"RLBOOK_COLAB": "1", "PATH": self.env["PATH"]}}
        (spec_dir / "kernel.json").write_text(json.dumps(spec))
        return self.folder / "jupyter"


@pytest.fixture(scope="module", params=["3.13", "3.12"], ids=["py3.13", "py3.12"])
def replica(request, tmp_path_factory):
    replica = Replica(tmp_path_factory.mktemp(f"colab{request.param}"), request.param)
    replica.build()
    replica.launch_twice()
    return replica


@pytest.mark.slow
@pytest.mark.notebook
def test_replica_is_colab(replica):
    pins = replica_pins()
    frozen = replica.colab_freeze
    for pin in pins:
        if "==" in pin:
            name, version = pin.split("==")
            assert version_of(frozen, name) == version, (pin, frozen)
    assert version_of(frozen, "tf-agents") is None  # Colab does not have it


@pytest.mark.slow
@pytest.mark.notebook
def test_launch_cell_installs_once_without_a_restart(replica):
    (before, first, after), (_, second, after_second) = replica.launches
    log = first.stdout + first.stderr
    assert first.returncode == 0, log[-4000:]
    assert "Colab set-up: installed" in log, log[-4000:]
    assert "restart" not in log.lower(), log[-4000:]
    # Nothing the kernel may hold was swapped.
    for name in ("numpy", "tensorflow", "tf-keras", "keras"):
        assert version_of(after, name) == version_of(before, name), name
    assert version_of(after, "tf-agents") == "0.19.0"
    assert version_of(after, "gym") == "0.23.0"
    # A local source freezes as `rlbook @ file:///...`.
    assert re.search(r"^rlbook( @ |==)", after, re.MULTILINE), "the launch cell must install rlbook"
    assert "pygame==2.1.3" not in after
    assert "rlbook doctor (quick)" in log, log[-4000:]

    log = second.stdout + second.stderr
    assert second.returncode == 0, log[-4000:]
    assert "already installed" in log and "$ pip" not in log, log[-4000:]
    assert after_second == after, "the second run changed the environment"


@pytest.mark.slow
@pytest.mark.notebook
@pytest.mark.parametrize("source", SOURCES, ids=[path.parent.name for path in SOURCES])
def test_chapter_runs_in_the_replica(replica, source, monkeypatch):
    monkeypatch.setenv("JUPYTER_PATH", str(replica.kernelspec()))
    monkeypatch.setenv("RLBOOK_COLAB", "1")
    monkeypatch.delenv("RLBOOK_QUICK", raising=False)
    monkeypatch.delenv("DISPLAY", raising=False)
    report = validate(source, kernel_name="colab-replica")
    first = next(cell for cell in report.notebook.cells if cell.cell_type == "code")
    errors = [(cell.get("id"), out.get("ename"), out.get("evalue"))
              for cell in report.notebook.cells if cell.cell_type == "code"
              for out in cell.get("outputs", []) if out.get("output_type") == "error"]
    assert errors == [], errors
    assert report.graded, f"{source.name} has no autograded tests"
    assert report.failed == [], report.errors
    launch_output = "".join(out.get("text", "") for out in first.get("outputs", []))
    assert "already installed" in launch_output, first.get("outputs")
    # It really ran on the replica's Python.
    assert report.notebook.metadata.get("language_info", {}).get("version", "").startswith(
        replica.version), report.notebook.metadata.get("language_info")


def test_replica_file_is_dated_and_sourced():
    text = REPLICA.read_text()
    assert re.search(r"checked \d{4}-\d{2}-\d{2}", text) and "backend-info" in text
    assert "# python: 3.13" in text
    assert any(pin.startswith("numpy==2") for pin in replica_pins())


def test_no_file_pins_numpy_below_2():
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.split()
    pattern = re.compile(r"numpy\s*(<\s*2\b|==\s*1\.|~=\s*1\.|<=\s*1\.)", re.IGNORECASE)
    offenders = []
    for name in tracked:
        path = ROOT / name
        if path.suffix in {".png", ".jpg", ".gif", ".mp4", ".cc", ".json"} or not path.is_file():
            continue
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        offenders += [f"{name}:{n}" for n, line in enumerate(text.splitlines(), 1)
                      if pattern.search(line) and "no-numpy-pin-check" not in line]
    assert offenders == [], f"numpy pinned below 2 in {offenders}"
