"""What the sandbox may read: the interpreter, its environment and system files.

Everything is found from the running interpreter, not assumed: the
environment (``sys.prefix``, a venv or conda env), the base interpreter it
was made from (``sys.base_prefix``, for example pyenv's folder inside a
home that is mode 0700), the real file behind ``sys.executable``, and the
rlbook package itself when it is installed in editable mode (then only the
package folder is shown, never the checkout around it, which holds
``solutions/``).
"""

import glob
import os
import sys
from pathlib import Path

# System folders shown read-only. /etc is reduced to what Python, the C
# library, fonts and TLS need; nothing of the grader's configuration.
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
ETC_ENTRIES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "nsswitch.conf", "passwd",
               "group", "localtime", "timezone", "ssl", "ca-certificates", "fonts",
               "mime.types", "alternatives", "os-release", "matplotlibrc")


def _covered(path, folders):
    return any(path == folder or path.startswith(folder.rstrip("/") + "/")
               for folder in folders)


def interpreter_dirs():
    """Folders that hold the interpreter, its packages and rlbook, outermost first."""
    prefixes = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
                os.path.dirname(os.path.dirname(os.path.realpath(sys.executable)))]
    # Import roots beyond these (PYTHONPATH, a script's folder) are left out
    # on purpose: they may hold anything, the course included.
    found = []
    for path in sorted({os.path.realpath(p) for p in prefixes if not _exposes_checkout(p)},
                       key=len):
        if not _covered(path, found) and not _covered(path, SYSTEM_DIRS):
            found.append(path)
    package = str(Path(_rlbook_file()).resolve().parent)
    if not _covered(package, found):
        found.append(package)
    return found


def _rlbook_file():
    import rlbook

    return rlbook.__file__


def _checkout():
    """The folder holding the course (solutions/) when rlbook runs from one."""
    here = Path(_rlbook_file()).resolve().parent.parent
    return here if (here / "solutions").is_dir() else None


def _exposes_checkout(path):
    """True if binding ``path`` would show the checkout or anything in it
    except the environment (a .venv inside the checkout is fine)."""
    checkout = _checkout()
    if checkout is None:
        return False
    path = Path(os.path.realpath(path))
    if path == checkout or path in checkout.parents:
        return True
    inside = checkout in path.parents
    env = Path(os.path.realpath(sys.prefix))
    return inside and not (path == env or env in path.parents)


def readonly_binds():
    """(source, destination) pairs for read-only bind mounts, destinations unique."""
    binds, seen = [], set()
    for path in interpreter_dirs():
        real = os.path.realpath(path)
        for dest in {path, real}:
            if dest not in seen:
                binds.append((real, dest))
                seen.add(dest)
    return binds


def system_binds():
    """(kind, source, destination) for system folders: 'bind' or 'symlink'."""
    entries = []
    for path in SYSTEM_DIRS:
        if os.path.islink(path):
            entries.append(("symlink", os.readlink(path), path))
        elif os.path.isdir(path):
            entries.append(("bind", path, path))
    for name in ETC_ENTRIES:
        path = os.path.join("/etc", name)
        if os.path.exists(path):
            entries.append(("bind", path, path))
    return entries


def home_seed():
    """{path relative to the sandbox's home: host file} copied in at start.

    Caches that would otherwise be rebuilt by every kernel: matplotlib's font
    list (seconds) and rlbook's compiled replay op (a C++ build).
    """
    home = Path.home()
    seed = {}
    for pattern in (".cache/matplotlib/fontlist-*.json", ".cache/rlbook/ops/*.so"):
        for path in glob.glob(str(home / pattern)):
            if os.access(path, os.R_OK) and os.path.getsize(path) < 64 * 2**20:
                seed[os.path.relpath(path, home)] = path
    return seed
