"""What the sandbox and a second job cost or gain, against the anchor run.

Grades the same class of chapter-01 submissions three ways on the default
sqlite gradebook:

* anchor: ``--jobs 1``, every kernel in its bubblewrap sandbox;
* ``--jobs 1 --no-sandbox``: the sandbox's cost per submission;
* ``--jobs 2``: the throughput a second job adds;

prints seconds per submission and the ratios against the anchor side by
side, and exits 1 unless every run wrote the same grades.csv and
problems.csv. ``--postgres`` adds a ``--jobs 2`` run on a throwaway
PostgreSQL. Targets (issue 12): sandbox overhead at most 10%, two jobs at
least 1.6x the anchor's throughput.

Run: .venv/bin/python benchmarks/grade_throughput.py [--students 6] [--postgres]
"""

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import rlbook  # noqa: E402,F401  (before TensorFlow, like everywhere else)
import nbformat  # noqa: E402
from grading_corpus import ASSIGNMENT, NOTEBOOK, Corpus  # noqa: E402
from rlbook.grading.grade import Limits, grade  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=6)
    parser.add_argument("--postgres", action="store_true",
                        help="also grade with --jobs 2 on a throwaway PostgreSQL")
    args = parser.parse_args()
    if args.students < 2:
        parser.error(f"--students must be at least 2, got {args.students}")
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
        results = []
        for number, (label, options) in enumerate(runs):
            print(f"grading: {label} ...", flush=True)
            results.append((label, grade(inbox, ASSIGNMENT, out=scratch / f"run{number}",
                                         limits=limits, root=ROOT, echo=quiet, **options)))
        if args.postgres:
            import pg_server

            if pg_server.missing():
                sys.exit(f"cannot run --postgres: {pg_server.missing()}")
            with pg_server.server() as url:
                print("grading: --jobs 2, sandboxed, PostgreSQL ...", flush=True)
                results.append(("--jobs 2, sandboxed, PostgreSQL", grade(
                    inbox, ASSIGNMENT, out=scratch / "pg", limits=limits, root=ROOT,
                    echo=quiet, jobs=2, db_url=url)))
        csvs = [tuple((run.out / name).read_bytes() for name in ("grades.csv", "problems.csv"))
                for _, run in results]
    return report(args.students, results, all(c == csvs[0] for c in csvs))


def report(students, results, same):
    anchor = results[0][1].seconds / students
    print(f"\n{students} submissions of {ASSIGNMENT}, half right, half partly wrong; "
          "sqlite unless named")
    print(f"{'run':<34} {'s/submission':>12} {'per hour':>9} {'time vs anchor':>15} "
          f"{'throughput vs anchor':>21}")
    for label, run in results:
        per = run.seconds / students
        print(f"{label:<34} {per:12.2f} {3600 / per:9.0f} {per / anchor:14.2f}x "
              f"{anchor / per:20.2f}x")
    no_sandbox = results[1][1].seconds / students
    two = results[2][1].seconds / students
    overhead = anchor / no_sandbox - 1
    print(f"sandbox overhead per submission: {overhead:+.1%} (target: at most +10%)")
    print(f"--jobs 2 throughput: {anchor / two:.2f}x the anchor's (target: at least 1.6x)")
    print(f"grades.csv and problems.csv identical across runs: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
