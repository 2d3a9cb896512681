"""The late policy inside nbgrader: the penalty at scoring, the note in the feedback.

nbgrader already keeps what lateness needs in its gradebook: the
assignment's due date, each submission's time (from ``timestamp.txt``) and
a per-student extension, and it stores a late penalty per notebook. Its own
policies are only "none" and "zero", so ``LatePenalty`` takes the place of
its ``AssignLatePenalties`` with the policy of the deadlines file (by default
"none", which is what nbgrader's default does). ``LateNote`` opens the
feedback with when the work came in, when it was due and what that cost.
"""

from nbformat.v4 import new_markdown_cell
from nbgrader.api import Gradebook
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Dict, Unicode

from .deadlines import UTC, LatePolicy


def _resources(resources):
    meta = resources["nbgrader"]
    return meta["notebook"], meta["assignment"], meta["student"], meta["db_url"]


class LatePenalty(NbGraderPreprocessor):
    """Each notebook's late penalty in the gradebook, from ``policy`` (LatePolicy fields)."""

    policy = Dict(help="LatePolicy fields: policy, percent, days, grace_minutes").tag(
        config=True)

    def preprocess(self, nb, resources):
        notebook_id, assignment_id, student_id, db_url = _resources(resources)
        policy = LatePolicy(**self.policy)
        with Gradebook(db_url) as gradebook:
            submission = gradebook.find_submission(assignment_id, student_id)
            notebook = gradebook.find_submission_notebook(notebook_id, assignment_id,
                                                          student_id)
            penalty = policy.penalty(notebook.score, notebook.max_score,
                                     submission.total_seconds_late)
            notebook.late_submission_penalty = penalty or None
            gradebook.db.commit()
        return nb, resources


def _when(value, tz):
    """A gradebook time (naive UTC) in the course's zone, for people."""
    return value.replace(tzinfo=UTC).astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")


def _points(value):
    return f"{value:g}"


class LateNote(NbGraderPreprocessor):
    """A first cell in the feedback: submitted, due, days late, penalty, score."""

    policy = Dict(help="LatePolicy fields").tag(config=True)
    timezone = Unicode("UTC", help="the zone times are shown in").tag(config=True)

    def preprocess(self, nb, resources):
        import zoneinfo

        notebook_id, assignment_id, student_id, db_url = _resources(resources)
        policy = LatePolicy(**self.policy)
        tz = UTC if self.timezone == "UTC" else zoneinfo.ZoneInfo(self.timezone)
        with Gradebook(db_url) as gradebook:
            submission = gradebook.find_submission(assignment_id, student_id)
            notebook = gradebook.find_submission_notebook(notebook_id, assignment_id,
                                                          student_id)
            due, original = submission.duedate, submission.assignment.duedate
            if due is None:
                return nb, resources
            seconds = submission.total_seconds_late
            penalty = notebook.late_submission_penalty or 0.0
            lines = [f"**Due** {_when(original, tz)}"
                     + (f", with your extension {_when(due, tz)}" if due != original else "")
                     + "."]
            if submission.timestamp is None:
                lines.append("**Submitted**: no time was recorded; graded as on time.")
            else:
                days = policy.days_late(seconds)
                late = (f"{days} day{'s' if days != 1 else ''} late" if days
                        else "late, within the grace period" if seconds > 0 else "on time")
                lines.append(f"**Submitted** {_when(submission.timestamp, tz)}: {late}.")
            lines.append(f"**Late policy**: {policy.describe()}.")
            if penalty:
                lines.append(f"**Late penalty**: -{_points(penalty)}: "
                             f"{_points(notebook.score)} becomes "
                             f"{_points(notebook.score - penalty)} of "
                             f"{_points(notebook.max_score)}.")
        nb.cells.insert(0, new_markdown_cell("\n\n".join(lines)))
        return nb, resources

    def preprocess_cell(self, cell, resources, index):
        return cell, resources

