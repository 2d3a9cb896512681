"""The compiled op behind FrameStackReplayBuffer's fast sampling.

``stack_frames_op()`` returns the loaded ``RlbookStackFrames`` op
(rlbook/frame_replay_op.cc) or None, in which case the buffer keeps to its
pure-TensorFlow path. The first call compiles the source with g++ and the
flags TensorFlow's wheel reports, into a per-user cache keyed by the
TensorFlow version, the flags and the source, so later processes only load
it. A missing compiler, missing headers or a failed build print one line and
fall back; they never raise.

Environment:

* ``RLBOOK_FRAME_OP=0``: skip the op and use the pure-TF path.
* ``CXX``: the C++ compiler (default ``g++``).
* ``XDG_CACHE_HOME``: the cache root (default ``~/.cache``); the library goes
  to ``rlbook/ops/`` under it.

Build ahead of time (``make setup`` does): ``python -m rlbook.frame_replay_op --build``.
"""

import contextlib
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SOURCE = Path(__file__).with_name("frame_replay_op.cc")
DISABLE_ENV = "RLBOOK_FRAME_OP"
BUILD_TIMEOUT_S = 600

_loaded = {}  # "op": the op function or None, once decided for this process


def cache_dir():
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(root) / "rlbook" / "ops"


def _compiler():
    return os.environ.get("CXX") or "g++"


def _command(source, target):
    import tensorflow as tf

    return [_compiler(), "-shared", "-fPIC", "-O3", str(source), "-o", str(target),
            *tf.sysconfig.get_compile_flags(), *tf.sysconfig.get_link_flags()]


def library_path():
    """Where the compiled op for this TensorFlow, compiler and source lives."""
    import tensorflow as tf

    key = hashlib.sha256()
    key.update(SOURCE.read_bytes())
    key.update(tf.__version__.encode())
    key.update(" ".join(_command("SRC", "OUT")).encode())
    return cache_dir() / f"frame_replay_op-tf{tf.__version__}-{key.hexdigest()[:16]}.so"


@contextlib.contextmanager
def _build_lock(path):
    """An exclusive lock file, so two processes don't compile the same library at once."""
    try:
        import fcntl
    except ImportError:  # Windows: the atomic rename below still keeps the file whole
        yield
        return
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def build(verbose=False):
    """Compile the op unless the cache already holds it; returns the library path.

    Raises RuntimeError saying what went wrong (no compiler, no source, a
    compiler error). The library is written under a temporary name and renamed,
    so a reader never sees half a file.
    """
    if not SOURCE.exists():
        raise RuntimeError(f"the op's source {SOURCE} is missing from this install")
    target = library_path()
    if target.exists():
        return target
    compiler = _compiler()
    if shutil.which(compiler) is None:
        raise RuntimeError(f"no C++ compiler {compiler!r} (set CXX, or install g++)")
    target.parent.mkdir(parents=True, exist_ok=True)
    with _build_lock(target.with_suffix(".lock")):
        if target.exists():  # another process built it while this one waited
            return target
        print(f"rlbook: compiling the frame replay op with {compiler} (once per TensorFlow "
              "version; about 10-60 s)")
        with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
            partial = Path(scratch) / target.name
            started = time.perf_counter()
            try:
                done = subprocess.run(_command(SOURCE, partial), capture_output=True, text=True,
                                      timeout=BUILD_TIMEOUT_S)
            except (OSError, subprocess.TimeoutExpired) as error:
                raise RuntimeError(f"running {compiler} failed: {error}") from None
            if done.returncode != 0:
                last = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
                raise RuntimeError(f"{compiler} exited with {done.returncode}: {last}")
            os.replace(partial, target)
        if verbose:
            print(f"compiled {target} in {time.perf_counter() - started:.1f} s")
    return target


def stack_frames_op():
    """The compiled RlbookStackFrames op, or None to use the pure-TF path.

    Decided once per process. When the op cannot be built or loaded, one line
    on stdout says why and the pure-TF path takes over.
    """
    if "op" in _loaded:
        return _loaded["op"]
    op = None
    if os.environ.get(DISABLE_ENV, "1") != "0":
        try:
            import tensorflow as tf

            op = tf.load_op_library(str(build())).rlbook_stack_frames
        except Exception as error:  # a missing compiler must never stop training
            print(f"rlbook: frame replay sampling uses the pure-TF path ({error})")
    _loaded["op"] = op
    return op


def main(argv=None):
    import argparse

    parser = argparse.ArgumentParser(description="Compile rlbook's frame replay op ahead of use.")
    parser.add_argument("--build", action="store_true", help="compile it into the cache now")
    args = parser.parse_args(argv)
    if not args.build:
        parser.print_help()
        return 0
    try:
        path = build(verbose=True)
    except RuntimeError as error:
        print(f"rlbook: not compiled, sampling will use the pure-TF path: {error}")
        return 1
    print(f"rlbook frame replay op: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
