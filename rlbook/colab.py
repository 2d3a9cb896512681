"""Installing the workbook's stack into Colab's Python.

Colab runs Python 3.12 with its own TensorFlow. ``pip install tf-agents``
fails there: tf-agents 0.19 pins pygame 2.1.3, which has no 3.12 wheel and
does not build. So tf-agents goes in with ``--no-deps`` and its real needs are
listed here, matched to the TensorFlow already installed (tf-keras must have
TensorFlow's major.minor version). Nothing is installed twice: each
requirement is compared with what is installed first, so running the set-up
cell again does nothing.

``RLBOOK_COLAB=1`` forces this path off Colab (the tests do that in a fresh
virtual environment).
"""

import importlib
import os
import subprocess
import sys
from importlib import metadata

# Versions that work with tf-agents 0.19 and keep numpy < 2 (see docs in README:
# with numpy 2, TF-Agents 0.19 overflows uint8 Atari observations).
TF_AGENTS = "tf-agents==0.19.0"
TENSORFLOW_IF_MISSING = "tensorflow==2.21.0"
STACK = (
    "numpy>=1.26,<2",
    "ml-dtypes>=0.3,<0.6",           # 0.6 needs numpy 2
    "tensorflow-probability==0.23.0",  # tf-agents pins ~=0.23.0
    "dm-tree>=0.1.8",
    "gin-config>=0.4",
    "cloudpickle>=1.3",
    "absl-py>=0.6.1",
    "gym==0.23.0",                   # tf-agents needs the old gym API
    "gym-notices>=0.0.4",
    "pygame>=2.5.2,<2.7",            # has 3.11-3.13 wheels; tf-agents' 2.1.3 has no 3.12 one
    "ale-py==0.12.1",                # Atari ROMs inside the wheel
    "opencv-python-headless>=4.8,<4.11",  # 4.11 needs numpy 2
    "imageio>=2.30",
    "imageio-ffmpeg>=0.4.9",
    "matplotlib>=3.7",
    "tqdm>=4.65",
    "psutil>=5.9",
)


def on_colab():
    """True inside a Colab kernel, or when RLBOOK_COLAB=1 forces it."""
    return "google.colab" in sys.modules or os.environ.get("RLBOOK_COLAB") == "1"


def _installed(name):
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _requirement(spec):
    try:
        from packaging.requirements import Requirement
    except ImportError:  # a bare environment: pip carries its own copy
        from pip._vendor.packaging.requirements import Requirement
    return Requirement(spec)


def _satisfied(spec):
    requirement = _requirement(spec)
    version = _installed(requirement.name)
    return version is not None and requirement.specifier.contains(version, prereleases=True)


def requirements():
    """What must be installed, given the TensorFlow already there."""
    tf_version = _installed("tensorflow")
    if tf_version is None:
        tf_version = TENSORFLOW_IF_MISSING.split("==")[1]
        base = [TENSORFLOW_IF_MISSING]
    else:
        base = []
    major_minor = ".".join(tf_version.split(".")[:2])
    # tf-keras and tensorboard are released in step with TensorFlow.
    base += [f"tf-keras~={major_minor}.0", f"tensorboard~={major_minor}.0"]
    return base + list(STACK)


def missing():
    """The requirements not yet satisfied, tf-agents last."""
    todo = [spec for spec in requirements() if not _satisfied(spec)]
    if not _satisfied(TF_AGENTS):
        todo.append(TF_AGENTS)
    return todo


def _pip(*args):
    command = [sys.executable, "-m", "pip", "install", "--quiet", *args]
    print("$", " ".join(command[2:]))
    result = subprocess.run(command)
    if result.returncode != 0:
        raise RuntimeError(
            f"`pip install {' '.join(args)}` failed (exit {result.returncode}); see pip's "
            "message above. Check the network, then run this cell again.")


def setup(force=False):
    """Install what is missing; return the list of requirements installed.

    A no-op (returns []) when everything is in place or when not on Colab
    (pass ``force=True`` to install anyway).
    """
    if not (force or on_colab()):
        return []
    todo = missing()
    if not todo:
        print("Colab set-up: the workbook's stack is already installed.")
        return []
    numpy_before = _installed("numpy")
    plain = [spec for spec in todo if spec != TF_AGENTS]
    if plain:
        _pip(*plain)
    if TF_AGENTS in todo:
        _pip("--no-deps", TF_AGENTS)
    importlib.invalidate_caches()
    print(f"Colab set-up: installed {len(todo)} packages.")
    if "numpy" in sys.modules and _installed("numpy") != numpy_before:
        # The running kernel holds the old numpy in memory; only a restart loads
        # the new one. Colab restarts a kernel that exits by itself.
        print("numpy changed from", numpy_before, "to", _installed("numpy"),
              "- restarting the session: run this cell again when it is back.")
        if "google.colab" in sys.modules:
            os.kill(os.getpid(), 9)
        raise SystemExit("restart the kernel and run this cell again (numpy was replaced)")
    return todo


if __name__ == "__main__":
    setup(force=True)
