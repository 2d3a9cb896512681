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
    # When it was handed in, as found (deadlines.submission_time reads it):
    # ("timestamp", the text of the student's timestamp.txt), ("zip", the
    # notebook's zip entry time), or None.
    time: tuple = None


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
    """(name as handed in, bytes or None if too large, zip entry time or None)
    for every file in a folder or zip."""
    inbox = Path(inbox)
    if inbox.is_dir():
        for path in sorted(inbox.rglob("*")):
            rel = path.relative_to(inbox)
            if path.is_file() and not any(p in _IGNORED_PARTS for p in rel.parts) \
                    and not path.name.startswith("."):
                yield rel.as_posix(), (path.read_bytes() if path.stat().st_size <= MAX_BYTES
                                       else None), None
        return
    if not zipfile.is_zipfile(inbox):
        raise ValueError(f"{inbox} is neither a folder nor a zip file")
    with zipfile.ZipFile(inbox) as archive:
        for info in sorted(archive.infolist(), key=lambda i: i.filename):
            parts = Path(info.filename).parts
            ignored = any(p in _IGNORED_PARTS for p in parts) or parts[-1].startswith(".")
            if info.is_dir() or ignored:
                continue
            # Read by name only: nothing is extracted, so no path can escape.
            yield info.filename, (archive.read(info) if info.file_size <= MAX_BYTES
                                  else None), info.date_time


def _student_folder(folders, assignment, notebooks):
    """The student's folder among a file's folders: the last one, or the one
    above it when that is the assignment's (nbgrader's <student>/<assignment>/)."""
    if len(folders) > 1 and (folders[-1] == assignment or folders[-1] in notebooks):
        return folders[-2]
    return folders[-1]


def _identify(name, notebooks, roster, assignment=None):
    """(student, notebook or None) from a file name; student is None if unknown."""
    path = Path(name)
    stem = path.stem
    if path.suffix != ".ipynb":
        return None, None
    if stem in notebooks and len(path.parts) > 1:          # <student>/<notebook>.ipynb
        return _student_folder(path.parts[:-1], assignment, notebooks), stem
    for notebook in sorted(notebooks, key=len, reverse=True):
        if stem.endswith("_" + notebook) and len(stem) > len(notebook) + 1:
            return stem[: -len(notebook) - 1], notebook
    # A renamed notebook: find the student; the notebook is decided later.
    if roster:
        matches = [s for s in roster if stem == s or stem.startswith(s + "_")]
        return (max(matches, key=len) if matches else None), None
    return (stem.split("_", 1)[0] if "_" in stem else None), None


def _timestamp_owner(name, notebooks, assignment=None):
    """The student a timestamp file belongs to, or None if ``name`` is not one:
    ``<student>/timestamp.txt`` (nbgrader's, also one folder deeper, in
    ``<student>/<assignment>/``) or ``<student>_timestamp.txt``."""
    path = Path(name)
    if path.name == "timestamp.txt" and len(path.parts) > 1:
        return _student_folder(path.parts[:-1], assignment, notebooks)
    if path.name.endswith("_timestamp.txt") and len(path.name) > len("_timestamp.txt"):
        return path.name[: -len("_timestamp.txt")]
    return None


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


def collect(inbox, released, roster=None, assignment=None):
    """Split an inbox into (submissions, rejected).

    ``released`` maps each of the assignment's notebook names to its student
    version (nbformat), against which submissions are checked and repaired.
    ``assignment`` (its id) lets nbgrader's ``<student>/<assignment>/``
    folders be read as the student's.
    """
    notebooks = set(released)
    submissions, rejected = [], []
    seen = {}
    files = list(_files(inbox))
    stamps = {}
    for name, data, _ in files:
        owner = _timestamp_owner(name, notebooks, assignment)
        if owner is not None:
            stamps[owner] = (name, data)
    entries = [(name, data, *_identify(name, notebooks, roster, assignment), when)
               for name, data, when in files
               if _timestamp_owner(name, notebooks, assignment) is None]
    # Files named by the convention first, so a renamed copy never wins over them.
    entries.sort(key=lambda entry: (entry[3] is None, entry[0]))
    for name, data, student, notebook, when in entries:
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
                expected = ", ".join(f"{student}_{n}.ipynb" for n in sorted(notebooks))
                rejected.append(Rejected(student, name,
                                         f"renamed notebook: expected one of {expected}"))
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
        stamp = stamps.get(student)
        time = (("timestamp", stamp[1].decode("utf-8", "replace")) if stamp and stamp[1]
                else ("zip", when) if when else None)
        seen[key] = Submission(student, notebook, name, content, notes + layout_notes, time)
        submissions.append(seen[key])
    for student, (name, _) in sorted(stamps.items()):
        if student not in {s.student for s in submissions}:
            rejected.append(Rejected(student, name, "a timestamp.txt without a notebook"))
    if not files:
        raise ValueError(f"{inbox} holds no files; expected notebooks named "
                         f"<student_id>_{sorted(notebooks)[0]}.ipynb")
    if roster is not None:
        handed_in = {s.student for s in submissions} | {r.student for r in rejected}
        for student in sorted(set(roster) - handed_in):
            rejected.append(Rejected(student, "", "no submission"))
    return submissions, rejected

