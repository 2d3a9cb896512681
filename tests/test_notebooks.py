"""Every chapter, executed top to bottom as nbgrader's Validate runs it (quick mode).

The source must pass every graded test; its blank student version must pass none.
"""

import os
import re

from rlbook.course.grading.validate import validate

import pytest

from conftest import source_notebooks, student_notebook

SOURCES = source_notebooks()
_REPORTS = {}


def validated(path):
    # Each notebook executes once per session, however many tests read it.
    if path not in _REPORTS:
        _REPORTS[path] = validate(path)
    return _REPORTS[path]
IDS = [path.parent.name for path in SOURCES]


@pytest.fixture(autouse=True)
def no_display(monkeypatch):
    # Prove that nothing needs an X server.
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("RLBOOK_QUICK", raising=False)


def cell_errors(notebook):
    return [(cell.get("id"), out.get("ename"), out.get("evalue"))
            for cell in notebook.cells if cell.cell_type == "code"
            for out in cell.get("outputs", []) if out.get("output_type") == "error"]


@pytest.mark.notebook
@pytest.mark.parametrize("source", SOURCES, ids=IDS)
def test_source_runs_and_passes_every_test(source):
    report = validated(source)
    assert report.graded, f"{source.name} has no autograded tests"
    assert report.failed == [], report.errors
    assert cell_errors(report.notebook) == []


@pytest.mark.notebook
@pytest.mark.parametrize("source", SOURCES, ids=IDS)
def test_blank_student_version_passes_no_test(source):
    report = validated(student_notebook(source))
    assert report.passed == [], f"these tests pass with no answer written: {report.passed}"
    # Unanswered written (markdown) answers score 0 too; answered ones wait for a human.
    assert sorted(report.failed) == sorted(validate_ids(source, written=True))


def validate_ids(source, written=False):
    import nbformat

    notebook = nbformat.read(str(source), as_version=4)
    return [cell.metadata["nbgrader"]["grade_id"] for cell in notebook.cells
            if cell.metadata.get("nbgrader", {}).get("grade")
            and (cell.cell_type == "code" or written)]


@pytest.mark.notebook
def test_chapter_01_shows_a_cartpole_video_inline_without_a_display():
    source = next(p for p in SOURCES if p.parent.name.startswith("01_"))
    assert "DISPLAY" not in os.environ
    notebook = validated(source).notebook
    videos = [out["data"]["text/html"] for cell in notebook.cells if cell.cell_type == "code"
              for out in cell.get("outputs", []) if "text/html" in out.get("data", {})
              and "<video" in out["data"]["text/html"]]
    assert len(videos) >= 2
    assert all("data:video/mp4;base64," in html for html in videos)
    images = [out for cell in notebook.cells for out in cell.get("outputs", [])
              if "image/png" in out.get("data", {})]
    assert len(images) >= 2, "the frame and the histogram should be drawn"


WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


def _is_progress_bar(data, widget_state):
    # tqdm's notebook bar: an HBox around a FloatProgress. Its text/plain is the
    # text bar, so viewers without widgets already see something.
    model = widget_state.get(data[WIDGET_MIME]["model_id"], {})
    children = [ref.removeprefix("IPY_MODEL_")
                for ref in model.get("state", {}).get("children", [])]
    return any(widget_state.get(child, {}).get("model_name") == "FloatProgressModel"
               for child in children)


@pytest.mark.notebook
@pytest.mark.parametrize("source", SOURCES, ids=IDS)
def test_every_widget_output_carries_a_picture(source):
    # rlbook.widgets.display.show puts a PNG beside the widget view, so that
    # nbconvert, the gallery and viewers without a widget frontend see something.
    notebook = validated(source).notebook
    widget_state = (notebook.metadata.get("widgets", {})
                    .get("application/vnd.jupyter.widget-state+json", {}).get("state", {}))
    shown = [out["data"] for cell in notebook.cells if cell.cell_type == "code"
             for out in cell.get("outputs", []) if WIDGET_MIME in out.get("data", {})]
    shown = [data for data in shown if not _is_progress_bar(data, widget_state)]
    without = [data.get("text/plain", "")[:80] for data in shown if "image/png" not in data]
    assert without == [], f"widgets displayed with no PNG fallback: {without}"
    # Live curves (rlbook.live) are pictures updated in place, not widgets.
    uses_widgets = any(re.search(r"rlbook\.widgets\.(?!display\b)\w+", cell.source)
                       for cell in notebook.cells)
    assert bool(shown) == uses_widgets, "a cell imports rlbook.widgets but shows no widget"


LIVE_CHAPTERS = [p for p in SOURCES if p.parent.name[:2] in ("02", "04", "05")]


@pytest.mark.notebook
@pytest.mark.parametrize("source", LIVE_CHAPTERS, ids=[p.parent.name for p in LIVE_CHAPTERS])
def test_training_cells_keep_their_final_live_curve(source):
    # A live curve is redrawn in place while training; the executed notebook must keep
    # the last drawing as a plain picture (for CI, the grader and the gallery).
    notebook = validated(source).notebook
    training = [cell for cell in notebook.cells if cell.cell_type == "code"
                and ("LiveCurve(" in cell.source or "live_plot=" in cell.source)]
    assert len(training) >= 2, "each of these chapters draws at least two live curves"
    for cell in training:
        curves = [out["data"] for out in cell.get("outputs", [])
                  if out.get("output_type") == "display_data"
                  and out["data"].get("text/plain", "").startswith("<LiveCurve:")]
        assert len(curves) == 1, f"cell {cell.get('id')}: one live curve output, got {len(curves)}"
        assert "image/png" in curves[0] and " 0 values" not in curves[0]["text/plain"]


@pytest.mark.notebook
def test_chapter_04_explorers_show_a_widget_with_a_picture_fallback():
    from rlbook.widgets.display import WIDGET_MIME

    source = next(p for p in SOURCES if p.parent.name.startswith("04_"))
    notebook = validated(source).notebook
    for call in ("epsilon_explorer()", "sweep_explorer()"):
        [cell] = [c for c in notebook.cells if c.cell_type == "code" and call in c.source]
        [output] = cell.outputs
        assert WIDGET_MIME in output["data"] and "image/png" in output["data"], call
