"""nbgrader's marked regions in a cell: the solutions and the hidden tests.

The delimiters are nbgrader's own settings (``ClearSolutions.begin_solution_delimeter``,
``ClearHiddenTests.begin_test_delimeter`` and their ends), read from the
configuration the course runs with, so a course that changes them in
nbgrader_config.py changes them for the grader and the gallery too. A line
is a delimiter when it contains one, which is how nbgrader decides.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Delimiters:
    begin: str
    end: str


def hidden_tests(config=None):
    """The hidden-test delimiters of ``config`` (a traitlets Config; None: nbgrader's defaults)."""
    from nbgrader.preprocessors import ClearHiddenTests

    clear = ClearHiddenTests(config=config) if config is not None else ClearHiddenTests()
    return Delimiters(clear.begin_test_delimeter, clear.end_test_delimeter)


def solutions(config=None):
    """The solution delimiters of ``config`` (a traitlets Config; None: nbgrader's defaults)."""
    from nbgrader.preprocessors import ClearSolutions

    clear = ClearSolutions(config=config) if config is not None else ClearSolutions()
    return Delimiters(clear.begin_solution_delimeter, clear.end_solution_delimeter)


def marked_lines(source, delimiters, markers=False):
    """``(line number from 1, line)`` of each line inside the marked regions of ``source``.

    With ``markers=True`` the delimiter lines themselves are included.
    """
    found, inside = [], False
    for number, line in enumerate(source.splitlines(), start=1):
        if delimiters.begin in line:
            inside = True
            if markers:
                found.append((number, line))
        elif delimiters.end in line:
            inside = False
            if markers:
                found.append((number, line))
        elif inside:
            found.append((number, line))
    return found
