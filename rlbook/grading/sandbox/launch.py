"""Start one sandboxed kernel: the kernelspec's argv runs this file.

Run as ``python -I -S launch.py SPEC CONNECTION_FILE`` by jupyter_client, on
the trusted side, with the standard library only. It

1. closes every inherited file descriptor but 0-2 (jupyter_client starts
   kernels with ``close_fds=False``; a pipe of the grading process must not
   reach student code);
2. when run as root, gives the sandbox an unprivileged user of its own: a
   private mount namespace shows each read-only folder at a path that user
   can reach (pyenv under /root, mode 0700, for example), the socket folder
   and connection file are handed to it, and the process drops to it.
   Why not stay root: bubblewrap would map the sandbox's uid to root outside,
   and the kernel ignores ``RLIMIT_NPROC`` for root, so a fork bomb could
   take every PID on the machine;
3. replaces itself with the command in SPEC (bubblewrap, which starts the
   kernel). bubblewrap then runs with this pid, so jupyter_client's kill and
   interrupt reach it.
"""

import ctypes
import json
import os
import sys

CLONE_NEWNS = 0x00020000
MS_BIND, MS_REC, MS_PRIVATE = 4096, 16384, 1 << 18
BIND_OPTIONS = ("--ro-bind", "--ro-bind-try", "--bind", "--bind-try")
UID_BASE = 1_500_000_000   # kernel.UID_BASE; this file imports nothing of rlbook


def _libc_call(name, *args):
    libc = ctypes.CDLL(None, use_errno=True)
    if getattr(libc, name)(*args) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{name}: {os.strerror(errno)}")


def _stage_binds(argv, stage):
    """Bind every bind source under ``stage`` (reachable by anyone) and point
    the command at those paths instead; done in a private mount namespace."""
    _libc_call("unshare", CLONE_NEWNS)
    _libc_call("mount", b"none", b"/", None, MS_REC | MS_PRIVATE, None)
    staged = list(argv)
    for index, word in enumerate(argv[:-2]):
        if word in BIND_OPTIONS and os.path.exists(argv[index + 1]):
            target = os.path.join(stage, str(index))
            if os.path.isdir(argv[index + 1]):
                os.mkdir(target, 0o755)
            else:
                open(target, "w").close()
            _libc_call("mount", argv[index + 1].encode(), target.encode(), None,
                       MS_BIND | MS_REC, None)
            staged[index + 1] = target
    return staged


def _which(name):
    if os.sep in name:
        return name
    for folder in os.environ.get("PATH", os.defpath).split(os.pathsep):
        path = os.path.join(folder, name)
        if os.access(path, os.X_OK):
            return path
    raise FileNotFoundError(f"{name} is not on PATH")


def main(spec_path, connection_file):
    os.closerange(3, 65536)
    with open(spec_path) as handle:
        spec = json.load(handle)
    argv = [connection_file if word == "{connection_file}" else word for word in spec["argv"]]
    # Resolved now: once this process is the sandbox's user it may not be
    # able to read this interpreter's own library any more.
    program = _which(argv[0])
    if spec.get("sandboxed") and os.geteuid() == 0:
        # A uid of its own: pids are unique among live processes.
        uid = UID_BASE + os.getpid()
        argv = _stage_binds(argv, spec["stage"])
        for path in spec.get("hand_over", []) + [connection_file]:
            os.chown(path, uid, uid)
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
    os.execv(program, argv)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
