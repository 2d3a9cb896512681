"""`rlbook gallery`: real chapters executed by nbclient and exported by nbconvert."""

import html
import json
import re
import subprocess
import time

from rlbook.course import gallery

import nbformat
import pytest

CHAPTER = "01_gym_and_policies"


def page_text(markup):
    # Code is split into highlighting spans; compare what a reader sees.
    return html.unescape(re.sub(r"<[^>]+>", "", markup))


def solution_lines(source, grade_id):
    notebook = nbformat.read(str(source), as_version=4)
    cell = next(c for c in notebook.cells
                if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    body = cell.source.split("### BEGIN SOLUTION")[1].split("### END SOLUTION")[0]
    return [line.strip() for line in body.splitlines() if line.strip()]


def hidden_lines(source):
    notebook = nbformat.read(str(source), as_version=4)
    return [line.strip() for cell in notebook.cells if "### BEGIN HIDDEN TESTS" in cell.source
            for line in cell.source.split("### BEGIN HIDDEN TESTS")[1]
            .split("### END HIDDEN TESTS")[0].splitlines() if len(line.strip()) > 8]


@pytest.fixture(scope="module")
def chapter_01_gallery(root, venv_bin, tmp_path_factory):
    out = tmp_path_factory.mktemp("gallery")
    source = root / "solutions" / CHAPTER / f"{CHAPTER}.ipynb"
    before = sorted(p.name for p in source.parent.iterdir()), source.read_bytes()
    result = subprocess.run([str(venv_bin / "rlbook"), "gallery", "--chapters", "01",
                             "--mode", "quick", "--out", str(out)],
                            cwd=root, capture_output=True, text=True, timeout=600)
    # The run happens in a scratch copy: solutions/ is left exactly as it was.
    assert (sorted(p.name for p in source.parent.iterdir()), source.read_bytes()) == before
    return result, out


@pytest.mark.notebook
def test_chapter_01_page_shows_plots_and_videos(chapter_01_gallery):
    result, out = chapter_01_gallery
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{CHAPTER}: running (quick mode)" in result.stdout
    assert re.search(rf"{CHAPTER}: ok in \d+\.\d s", result.stdout)
    markup = (out / f"{CHAPTER}.html").read_text()
    assert re.search(r'<img [^>]*src="data:image/png;base64,iVBOR', markup)
    videos = re.findall(r"<video.*?</video>", markup, flags=re.S)
    assert videos and all('src="data:video/mp4;base64,' in v for v in videos)


@pytest.mark.notebook
def test_chapter_01_page_gives_away_no_answer(root, chapter_01_gallery):
    _, out = chapter_01_gallery
    source = root / "solutions" / CHAPTER / f"{CHAPTER}.ipynb"
    text = page_text((out / f"{CHAPTER}.html").read_text())
    assert "### BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text
    # Lines the student version shows elsewhere (a `while not done:` loop) are no secret.
    student = nbformat.read(str(root / "notebooks" / CHAPTER / f"{CHAPTER}.ipynb"), 4)
    shown = "\n".join(cell.source for cell in student.cells)
    answer = [line for line in solution_lines(source, "run_episodes") if line not in shown]
    assert len(answer) >= 3
    assert [line for line in answer if line in text] == []
    assert [line for line in hidden_lines(source) if line in text] == []
    # The visible parts of the same cells are there, blanks as the student sees them.
    assert "def run_episodes(env, policy, n_episodes, seed=0):" in text
    assert "raise NotImplementedError()" in text


@pytest.mark.notebook
def test_index_links_the_chapter_and_says_ok(chapter_01_gallery):
    _, out = chapter_01_gallery
    index = (out / "index.html").read_text()
    row = re.search(rf'<tr><td><a href="{CHAPTER}.html">(.*?)</tr>', index, flags=re.S)
    assert row, index
    assert "Gym and policies" in row.group(1)
    assert '<td class="ok">ok</td>' in row.group(1) and "<td>quick</td>" in row.group(1)


def run_cli(root, venv_bin, *args):
    return subprocess.run([str(venv_bin / "rlbook"), "gallery", *args], cwd=root,
                          capture_output=True, text=True, timeout=120)


def test_unknown_chapter_lists_the_valid_ones(root, venv_bin, tmp_path):
    result = run_cli(root, venv_bin, "--chapters", "01", "42", "--out", str(tmp_path))
    assert result.returncode == 2
    assert "unknown chapter '42'" in result.stderr
    assert "01 (01_gym_and_policies)" in result.stderr and "07 (07_exercises)" in result.stderr
    assert list(tmp_path.iterdir()) == []  # nothing ran


def test_out_that_is_a_file_is_refused(root, venv_bin, tmp_path):
    target = tmp_path / "gallery"
    target.write_text("not a folder")
    result = run_cli(root, venv_bin, "--chapters", "01", "--out", str(target))
    assert result.returncode == 2
    assert "is a file, not a folder" in result.stderr


def test_negative_timeout_is_refused(root, venv_bin, tmp_path):
    result = run_cli(root, venv_bin, "--timeout", "-5", "--out", str(tmp_path))
    assert result.returncode == 2
    assert "--timeout must be a number of seconds >= 0" in result.stderr


def test_chapter_ids_resolve_by_number_or_name(root):
    picked = gallery.select(root, ["3", "01_gym_and_policies", "01"])
    assert [p.parent.name for p in picked] == ["03_mdps_and_q_learning", CHAPTER]


# ------------------------------------------------ synthetic chapters

WIDGET_CELL = """\
import base64, io
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
from IPython.display import display
fig, ax = plt.subplots(figsize=(2, 1))
ax.plot([0, 1], [1, 0])
buffer = io.BytesIO()
fig.savefig(buffer, format="png")
plt.close(fig)
png = base64.b64encode(buffer.getvalue()).decode()
import ipywidgets
# A live widget, so nbclient saves its state and nbconvert would pick the view.
view = ipywidgets.FloatSlider(value=0.9)._repr_mimebundle_()
display({**view, "image/png": png}, raw=True)
print("png prefix", png[:40])
"""


def grader(**fields):
    return {"nbgrader": {"schema_version": 3, "locked": False, "points": None,
                         "solution": False, "grade": False, **fields}}


def write_chapter(folder, cells):
    folder.mkdir(parents=True)
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    path = folder / f"{folder.name}.ipynb"
    nbformat.write(notebook, str(path))
    return path


@pytest.fixture(scope="module")
def synthetic_gallery(tmp_path_factory):
    base = tmp_path_factory.mktemp("chapters")
    code, md = nbformat.v4.new_code_cell, nbformat.v4.new_markdown_cell
    widgets = write_chapter(base / "01_widgets", [
        md("# Widgets with a static fallback"),
        code(WIDGET_CELL),
        code("def double(x):\n    ### BEGIN SOLUTION\n    return x * 2  # the-model-answer\n"
             "    ### END SOLUTION", metadata=grader(solution=True, grade_id="double")),
        code('assert double(1) == 2, "double(1) should be 2"\n### BEGIN HIDDEN TESTS\n'
             "assert double(21) == 42  # a-hidden-check\n### END HIDDEN TESTS",
             metadata=grader(grade=True, locked=True, points=1, grade_id="test_double")),
        md("Explain.\n\n### BEGIN SOLUTION\nA model essay with its rubric.\n### END SOLUTION",
           metadata=grader(solution=True, grade=True, points=1, grade_id="essay")),
    ])
    broken = write_chapter(base / "02_broken", [
        md("# Broken"),
        code('print("before " + "the failure")'),
        code('raise ValueError("synthetic " + "failure")'),
        code('print("never " + "printed")'),
    ])
    after = write_chapter(base / "03_after", [
        md("# After"), code('print("third " + "chapter ran")')])
    out = tmp_path_factory.mktemp("gallery")
    lines = []
    results = gallery.build([widgets, broken, after], out, mode="quick",
                            echo=lambda *a, **k: lines.append(" ".join(map(str, a))))
    return results, out, lines


def test_widget_bundle_shows_its_png(synthetic_gallery):
    results, out, _ = synthetic_gallery
    assert results[0].ok, results[0].error
    markup = (out / "01_widgets.html").read_text()
    prefix = re.search(r"png prefix (\S+)", page_text(markup)).group(1)
    assert f'src="data:image/png;base64,{prefix}' in markup
    assert "application/vnd.jupyter.widget-view+json" not in markup
    assert "application/vnd.jupyter.widget-state+json" not in markup


def test_solutions_and_hidden_tests_are_blanked(synthetic_gallery, root):
    _, out, _ = synthetic_gallery
    text = page_text((out / "01_widgets.html").read_text())
    assert "the-model-answer" not in text and "return x * 2" not in text
    assert "a-hidden-check" not in text and "HIDDEN" not in text
    assert "A model essay" not in text and "YOUR ANSWER HERE" in text
    assert "raise NotImplementedError()" in text
    assert 'assert double(1) == 2, "double(1) should be 2"' in text


def test_a_failing_chapter_is_reported_and_the_others_render(synthetic_gallery):
    results, out, lines = synthetic_gallery
    ok, broken, after = results
    assert ok.ok and after.ok
    assert not broken.ok
    assert broken.failed_cell == 3
    assert broken.error == "ValueError: synthetic failure"
    text = page_text((out / "02_broken.html").read_text())
    assert "before the failure" in text and "synthetic failure" in text
    assert "never printed" not in text
    assert "third chapter ran" in page_text((out / "03_after.html").read_text())
    assert any("02_broken: FAILED at cell 3: ValueError: synthetic failure" in line
               for line in lines)
    index = (out / "index.html").read_text()
    row = re.search(r'<a href="02_broken.html">.*?</tr>', index, flags=re.S).group(0)
    assert 'class="failed"' in row and "cell 3" in row and "synthetic failure" in row
    assert f'href="02_broken.html#cell-id={broken.failed_cell_id}"' in row
    assert f'id="cell-id={broken.failed_cell_id}"' in (out / "02_broken.html").read_text()
    assert index.count('<td class="ok">ok</td>') == 2


def test_report_names_the_failed_chapters(synthetic_gallery):
    results, out, _ = synthetic_gallery
    said = []
    code = gallery.report(results, out, echo=lambda *a, **k: said.append(" ".join(a)))
    assert code == 1
    assert said[-1] == "gallery: failed chapters: 02_broken"
    assert gallery.report([results[0], results[2]], out, echo=lambda *a, **k: None) == 0


def test_index_keeps_earlier_chapters(synthetic_gallery):
    results, out, _ = synthetic_gallery
    gallery.write_index(out, [results[2]])
    entries = json.loads((out / gallery.INDEX_DATA).read_text())
    assert [e["chapter"] for e in entries] == ["01_widgets", "02_broken", "03_after"]


def test_a_stuck_cell_stops_at_the_timeout(tmp_path):
    code = nbformat.v4.new_code_cell
    stuck = write_chapter(tmp_path / "04_stuck", [
        code('print("quick " + "mode is", __import__("os").environ["RLBOOK_QUICK"])'),
        code("import time\ntime.sleep(60)")])
    started = time.perf_counter()
    [result] = gallery.build([stuck], tmp_path / "out", mode="full", timeout=3,
                             echo=lambda *a, **k: None)
    assert time.perf_counter() - started < 45
    assert result.failed_cell == 2 and result.error.startswith("CellTimeoutError")
    text = page_text((tmp_path / "out" / "04_stuck.html").read_text())
    assert "quick mode is 0" in text and "longer than 3" in text
