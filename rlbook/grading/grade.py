"""`rlbook grade`: a folder or zip of submissions in, gradebook, feedback and CSVs out.

collect (name, parse, repair) -> nbgrader generate_assignment (the gradebook
entry) -> one autograde process per student -> feedback -> grades.csv,
problems.csv, summary.png and the same summary in the terminal.
"""

import tempfile
from concurrent.futures import ThreadPoolExecutor, as_completed
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import autograde, collect, course, report
from .release import find_root


@dataclass
class Limits:
    cell_timeout: float = 120      # seconds per cell (nbgrader's Execute.timeout)
    timeout: float = 900           # seconds for a whole notebook, kernel start included
    memory_mb: int = 6144          # address space of the grader and its kernel


@dataclass
class GradingResult:
    out: Path
    graded: list = field(default_factory=list)      # autograde.Outcome
    problems: list = field(default_factory=list)    # (student, file, status, reason)
    summary: str = ""
    seconds: float = 0.0                            # wall time of the autograding


def grade(inbox, assignment, out=None, roster=None, limits=None, root=None, echo=print,
          jobs=1, db_url=None):
    """Grade every submission in ``inbox``; see the module docstring.

    ``jobs`` > 1 grades that many students at once, each in its own process;
    it needs ``db_url`` to name a database server (PostgreSQL), because
    concurrent nbgrader processes corrupt or lock a sqlite gradebook.
    """
    if jobs < 1:
        raise ValueError(f"--jobs must be at least 1, got {jobs}")
    if db_url and db_url.startswith("postgresql://"):
        # SQLAlchemy 2.1 reads a bare postgresql:// as psycopg 3; the lock has psycopg2.
        db_url = "postgresql+psycopg2://" + db_url[len("postgresql://"):]
    if jobs > 1 and (db_url is None or db_url.startswith("sqlite")):
        raise ValueError(
            f"--jobs {jobs} needs a database server: sqlite is not safe for concurrent "
            "graders. Pass --db-url postgresql+psycopg2://USER@localhost/DBNAME, or use --jobs 1")
    root = find_root(root)
    course.tools_on_path()
    limits = limits or Limits()
    inbox = Path(inbox)
    if not inbox.exists():
        raise FileNotFoundError(f"no submissions at {inbox}: give a folder or a .zip")
    out = course.prepare(root, assignment, Path(out or f"grading/{assignment}"))
    roster = collect.read_roster(roster) if roster else None
    config = course.nbgrader_config(root, out, db_url)
    released = course.generate(config, assignment, roster)
    submissions, rejected = collect.collect(inbox, released, roster)
    # The assignment has one notebook per student in this workbook; a student
    # is graded once all the notebooks they handed in are in place.
    for submission in submissions:
        course.submit(out, assignment, submission)
    result = GradingResult(out=out)
    result.problems = [(r.student, r.file, "not graded", r.reason) for r in rejected]
    files = {}
    for submission in submissions:
        files.setdefault(submission.student, []).append(submission)

    settings = {"root": str(root), "out": str(out.resolve()),
                "db_url": config.CourseDirectory.db_url,
                "cell_timeout": limits.cell_timeout, "memory_mb": limits.memory_mb}
    from ..progress import progress

    def record(outcome):
        student = outcome.student
        handed = ", ".join(s.file for s in files[student])
        notes = [n for s in files[student] for n in s.notes] + outcome.notes
        if outcome.graded:
            result.graded.append(outcome)
            for note in notes:
                result.problems.append((student, handed, "graded", note))
        else:
            autograde.forget(config, assignment, student)
            result.problems.append((student, handed, "not graded", outcome.reason))
        status = "graded" if outcome.graded else "NOT GRADED: " + outcome.reason
        bar.write(f"{student:<20} {outcome.seconds:6.1f} s  {status}")
        bar.update()

    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="rlbook-grade-") as scratch, \
            progress(total=len(files), desc=f"grading {assignment}", unit="student") as bar, \
            ThreadPoolExecutor(max_workers=jobs) as pool:
        # Each thread only waits on its own grading process.
        running = [pool.submit(autograde.grade_submission, settings, assignment, student,
                               limits.timeout, scratch) for student in sorted(files)]
        for future in as_completed(running):
            record(future.result())
    elapsed = time.monotonic() - started

    students = sorted(o.student for o in result.graded)
    exercises, table, maxima = report.scores(
        config.CourseDirectory.db_url, config.CourseDirectory.course_id, assignment, students)
    report.write_grades(out / "grades.csv", assignment, exercises, table, maxima)
    report.write_problems(out / "problems.csv", result.problems)
    report.summary_png(out / "summary.png", assignment, exercises, table, maxima)
    result.summary = report.summary_text(exercises, table, maxima)
    runs = len(files)
    timing = (f"{runs} submissions autograded in {elapsed:.1f} s with {jobs} job(s): "
              f"{elapsed / runs:.1f} s per submission, {3600 * runs / elapsed:.0f} per hour"
              if runs else "nothing to autograde")
    result.seconds = elapsed
    (out / "grading.log").write_text("".join(
        f"{o.student}\t{o.seconds:.1f} s\n" for o in sorted(result.graded, key=lambda o: o.student))
        + timing + "\n")
    echo(result.summary)
    echo(timing)
    not_graded = sum(1 for p in result.problems if p[2] == "not graded")
    echo(f"{not_graded} not graded, {len(result.problems) - not_graded} notes: "
         f"{out / 'problems.csv'}")
    echo(f"grades: {out / 'grades.csv'}   feedback: {out / 'feedback'}   "
         f"gradebook: {out / 'gradebook.db'}   summary: {out / 'summary.png'}")
    return result
