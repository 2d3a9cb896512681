"""Every nbgrader preprocessor the grader adds, and the three chains it runs.

nbgrader's apps take preprocessors as classes in their configuration, so each
class here is a thin traitlets shell around a function of the module that
holds the idea (restore.py, executed.py, leaks.py, feedback.py). The chains:

* ``sanitize_preprocessors``: the submission made safe to run: outputs
  cleared, locked cells restored by checksum, then ``RestoreTests``.
* ``graded_preprocessors``: nbgrader's autograde chain with the sandbox's
  outputs (``UseExecuted``) in place of execution, leaks scrubbed.
* ``feedback_preprocessors``: nbgrader's feedback with hidden tests hidden.
"""

from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

from .. import markers
from . import executed, feedback, leaks, restore


class RestoreTests(NbGraderPreprocessor):
    """Every instructor cell gets the instructor's metadata and tags back."""

    source_dir = Unicode(help="the grading folder's source/ (instructor notebooks)").tag(
        config=True)

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        source = restore.instructor_source(self.source_dir, info["assignment"], info["notebook"])
        restore.restore_metadata(nb, source)
        return nb, resources


class UseExecuted(NbGraderPreprocessor):
    """Outputs come from the sandbox run the grader saved, not from executing here."""

    executed_dir = Unicode(help="where the grader saved each executed notebook").tag(config=True)

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        ran = executed.load_notebook(self.executed_dir, info["student"], info["notebook"])
        executed.merge_outputs(nb, ran)
        return nb, resources


class ScrubLeaks(NbGraderPreprocessor):
    """Outputs that quote a hidden test are replaced by a note."""

    source_dir = Unicode(help="the grading folder's source/").tag(config=True)
    release_dir = Unicode(help="the grading folder's release/").tag(config=True)

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        secrets = leaks.secret_lines(
            restore.instructor_source(self.source_dir, info["assignment"], info["notebook"]),
            restore.instructor_source(self.release_dir, info["assignment"], info["notebook"]),
            markers.hidden_tests(self.config))
        return leaks.scrub(nb, secrets), resources


class HideHiddenTests(NbGraderPreprocessor):
    """Feedback shows each test's result, never a hidden test's code or values."""

    def preprocess_cell(self, cell, resources, index):
        return feedback.hide_hidden_tests(cell, markers.hidden_tests(self.config)), resources


def sanitize_preprocessors():
    from nbgrader.preprocessors import (
        CheckCellMetadata,
        ClearOutput,
        DeduplicateIds,
        OverwriteCells,
        OverwriteKernelspec,
    )

    return [ClearOutput, DeduplicateIds, OverwriteKernelspec, OverwriteCells, RestoreTests,
            CheckCellMetadata]


def graded_preprocessors():
    """nbgrader's autograde chain, with the sandbox's outputs in place of execution."""
    from nbconvert.preprocessors import ClearMetadataPreprocessor
    from nbgrader.preprocessors import (
        CheckCellMetadata,
        IgnorePattern,
        LimitOutput,
        SaveAutoGrades,
    )

    from .late import LatePenalty

    # LatePenalty stands where nbgrader's AssignLatePenalties does, with our policies.
    return [UseExecuted, ScrubLeaks, IgnorePattern, ClearMetadataPreprocessor,
            LimitOutput, SaveAutoGrades, LatePenalty, CheckCellMetadata]


def feedback_preprocessors():
    """nbgrader's feedback chain; ``LateNote`` and ``HideHiddenTests`` run after ``GetGrades``."""
    from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
    from nbgrader.preprocessors import GetGrades

    from .late import LateNote

    return [GetGrades, LateNote, HideHiddenTests, CSSHTMLHeaderPreprocessor]
