"""A jupyter_client kernel manager whose kernel starts inside the sandbox.

jupyter_client ignores ``KernelManager.kernel_cmd`` nowadays, so the sandbox
lives in a throwaway kernelspec whose argv runs ``launch.py``. The transport
is IPC: the sockets are files in a folder bound into the sandbox, because the
sandbox has no network, not even loopback shared with the grader.
"""

import json
import os
import sys
from pathlib import Path

from jupyter_client import AsyncKernelManager
from jupyter_client.kernelspec import KernelSpecManager

from . import command

NAME = "rlbook-sandbox"
LAUNCH = str(Path(__file__).with_name("launch.py"))
# uids handed to sandboxes when grading as root: far above any real account,
# and unique per launcher (pids are unique among live processes).
UID_BASE = 1_500_000_000


UID_SPAN = 2**22              # above any pid_max


def is_sandbox_uid(uid):
    return UID_BASE <= uid < UID_BASE + UID_SPAN


def make_manager(run_dir, limits, sandboxed=True, env=None, stage=None):
    """An AsyncKernelManager for one run in ``run_dir``.

    ``stage``: an empty folder outside ``run_dir`` on which the launcher
    mounts, in its own namespace only, what the sandbox's user cannot reach
    (see launch.py); the caller removes it with ``os.rmdir``, never
    recursively.
    """
    run_dir = Path(run_dir)
    sockets, files, specs = (run_dir / n for n in ("kernel", "files", "specs"))
    for folder in (sockets, specs / NAME):
        folder.mkdir(parents=True, exist_ok=True)
    os.chmod(run_dir, 0o711)
    if sandboxed and stage is None:
        raise ValueError("a sandboxed kernel needs an empty stage folder")
    if sandboxed:
        argv = command.bwrap_argv(limits, sockets, files, env)
        kernel_env = {}
    else:
        argv = command.direct_argv(limits, run_dir / "work")
        kernel_env = command.environment(env)
        kernel_env["HOME"] = str(run_dir / "work")
    spec = {"argv": argv, "stage": str(stage) if stage else None, "hand_over": [str(sockets)],
            "sandboxed": sandboxed}
    (run_dir / "spec.json").write_text(json.dumps(spec))
    launcher = [sys.executable, "-I", "-S", LAUNCH, str(run_dir / "spec.json"),
                "{connection_file}"]
    (specs / NAME / "kernel.json").write_text(json.dumps({
        "argv": launcher, "display_name": "rlbook sandbox", "language": "python",
        # A signal would stop bubblewrap, not the kernel: ask the kernel itself.
        "interrupt_mode": "message", "env": kernel_env}))
    manager = AsyncKernelManager(
        kernel_name=NAME, transport="ipc",
        kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(specs)]),
        connection_file=str(sockets / "kernel.json"))
    return manager
