"""`rlbook doctor`: is this machine ready for the workbook?

``check()`` runs every check and prints one screen: each line says ok, FAIL
or info, and every FAIL comes with the command that fixes it.
``check(quick=True)`` is what the first cell of every chapter calls: it skips
what needs TensorFlow (GPU, the Keras in use) or takes time (encoding a
video), and prints a single line when all is well.
"""

import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from importlib import metadata, util
from pathlib import Path

import numpy as np

OK, FAIL, INFO = "ok", "FAIL", "info"
LOCK_NAME = "requirements.lock"
NODEPS_NAME = "requirements-nodeps.in"
SUPPORTED_PYTHONS = ((3, 11), (3, 12), (3, 13))
# tf-agents 0.19's own pins that the workbook overrides on purpose
# (requirements-nodeps.in): `pip check` reports them, and nothing else may fail.
OVERRIDDEN_PINS = ("pygame==2.1.3", "typing-extensions==4.5.0", "tensorflow-probability~=0.23.0")


@dataclass
class Finding:
    name: str
    status: str  # OK, FAIL or INFO
    detail: str
    fix: str = ""
    brief: str = ""  # a few words for the quick form's one line


def _canonical(name):
    return name.lower().replace("_", "-").replace(".", "-")


def _installed_versions():
    # One pass over the installed distributions: far faster than one
    # metadata.version() lookup per locked package.
    # The first one on sys.path is the one an import gets: later ones are
    # copies vendored elsewhere (setuptools appends its _vendor folder).
    versions = {}
    for dist in metadata.distributions():
        if dist.metadata["Name"]:
            versions.setdefault(_canonical(dist.metadata["Name"]), dist.version)
    return versions


def find_lock(start=None):
    """requirements.lock of the checkout rlbook runs from (or above ``start``)."""
    places = [Path(start)] if start else [Path(__file__).resolve().parent, Path.cwd()]
    for place in places:
        for folder in (place, *place.parents):
            if (folder / LOCK_NAME).is_file():
                return folder / LOCK_NAME
    return None


def read_lock(path):
    """``{canonical name: version}`` from a pip-freeze style lock file.

    Lines with an environment marker (``name==1.0 ; python_version == "3.12"``)
    count only where the marker holds for this interpreter.
    """
    try:
        from packaging.markers import Marker
    except ImportError:  # a bare environment: pip carries its own copy
        from pip._vendor.packaging.markers import Marker
    pins = {}
    for number, line in enumerate(Path(path).read_text().splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        line, _, marker = line.partition(";")
        if "==" not in line:
            raise ValueError(f"{path}:{number}: expected name==version, got {line.strip()!r}")
        if marker.strip() and not Marker(marker.strip()).evaluate():
            continue
        name, version = line.split("==", 1)
        pins[_canonical(name.strip())] = version.strip()
    return pins


def on_colab():
    from rlbook.colab import on_colab as colab

    return colab()


# --- the checks --------------------------------------------------------------

def check_python():
    version = ".".join(map(str, sys.version_info[:3]))
    supported = ", ".join("%d.%d" % v for v in SUPPORTED_PYTHONS)
    if sys.version_info[:2] in SUPPORTED_PYTHONS:
        return Finding("python", OK, f"{version} (supported: {supported})",
                       brief=f"Python {version}")
    if on_colab():
        return Finding("python", INFO,
                       f"{version} on Colab: rlbook.colab installs a matching stack")
    return Finding("python", FAIL, f"{version}, but the workbook supports Python {supported}",
                   "make clean setup PYTHON=/path/to/python3.12 (any of " + supported + ")")


def check_numpy(quick=False):
    """NumPy in use and the corrections rlbook.compat made for it."""
    import importlib

    from rlbook import compat

    if not quick:  # load the corrected modules, so "applied" is proven, not promised
        for correction in compat.CORRECTIONS:
            if correction.state == "waiting":
                try:
                    importlib.import_module(correction.module)
                except ImportError:
                    pass
    states = compat.status()
    broken = [(name, state, reason) for name, state, reason in states
              if state.startswith(("off", "failed"))]
    applied = [name for name, state, _ in states if state == "applied"]
    waiting = [name for name, state, _ in states if state == "waiting"]
    summary = f"numpy {np.__version__}"
    if compat.NUMPY < (2, 0):
        return Finding("numpy", FAIL, f"{summary}: the workbook needs NumPy 2",
                       f"{sys.executable} -m pip install -r requirements.lock (or 'numpy>=2')")
    if broken:
        name, state, reason = broken[0]
        fix = (f"unset {compat.DISABLE_ENV_VAR} and restart the kernel" if state.startswith("off")
               else f"{sys.executable} -m pip install -r requirements.lock")
        return Finding("numpy", FAIL, f"{summary}; tf-agents/gym correction '{name}' is {state}: "
                       f"{reason}", fix)
    parts = []
    if applied:
        parts.append("corrections applied: " + ", ".join(applied))
    if waiting:
        parts.append("armed until first import: " + ", ".join(waiting))
    if not parts:
        parts.append("no corrections needed")
    return Finding("numpy", OK, f"{summary}; " + "; ".join(parts), brief=summary)


def pip_check_problems():
    """`pip check` lines, less tf-agents' pins that the workbook overrides."""
    import subprocess

    out = subprocess.run([sys.executable, "-m", "pip", "check"], capture_output=True, text=True)
    lines = [line for line in out.stdout.splitlines() if line.strip()
             and not line.lower().startswith("no broken requirements")]
    return [line for line in lines
            if not (line.startswith("tf-agents ") and any(
                f"has requirement {pin}," in line for pin in OVERRIDDEN_PINS))]


def check_dependencies():
    problems = pip_check_problems()
    if not problems:
        return Finding("dependencies", OK, "pip check: consistent (tf-agents' pygame, "
                       "typing-extensions and TF-Probability pins are overridden on purpose)")
    return Finding("dependencies", FAIL, f"pip check: {problems[0]}"
                   + (f" and {len(problems) - 1} more" if len(problems) > 1 else ""),
                   f"{sys.executable} -m pip install -r requirements.lock")


def check_packages(lock=None):
    if on_colab():
        return Finding("packages", INFO, "Colab: versions follow Colab's TensorFlow (rlbook.colab)")
    lock = Path(lock) if lock else find_lock()
    if lock is None:
        return Finding("packages", INFO,
                       f"no {LOCK_NAME} found beside rlbook; versions not compared")
    pins = read_lock(lock)
    nodeps = lock.with_name(NODEPS_NAME)
    if nodeps.is_file():  # tf-agents, installed without its own pins
        pins.update(read_lock(nodeps))
    installed = _installed_versions()
    wrong = [f"{name} {installed.get(name) or 'missing'} (lock: {version})"
             for name, version in sorted(pins.items()) if installed.get(name) != version]
    if not wrong:
        return Finding("packages", OK, f"{len(pins)} packages match {lock.name}",
                       brief=f"{len(pins)} packages as locked")
    shown = ", ".join(wrong[:4]) + (f" and {len(wrong) - 4} more" if len(wrong) > 4 else "")
    fix = f"{sys.executable} -m pip install -r {lock}"
    if nodeps.is_file():
        fix += f" && {sys.executable} -m pip install --no-deps -r {nodeps}"
    return Finding("packages", FAIL, f"{len(wrong)} differ from {lock.name}: {shown}", fix)


def check_legacy_keras(quick=False):
    fix_order = "restart the kernel and run `import rlbook` before `import tensorflow`"
    if util.find_spec("tf_keras") is None:
        return Finding("legacy keras", FAIL, "tf-keras is not installed (TF-Agents needs Keras 2)",
                       f"{sys.executable} -m pip install tf-keras")
    if os.environ.get("TF_USE_LEGACY_KERAS") != "1":
        return Finding("legacy keras", FAIL, "TF_USE_LEGACY_KERAS is not 1", fix_order)
    if quick and "tensorflow" not in sys.modules:
        return Finding("legacy keras", OK, "on (TF_USE_LEGACY_KERAS=1, tf-keras installed)",
                       brief="legacy Keras on")
    from rlbook.config import legacy_keras_active

    if legacy_keras_active():
        return Finding("legacy keras", OK, "on: tf.keras is Keras 2 (tf_keras)")
    return Finding("legacy keras", FAIL,
                   "tf.keras is Keras 3: TensorFlow was imported before rlbook",
                   fix_order)


def check_atari_roms():
    spec = util.find_spec("ale_py")
    if spec is None:
        return Finding("atari roms", FAIL, "ale-py is not installed",
                       f"{sys.executable} -m pip install ale-py==0.12.1")
    roms = Path(spec.origin).parent / "roms"
    games = sorted(p.stem for p in roms.glob("*.bin"))
    if "breakout" not in games:
        return Finding("atari roms", FAIL, f"no breakout ROM in {roms}",
                       f"{sys.executable} -m pip install --force-reinstall ale-py==0.12.1")
    return Finding("atari roms", OK, f"{len(games)} ROMs inside ale-py (Breakout included)",
                   brief="Atari ROMs")


def check_video(quick=False):
    fix = f"{sys.executable} -m pip install imageio imageio-ffmpeg"
    try:
        import imageio_ffmpeg

        ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    except Exception as exc:  # missing package or missing binary
        return Finding("video", FAIL, f"no ffmpeg for imageio: {exc}", fix)
    if quick:
        return Finding("video", OK, f"ffmpeg at {ffmpeg}", brief="ffmpeg for videos")
    try:
        import imageio

        frames = np.zeros((8, 64, 96, 3), np.uint8)
        frames[:, :, ::8] = 255
        with tempfile.TemporaryDirectory() as scratch:
            path = Path(scratch) / "check.mp4"
            imageio.mimwrite(path, frames, fps=8, codec="libx264", macro_block_size=16)
            size = path.stat().st_size
    except Exception as exc:
        return Finding("video", FAIL, f"encoding an mp4 failed: {exc}", fix)
    return Finding("video", OK, f"H.264 mp4 encoded ({size} bytes for 8 frames)")


def check_display():
    where = f"DISPLAY={os.environ['DISPLAY']}" if os.environ.get("DISPLAY") else "no DISPLAY"
    detail = f"not needed ({where}): frames render off-screen with mode='rgb_array'"
    if shutil.which("Xvfb") is None:
        detail += "; only mode='human' would need Xvfb (apt-get install xvfb)"
    return Finding("display", OK, detail, brief="no display needed")


def check_gpu():
    from rlbook import device

    description = device.describe()
    if description.startswith("GPU"):
        return Finding("gpu", OK, description)
    if shutil.which("nvidia-smi"):
        version = metadata.version("tensorflow")
        return Finding("gpu", FAIL, "nvidia-smi sees a GPU but TensorFlow does not",
                       f"{sys.executable} -m pip install 'tensorflow[and-cuda]=={version}'")
    return Finding("gpu", INFO,
                   "none: every chapter runs on the CPU; full Atari training wants a GPU")


# Replay buffers of the chapters, estimated from what one stored item holds.
# (label, capacity, {field: (shape, dtype)})
_CARTPOLE_TRAJECTORY = {"observation": ((4,), np.float32), "action": ((), np.int64),
                        "reward": ((), np.float32), "discount": ((), np.float32),
                        "step_type": ((), np.int32), "next_step_type": ((), np.int32)}
_ATARI_TRAJECTORY = dict(_CARTPOLE_TRAJECTORY, observation=((84, 84, 4), np.uint8))
_ATARI_FRAME_ONCE = dict(_CARTPOLE_TRAJECTORY, observation=((84, 84, 1), np.uint8))
REPLAY_BUFFERS = (
    ("ch04 DQN, CartPole, 2,000 transitions", 2_000,
     {"state": ((4,), np.float64), "action": ((), np.int64), "reward": ((), np.float64),
      "next_state": ((4,), np.float64), "done": ((), np.bool_)}),
    ("ch05 TF-Agents, CartPole, 100,000 trajectories", 100_000, _CARTPOLE_TRAJECTORY),
    ("ch06 Atari, 100,000 stacked 84x84x4 frames", 100_000, _ATARI_TRAJECTORY),
    ("ch06 Atari, 1M frames stored once", 1_000_000, _ATARI_FRAME_ONCE),
    ("ch06 Atari, the paper's 1M stacked frames", 1_000_000, _ATARI_TRAJECTORY),
)


def item_bytes(fields):
    return sum(int(np.prod(shape)) * np.dtype(dtype).itemsize for shape, dtype in fields.values())


def buffer_estimates():
    """``[(label, capacity, bytes)]`` for the chapters' replay buffers."""
    return [(label, capacity, capacity * item_bytes(fields))
            for label, capacity, fields in REPLAY_BUFFERS]


def _gb(n):
    return f"{n / 1e9:.1f} GB" if n >= 1e8 else f"{n / 1e6:.1f} MB"


def check_memory(available=None):
    import psutil

    available = psutil.virtual_memory().available if available is None else available
    # Leave room for TensorFlow, the kernel and the browser (about 1.5 GB).
    budget = max(available - 1.5e9, 0)
    estimates = buffer_estimates()
    too_big = [(label, capacity, size) for label, capacity, size in estimates if size > budget]
    fits = [label for label, _, size in estimates if size <= budget]
    if not too_big:
        return Finding("memory", OK, f"{_gb(available)} free: every chapter's replay buffer fits",
                       brief=f"{_gb(available)} free")
    label, capacity, size = too_big[0]
    per_item = size // capacity
    can_hold = int(budget // per_item)
    detail = (f"{_gb(available)} free; fits up to '{fits[-1]}'" if fits else
              f"only {_gb(available)} free")
    detail += f"; '{label}' needs {_gb(size)}"
    status = FAIL if any(not label.startswith("ch06") for label, _, _ in too_big) else INFO
    return Finding("memory", status, detail,
                   f"keep that buffer's max_length at or below {can_hold:,} "
                   "(or close other programs / use a bigger machine)",
                   brief=f"{_gb(available)} free")


# --- running them -------------------------------------------------------------

def run_checks(quick=False, lock=None):
    findings = [check_python(), check_numpy(quick), check_packages(lock), check_legacy_keras(quick),
                check_atari_roms(), check_video(quick), check_display(), check_memory()]
    if not quick:
        findings += [check_dependencies(), check_gpu()]
    return findings


def format_report(findings, quick=False):
    problems = [f for f in findings if f.status == FAIL]
    if quick and not problems:
        summary = ", ".join(f.brief for f in findings if f.brief)
        return (f"rlbook doctor (quick): ready ({summary}). "
                "Full check in a terminal: `rlbook doctor`.")
    title = "rlbook doctor (quick)" if quick else "rlbook doctor"
    lines = [f"{title}: {len(problems)} problem(s)" if problems else f"{title}: all good"]
    for finding in findings:
        if quick and finding.status != FAIL:
            continue
        lines.append(f"  {finding.status:<5} {finding.name:<13} {finding.detail}")
        if finding.fix and finding.status != OK:
            lines.append(f"  {'':<5} {'':<13} fix: {finding.fix}")
    return "\n".join(lines)


def check(quick=False, lock=None, show=True):
    """Run the checks, print the report, return the list of findings."""
    findings = run_checks(quick=quick, lock=lock)
    if show:
        print(format_report(findings, quick=quick))
    return findings


if __name__ == "__main__":
    # `python -m rlbook.doctor --dependencies`: the set-up's pip check.
    if sys.argv[1:] == ["--dependencies"]:
        finding = check_dependencies()
        print(f"{finding.status}: {finding.detail}")
        if finding.status == FAIL:
            print("\n".join("  " + line for line in pip_check_problems()))
            sys.exit(1)
    else:
        sys.exit(1 if any(f.status == FAIL for f in check()) else 0)
