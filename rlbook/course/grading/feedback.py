"""Feedback HTML that shows each test's result without revealing hidden tests.

nbgrader's feedback prints the autograded notebook, in which test cells hold
their hidden tests again (autograde restores them from the gradebook), and a
failing hidden assertion would show its line and its reference values in the
traceback. ``HideHiddenTests`` runs after nbgrader's ``GetGrades``: it cuts
the hidden block out of the source and shortens errors to one line, with a
generic message when the failure was in the hidden part.
"""

import builtins
import re

from nbgrader.preprocessors import NbGraderPreprocessor

BEGIN, END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
HIDDEN_NOTE = "# (hidden tests run here; their code is not shown)"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_CELL_LINE = re.compile(r"(?:Cell|Input) In ?\[\d*\],? line (\d+)")


def _hidden_lines(source):
    """1-based line numbers inside hidden blocks, markers included."""
    hidden, inside = set(), False
    for number, line in enumerate(source.splitlines(), start=1):
        if line.strip() == BEGIN:
            inside = True
        if inside:
            hidden.add(number)
        if line.strip() == END:
            inside = False
    return hidden


def _failing_line(output):
    text = _ANSI.sub("", "\n".join(output.get("traceback", [])))
    match = _CELL_LINE.search(text)
    return int(match.group(1)) if match else None


class HideHiddenTests(NbGraderPreprocessor):
    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code" or BEGIN not in cell.source:
            return cell, resources
        hidden = _hidden_lines(cell.source)
        for output in cell.get("outputs", []):
            if output.get("output_type") != "error":
                continue
            line = _failing_line(output)
            if line is None or line in hidden:
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
            if number not in hidden:
                kept.append(line)
            elif not shown_note:
                kept.append(HIDDEN_NOTE)
                shown_note = True
        cell.source = "\n".join(kept)
        return cell, resources


def feedback_preprocessors():
    from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
    from nbgrader.preprocessors import GetGrades

    from .late import LateNote

    return [GetGrades, LateNote, HideHiddenTests, CSSHTMLHeaderPreprocessor]
