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

The package re-exports nothing: callers import from the module that defines a
name, so no module here depends on this file (which would make a cycle).
"""
