"""A throwaway PostgreSQL server on loopback, for grading with --jobs N.

Uses Debian's postgresql (``apt-get install postgresql``); PostgreSQL refuses
to run as root, so as root the cluster belongs to the ``postgres`` user.
"""

import contextlib
import gc
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


def _binary(name):
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                                                   reverse=True)), None)
    return found


def missing():
    """Why a server cannot be started here, or None."""
    if not (_binary("initdb") and _binary("pg_ctl")):
        return "PostgreSQL is not installed (apt-get install postgresql)"
    try:
        import psycopg2  # noqa: F401
    except ImportError:
        return "psycopg2 is not installed (pip install -r requirements.lock)"
    return None


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def server(database="rlbook"):
    """Yield a SQLAlchemy URL to a fresh database; stop and delete it afterwards."""
    as_root = os.geteuid() == 0
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    folder = Path(tempfile.mkdtemp(prefix="rlbook-pg-"))
    if as_root:
        shutil.chown(folder, "postgres")
    data, port = folder / "data", _free_port()
    user = "postgres" if as_root else os.environ.get("USER", "postgres")

    def run(*args):
        subprocess.run(prefix + list(args), check=True, capture_output=True, cwd="/")

    try:
        run(_binary("initdb"), "-D", str(data), "-A", "trust", "-U", user)
        run(_binary("pg_ctl"), "-D", str(data), "-l", str(folder / "log"), "-w", "start",
            "-o", f"-h 127.0.0.1 -p {port} -k {folder}")
        run(_binary("createdb") or "createdb", "-h", "127.0.0.1", "-p", str(port), "-U", user,
            database)
        yield f"postgresql+psycopg2://{user}@127.0.0.1:{port}/{database}"
    finally:
        # Let abandoned SQLAlchemy pools close their connections while the
        # server is still up, instead of failing noisily later.
        gc.collect()
        with contextlib.suppress(subprocess.CalledProcessError):
            run(_binary("pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(folder, ignore_errors=True)
