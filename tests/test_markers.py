"""nbgrader's delimiters come from its configuration, for the grader and the gallery alike."""

from rlbook.course import markers
from rlbook.course.grading import feedback, leaks

import nbformat
from traitlets.config import Config

SOURCE = "visible()\n# BEGIN SECRET\nassert answer() == 41.698\n# END SECRET\nafter()"


def course_config():
    config = Config()
    config.ClearHiddenTests.begin_test_delimeter = "BEGIN SECRET"
    config.ClearHiddenTests.end_test_delimeter = "END SECRET"
    return config


def test_the_delimiters_are_nbgraders_defaults_or_the_configured_ones():
    assert markers.hidden_tests() == markers.Delimiters("BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
    assert markers.solutions() == markers.Delimiters("BEGIN SOLUTION", "END SOLUTION")
    assert markers.hidden_tests(course_config()) == markers.Delimiters("BEGIN SECRET",
                                                                       "END SECRET")


def test_marked_lines_with_and_without_the_delimiter_lines():
    hidden = markers.hidden_tests(course_config())
    assert markers.marked_lines(SOURCE, hidden) == [(3, "assert answer() == 41.698")]
    assert [n for n, _ in markers.marked_lines(SOURCE, hidden, markers=True)] == [2, 3, 4]
    # Under nbgrader's default delimiters the configured block is ordinary code.
    assert markers.marked_lines(SOURCE, markers.hidden_tests()) == []


def test_feedback_and_leak_scrubbing_follow_the_configured_delimiters():
    hidden = markers.hidden_tests(course_config())
    cell = feedback.hide_hidden_tests(nbformat.v4.new_code_cell(SOURCE), hidden)
    assert cell.source.splitlines() == ["visible()", feedback.HIDDEN_NOTE, "after()"]
    source = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(SOURCE)])
    released = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("visible()\nafter()")])
    assert leaks.secret_lines(source, released, hidden) == {"assert answer() == 41.698"}
    assert leaks.secret_lines(source, released) == set()
