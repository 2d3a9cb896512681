"""notebooks/ must be exactly what nbgrader generates from solutions/."""

import json
import shutil

from rlbook.course import release

import pytest


def test_committed_student_notebooks_are_in_sync(root):
    assert release.check_release(root) == []


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


def test_check_detects_an_edit_and_release_repairs_it(scratch_course):
    student = next((scratch_course / "notebooks").rglob("*.ipynb"))
    notebook = json.loads(student.read_text())
    notebook["cells"][0]["source"] = "# edited by hand\n"
    student.write_text(json.dumps(notebook))
    problems = release.check_release(scratch_course)
    changed = student.relative_to(scratch_course / "notebooks")
    assert problems == [f"notebooks/{changed} differs from its source"]
    release.release(scratch_course)
    assert release.check_release(scratch_course) == []


def test_check_detects_a_missing_student_notebook(scratch_course):
    student = next((scratch_course / "notebooks").rglob("*.ipynb"))
    student.unlink()
    assert any("is missing" in p for p in release.check_release(scratch_course))


def test_find_root_explains_where_it_looked(tmp_path):
    with pytest.raises(FileNotFoundError, match="nbgrader_config.py"):
        release.find_root(tmp_path)
