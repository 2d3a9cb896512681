"""The `rlbook` command."""

import argparse
import sys


def _release(args):
    from rlbook.grading import release

    if args.check:
        problems = release.check_release()
        for problem in problems:
            print(f"out of sync: {problem}")
        if problems:
            print("fix: run `make release` and commit notebooks/")
            return 1
        print("notebooks/ is in sync with solutions/")
        return 0
    for path in release.release(only=args.assignment or None):
        print(f"wrote {path}")
    return 0


def _grade(args):
    from rlbook.grading.grade import Limits, grade

    limits = Limits(cell_timeout=args.cell_timeout, timeout=args.timeout,
                    memory_mb=args.memory_mb)
    try:
        result = grade(args.submissions, args.assignment, out=args.out, roster=args.roster,
                       limits=limits, jobs=args.jobs, db_url=args.db_url)
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0 if result.graded or not result.problems else 1


def main(argv=None):
    parser = argparse.ArgumentParser(prog="rlbook", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    rel = commands.add_parser(
        "release", help="regenerate the student notebooks in notebooks/ from solutions/")
    rel.add_argument("assignment", nargs="*", help="only these assignments (default: all)")
    rel.add_argument("--check", action="store_true",
                     help="do not write; exit 1 if notebooks/ differs from a fresh release")
    rel.set_defaults(func=_release)

    gra = commands.add_parser(
        "grade", help="autograde a folder or zip of submissions with nbgrader",
        description="Autograde every <student_id>_<notebook>.ipynb in SUBMISSIONS. Writes "
                    "gradebook.db, feedback/, grades.csv, problems.csv and summary.png "
                    "into --out.")
    gra.add_argument("assignment", help="the assignment id, a folder of solutions/")
    gra.add_argument("submissions", help="a folder or a .zip of submitted notebooks")
    gra.add_argument("--out", help="the grading folder (default: grading/<assignment>)")
    gra.add_argument("--roster", help="CSV with a student_id column "
                     "(optional first_name, last_name, email)")
    gra.add_argument("--cell-timeout", type=float, default=120,
                     help="seconds a cell may run before it is interrupted (default 120)")
    gra.add_argument("--timeout", type=float, default=900,
                     help="seconds a whole notebook may take (default 900)")
    gra.add_argument("--memory-mb", type=int, default=6144,
                     help="address-space limit of each grading process and kernel "
                          "(default 6144)")
    gra.add_argument("--jobs", type=int, default=1,
                     help="grade this many students at once (needs --db-url)")
    gra.add_argument("--db-url", help="nbgrader gradebook URL, for example "
                     "postgresql://grader@localhost/rlbook (default: sqlite in --out)")
    gra.set_defaults(func=_grade)

    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
