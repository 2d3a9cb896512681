"""The untrusted step: (notebook, working files, limits) -> executed notebook.

``execute`` needs nothing of the course: it gets the notebook to run (test
cells already restored by the trusted side), the working files as bytes and
the limits, and returns plain data (JSON text and lists), so it runs the same
in a local process pool or on a cluster worker. Only the kernel runs inside
the sandbox; this executor (nbclient) stays outside and builds the executed
notebook from the kernel's messages, so nothing in the sandbox can write the
notebook that gets scored.

Extra cells the caller asks for run before and after the notebook in the
same kernel, without history (``before`` and ``after``): the trusted side's
integrity probe uses them.
"""

import asyncio
import atexit
import os
import shutil
import tempfile
import time
import warnings
from pathlib import Path

import nbformat

from .cleanup import remove_tree
from .limits import Limits

KERNEL_LOG_TAIL = 4000
# What one cell's outputs may weigh in the executor. A cell printing without
# end would otherwise grow this process until the machine runs out of memory.
MAX_CELL_OUTPUT = 8 * 2**20
TRUNCATED = "\n[the grader kept the first {mb} MB of this cell's output and dropped the rest]\n"


def _capped_client_class():
    from nbclient import NotebookClient

    class CappedClient(NotebookClient):
        async def _async_handle_timeout(self, timeout, cell=None):
            # Remember it, then interrupt and keep waiting: a cell that
            # ignores the interrupt runs into the whole-notebook deadline.
            self.__dict__.setdefault("_rlbook_timed_out", set()).add(id(cell))
            return await super()._async_handle_timeout(timeout, cell)

        def output(self, outs, msg, display_id, cell_index):
            sizes = self.__dict__.setdefault("_rlbook_sizes", {})
            content = msg.get("content", {})
            size = len(content.get("text", "")) + sum(
                len(v) if isinstance(v, str) else 64 for v in (content.get("data") or {}).values())
            used = sizes.get(cell_index, 0)
            sizes[cell_index] = used + size
            if used + size <= MAX_CELL_OUTPUT:
                return super().output(outs, msg, display_id, cell_index)
            if used <= MAX_CELL_OUTPUT:
                outs.append(nbformat.v4.new_output(
                    "stream", name="stdout", text=TRUNCATED.format(mb=MAX_CELL_OUTPUT // 2**20)))
            return None

    return CappedClient


def execute(notebook, files=None, limits=None, before=(), after=(), private=(),
            sandboxed=True, env=None):
    """Run ``notebook`` (nbformat JSON text or a dict) in a fresh sandboxed kernel.

    files: {relative path: bytes} copied into the kernel's working folder.
    limits: a ``Limits`` (or its dict).
    before, after: code run before and after the notebook (not stored in history).
    private: indexes of cells run without history (the tests, so that
      ``In`` never holds them).
    env: extra environment variables for the kernel.

    Returns a dict: ``notebook`` (executed, JSON text), ``replies`` (the
    kernel's reply status per cell: "ok", "error" or None when not run),
    ``before`` and ``after`` (each a dict of status and outputs),
    ``failure`` (None, or {"kind": "timeout" | "memory" | "died" | "start",
    "message": ...}), ``seconds``, ``kernel_log`` (the last lines the
    kernel process wrote outside the notebook) and ``sandbox_uid`` (the uid
    its processes ran as when grading as root, else None).
    """
    if isinstance(notebook, str):
        notebook = nbformat.reads(notebook, as_version=4)
    else:
        notebook = nbformat.from_dict(notebook)
    if isinstance(limits, dict):
        limits = Limits(**limits)
    limits = limits or Limits()
    run_dir = Path(tempfile.mkdtemp(prefix="rlbook-sandbox-"))
    # Kept apart from run_dir: the one folder the launcher mounts things on
    # (in its own namespace) is never part of a tree the grader deletes.
    stage = Path(tempfile.mkdtemp(prefix="rlbook-stage-")) if sandboxed else None
    try:
        if stage:
            os.chmod(stage, 0o755)
        _write_files(run_dir, files or {}, sandboxed)
        run = _Run(notebook, limits, run_dir, sandboxed, env, list(before), list(after),
                   set(private), stage)
        return asyncio.run(run.go())
    finally:
        _clean_up(run_dir, stage)


def _clean_up(run_dir, stage):
    """Remove the run's folders without ever deleting through a mount."""
    try:
        if (run_dir / "kernel").is_dir() and not (run_dir / "kernel").is_symlink():
            os.chmod(run_dir / "kernel", 0o755)     # locked while the kernel ran
        remove_tree(run_dir)
    except OSError as exc:
        warnings.warn(f"rlbook grading: left {run_dir} in place: {exc}", stacklevel=3)
    if stage is not None:
        try:
            os.rmdir(stage)     # empty, unless something is mounted on it here
        except OSError as exc:
            warnings.warn(f"rlbook grading: left {stage} in place: {exc}", stacklevel=3)


def _write_files(run_dir, files, sandboxed):
    from . import paths

    work = run_dir / ("files/work" if sandboxed else "work")
    home = run_dir / ("files/home" if sandboxed else "work")
    work.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        target = (work / name).resolve()
        if work.resolve() not in target.parents:
            raise ValueError(f"working file {name!r} would land outside the working folder")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    for name, source in paths.home_seed().items():
        target = home / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    for folder, _, names in os.walk(run_dir / "files" if sandboxed else work):
        os.chmod(folder, 0o755)
        for name in names:
            os.chmod(os.path.join(folder, name), 0o644)


class _Run:
    def __init__(self, notebook, limits, run_dir, sandboxed, env, before, after, private,
                 stage):
        self.nb, self.limits, self.run_dir, self.stage = notebook, limits, run_dir, stage
        self.sandboxed, self.env = sandboxed, env
        self.before, self.after, self.private = before, after, private
        self.replies = [None] * len(notebook.cells)
        self.failure = None
        self.watchdog = None
        self.sandbox_uid = None     # the uid its processes ran as, outside

    async def go(self):
        from .kernel import make_manager

        start = time.monotonic()
        deadline = start + self.limits.timeout
        manager = make_manager(self.run_dir, self.limits, self.sandboxed, self.env, self.stage)
        client = _capped_client_class()(
            self.nb, km=manager, timeout=self.limits.cell_timeout,
            interrupt_on_timeout=True, allow_errors=True, record_timing=False,
            # After an interrupt the reply carries the error; waiting for a
            # busy kernel's last output must not fail the whole notebook.
            iopub_timeout=30, raise_on_iopub_timeout=False,
            startup_timeout=min(120, self.limits.timeout), shutdown_kernel="immediate",
            on_cell_executed=self._executed)
        self.client = client
        log_path = self.run_dir / "kernel.log"
        extra = {"before": [], "after": []}
        with open(log_path, "wb") as log:
            try:
                async with client.async_setup_kernel(stdout=log, stderr=log, cleanup_kc=True):
                    self._guard(manager, deadline)
                    for code in self.before:
                        extra["before"].append(await self._extra(client, code, deadline))
                    for index, cell in enumerate(self.nb.cells):
                        client.timeout = self._cell_timeout(deadline)
                        await client.async_execute_cell(
                            cell, index, store_history=index not in self.private)
                    for code in self.after:
                        extra["after"].append(await self._extra(client, code, deadline))
            except Exception as exc:  # the kernel died, was killed or never started
                self.failure = self._explain(exc)
            finally:
                atexit.unregister(client._cleanup_kernel)
                if self.watchdog:
                    self.watchdog.stop()
                    self.watchdog.join()
                self._sweep(manager)
        return {
            "notebook": nbformat.writes(self.nb),
            "replies": self.replies,
            "before": extra["before"],
            "after": extra["after"],
            "failure": self.failure,
            "seconds": time.monotonic() - start,
            "kernel_log": _tail(log_path),
            "sandbox_uid": self.sandbox_uid,
        }

    def _guard(self, manager, deadline):
        from .watchdog import Watchdog

        self.launcher_pid = manager.provisioner.process.pid
        if self.sandboxed and os.geteuid() == 0:
            from .watchdog import sandbox_uid

            self.sandbox_uid = sandbox_uid(self.launcher_pid)
        self.watchdog = Watchdog(self.launcher_pid, deadline,
                                 int(self.limits.memory_mb) * 2**20)
        self.watchdog.start()
        _lock_socket_folder(self.run_dir / "kernel")

    def _cell_timeout(self, deadline):
        left = deadline - time.monotonic()
        return max(1, int(min(self.limits.cell_timeout, left)))

    async def _executed(self, cell, cell_index, execute_reply):
        content = execute_reply["content"]
        if id(cell) in self.client.__dict__.get("_rlbook_timed_out", ()):
            cell.outputs.append(nbformat.v4.new_output(
                "error", ename="CellTimeoutError", evalue="",
                traceback=["CellTimeoutError: interrupted at the per-cell time limit "
                           f"of {self.limits.cell_timeout:g} s"]))
        if 0 <= cell_index < len(self.replies) and cell is self.nb.cells[cell_index]:
            self.replies[cell_index] = content.get("status")
        if content.get("status") == "error" and not any(
                o.output_type == "error" and o.get("ename") == content.get("ename")
                for o in cell.outputs):
            # The reply says the cell failed but no error arrived on IOPub (a
            # timeout, or output cleared from inside): record the reply's own.
            cell.outputs.append(nbformat.v4.new_output(
                "error", ename=content.get("ename", "Error"),
                evalue=content.get("evalue", ""),
                traceback=content.get("traceback") or [content.get("ename", "Error")]))

    async def _extra(self, client, code, deadline):
        cell = nbformat.v4.new_code_cell(code)
        client.timeout = self._cell_timeout(deadline)
        statuses = []

        async def hook(cell, cell_index, execute_reply):
            statuses.append(execute_reply["content"].get("status"))

        # nbclient stores the cell back at its index: lend it a slot at the end.
        client.on_cell_executed, saved = hook, client.on_cell_executed
        self.nb.cells.append(cell)
        client.__dict__.get("_rlbook_sizes", {}).pop(len(self.nb.cells) - 1, None)
        try:
            await client.async_execute_cell(cell, len(self.nb.cells) - 1,
                                            store_history=False)
        finally:
            client.on_cell_executed = saved
            self.nb.cells.pop()
        return {"status": statuses[0] if statuses else None,
                "outputs": [dict(o) for o in cell.outputs]}

    def _explain(self, exc):
        reason = self.watchdog.reason if self.watchdog else None
        if reason == "timeout":
            return {"kind": "timeout", "message":
                    f"ran past the whole-notebook limit of {self.limits.timeout:g} s"}
        if reason == "memory":
            return {"kind": "memory", "message":
                    "its processes together held more than the "
                    f"{self.limits.memory_mb} MB memory limit"}
        if self.watchdog is None:
            log = _tail(self.run_dir / "kernel.log").strip().splitlines()[-3:]
            return {"kind": "start", "message":
                    f"the kernel did not start: {type(exc).__name__}: {exc}"[:300]
                    + ("; kernel log: " + " | ".join(log)[-300:] if log else "")}
        return {"kind": "died", "message":
                "the kernel died while running the notebook (os._exit, a killed "
                "process or a crash in native code)",
                "error": f"{type(exc).__name__}: {exc}"[:400]}

    def _sweep(self, manager):
        from .watchdog import kill, sandbox_uid, sweep

        process = getattr(manager.provisioner, "process", None) if manager.provisioner else None
        pid = getattr(self, "launcher_pid", None) or (process.pid if process else None)
        if pid:
            kill(pid)
            if process is not None:
                try:
                    process.wait(timeout=10)   # reap bubblewrap: its sandbox is gone
                except Exception:  # a stuck exit is the sweep's to finish
                    pass
            if self.sandboxed and os.geteuid() == 0:
                sweep(sandbox_uid(pid))


def _lock_socket_folder(folder):
    """Once the kernel has bound its sockets, it may create nothing more in
    the one host folder it can write to (a disk-filling loop would)."""
    if os.geteuid() == 0:
        os.chown(folder, 0, 0)
    os.chmod(folder, 0o555)


def _tail(path):
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - KERNEL_LOG_TAIL))
            return handle.read().decode("utf-8", "replace")
    except OSError:
        return ""
