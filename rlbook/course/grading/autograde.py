"""The trusted steps around one student's untrusted run.

``prepare`` builds the notebook that will run: the submission sanitised by
nbgrader's own chain (outputs cleared, locked cells restored by checksum
from the gradebook) plus ``RestoreTests`` (the instructor's metadata and
tags). ``score`` runs nbgrader's autograde app on the same submission with
the execution replaced by the outputs the sandbox run produced
(``UseExecuted``), then writes feedback. Both run in the grading process,
the only one that opens the gradebook, so they are called one at a time.

Scoring follows nbgrader exactly, as the student's Validate button does: a
test cell fails when it raises or writes to stderr.
"""

from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from . import executed


@dataclass
class Outcome:
    student: str
    graded: bool
    seconds: float
    reason: str = ""
    notes: list = field(default_factory=list)
    flags: list = field(default_factory=list)     # evidence of tampering
    run_seconds: float = 0.0                       # of ``seconds``, in the sandbox


def sanitize_preprocessors():
    from nbgrader.preprocessors import (CheckCellMetadata, ClearOutput, DeduplicateIds,
                                        OverwriteCells, OverwriteKernelspec)

    from .restore import RestoreTests

    return [ClearOutput, DeduplicateIds, OverwriteKernelspec, OverwriteCells, RestoreTests,
            CheckCellMetadata]


def graded_preprocessors():
    """nbgrader's autograde chain, with the sandbox's outputs in place of execution."""
    from nbconvert.preprocessors import ClearMetadataPreprocessor
    from nbgrader.preprocessors import (CheckCellMetadata, IgnorePattern, LimitOutput,
                                        SaveAutoGrades)

    from .late import LatePenalty
    from .leaks import ScrubLeaks

    # LatePenalty stands where nbgrader's AssignLatePenalties does, with our policies.
    return [executed.UseExecuted, ScrubLeaks, IgnorePattern, ClearMetadataPreprocessor,
            LimitOutput, SaveAutoGrades, LatePenalty, CheckCellMetadata]


def submitted_path(config, assignment, student, notebook):
    course = config.CourseDirectory
    return Path(course.root) / course.submitted_directory / student / assignment / \
        f"{notebook}.ipynb"


def prepare(config, assignment, student, notebook):
    """The notebook to execute for one submitted notebook (nbformat)."""
    nb = nbformat.read(str(submitted_path(config, assignment, student, notebook)), as_version=4)
    resources = {"nbgrader": {"notebook": notebook, "assignment": assignment,
                              "student": student, "db_url": config.CourseDirectory.db_url}}
    for preprocessor in sanitize_preprocessors():
        nb, resources = preprocessor(config=config).preprocess(nb, resources)
    return nb


def test_cells(nb):
    """Indexes of the instructor's test cells (run without IPython history)."""
    return [index for index, cell in enumerate(nb.cells)
            if (cell.metadata.get("nbgrader") or {}).get("grade")
            and not (cell.metadata.get("nbgrader") or {}).get("solution")]


def limit_notes(nb, memory_mb):
    """Notes on cells that hit a limit in an executed notebook."""
    notes = []
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") != "error":
                continue
            label = (cell.get("metadata", {}).get("nbgrader") or {}).get("grade_id") \
                or f"cell {index}"
            if output.ename == "CellTimeoutError":
                notes.append(f"{label}: interrupted at the per-cell time limit")
            elif output.ename == "MemoryError":
                notes.append(f"{label}: MemoryError at the {memory_mb} MB memory limit")
    return notes


def score(api, assignment, student, log_dir):
    """Autograde from the saved run and write feedback; returns (graded, reason)."""
    result = api.autograde(assignment, student, force=True, create=True)
    Path(log_dir).mkdir(exist_ok=True)
    (Path(log_dir) / f"{student}.log").write_text(result["log"] + (result.get("error") or ""))
    if not result["success"]:
        return False, "nbgrader autograde failed: " + _first_cause(
            result["log"] + (result.get("error") or ""))
    done = api.generate_feedback(assignment, student, force=True)
    if not done["success"]:
        return False, "feedback failed: " + done["log"][-300:]
    return True, ""


def _first_cause(log):
    import re

    # The first exception line names the cause; nbgrader's last line never does.
    causes = [line.strip() for line in log.splitlines()
              if re.match(r"^\s*[\w.]+(Error|Exception)\b", line)
              and "NbGraderException" not in line]
    return causes[0][:300] if causes else "see the log"


def forget(config, assignment, student):
    """Take a failed grading out of the gradebook, so it cannot read as a 0."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(config.CourseDirectory.db_url, config.CourseDirectory.course_id) as gradebook:
        try:
            gradebook.remove_submission(assignment, student)
        except MissingEntry:
            pass
