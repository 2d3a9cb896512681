"""notebooks/ must be exactly what nbgrader generates from solutions/.

nbgrader generates the whole workbook once per module (``fresh``); each test
compares against that, and only the repair test runs nbgrader again, for one
assignment.
"""

import json
import shutil

from rlbook.course import release, workbook

import pytest


@pytest.fixture(scope="module")
def fresh(root, tmp_path_factory):
    """A scratch copy of the sources with every assignment generated into notebooks/."""
    scratch = tmp_path_factory.mktemp("release")
    shutil.copytree(root / "solutions", scratch / "solutions")
    shutil.copy(root / "nbgrader_config.py", scratch)
    written = release.release(scratch)
    assert written, "nbgrader generated no student notebook"
    return scratch


def test_committed_student_notebooks_are_in_sync(root, fresh):
    assert release.differences(fresh / "notebooks", root / "notebooks") == []


def test_student_versions_hold_no_solutions_or_hidden_tests(root):
    for path in (root / "notebooks").rglob("*.ipynb"):
        text = path.read_text()
        for marker in ("BEGIN SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
            assert marker not in text, f"{path} contains {marker}"
        assert "raise NotImplementedError()" in text


def test_sources_are_stored_without_outputs(root):
    for path in (root / "solutions").rglob("*.ipynb"):
        notebook = json.loads(path.read_text())
        for cell in notebook["cells"]:
            if cell["cell_type"] == "code":
                assert cell["outputs"] == [] and cell["execution_count"] is None, path


@pytest.fixture
def scratch_course(root, tmp_path):
    for name in ("solutions", "notebooks"):
        shutil.copytree(root / name, tmp_path / name)
    shutil.copy(root / "nbgrader_config.py", tmp_path)
    return tmp_path


def test_an_edit_is_detected_and_release_repairs_it(scratch_course, fresh):
    student = sorted((scratch_course / "notebooks").rglob("*.ipynb"))[0]
    notebook = json.loads(student.read_text())
    notebook["cells"][0]["source"] = "# edited by hand\n"
    student.write_text(json.dumps(notebook))
    changed = student.relative_to(scratch_course / "notebooks")
    assert release.differences(fresh / "notebooks", scratch_course / "notebooks") == [
        f"notebooks/{changed} differs from its source"]
    assert release.release(scratch_course, only={changed.parts[0]}) == [student]
    assert release.differences(fresh / "notebooks", scratch_course / "notebooks") == []


def test_a_missing_or_extra_student_notebook_is_detected(scratch_course, fresh):
    students = sorted((scratch_course / "notebooks").rglob("*.ipynb"))
    students[0].unlink()
    extra = scratch_course / "notebooks" / "99_stray" / "99_stray.ipynb"
    extra.parent.mkdir()
    shutil.copy(students[1], extra)
    assert release.differences(fresh / "notebooks", scratch_course / "notebooks") == [
        f"notebooks/{students[0].relative_to(scratch_course / 'notebooks')} is missing",
        "notebooks/99_stray/99_stray.ipynb has no source in solutions/"]


def test_check_release_regenerates_and_compares(root, tmp_path):
    # `rlbook release --check` on a course of one chapter (one nbgrader run).
    chapter = sorted(p.parent.name for p in (root / "solutions").glob("*/*.ipynb"))[0]
    for name in ("solutions", "notebooks"):
        shutil.copytree(root / name / chapter, tmp_path / name / chapter)
    shutil.copy(root / "nbgrader_config.py", tmp_path)
    assert release.check_release(tmp_path) == []
    next((tmp_path / "notebooks").rglob("*.ipynb")).unlink()
    assert [p.split()[-1] for p in release.check_release(tmp_path)] == ["missing"]


def test_find_root_explains_where_it_looked(tmp_path):
    with pytest.raises(FileNotFoundError, match="nbgrader_config.py"):
        workbook.find_root(tmp_path)
