"""The `rlbook` command."""

import argparse
import sys


def _release(args):
    from rlbook.course import release

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


def _doctor(args):
    from rlbook import doctor

    findings = doctor.check(quick=args.quick, lock=args.lock)
    return 1 if any(f.status == doctor.FAIL for f in findings) else 0


def _badges(args):
    from rlbook.course import badges
    from rlbook.course.workbook import find_root

    root = find_root()
    if args.check:
        stale = badges.stale(root)
        for path in stale:
            print(f"out of date: {path.relative_to(root)}")
        if stale:
            print("fix: run `rlbook badges` and commit solutions/ and notebooks/")
            return 1
        print("every notebook's badges and launch cell match [tool.rlbook]")
        return 0
    changed = badges.apply(root)
    for path in changed:
        print(f"updated {path.relative_to(root)} and its student version")
    if not changed:
        print("badges and launch cells already match [tool.rlbook]")
    return 0


def _grade(args):
    from rlbook.course.grading.grade import Limits, grade
    from rlbook.course.grading.sandbox.check import SandboxUnavailable

    try:
        limits = Limits(cell_timeout=args.cell_timeout, timeout=args.timeout,
                        memory_mb=args.memory_mb, processes=args.processes,
                        disk_mb=args.disk_mb)
        result = grade(args.submissions, args.assignment, out=args.out, roster=args.roster,
                       limits=limits, jobs=args.jobs, db_url=args.db_url,
                       sandbox=not args.no_sandbox, deadlines=args.deadlines,
                       canvas_column=args.canvas_column)
    except (ValueError, FileNotFoundError, SandboxUnavailable) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0 if result.graded or not result.problems else 1


def _gallery(args):
    from pathlib import Path

    from rlbook.course import gallery
    from rlbook.course.workbook import find_root

    try:
        root = find_root()
        sources = gallery.select(root, args.chapters)
        out = gallery.check_out(Path(args.out) if args.out else root / "gallery")
        gallery.check_timeout(args.timeout)
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    results = gallery.build(sources, out, mode=args.mode, timeout=args.timeout, root=root)
    return gallery.report(results, out)


def _similarity(args):
    from rlbook.course.similarity import similarity

    try:
        similarity(args.assignment, args.submissions, out=args.out, roster=args.roster,
                   top=args.top, common=args.common)
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="rlbook", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    rel = commands.add_parser(
        "release", help="regenerate the student notebooks in notebooks/ from solutions/")
    rel.add_argument("assignment", nargs="*", help="only these assignments (default: all)")
    rel.add_argument("--check", action="store_true",
                     help="do not write; exit 1 if notebooks/ differs from a fresh release")
    rel.set_defaults(func=_release)

    doc = commands.add_parser(
        "doctor", help="check Python, packages, Keras, ROMs, video, GPU and memory; print fixes")
    doc.add_argument("--quick", action="store_true",
                     help="the fast form the notebooks run (no TensorFlow import)")
    doc.add_argument("--lock", help="compare against this lock file (default: the checkout's)")
    doc.set_defaults(func=_doctor)

    badge = commands.add_parser(
        "badges", help="rewrite the Colab/Binder badges and launch cells from [tool.rlbook]")
    badge.add_argument("--check", action="store_true",
                       help="do not write; exit 1 if a notebook is out of date")
    badge.set_defaults(func=_badges)

    gra = commands.add_parser(
        "grade", help="autograde a folder or zip of submissions with nbgrader",
        description="Autograde every <student_id>_<notebook>.ipynb in SUBMISSIONS. Writes "
                    "gradebook.db, feedback/, grades.csv, canvas.csv, problems.csv and "
                    "summary.png "
                    "into --out. Each submission runs in a bubblewrap sandbox: no network, "
                    "no course files, its own uid, processes and scratch space.")
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
                     help="address space of each process in a submission's sandbox, and "
                          "the resident memory of all of them together (default 6144)")
    gra.add_argument("--processes", type=int, default=0,
                     help="processes and threads a submission may run at once "
                          "(default 0: 16 per CPU, at least 512)")
    gra.add_argument("--disk-mb", type=int, default=512,
                     help="size of a submission's writable home and of its /tmp (default 512)")
    gra.add_argument("--jobs", type=int, default=1,
                     help="grade this many students at once (default 1)")
    gra.add_argument("--db-url", help="nbgrader gradebook URL, for example "
                     "postgresql+psycopg2://grader@localhost/rlbook (default: sqlite in --out)")
    gra.add_argument("--no-sandbox", action="store_true",
                     help="run student code without the sandbox, as you (for machines "
                          "without bubblewrap; a warning goes to grading.log)")
    gra.add_argument("--deadlines", help="TOML file with the due date, extensions and late "
                     "policy (docs/grading.md); adds submitted, days_late, penalty and final "
                     "to grades.csv and a note on lateness to the feedback")
    gra.add_argument("--canvas-column", help="the assignment's column in canvas.csv, e.g. "
                     "'Homework 1 (12345)' with Canvas's assignment id (default: the "
                     "assignment id)")
    gra.set_defaults(func=_grade)

    sim = commands.add_parser(
        "similarity", help="rank pairs of students whose answer cells look alike",
        description="Compare every pair of students' answer cells (nbgrader solution cells) "
                    "in SUBMISSIONS, names, comments and spacing normalised and the "
                    "release's stubs left out. Writes pairs.csv and report.html (the top "
                    "pairs side by side, matches marked, a histogram of scores) into --out.")
    sim.add_argument("assignment", help="the assignment id, a folder of notebooks/")
    sim.add_argument("submissions", help="a folder or a .zip of submitted notebooks "
                     "(named as for `rlbook grade`)")
    sim.add_argument("--out", help="the report's folder (default: similarity/<assignment>)")
    sim.add_argument("--roster", help="CSV with a student_id column, as for `rlbook grade`")
    sim.add_argument("--top", type=int, default=20,
                     help="pairs shown side by side in the report (default 20)")
    sim.add_argument("--common", type=int, default=10,
                     help="code found in more students' answers than this is common code "
                          "and ignored (default 10, as MOSS)")
    sim.set_defaults(func=_similarity)

    gal = commands.add_parser(
        "gallery", help="execute the chapters and write an HTML page of each (plots, videos)",
        description="Execute each chapter's source from solutions/ in a scratch folder and "
                    "export it to HTML with its plots and videos, answers blanked as in "
                    "the student version, plus an index.html. Exits 1 if a chapter failed.")
    gal.add_argument("--mode", choices=["quick", "full"], default="quick",
                     help="quick (RLBOOK_QUICK=1, a minute or two a chapter) or full "
                          "(RLBOOK_QUICK=0, the real training runs); default quick")
    gal.add_argument("--chapters", nargs="+", metavar="ID",
                     help="only these chapters, e.g. 01 03 or 05_tf_agents_cartpole "
                          "(default: all)")
    gal.add_argument("--out", help="the gallery folder (default: gallery/ in the checkout)")
    gal.add_argument("--timeout", type=float,
                     help="seconds one cell may run before the chapter counts as failed "
                          "(default 600 in quick mode, no limit in full mode; 0: no limit)")
    gal.set_defaults(func=_gallery)

    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
