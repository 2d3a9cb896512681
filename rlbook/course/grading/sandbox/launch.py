"""Start one sandboxed kernel: the kernelspec's argv runs this file.

Run as ``python -I -S launch.py SPEC CONNECTION_FILE`` by jupyter_client, on
the trusted side, with the standard library only. It

1. closes every inherited file descriptor but 0-2 (jupyter_client starts
   kernels with ``close_fds=False``; a pipe of the grading process must not
   reach student code);
2. when run as root, gives the sandbox an unprivileged user of its own.
   That user cannot reach everything the sandbox shows (pyenv lives under
   /root, mode 0700), so such folders are staged first: in a private mount
   namespace, a fresh tmpfs is mounted on the (empty) stage folder and each
   unreachable folder is bound into it, read-only. Nothing is created on
   disk, the grading process never sees these mounts, and they vanish with
   this namespace; being read-only, not even a process that reached them
   through /proc/PID/root could delete through them. Then the socket folder
   and connection file are handed to the user and the process drops to it.
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
import re
import stat
import sys

CLONE_NEWNS = 0x00020000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REMOUNT = 1, 2, 4, 32
MS_BIND, MS_REC, MS_PRIVATE = 4096, 16384, 1 << 18
# statvfs flags that a read-only remount must keep (same values as MS_*).
KEEP_FLAGS = 2 | 4 | 8 | 1024 | 2048 | 4096   # nosuid nodev noexec noatime nodiratime relatime
RO_BINDS = ("--ro-bind", "--ro-bind-try")
UID_BASE = 1_500_000_000   # kernel.UID_BASE; this file imports nothing of rlbook
_OCTAL = re.compile(r"\\([0-7]{3})")   # mountinfo writes a space as \040


def _libc_call(name, *args):
    libc = ctypes.CDLL(None, use_errno=True)
    if getattr(libc, name)(*args) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{name}{args[:2]}: {os.strerror(errno)}")


def _mount(source, target, fstype, flags, data=None):
    _libc_call("mount", source and source.encode(), target.encode(),
               fstype and fstype.encode(), flags, data and data.encode())


def reachable(path):
    """Could a user who is neither owner nor in the group reach ``path``?
    (every folder above it searchable by others, and it readable by them)."""
    path = os.path.realpath(path)
    parts = path.split(os.sep)
    for depth in range(1, len(parts)):
        folder = os.sep.join(parts[:depth]) or os.sep
        if not os.stat(folder).st_mode & 0o001:
            return False
    mode = os.stat(path).st_mode
    return bool(mode & 0o004) and (not stat.S_ISDIR(mode) or bool(mode & 0o001))


def _mount_points_under(target):
    """Mount points at or below ``target`` in this namespace, outermost first."""
    found = []
    with open("/proc/self/mountinfo") as handle:
        for line in handle:
            point = _OCTAL.sub(lambda m: chr(int(m.group(1), 8)), line.split()[4])
            if point == target or point.startswith(target + "/"):
                found.append(point)
    return sorted(found, key=len)


def _stage_binds(argv, stage):
    """Show every read-only bind source the sandbox's user could not reach
    under ``stage``, read-only, and point the command there instead."""
    wanted = [index for index, word in enumerate(argv[:-2])
              if word in RO_BINDS and os.path.exists(argv[index + 1])
              and not reachable(argv[index + 1])]
    if not wanted:
        return list(argv)
    if os.listdir(stage) or os.path.islink(stage):
        raise RuntimeError(f"the stage folder {stage} is not an empty folder; not staging")
    _libc_call("unshare", CLONE_NEWNS)
    # Private: nothing mounted here propagates back to the grader's namespace.
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    _mount("rlbook-stage", stage, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=64k")
    staged = list(argv)
    for index in wanted:
        source = argv[index + 1]
        target = os.path.join(stage, str(index))
        if os.path.isdir(source):
            os.mkdir(target, 0o755)
        else:
            open(target, "w").close()
        _mount(source, target, None, MS_BIND | MS_REC)
        # A bind starts out writable, whatever the sandbox later makes of it:
        # make this one, and everything mounted below it, read-only now.
        for point in _mount_points_under(target):
            kept = os.statvfs(point).f_flag & KEEP_FLAGS
            _mount(None, point, None, MS_BIND | MS_REMOUNT | MS_RDONLY | kept)
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
