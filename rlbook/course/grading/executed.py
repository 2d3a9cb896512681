"""Scoring reads outputs that the trusted executor recorded, nothing else.

The autograde app sanitises the submission again (the same chain that built
the notebook which was executed) and then, instead of executing,
``UseExecuted`` copies each cell's outputs and execution count from the
executed notebook. Sources and metadata stay the trusted ones: the kernel
can only have influenced outputs, never which test ran or how. If the two
notebooks do not line up cell for cell, grading stops for that student.
"""

import json
from pathlib import Path

import nbformat
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode


def executed_path(folder, student, notebook):
    return Path(folder) / student / f"{notebook}.json"


def save(folder, student, notebook, result):
    path = executed_path(folder, student, notebook)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result))
    return path


def load(folder, student, notebook):
    return json.loads(executed_path(folder, student, notebook).read_text())


class UseExecuted(NbGraderPreprocessor):
    executed_dir = Unicode(help="where the grader saved each executed notebook").tag(config=True)

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        result = load(self.executed_dir, info["student"], info["notebook"])
        merge_outputs(nb, nbformat.reads(result["notebook"], as_version=4))
        return nb, resources


def merge_outputs(nb, executed):
    if len(nb.cells) != len(executed.cells) or any(
            a.cell_type != b.cell_type or a.source != b.source
            for a, b in zip(nb.cells, executed.cells)):
        raise ValueError("the executed notebook does not match the notebook sent to run")
    for cell, ran in zip(nb.cells, executed.cells):
        if cell.cell_type == "code":
            cell.outputs = ran.get("outputs", [])
            cell.execution_count = ran.get("execution_count")
    return nb
