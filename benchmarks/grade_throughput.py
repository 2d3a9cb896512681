"""Throughput of `rlbook grade --jobs 2` (PostgreSQL) against the anchor `--jobs 1` (sqlite).

Grades the same class of chapter-01 submissions both ways, prints submissions
per hour and the ratio, and exits 1 unless both runs wrote the same grades.csv.
Run: .venv/bin/python benchmarks/grade_throughput.py [--students 6]
"""

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import rlbook  # noqa: E402,F401  (before TensorFlow, like everywhere else)
import nbformat  # noqa: E402
import pg_server  # noqa: E402
from grading_corpus import ASSIGNMENT, NOTEBOOK, Corpus  # noqa: E402
from rlbook.grading.grade import Limits, grade  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--students", type=int, default=6)
    args = parser.parse_args()
    if pg_server.missing():
        sys.exit(f"cannot run: {pg_server.missing()}")
    corpus = Corpus(ROOT)
    # Alternate right and partly wrong answers, so the CSV has something to differ in.
    wrong = corpus.student(sample_action="def sample_action(p, rng):\n    return 1\n")
    limits = Limits(cell_timeout=60, timeout=600)
    with tempfile.TemporaryDirectory(prefix="rlbook-bench-") as scratch:
        scratch = Path(scratch)
        inbox = scratch / "inbox"
        inbox.mkdir()
        for n in range(args.students):
            notebook = corpus.student() if n % 2 == 0 else wrong
            nbformat.write(notebook, str(inbox / f"s{n:02d}_{NOTEBOOK}.ipynb"))
        quiet = lambda *a: None  # noqa: E731
        one = grade(inbox, ASSIGNMENT, out=scratch / "one", limits=limits, root=ROOT, echo=quiet)
        with pg_server.server() as url:
            two = grade(inbox, ASSIGNMENT, out=scratch / "two", limits=limits, root=ROOT,
                        echo=quiet, jobs=2, db_url=url)
        same = (one.out / "grades.csv").read_bytes() == (two.out / "grades.csv").read_bytes()
    rate = {jobs: 3600 * args.students / run.seconds for jobs, run in ((1, one), (2, two))}
    print(f"{args.students} submissions of {ASSIGNMENT}")
    print(f"anchor --jobs 1 (sqlite):     {one.seconds:7.1f} s  "
          f"{one.seconds / args.students:5.1f} s/submission  {rate[1]:6.0f}/hour")
    print(f"--jobs 2 (PostgreSQL):        {two.seconds:7.1f} s  "
          f"{two.seconds / args.students:5.1f} s/submission  {rate[2]:6.0f}/hour")
    print(f"throughput ratio jobs 2 / jobs 1: {rate[2] / rate[1]:.2f}x")
    print(f"grades.csv identical: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
