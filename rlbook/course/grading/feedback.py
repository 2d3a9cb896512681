"""Feedback that shows each test's result without revealing hidden tests.

nbgrader's feedback prints the autograded notebook, in which test cells hold
their hidden tests again (autograde restores them from the gradebook), and a
failing hidden assertion would show its line and its reference values in the
traceback. ``hide_hidden_tests`` (run by ``HideHiddenTests`` after nbgrader's
``GetGrades``, preprocessors.py) cuts the hidden block out of the source and
shortens errors to one line, with a generic message when the failure was in
the hidden part.
"""

import builtins
import re

from .. import markers
from ..kernel_io import plain

HIDDEN_NOTE = "# (hidden tests run here; their code is not shown)"
_CELL_LINE = re.compile(r"(?:Cell|Input) In ?\[\d*\],? line (\d+)")


def _failing_line(output):
    match = _CELL_LINE.search(plain("\n".join(output.get("traceback", []))))
    return int(match.group(1)) if match else None


def hide_hidden_tests(cell, hidden):
    """``cell`` with its hidden block (``hidden``: the delimiters) and revealing errors cut."""
    if cell.cell_type != "code" or hidden.begin not in cell.source:
        return cell
    lines = {number for number, _ in markers.marked_lines(cell.source, hidden, markers=True)}
    for output in cell.get("outputs", []):
        if output.get("output_type") != "error":
            continue
        line = _failing_line(output)
        if line is None or line in lines:
            # The exception's name is the student's to choose, and so a
            # channel out: keep it only when it is one of Python's own.
            if not isinstance(getattr(builtins, output.ename, None), type):
                output.ename = "Exception"
            output.evalue = "a hidden test failed"
            output.traceback = [f"{output.ename}: a hidden test failed "
                                "(its code and values are not shown)"]
        else:
            # Context lines around a visible failure could show hidden code.
            output.traceback = [f"{output.ename}: {output.evalue}"]
    kept, shown_note = [], False
    for number, line in enumerate(cell.source.splitlines(), start=1):
        if number not in lines:
            kept.append(line)
        elif not shown_note:
            kept.append(HIDDEN_NOTE)
            shown_note = True
    cell.source = "\n".join(kept)
    return cell
