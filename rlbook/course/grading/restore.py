"""Instructor cells run as the instructor wrote them, metadata and tags included.

nbgrader's ``OverwriteCells`` puts back the source of a locked cell whose
checksum changed, but keeps the student's cell metadata, and nbclient reads
its tags: a test cell tagged ``skip-execution`` in the submission is not run
at all and so never fails. ``RestoreTests`` runs after ``OverwriteCells`` in
the sanitising chain and gives every cell the instructor's source knows (by
grade_id) the instructor's metadata: tags (``skip-execution``,
``raises-exception``, ``skip``...), ``deletable``/``editable``, anything else.
Only the ``nbgrader`` block stays as ``OverwriteCells`` left it, since it
holds the checksum computed at release. Cells the student added keep their
metadata: a tag there can only skip the student's own code.
"""

import copy
from pathlib import Path

import nbformat
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode


def grade_id(cell):
    return (cell.get("metadata", {}).get("nbgrader") or {}).get("grade_id")


def instructor_source(source_dir, assignment, notebook):
    path = Path(source_dir) / assignment / f"{notebook}.ipynb"
    return nbformat.read(str(path), as_version=4)


class RestoreTests(NbGraderPreprocessor):
    source_dir = Unicode(help="the grading folder's source/ (instructor notebooks)").tag(
        config=True)

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        source = instructor_source(self.source_dir, info["assignment"], info["notebook"])
        restore_metadata(nb, source)
        return nb, resources


def restore_metadata(nb, source):
    by_id = {grade_id(cell): cell for cell in source.cells if grade_id(cell)}
    for cell in nb.cells:
        original = by_id.get(grade_id(cell))
        if original is None:
            continue
        metadata = copy.deepcopy(original.metadata)
        metadata["nbgrader"] = cell.metadata["nbgrader"]
        cell.metadata = nbformat.from_dict(metadata)
    return nb
