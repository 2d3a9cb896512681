"""Installing the workbook's stack into Colab's Python.

Colab's current runtime is Python 3.13 with TensorFlow 2.20, tf-keras and
NumPy 2 already installed and often already imported by the time the first
cell runs. The set-up therefore never touches NumPy or TensorFlow: it adds
only what is missing, with both held at their installed versions, so no
kernel restart is needed. ``pip install tf-agents`` fails there (tf-agents
0.19 pins pygame 2.1.3, which has no wheel after Python 3.11), so tf-agents
goes in with ``--no-deps`` and its real needs are listed here; rlbook.compat
corrects what NumPy 2 breaks in it. Each requirement is compared with what is
installed first, so running the set-up cell again installs nothing.

``RLBOOK_COLAB=1`` forces this path off Colab (the tests do that in a replica
of Colab's environment, tests/colab_replica.txt).
"""

import importlib
import os
import subprocess
import sys
import tempfile
from importlib import metadata

TF_AGENTS = "tf-agents==0.19.0"
TENSORFLOW_IF_MISSING = "tensorflow==2.21.0"
# What tf-agents and the chapters need beyond Colab's own packages. No NumPy
# pin: whatever NumPy 2 Colab has stays.
STACK = (
    "numpy>=2.0",
    "tensorflow-probability>=0.24,<0.26",  # 0.24+ import under NumPy 2
    "dm-tree>=0.1.8",
    "gin-config>=0.4",
    "cloudpickle>=1.3",
    "absl-py>=0.6.1",
    "gym==0.23.0",                   # tf-agents needs the old gym API (Colab has 0.25)
    "gym-notices>=0.0.4",
    "pygame>=2.5.2,<2.7",            # 3.11-3.13 wheels; tf-agents' 2.1.3 has none after 3.11
    "box2d==2.3.10",                 # LunarLander, chapter 07
    "ale-py==0.12.1",                # Atari ROMs inside the wheel
    "imageio>=2.30",
    "imageio-ffmpeg>=0.4.9",
    "matplotlib>=3.7",
    "ipywidgets>=8",
    "tqdm>=4.65",
    "psutil>=5.9",
)
# AtariPreprocessing imports cv2; any OpenCV wheel built for NumPy 2 will do
# (Colab ships opencv-python; a second OpenCV package would shadow it).
OPENCV = "opencv-python-headless>=4.11"
OPENCV_DISTRIBUTIONS = ("opencv-python", "opencv-python-headless", "opencv-contrib-python",
                        "opencv-contrib-python-headless")
# Packages already loaded in a running Colab kernel: never upgraded by set-up.
HELD = ("numpy", "tensorflow")


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


def _opencv_satisfied():
    wanted = _requirement(OPENCV).specifier
    return any(version is not None and wanted.contains(version, prereleases=True)
               for version in map(_installed, OPENCV_DISTRIBUTIONS))


def missing():
    """The requirements not yet satisfied, tf-agents last."""
    todo = [spec for spec in requirements() if not _satisfied(spec)]
    if not _opencv_satisfied():
        todo.append(OPENCV)
    if not _satisfied(TF_AGENTS):
        todo.append(TF_AGENTS)
    return todo


def _pip(*args, constraints=None):
    command = [sys.executable, "-m", "pip", "install", "--quiet", *args]
    if constraints:
        command += ["--constraint", constraints]
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
        # Hold what the kernel may already have loaded at its installed version.
        asked = {_requirement(spec).name for spec in plain}
        held = [f"{name}=={_installed(name)}" for name in HELD
                if _installed(name) and name not in asked]
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as file:
            file.write("\n".join(held) + "\n")
        try:
            _pip(*plain, constraints=file.name)
        finally:
            os.unlink(file.name)
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
