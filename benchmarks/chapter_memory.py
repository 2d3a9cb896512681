"""Peak memory and wall time of each chapter, run top to bottom as a learner would.

Anchor: Binder's limit, 2 GB for the JupyterLab server and the kernel
together. The goal is a peak below 1.5 GB for the kernel and every process it
starts (PSS, sampled every 0.2 s), leaving 0.5 GB for the server. Each chapter's
solution source runs in a fresh kernel, as nbclient executes it, in the mode
a learner gets by default (RLBOOK_QUICK=0) and in quick mode (RLBOOK_QUICK=1).

    .venv/bin/python benchmarks/chapter_memory.py                 # both modes, all chapters
    .venv/bin/python benchmarks/chapter_memory.py --modes learner --chapters 05 06

Prints a table: chapter, mode, wall time, peak PSS (each page counted once,
as Binder's memory cgroup charges it), its ratio to the 1.5 GB budget (below
1.00 fits), and peak RSS (shared pages counted in every process, an upper
bound).
"""

import argparse
import os
import sys
import threading
import time
from pathlib import Path

import nbformat
import psutil
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
BUDGET = 1.5e9
MODES = {"learner": "0", "quick": "1"}


def tree_memory(process):
    """(RSS, PSS) summed over the kernel and every process it started, in bytes.

    PSS is what the budget is checked against: it counts each page once,
    split among the processes sharing it, as a memory cgroup (Binder's
    limit) charges it. RSS counts a shared page in every process that maps
    it, so children forked from the kernel (ParallelPyEnvironment) would
    count the kernel's memory again each.
    """
    try:
        processes = [process, *process.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0, 0
    rss = pss = 0
    for member in processes:
        try:
            info = member.memory_full_info()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        rss, pss = rss + info.rss, pss + info.pss
    return rss, pss


class PeakSampler(threading.Thread):
    def __init__(self, pid, every=0.2):
        super().__init__(daemon=True)
        self.process, self.every = psutil.Process(pid), every
        self.peak = self.peak_rss = 0
        self.stopped = threading.Event()

    def run(self):
        while not self.stopped.is_set():
            rss, pss = tree_memory(self.process)
            self.peak, self.peak_rss = max(self.peak, pss), max(self.peak_rss, rss)
            self.stopped.wait(self.every)


def run_chapter(source, mode, timeout, per_cell=False):
    notebook = nbformat.read(str(source), as_version=4)
    os.environ["RLBOOK_QUICK"] = MODES[mode]
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(source.parent)}})
    started = time.perf_counter()
    with client.setup_kernel():
        sampler = PeakSampler(client.km.provisioner.process.pid)
        sampler.start()
        error = ""
        try:
            for index, cell in enumerate(notebook.cells):
                cell_started = time.perf_counter()
                client.execute_cell(cell, index)
                if per_cell and cell.cell_type == "code":
                    print(f"    cell {index:>2}: {time.perf_counter() - cell_started:6.1f} s, "
                          f"now {tree_memory(sampler.process)[1] / 1e9:.2f} GB, "
                          f"peak so far {sampler.peak / 1e9:.2f} GB (PSS)", flush=True)
        except Exception as exc:  # report it in the table, go on with the next chapter
            error = f"{type(exc).__name__}: {str(exc).splitlines()[0][:80] if str(exc) else ''}"
        sampler.stopped.set()
        sampler.join()
    return time.perf_counter() - started, sampler.peak, sampler.peak_rss, error


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modes", nargs="+", choices=sorted(MODES), default=["learner", "quick"])
    parser.add_argument("--chapters", nargs="+", default=None, help="e.g. 01 05 (default: all)")
    parser.add_argument("--timeout", type=int, default=1800, help="per-cell limit in seconds")
    parser.add_argument("--per-cell", action="store_true", help="print time and memory per cell")
    args = parser.parse_args()
    sources = sorted(ROOT.glob("solutions/*/*.ipynb"))
    if args.chapters:
        sources = [s for s in sources if s.parent.name[:2] in args.chapters]
    print(f"Python {sys.version.split()[0]}, {psutil.cpu_count()} CPUs; budget "
          f"{BUDGET / 1e9:.1f} GB (Binder: 2 GB for server and kernel)")
    print(f"{'chapter':<28} {'mode':<8} {'wall':>8} {'peak PSS':>9} {'/budget':>8} "
          f"{'peak RSS':>9}  note")
    rows = []
    for source in sources:
        for mode in args.modes:
            wall, peak, peak_rss, error = run_chapter(source, mode, args.timeout,
                                                      args.per_cell)
            rows.append((source.parent.name, mode, wall, peak, error))
            print(f"{source.parent.name:<28} {mode:<8} {wall:>7.0f}s {peak / 1e9:>7.2f}GB "
                  f"{peak / BUDGET:>8.2f} {peak_rss / 1e9:>7.2f}GB  "
                  f"{error or ('fits' if peak < BUDGET else 'OVER')}", flush=True)
    over = [row for row in rows if row[3] >= BUDGET or row[4]]
    print(f"{len(rows) - len(over)} of {len(rows)} runs finished below "
          f"{BUDGET / 1e9:.1f} GB")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
