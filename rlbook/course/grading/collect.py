"""Intake: turn a folder or zip of submissions into gradeable notebooks.

Naming convention: ``<student_id>_<notebook>.ipynb`` (for example
``alice_01_gym_and_policies.ipynb``), or ``<student_id>/<notebook>.ipynb``.
Every file ends up either as a ``Submission`` (perhaps with notes on what
was repaired) or as a ``Rejected`` entry with the reason; nothing is dropped
silently.
"""

import csv
import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .layout import restore_layout

MAX_BYTES = 50 * 2**20       # a notebook larger than this is not a homework
STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]*$")
_IGNORED_PARTS = ("__MACOSX", ".ipynb_checkpoints")


@dataclass
class Submission:
    student: str
    notebook: str             # the assignment's notebook name, without .ipynb
    file: str                 # the file as handed in
    content: object           # the repaired nbformat notebook
    notes: list = field(default_factory=list)


@dataclass
class Rejected:
    student: str
    file: str
    reason: str


def read_roster(path):
    """Student ids (and names, emails) from a CSV with a ``student_id`` column."""
    path = Path(path)
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows or "student_id" not in rows[0]:
        raise ValueError(f"{path} needs a header row with a 'student_id' column "
                         "(optional: first_name, last_name, email)")
    roster = {}
    for number, row in enumerate(rows, start=2):
        student = (row.get("student_id") or "").strip()
        if not STUDENT_ID.match(student):
            raise ValueError(f"{path}, line {number}: {student!r} is not a usable student id "
                             "(letters, digits and . _ @ - only)")
        roster[student] = {key: (row.get(key) or "").strip() or None
                           for key in ("first_name", "last_name", "email")}
    return roster


def _files(inbox):
    """(name as handed in, bytes or the error) for every .ipynb in a folder or zip."""
    inbox = Path(inbox)
    if inbox.is_dir():
        for path in sorted(inbox.rglob("*")):
            rel = path.relative_to(inbox)
            if path.is_file() and not any(p in _IGNORED_PARTS for p in rel.parts) \
                    and not path.name.startswith("."):
                yield rel.as_posix(), (path.read_bytes() if path.stat().st_size <= MAX_BYTES
                                       else None)
        return
    if not zipfile.is_zipfile(inbox):
        raise ValueError(f"{inbox} is neither a folder nor a zip file")
    with zipfile.ZipFile(inbox) as archive:
        for info in sorted(archive.infolist(), key=lambda i: i.filename):
            parts = Path(info.filename).parts
            if info.is_dir() or any(p in _IGNORED_PARTS for p in parts) or parts[-1].startswith("."):
                continue
            # Read by name only: nothing is extracted, so no path can escape.
            yield info.filename, (archive.read(info) if info.file_size <= MAX_BYTES else None)


def _identify(name, notebooks, roster):
    """(student, notebook or None) from a file name; student is None if unknown."""
    path = Path(name)
    stem = path.stem
    if path.suffix != ".ipynb":
        return None, None
    if stem in notebooks and len(path.parts) > 1:          # <student>/<notebook>.ipynb
        return path.parts[-2], stem
    for notebook in sorted(notebooks, key=len, reverse=True):
        if stem.endswith("_" + notebook) and len(stem) > len(notebook) + 1:
            return stem[: -len(notebook) - 1], notebook
    # A renamed notebook: find the student; the notebook is decided later.
    if roster:
        matches = [s for s in roster if stem == s or stem.startswith(s + "_")]
        return (max(matches, key=len) if matches else None), None
    return (stem.split("_", 1)[0] if "_" in stem else None), None


def _parse(data):
    """The notebook, or the reason it cannot be read."""
    if data is None:
        return None, f"larger than {MAX_BYTES // 2**20} MB"
    try:
        raw = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        return None, "not a notebook: not UTF-8 text"
    except json.JSONDecodeError as exc:
        return None, f"not a notebook: invalid JSON ({exc.msg} at line {exc.lineno})"
    if not isinstance(raw, dict) or "cells" not in raw:
        return None, "not a notebook: JSON without a 'cells' list"
    try:
        notebook = nbformat.reads(json.dumps(raw), as_version=4)
    except Exception as exc:  # nbformat raises several kinds for old or odd files
        return None, f"not a notebook nbformat can read ({type(exc).__name__}: {exc})"
    return notebook, None


def collect(inbox, released, roster=None):
    """Split an inbox into (submissions, rejected).

    ``released`` maps each of the assignment's notebook names to its student
    version (nbformat), against which submissions are checked and repaired.
    """
    notebooks = set(released)
    submissions, rejected = [], []
    seen = {}
    entries = [(name, data, *_identify(name, notebooks, roster)) for name, data in _files(inbox)]
    # Files named by the convention first, so a renamed copy never wins over them.
    entries.sort(key=lambda entry: (entry[3] is None, entry[0]))
    for name, data, student, notebook in entries:
        if not name.endswith(".ipynb"):
            rejected.append(Rejected(student or "", name, "not a .ipynb file"))
            continue
        if student is None or not STUDENT_ID.match(student):
            rejected.append(Rejected(
                "", name, "cannot tell the student from the file name; "
                f"name it <student_id>_{sorted(notebooks)[0]}.ipynb"))
            continue
        content, problem = _parse(data)
        if problem:
            rejected.append(Rejected(student, name, problem))
            continue
        notes = []
        if notebook is None:
            if len(notebooks) > 1:
                rejected.append(Rejected(student, name, "renamed notebook: expected one of "
                                         + ", ".join(f"{student}_{n}.ipynb" for n in sorted(notebooks))))
                continue
            notebook = next(iter(notebooks))
            notes.append(f"renamed notebook graded as {notebook}.ipynb")
        content, layout_notes = restore_layout(content, released[notebook])
        if content is None:
            rejected.append(Rejected(student, name, layout_notes[0]))
            continue
        if roster is not None and student not in roster:
            notes.append("student id is not on the roster")
        key = (student, notebook)
        if key in seen:
            rejected.append(Rejected(student, name, f"second file for {notebook}; "
                                     f"graded {seen[key].file} instead"))
            continue
        seen[key] = Submission(student, notebook, name, content, notes + layout_notes)
        submissions.append(seen[key])
    if not entries:
        raise ValueError(f"{inbox} holds no files; expected notebooks named "
                         f"<student_id>_{sorted(notebooks)[0]}.ipynb")
    if roster is not None:
        handed_in = {s.student for s in submissions} | {r.student for r in rejected}
        for student in sorted(set(roster) - handed_in):
            rejected.append(Rejected(student, "", "no submission"))
    return submissions, rejected

