"""The limits one submission runs under, and how each is enforced.

| limit | enforced by |
|---|---|
| ``cell_timeout`` | nbclient interrupts the cell (an interrupt request to the kernel) |
| ``timeout`` | a watchdog in the executor kills the whole sandbox at the deadline |
| ``memory_mb`` | ``RLIMIT_AS`` of every process in the sandbox, plus the watchdog, |
|               | which kills the sandbox when its processes together hold more |
| ``processes`` | ``RLIMIT_NPROC``, counted per sandbox (threads count too) |
| ``file_mb`` | ``RLIMIT_FSIZE``: the largest file a process may write |
| ``disk_mb`` | the size of each tmpfs the sandbox can write (home and /tmp) |
| ``cpu_seconds`` | ``RLIMIT_CPU`` of each process (a backstop behind the timeout) |
"""

import os
from dataclasses import asdict, dataclass


@dataclass
class Limits:
    cell_timeout: float = 120     # seconds per cell before it is interrupted
    timeout: float = 900          # seconds for the whole notebook, kernel start included
    memory_mb: int = 6144         # address space per process; resident total per sandbox
    processes: int = 0            # processes and threads; 0: max(512, 16 per CPU)
    file_mb: int = 256            # largest file a submission may write
    disk_mb: int = 512            # size of the writable home and of /tmp
    cpu_seconds: int = 0          # CPU seconds per process; 0: timeout x CPUs

    def __post_init__(self):
        for name in ("cell_timeout", "timeout", "memory_mb", "file_mb", "disk_mb"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or value <= 0:
                raise ValueError(f"limit {name} must be a positive number, got {value!r}")
        for name in ("processes", "cpu_seconds"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 0:
                raise ValueError(f"limit {name} must be 0 (automatic) or a positive "
                                 f"whole number, got {value!r}")
        if self.cell_timeout > self.timeout:
            raise ValueError(f"the per-cell limit ({self.cell_timeout:g} s) is longer than "
                             f"the whole-notebook limit ({self.timeout:g} s)")

    def rlimits(self):
        """{resource name: value} applied inside the sandbox (names of `resource`)."""
        cpus = os.cpu_count() or 1
        mb = 2**20
        return {
            "RLIMIT_AS": int(self.memory_mb) * mb,
            "RLIMIT_NPROC": self.processes or max(512, 16 * cpus),
            "RLIMIT_FSIZE": int(self.file_mb) * mb,
            "RLIMIT_CPU": self.cpu_seconds or int(self.timeout * cpus) + 60,
            "RLIMIT_CORE": 0,
        }

    def as_dict(self):
        return asdict(self)
