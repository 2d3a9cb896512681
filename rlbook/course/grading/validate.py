"""Run a notebook the way nbgrader's Validate button does, and keep the details.

``nbgrader validate`` exits 0 whether the tests pass or not, and its Python
``Validator`` returns messages but not the executed notebook. ``validate``
runs the same preprocessors (metadata check, clear outputs, execute under
``NBGRADER_EXECUTION=validate``, which also turns rlbook's quick mode on) and
returns which graded cells passed or failed, and the executed notebook.
"""

import os
from dataclasses import dataclass, field
from pathlib import Path

import nbformat


@dataclass
class ValidationReport:
    path: Path
    passed: list = field(default_factory=list)   # grade_ids with full marks
    failed: list = field(default_factory=list)   # grade_ids scoring below the maximum
    errors: dict = field(default_factory=dict)   # grade_id -> the error's last line
    notebook: object = None                      # the executed notebook

    @property
    def graded(self):
        return self.passed + self.failed


def _last_error_line(cell):
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return f"{output.get('ename')}: {output.get('evalue')}"
        if output.get("output_type") == "stream" and output.get("name") == "stderr":
            return "wrote to stderr: " + output.get("text", "").strip().splitlines()[-1][:200]
    return ""


def validate(path, timeout=600, kernel_name=None):
    """Execute ``path`` as nbgrader validates it and report every graded cell.

    ``kernel_name`` picks another kernelspec than the notebook's own (the
    Colab-replica test runs chapters in a kernel of the replica's Python).
    """
    from nbgrader import utils
    from nbgrader.preprocessors import CheckCellMetadata, ClearOutput, Execute
    from traitlets.config import Config

    path = Path(path).resolve()
    if not path.is_file():
        raise FileNotFoundError(f"no notebook at {path}")
    notebook = nbformat.read(str(path), as_version=4)
    config = Config()
    config.Execute.timeout = timeout
    if kernel_name:
        config.Execute.kernel_name = kernel_name
    resources = {"metadata": {"path": str(path.parent)}}
    with utils.setenv(NBGRADER_VALIDATING="1", NBGRADER_EXECUTION="validate"):
        cwd = os.getcwd()
        os.chdir(path.parent)
        try:
            for preprocessor in (CheckCellMetadata, ClearOutput, Execute):
                notebook, resources = preprocessor(config=config).preprocess(notebook, resources)
        finally:
            os.chdir(cwd)
    report = ValidationReport(path=path, notebook=notebook)
    for cell in notebook.cells:
        if not utils.is_grade(cell):
            continue
        score, max_score = utils.determine_grade(cell)
        if score is None:  # a manually graded answer: nothing to run
            continue
        grade_id = cell.metadata.nbgrader["grade_id"]
        if score >= max_score:
            report.passed.append(grade_id)
        else:
            report.failed.append(grade_id)
            report.errors[grade_id] = _last_error_line(cell)
    return report
