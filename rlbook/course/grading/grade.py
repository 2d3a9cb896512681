"""`rlbook grade`: a folder or zip of submissions in, gradebook, feedback and CSVs out.

collect (name, parse, repair) -> nbgrader generate_assignment (the gradebook
entry) -> for each submission, in this trusted process: prepare the notebook
(tests restored), scan it for tampering -> the untrusted step, in a pool of
worker processes: execute it in a sandboxed kernel -> back here, one at a
time: check the probe, score with nbgrader (late penalties from a deadlines
file included), write feedback -> grades.csv, canvas.csv, problems.csv,
summary.png and the same summary in the terminal.

Only this process opens the gradebook, so ``--jobs N`` works with the
default sqlite file as well as with PostgreSQL (``--db-url``).
"""

import multiprocessing
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .. import markers
from ..workbook import find_root
from . import autograde, canvas, collect, course, executed, leaks, report, tamper
from . import deadlines as deadlines_file
from .probe import Probe, baseline_code
from .report import FLAGGED, GRADED, NOT_GRADED, Problem
from .restore import instructor_source
from .sandbox import check
from .sandbox.execute import execute
from .sandbox.limits import Limits

__all__ = ["Limits", "GradingResult", "grade"]

NO_SANDBOX_WARNING = ("WARNING: --no-sandbox: student code runs as you, with your files, "
                      "the gradebook and the network in reach; use it only for code you trust")


@dataclass
class GradingResult:
    out: Path
    graded: list = field(default_factory=list)      # autograde.Outcome
    problems: list = field(default_factory=list)    # report.Problem
    summary: str = ""
    seconds: float = 0.0                            # wall time of the autograding
    sandboxed: bool = True
    sandbox_uids: list = field(default_factory=list)  # the uids its sandboxes ran as


def grade(inbox, assignment, out=None, roster=None, limits=None, root=None, echo=print,
          jobs=1, db_url=None, sandbox=True, deadlines=None, canvas_column=None):
    """Grade every submission in ``inbox``; see the module docstring.

    ``jobs`` runs that many submissions at once. ``sandbox=False`` runs
    student code without isolation (after a warning); otherwise a machine
    that cannot sandbox raises ``SandboxUnavailable`` with the fix.
    ``deadlines`` is a TOML file of due dates, extensions and the late
    policy (deadlines.py); ``canvas_column`` names the assignment's column
    in canvas.csv (default: the assignment id).
    """
    if not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"--jobs must be a whole number of at least 1, got {jobs!r}")
    if db_url and db_url.startswith("postgresql://"):
        # SQLAlchemy 2.1 reads a bare postgresql:// as psycopg 3; the lock has psycopg2.
        db_url = "postgresql+psycopg2://" + db_url[len("postgresql://"):]
    root = find_root(root)
    limits = limits or Limits()
    inbox = Path(inbox)
    if not inbox.exists():
        raise FileNotFoundError(f"no submissions at {inbox}: give a folder or a .zip")
    if sandbox:
        check.require()
    else:
        echo(NO_SANDBOX_WARNING)
    course.tools_on_path()
    roster_path = roster
    roster = collect.read_roster(roster) if roster else None
    deadline = deadlines_file.load(deadlines, assignment, roster) if deadlines else None
    out = course.prepare(root, assignment, Path(out or f"grading/{assignment}"))
    with tempfile.TemporaryDirectory(prefix="rlbook-grade-") as scratch:
        config = course.nbgrader_config(root, out, db_url, Path(scratch) / "executed",
                                        deadline)
        released = course.generate(config, assignment, roster)
        submissions, rejected = collect.collect(inbox, released, roster, assignment)
        times = _submission_times(submissions, deadline)
        for submission in submissions:
            course.submit(out, assignment, submission, times.get(submission.student))
        if deadline is not None:
            course.set_deadline(config, deadline, {s.student for s in submissions})
        result = GradingResult(out=out, sandboxed=sandbox)
        result.problems = [Problem(r.student, r.file, NOT_GRADED, r.reason) for r in rejected]
        started = time.monotonic()
        runs = _Grader(config, assignment, limits, jobs, sandbox, echo, result).run(submissions)
        elapsed = time.monotonic() - started
    return _finish(result, config, assignment, runs, elapsed, jobs, sandbox, echo,
                   deadline, canvas_column or assignment, roster_path)


def _submission_times(submissions, deadline):
    """{student: aware time} for the late rules: the latest of the student's
    notebooks; a note on each submission whose time could not be found."""
    times = {}
    if deadline is None:
        return times
    for submission in submissions:
        when, note = deadlines_file.submission_time(submission.time, deadline.timezone)
        if note:
            submission.notes.append(note)
        elif submission.student not in times or when > times[submission.student]:
            times[submission.student] = when
    return times


class _Grader:
    """Prepares, dispatches and scores; everything here is trusted."""

    def __init__(self, config, assignment, limits, jobs, sandbox, echo, result):
        from nbgrader.apps import NbGraderAPI
        from nbgrader.coursedir import CourseDirectory

        self.config, self.assignment, self.limits = config, assignment, limits
        self.jobs, self.sandbox, self.echo, self.result = jobs, sandbox, echo, result
        self.api = NbGraderAPI(CourseDirectory(config=config), config=config)
        self.out = Path(config.CourseDirectory.root)
        self.executed_dir = Path(config.UseExecuted.executed_dir)
        self.files = _working_files(self.out / "release" / assignment)
        self.contexts = {}

    def context(self, notebook):
        if notebook not in self.contexts:
            source = instructor_source(self.out / "source", self.assignment, notebook)
            release = instructor_source(self.out / "release", self.assignment, notebook)
            self.contexts[notebook] = (tamper.Context(source, release),
                                       leaks.secret_lines(source, release,
                                                          markers.hidden_tests(self.config)))
        return self.contexts[notebook]

    def run(self, submissions):
        from rlbook.progress import progress

        by_student = {}
        for submission in submissions:
            by_student.setdefault(submission.student, []).append(submission)
        self.by_student = by_student
        self.pending = {s: len(subs) for s, subs in by_student.items()}
        self.found = {s: {"flags": [], "notes": [], "failure": None, "seconds": 0.0}
                      for s in by_student}
        with progress(total=len(by_student), desc=f"grading {self.assignment}",
                      unit="student") as self.bar:
            self.dispatch(self._prepared(by_student))
        return len(by_student)

    def _prepared(self, by_student):
        """(key, task) for each submission, prepared one at a time: the pool
        starts running the first while the next ones are prepared."""
        for student, subs in sorted(by_student.items()):
            for submission in subs:
                release = instructor_source(self.out / "release", self.assignment,
                                            submission.notebook)
                self.found[student]["flags"] += [
                    str(f) for f in tamper.metadata_findings(submission.content, release)]
                task = self.prepare(student, submission.notebook)
                if task is None:
                    self.finish_notebook(student)
                else:
                    yield (student, submission.notebook), task

    def prepare(self, student, notebook):
        """(notebook JSON, execute() keyword arguments, probe), or None on failure."""
        try:
            nb = autograde.prepare(self.config, self.assignment, student, notebook)
        except Exception as exc:  # metadata nbgrader cannot read, for one
            self.found[student]["failure"] = \
                f"could not prepare the notebook: {type(exc).__name__}: {exc}"[:400]
            return None
        context, _ = self.context(notebook)
        self.found[student]["flags"] += [str(f) for f in tamper.scan(nb, context)]
        probe = Probe(context.aliases)
        kwargs = {"files": self.files, "limits": self.limits.as_dict(),
                  "before": [baseline_code()], "after": probe.after_cells(),
                  "private": autograde.test_cells(nb), "sandboxed": self.sandbox,
                  "env": {"NBGRADER_EXECUTION": "autograde"}}
        return nbformat.writes(nb), kwargs, probe

    def dispatch(self, tasks):
        left, fresh = {}, iter(tasks)
        for _ in range(3):   # a worker process that died takes the pool with it: retry
            context = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(max_workers=self.jobs, mp_context=context) as pool:
                running = {}
                try:
                    for key, (nb, kwargs, _) in sorted(left.items()):
                        running[pool.submit(execute, nb, **kwargs)] = key
                    for key, task in fresh:
                        left[key] = task
                        running[pool.submit(execute, task[0], **task[1])] = key
                    for future in as_completed(running):
                        key = running[future]
                        self.collect(key, left.pop(key)[2], future.result())
                except BrokenProcessPool:
                    continue
            return
        for key in list(left) + [key for key, _ in fresh]:
            self.found[key[0]]["failure"] = "the grading worker process died"
            self.finish_notebook(key[0])

    def collect(self, key, probe, run):
        student, notebook = key
        found = self.found[student]
        found["seconds"] += run["seconds"]
        if run.get("sandbox_uid") is not None:
            self.result.sandbox_uids.append(run["sandbox_uid"])
        if run["failure"]:
            found["failure"] = run["failure"]["message"] + "; nothing was graded"
            return self.finish_notebook(student)
        nb = nbformat.reads(run["notebook"], as_version=4)
        try:
            evidence = probe.verdict(run["before"], run["after"])
        except RuntimeError as exc:
            found["failure"] = f"the grader's integrity probe failed: {exc}"[:400]
            return self.finish_notebook(student)
        found["flags"] += _new_evidence(found["flags"], evidence)
        context, secrets = self.context(notebook)
        students_cells = {index for index, _ in tamper.student_cells(nb, context)}
        for index, _ in leaks.leaking_outputs(nb, secrets):
            if index in students_cells:
                found["flags"].append("printed lines of the hidden tests "
                                      f"({tamper.cell_label(nb.cells[index], index)})")
        found["notes"] += autograde.limit_notes(nb, self.limits.memory_mb)
        executed.save(self.executed_dir, student, notebook, run)
        self.finish_notebook(student)

    def finish_notebook(self, student):
        self.pending[student] -= 1
        if self.pending[student] == 0:
            self.done(student)

    def done(self, student):
        found = self.found[student]
        started = time.monotonic()
        graded, reason = False, found["failure"]
        if reason is None:
            graded, reason = autograde.score(self.api, self.assignment, student,
                                             self.out / "logs")
        outcome = autograde.Outcome(student, graded, found["seconds"] + time.monotonic()
                                    - started, reason or "", found["notes"],
                                    sorted(dict.fromkeys(found["flags"])), found["seconds"])
        self.record(outcome)

    def record(self, outcome):
        student, result = outcome.student, self.result
        subs = self.by_student[student]
        handed = ", ".join(s.file for s in subs)
        notes = [n for s in subs for n in s.notes] + outcome.notes
        if outcome.graded:
            result.graded.append(outcome)
            result.problems += [Problem(student, handed, GRADED, note) for note in notes]
            result.problems += [Problem(student, handed, FLAGGED, flag) for flag in outcome.flags]
        else:
            autograde.forget(self.config, self.assignment, student)
            result.problems.append(Problem(student, handed, NOT_GRADED, outcome.reason))
        status = ("FLAGGED" if outcome.flags else "graded") if outcome.graded \
            else "NOT GRADED: " + outcome.reason
        self.bar.write(f"{student:<20} {outcome.seconds:6.1f} s  {status}")
        self.bar.update()


def _new_evidence(static, runtime):
    """Run-time evidence not already explained by a static finding on the same name."""
    said = " ".join(static)
    fresh = []
    for item in runtime:
        name = item.split(" was ")[0].split(" says ")[0]
        if name.startswith("`") or f"changes {name} " not in said:
            fresh.append(item + " (found by the probe after the notebook ran)")
    return fresh


def _working_files(folder):
    """{relative path: bytes} of the assignment's files other than notebooks."""
    folder = Path(folder)
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*"))
            if p.is_file() and p.suffix != ".ipynb" and ".ipynb_checkpoints" not in p.parts}


def _finish(result, config, assignment, runs, elapsed, jobs, sandbox, echo, deadline=None,
            canvas_column=None, roster_path=None):
    out = result.out
    students = sorted(o.student for o in result.graded)
    db_url, course_id = config.CourseDirectory.db_url, config.CourseDirectory.course_id
    exercises, table, maxima = report.scores(db_url, course_id, assignment, students)
    late = report.lateness(db_url, course_id, assignment, students) if deadline else None
    report.write_grades(out / "grades.csv", assignment, exercises, table, maxima, late,
                        deadline)
    finals = {s: sum(row[e] for e in exercises) - (late[s][2] if late else 0)
              for s, row in table.items()}
    canvas.write_canvas(out / "canvas.csv", canvas_column or assignment, finals,
                        sum(maxima.values()),
                        canvas.canvas_people(roster_path) if roster_path else None)
    report.write_problems(out / "problems.csv", result.problems)
    report.summary_png(out / "summary.png", assignment, exercises, table, maxima)
    result.summary = report.summary_text(exercises, table, maxima)
    timing = (f"{runs} submissions autograded in {elapsed:.1f} s with {jobs} job(s): "
              f"{elapsed / runs:.1f} s per submission, {3600 * runs / elapsed:.0f} per hour"
              if runs and elapsed else "nothing to autograde")
    result.seconds = elapsed
    (out / "grading.log").write_text(
        ("" if sandbox else NO_SANDBOX_WARNING + "\n")
        + "".join(f"{o.student}\t{o.seconds:.1f} s\t(run {o.run_seconds:.1f} s, "
                  f"scoring {o.seconds - o.run_seconds:.1f} s)\n"
                  for o in sorted(result.graded, key=lambda o: o.student))
        + timing + "\n")
    flagged = len({p.student for p in result.problems if p.status == FLAGGED})
    echo(result.summary)
    echo(timing)
    not_graded = sum(1 for p in result.problems if p.status == NOT_GRADED)
    echo(f"{not_graded} not graded, {flagged} flagged for review, "
         f"{len(result.problems) - not_graded} notes and flags: {out / 'problems.csv'}")
    echo(f"grades: {out / 'grades.csv'}   for Canvas: {out / 'canvas.csv'}   "
         f"feedback: {out / 'feedback'}   "
         f"gradebook: {out / 'gradebook.db'}   summary: {out / 'summary.png'}")
    return result
