"""What the sandbox and a second job cost or gain, against the anchor run.

Grades the same class of chapter-01 submissions three ways on the default
sqlite gradebook:

* anchor: ``--jobs 1``, every kernel in its bubblewrap sandbox;
* ``--jobs 1 --no-sandbox``: the sandbox's cost per submission;
* ``--jobs 2``: the throughput a second job adds;

prints seconds per submission and the ratios against the anchor side by
side, and exits 1 unless every run wrote the same grades.csv and
problems.csv. ``--repeat N`` runs each way N times, interleaved (anchor,
no sandbox, two jobs, anchor, ...), and reports medians, so that other load
on the machine falls on all three alike. ``--postgres`` adds a ``--jobs 2``
run on a throwaway PostgreSQL. Targets (issue 12): sandbox overhead at most
10%, two jobs at least 1.6x the anchor's throughput.

``--startup N`` first times N one-cell notebooks in a sandbox and without
one, interleaved: the sandbox's fixed cost per kernel, apart from the
notebook's own work and from the noise of a busy machine.

Every timing is printed with the load average (1 minute) before and after
it: on a shared 2-core machine the load decides more than the code does.

Run: .venv/bin/python benchmarks/grade_throughput.py [--students 6] [--repeat 1]
         [--startup 0] [--postgres]
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import rlbook  # noqa: E402,F401  (before TensorFlow, like everywhere else)
import nbformat  # noqa: E402
from grading_corpus import ASSIGNMENT, NOTEBOOK, Corpus  # noqa: E402
from rlbook.course.grading.grade import Limits, grade  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=6)
    parser.add_argument("--repeat", type=int, default=1,
                        help="run each way this many times, interleaved; report medians")
    parser.add_argument("--startup", type=int, default=0,
                        help="also time this many empty kernels with and without the sandbox")
    parser.add_argument("--postgres", action="store_true",
                        help="also grade with --jobs 2 on a throwaway PostgreSQL")
    args = parser.parse_args()
    if args.students < 2:
        parser.error(f"--students must be at least 2, got {args.students}")
    if args.repeat < 1:
        parser.error(f"--repeat must be at least 1, got {args.repeat}")
    if args.startup:
        startup(args.startup)
    corpus = Corpus(ROOT)
    # Alternate right and partly wrong answers, so the CSV has something to differ in.
    wrong = corpus.student(sample_action="def sample_action(p, rng):\n    return 1\n")
    limits = Limits(cell_timeout=60, timeout=600)
    quiet = lambda *a: None  # noqa: E731
    runs = [("anchor: --jobs 1, sandboxed", {"jobs": 1}),
            ("--jobs 1 --no-sandbox", {"jobs": 1, "sandbox": False}),
            ("--jobs 2, sandboxed", {"jobs": 2})]
    with tempfile.TemporaryDirectory(prefix="rlbook-bench-") as scratch:
        scratch = Path(scratch)
        inbox = scratch / "inbox"
        inbox.mkdir()
        for n in range(args.students):
            notebook = corpus.student() if n % 2 == 0 else wrong
            nbformat.write(notebook, str(inbox / f"s{n:02d}_{NOTEBOOK}.ipynb"))
        seconds = {label: [] for label, _ in runs}
        outs = []
        for attempt in range(args.repeat):
            for number, (label, options) in enumerate(runs):
                load = os.getloadavg()[0]
                run = grade(inbox, ASSIGNMENT, out=scratch / f"run{attempt}-{number}",
                            limits=limits, root=ROOT, echo=quiet, **options)
                print(f"({attempt + 1}/{args.repeat}) {label:<30} {run.seconds / args.students:6.2f} "
                      f"s/submission   load {load:.2f} -> {os.getloadavg()[0]:.2f}", flush=True)
                seconds[label].append(run.seconds)
                outs.append(run.out)
        results = [(label, statistics.median(times)) for label, times in seconds.items()]
        if args.postgres:
            import pg_server

            if pg_server.missing():
                sys.exit(f"cannot run --postgres: {pg_server.missing()}")
            with pg_server.server() as url:
                print("grading: --jobs 2, sandboxed, PostgreSQL ...", flush=True)
                run = grade(inbox, ASSIGNMENT, out=scratch / "pg", limits=limits, root=ROOT,
                            echo=quiet, jobs=2, db_url=url)
                results.append(("--jobs 2, sandboxed, PostgreSQL", run.seconds))
                outs.append(run.out)
        csvs = [tuple((out / name).read_bytes() for name in ("grades.csv", "problems.csv"))
                for out in outs]
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
          f"on {os.cpu_count()} CPUs")
    return report(args.students, args.repeat, results, all(c == csvs[0] for c in csvs))


def startup(count):
    """Seconds to start a kernel, run one cell and clean up, with and without
    the sandbox (medians of ``count`` each, interleaved)."""
    from rlbook.course.grading.sandbox.execute import execute

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("print('hello')")]
    text = nbformat.writes(notebook)
    times = {True: [], False: []}
    load = os.getloadavg()[0]
    for _ in range(count):
        for sandboxed in (True, False):
            started = time.monotonic()
            result = execute(text, {}, Limits(cell_timeout=60, timeout=120), sandboxed=sandboxed)
            assert result["failure"] is None, result["failure"]
            times[sandboxed].append(time.monotonic() - started)
    with_, without = statistics.median(times[True]), statistics.median(times[False])
    print(f"one-cell notebook, median of {count}: {with_:.2f} s sandboxed, {without:.2f} s "
          f"without: the sandbox adds {with_ - without:+.2f} s per kernel   "
          f"load {load:.2f} -> {os.getloadavg()[0]:.2f}", flush=True)


def report(students, repeat, results, same):
    anchor = results[0][1] / students
    print(f"\n{students} submissions of {ASSIGNMENT}, half right, half partly wrong; "
          f"sqlite unless named; median of {repeat} run(s) each")
    print(f"{'run':<34} {'s/submission':>12} {'per hour':>9} {'time vs anchor':>15} "
          f"{'throughput vs anchor':>21}")
    for label, total in results:
        per = total / students
        print(f"{label:<34} {per:12.2f} {3600 / per:9.0f} {per / anchor:14.2f}x "
              f"{anchor / per:20.2f}x")
    no_sandbox = results[1][1] / students
    two = results[2][1] / students
    overhead = anchor / no_sandbox - 1
    print(f"sandbox overhead per submission: {overhead:+.1%} (target: at most +10%)")
    print(f"--jobs 2 throughput: {anchor / two:.2f}x the anchor's (target: at least 1.6x)")
    print(f"grades.csv and problems.csv identical across runs: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
