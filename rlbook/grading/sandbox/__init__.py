"""Run a submission's code where it can reach nothing but its own scratch space.

limits.py    the limits one submission runs under
paths.py     what the sandbox may read (interpreter, environment, system files)
command.py   the bubblewrap command line
launch.py    starts one kernel: closes inherited fds, drops root, execs bwrap
inside.py    inside the sandbox: resource limits, working files, then the kernel
kernel.py    a jupyter_client kernel manager over IPC sockets
watchdog.py  the whole-notebook deadline, total memory, and leftover processes
execute.py   the untrusted step: (notebook, files, limits) -> executed notebook
check.py     can this machine sandbox? if not, why and how to fix it
"""

from .check import SandboxUnavailable, problem, require
from .execute import execute
from .limits import Limits

__all__ = ["Limits", "SandboxUnavailable", "execute", "problem", "require"]
