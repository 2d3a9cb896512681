"""The grading folder: an nbgrader course directory built for one assignment.

``<out>/source/<assignment>`` (a copy of solutions/), ``release/``,
``submitted/<student>/<assignment>/``, ``autograded/``, ``feedback/`` and
``gradebook.db``. The nbgrader configuration is the project's
``nbgrader_config.py`` (so the checksums match what students received) with
every path and limit set here explicitly: ``NbGraderAPI(config=...)`` reads
no config file by itself.
"""

import os
import shutil
import sys
from pathlib import Path

import nbformat

from ..workbook import SOURCE_DIR, load_nbgrader_config
from .preprocessors import feedback_preprocessors, graded_preprocessors, sanitize_preprocessors
from .sandbox.cleanup import remove_tree

MARKER = ".rlbook-grading"
_OWNED = ("source", "release", "submitted", "autograded", "feedback", "gradebook.db",
          "grades.csv", "canvas.csv", "problems.csv", "summary.png", "grading.log", "logs")


def tools_on_path():
    """Put this Python's scripts first on PATH: nbgrader runs `alembic` by name
    to create the gradebook, which fails when the venv is not activated."""
    scripts = str(Path(sys.executable).parent)
    if os.environ.get("PATH", "").split(os.pathsep)[0] != scripts:
        os.environ["PATH"] = scripts + os.pathsep + os.environ.get("PATH", "")


def nbgrader_config(root, out, db_url=None, executed_dir=None, deadline=None):
    """The full nbgrader Config for grading in ``out``.

    Execution happens in the sandbox, not in nbgrader: ``executed_dir`` is
    where the grader saves each run for nbgrader's autograde to score.
    ``deadline`` (deadlines.Deadline) sets the late policy and the zone the
    feedback shows times in.
    """
    config = load_nbgrader_config(root)
    course = config.CourseDirectory
    course.root = str(out)
    course.source_directory = "source"
    course.release_directory = "release"
    course.submitted_directory = "submitted"
    course.autograded_directory = "autograded"
    course.feedback_directory = "feedback"
    course.db_url = db_url or f"sqlite:///{Path(out).resolve() / 'gradebook.db'}"
    config.Autograde.sanitize_preprocessors = sanitize_preprocessors()
    config.Autograde.autograde_preprocessors = graded_preprocessors()
    config.GenerateFeedback.preprocessors = feedback_preprocessors()
    out = Path(out).resolve()
    config.RestoreTests.source_dir = str(out / "source")
    config.ScrubLeaks.source_dir = str(out / "source")
    config.ScrubLeaks.release_dir = str(out / "release")
    config.UseExecuted.executed_dir = str(executed_dir or out / "executed")
    if deadline is not None:
        config.LatePenalty.policy = deadline.policy.as_dict()
        config.LateNote.policy = deadline.policy.as_dict()
        config.LateNote.timezone = str(getattr(deadline.timezone, "key", "UTC"))
    return config


def prepare(root, assignment, out):
    """Make ``out`` a fresh grading folder for ``assignment``; returns its Path.

    Only a folder this command made before (it holds the marker file) is
    cleared, so pointing --out at a wrong place cannot delete anyone's work.
    """
    root, out = Path(root), Path(out)
    source = root / SOURCE_DIR / assignment
    if not source.is_dir() or not any(source.glob("*.ipynb")):
        known = sorted(p.name for p in (root / SOURCE_DIR).iterdir() if any(p.glob("*.ipynb")))
        raise ValueError(f"no assignment {assignment!r} in {root / SOURCE_DIR}; "
                         f"choose one of: {', '.join(known)}")
    if out.exists() and any(out.iterdir()) and not (out / MARKER).exists():
        raise ValueError(f"{out} exists and was not made by `rlbook grade`; "
                         "choose an empty or new --out folder")
    out.mkdir(parents=True, exist_ok=True)
    for name in _OWNED:
        path = out / name
        if path.is_dir() and not path.is_symlink():
            remove_tree(path)       # never through a mount point
        elif path.exists() or path.is_symlink():
            path.unlink()
    (out / MARKER).write_text("made by `rlbook grade`; the command clears this folder\n")
    shutil.copytree(source, out / "source" / assignment,
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    return out


def generate(config, assignment, roster=None):
    """Release the assignment into the gradebook; returns {notebook: student version}."""
    from nbgrader.api import Gradebook
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    coursedir = CourseDirectory(config=config)
    from nbgrader.api import MissingEntry

    with Gradebook(coursedir.db_url, coursedir.course_id) as gradebook:
        # A database server outlives the folder: start this assignment afresh
        # so the gradebook holds exactly this run (a sqlite file is new anyway).
        try:
            for submission in gradebook.find_assignment(assignment).submissions:
                gradebook.remove_submission(assignment, submission.student.id)
        except MissingEntry:
            pass
    result = NbGraderAPI(coursedir, config=config).generate_assignment(assignment, force=True)
    if not result["success"]:
        raise RuntimeError("nbgrader generate_assignment failed:\n"
                           f"{result['log']}\n{result.get('error', '')}")
    with Gradebook(coursedir.db_url, coursedir.course_id) as gradebook:
        for student, details in sorted((roster or {}).items()):
            gradebook.update_or_create_student(student, **{k: v for k, v in details.items() if v})
    released = Path(coursedir.root) / coursedir.release_directory / assignment
    return {p.stem: nbformat.read(str(p), as_version=4) for p in sorted(released.glob("*.ipynb"))}


def submit(out, assignment, submission, when=None):
    """Write a collected submission where nbgrader autograde looks for it;
    ``when`` (an aware time) goes into nbgrader's timestamp.txt beside it."""
    from .deadlines import nbgrader_timestamp

    folder = Path(out) / "submitted" / submission.student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(submission.content, str(folder / f"{submission.notebook}.ipynb"))
    if when is not None:
        (folder / "timestamp.txt").write_text(nbgrader_timestamp(when) + "\n")


def set_deadline(config, deadline, students):
    """The due date, and the extensions of ``students``, into the gradebook,
    where nbgrader's autograde measures lateness from them."""
    from nbgrader.api import Gradebook

    from .deadlines import utc_naive

    course = config.CourseDirectory
    with Gradebook(course.db_url, course.course_id) as gradebook:
        gradebook.update_or_create_assignment(deadline.assignment, duedate=utc_naive(deadline.due))
        for student in sorted(students):
            extension = deadline.extension(student)
            if extension is not None:
                gradebook.update_or_create_student(student)
                gradebook.update_or_create_submission(deadline.assignment, student,
                                                      extension=extension)
