"""Scores out of the gradebook: grades.csv, problems.csv and the summary.

grades.csv holds only submissions that were graded; everything that was not
graded normally is in problems.csv with its reason, so a failure never reads
as a score of 0. Both files are sorted and hold no times of the run (the
submission times grades.csv shows with a deadlines file come from the
inbox), so grading the same inbox twice writes the same bytes.
"""

import csv
from dataclasses import astuple, dataclass
from pathlib import Path

GRADED, FLAGGED, NOT_GRADED = "graded", "flagged", "not graded"


@dataclass(frozen=True, order=True)
class Problem:
    """One row of problems.csv: a note, a flag or the reason nothing was graded."""

    student: str
    file: str           # the files the student handed in, comma-separated
    status: str         # GRADED (a note beside the score), FLAGGED or NOT_GRADED
    reason: str


def _number(value):
    return f"{value:g}"


def scores(db_url, course_id, assignment, students):
    """(exercise ids in notebook order, {student: {exercise: score}}, {exercise: max})."""
    from nbgrader.api import Gradebook

    with Gradebook(db_url, course_id) as gradebook:
        found = gradebook.find_assignment(assignment)
        exercises, maxima = [], {}
        for notebook in found.notebooks:
            for cell in sorted(notebook.grade_cells, key=lambda c: _order(notebook, c.name)):
                if cell.cell_type == "code" or cell.max_score:
                    exercises.append(cell.name)
                    maxima[cell.name] = cell.max_score
        table = {}
        for student in students:
            submission = gradebook.find_submission(assignment, student)
            row = {}
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    row[grade.name] = grade.score
            table[student] = row
    return exercises, table, maxima


def lateness(db_url, course_id, assignment, students):
    """{student: (submitted: naive UTC or None, seconds late, penalty)} from the gradebook."""
    from nbgrader.api import Gradebook

    with Gradebook(db_url, course_id) as gradebook:
        found = {}
        for student in students:
            submission = gradebook.find_submission(assignment, student)
            found[student] = (submission.timestamp, submission.total_seconds_late,
                              submission.late_submission_penalty or 0.0)
    return found


def _order(notebook, name):
    names = [cell.name for cell in notebook.source_cells]
    return names.index(name) if name in names else len(names)


def write_grades(path, assignment, exercises, table, maxima, late=None, deadline=None):
    """grades.csv; with ``late`` (from ``lateness``) and its ``deadline``, four
    more columns: submitted (in the deadline's zone), days_late, penalty and
    final (total, the raw score, less the penalty)."""
    total_max = sum(maxima.values())
    with Path(path).open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        extra = ["submitted", "days_late", "penalty", "final"] if late is not None else []
        writer.writerow(["student", "assignment", *exercises, "total", "max", *extra])
        for student in sorted(table):
            row = table[student]
            total = sum(row[e] for e in exercises)
            line = [student, assignment, *(_number(row[e]) for e in exercises),
                    _number(total), _number(total_max)]
            if late is not None:
                submitted, seconds, penalty = late[student]
                line += [_local(submitted, deadline.timezone),
                         deadline.policy.days_late(seconds) if submitted else "",
                         _number(penalty), _number(total - penalty)]
            writer.writerow(line)


def _local(naive_utc, tz):
    from .deadlines import UTC

    if naive_utc is None:
        return ""
    return naive_utc.replace(tzinfo=UTC).astimezone(tz).isoformat(timespec="seconds")


def write_problems(path, problems):
    """problems.csv from ``Problem`` rows, sorted (student, file, status, reason)."""
    with Path(path).open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["student", "file", "status", "reason"])
        for problem in sorted(problems):
            writer.writerow(astuple(problem))


def summary_text(exercises, table, maxima, width=40):
    """A histogram of totals and each exercise's pass rate, for the terminal."""
    total_max = sum(maxima.values())
    totals = [sum(row[e] for e in exercises) for row in table.values()]
    lines = [f"{len(totals)} graded, totals out of {_number(total_max)}"]
    if not totals:
        return "\n".join(lines)
    bins = _bins(total_max)
    counts = [sum(lo <= t < hi or (hi == bins[-1][1] and t == hi) for t in totals)
              for lo, hi in bins]
    scale = max(counts) or 1
    for (lo, hi), count in zip(bins, counts, strict=True):
        bar = "#" * round(width * count / scale)
        lines.append(f"  {_number(lo):>4}-{_number(hi):<4} {bar:<{width}} {count}")
    lines.append("pass rate (full marks) per exercise:")
    for exercise in exercises:
        passed = sum(row[exercise] >= maxima[exercise] for row in table.values())
        lines.append(f"  {exercise:<32} {passed / len(totals):6.0%}  ({passed}/{len(totals)})")
    lines.append(f"mean total {sum(totals) / len(totals):.2f}")
    return "\n".join(lines)


def _bins(total_max, count=10):
    step = max(total_max / count, 1)
    edges, low = [], 0.0
    while low < total_max:
        edges.append((low, min(low + step, total_max)))
        low += step
    return edges or [(0.0, 1.0)]


def summary_png(path, assignment, exercises, table, maxima):
    import matplotlib
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    totals = [sum(row[e] for e in exercises) for row in table.values()]
    rates = [sum(row[e] >= maxima[e] for row in table.values()) / max(len(table), 1)
             for e in exercises]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    left.hist(totals, bins=[lo for lo, _ in _bins(sum(maxima.values()))] + [sum(maxima.values())])
    left.set_xlabel("total score")
    left.set_ylabel("students")
    left.set_title(f"{assignment}: totals ({len(totals)} graded)")
    right.barh(exercises[::-1], rates[::-1])
    right.set_xlim(0, 1)
    right.set_xlabel("share with full marks")
    right.set_title("pass rate per exercise")
    fig.tight_layout()
    fig.savefig(path, dpi=100, metadata={"Software": None})
    plt.close(fig)
