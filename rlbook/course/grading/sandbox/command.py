"""The bubblewrap command line that runs one kernel.

Inside, the kernel sees: the interpreter, its environment and rlbook's
package folder, read-only, at their real paths; a few system folders,
read-only; a home folder and /tmp, each a tmpfs of ``disk_mb``; the socket
folder it talks through; its own /proc and a minimal /dev. It has no
network, its own PID, IPC and UTS namespaces, and uid 65534.
"""

import json
import os
import sys
from pathlib import Path

from . import paths

HOME = "/home/student"
WORK = HOME + "/work"
FILES = "/run/rlbook/files"
INSIDE = str(Path(__file__).with_name("inside.py"))


def environment(extra=None):
    """The kernel's whole environment: nothing leaks in from the grader's."""
    env = {
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), "/usr/local/bin",
                                 "/usr/bin", "/bin"]),
        "HOME": HOME,
        "USER": "student",
        "LANG": "C.UTF-8",
        "TMPDIR": "/tmp",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    env.update(extra or {})
    return env


def inside_settings(limits, sandboxed=True, work=WORK, home=HOME):
    return json.dumps({"rlimits": limits.rlimits(), "python": sys.executable,
                       "files": FILES if sandboxed else None, "work": work,
                       "home": home})


def bwrap_argv(limits, socket_dir, files_dir, env=None):
    """argv for bubblewrap; ``{connection_file}`` is filled in by jupyter_client."""
    size = str(int(limits.disk_mb) * 2**20)
    argv = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session",
            "--uid", "65534", "--gid", "65534", "--hostname", "sandbox"]
    for kind, source, dest in paths.system_binds():
        argv += ["--symlink", source, dest] if kind == "symlink" else ["--ro-bind", source, dest]
    for source, dest in paths.readonly_binds():
        argv += ["--ro-bind", source, dest]
    argv += ["--proc", "/proc", "--dev", "/dev",
             "--size", size, "--tmpfs", "/tmp",
             "--size", size, "--tmpfs", HOME,
             "--ro-bind", str(files_dir), FILES,
             "--bind", str(socket_dir), str(socket_dir),
             # The root bubblewrap builds is a tmpfs: read-only once it is set up.
             "--remount-ro", "/",
             "--clearenv"]
    for name, value in environment(env).items():
        argv += ["--setenv", name, value]
    argv += ["--chdir", "/", "--", sys.executable, "-I", "-S", INSIDE,
             inside_settings(limits), "{connection_file}"]
    return argv


def direct_argv(limits, work, env=None):
    """argv for ``--no-sandbox``: the same limits, no isolation."""
    return [sys.executable, "-I", "-S", INSIDE,
            inside_settings(limits, sandboxed=False, work=str(work), home=str(work)),
            "{connection_file}"]
