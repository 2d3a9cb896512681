"""Stop a sandbox at its deadline or when its processes hold too much memory.

Runs as a thread beside the executor. Killing the sandbox means killing the
bubblewrap process: its child is PID 1 of the sandbox's PID namespace and
dies with it (``--die-with-parent``), and the kernel then takes every
process left in that namespace with it, wherever they moved their session
or process group. ``sweep`` makes sure afterwards.
"""

import os
import signal
import threading
import time

import psutil

from .kernel import UID_BASE, is_sandbox_uid


class Watchdog(threading.Thread):
    def __init__(self, pid, deadline, memory_bytes, period=0.25):
        super().__init__(daemon=True)
        self.pid, self.deadline, self.memory_bytes = pid, deadline, memory_bytes
        self.period = period
        self.reason = None           # "timeout" or "memory" once it fired
        self.peak_bytes = 0
        self._halt = threading.Event()

    def run(self):
        while not self._halt.wait(self.period):
            if time.monotonic() >= self.deadline:
                self.fire("timeout")
                return
            used = resident_bytes(self.pid)
            self.peak_bytes = max(self.peak_bytes, used)
            if used > self.memory_bytes:
                self.fire("memory")
                return

    def fire(self, reason):
        self.reason = reason
        kill(self.pid)

    def stop(self):
        self._halt.set()


PAGE = os.sysconf("SC_PAGE_SIZE")


def resident_bytes(pid):
    """Resident memory of a process and all its descendants together.

    Walks the kernel's own child lists (/proc/PID/task/TID/children), which
    costs a few reads per process in the sandbox; psutil's ``children()``
    reads every process on the machine, several times a second per job.
    """
    try:
        return _resident_from_proc(pid)
    except FileNotFoundError:       # a kernel without CONFIG_PROC_CHILDREN
        return _resident_psutil(pid)


def _resident_from_proc(pid):
    if not os.path.exists(f"/proc/{pid}/task/{pid}/children"):
        if os.path.exists(f"/proc/{pid}"):
            raise FileNotFoundError("no /proc children lists here")
        return 0
    total, stack, seen = 0, [pid], set()
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        try:
            with open(f"/proc/{current}/statm") as handle:
                total += int(handle.read().split()[1]) * PAGE
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as handle:
                    stack += [int(child) for child in handle.read().split()]
        except (FileNotFoundError, ProcessLookupError, ValueError):
            pass     # it ended while we looked
    return total


def _resident_psutil(pid):
    try:
        root = psutil.Process(pid)
        family = [root] + root.children(recursive=True)
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for process in family:
        try:
            total += process.memory_info().rss
        except psutil.Error:
            pass
    return total


def kill(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def sandbox_uid(launcher_pid):
    return UID_BASE + launcher_pid


def sweep(uid, wait=5.0):
    """Kill whatever still runs as ``uid`` (a sandbox's own user); returns
    how many processes had to be killed after ``wait`` seconds of grace."""
    if not is_sandbox_uid(uid):
        return 0
    end = time.monotonic() + wait
    while True:
        # Zombies are dead already; only their parents can clear them.
        left = [p for p in psutil.process_iter(["uids", "status"])
                if p.info["uids"] and p.info["uids"].real == uid
                and p.info["status"] != psutil.STATUS_ZOMBIE]
        if not left or time.monotonic() >= end:
            break
        time.sleep(0.02)
    for process in left:
        try:
            process.kill()
        except psutil.Error:
            pass
    return len(left)


def survivors(uids=None):
    """Processes, anywhere on the machine, that still run as a sandbox's user:
    one of ``uids``, or any sandbox's when None (zombies, already dead, are
    left out)."""
    found = []
    for process in psutil.process_iter(["uids", "status"]):
        real = process.info["uids"].real if process.info["uids"] else None
        if real is None or process.info["status"] == psutil.STATUS_ZOMBIE:
            continue
        if (uids is None and is_sandbox_uid(real)) or (uids is not None and real in uids):
            found.append(process)
    return found
