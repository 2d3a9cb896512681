"""Badges and the Colab launch lines come from the one [tool.rlbook] setting."""

import shutil

from rlbook.course import badges

import nbformat
import pytest

from conftest import source_notebooks, student_notebook


def test_every_notebook_has_current_badges_and_launch_block(root):
    # Holds for any number of chapters; the fix is `rlbook badges`.
    assert badges.stale(root) == [], "run `rlbook badges` and commit solutions/ and notebooks/"
    config = badges.read_config(root)
    for source in source_notebooks():
        student = nbformat.read(str(student_notebook(source)), as_version=4)
        path = student_notebook(source).relative_to(root).as_posix()
        assert student.cells[0].source == badges.badge_markdown(config, path)
        assert badges.colab_url(config, path).endswith(f"/blob/{config[2]}/{path}")
        assert (root / path).is_file()
        first_code = next(cell for cell in student.cells if cell.cell_type == "code")
        assert first_code.source.startswith(badges.BLOCK_START)
        assert badges.pip_source(config) in first_code.source
        assert "rlbook.doctor.check(quick=True)" in first_code.source


def make_workbook(root, tmp_path, repository):
    """A scratch workbook with chapter 01 and the given repository setting."""
    for name in ("nbgrader_config.py",):
        shutil.copy(root / name, tmp_path / name)
    source = source_notebooks()[0]
    (tmp_path / "solutions" / source.parent.name).mkdir(parents=True)
    shutil.copy(source, tmp_path / "solutions" / source.parent.name / source.name)
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.rlbook]\nrepository = "{repository}"\nbranch = "course-2027"\n')
    return tmp_path / "solutions" / source.parent.name / source.name


@pytest.mark.slow
def test_changing_the_repository_rewrites_badges_and_regenerates_students(root, tmp_path):
    source = make_workbook(root, tmp_path, "https://github.com/some-school/rl-course")
    assert badges.stale(tmp_path) == [source]
    assert badges.apply(tmp_path) == [source]
    student = tmp_path / "notebooks" / source.parent.name / source.name
    text = student.read_text()
    assert ("https://colab.research.google.com/github/some-school/rl-course/blob/course-2027/"
            f"notebooks/{source.parent.name}/{source.name}") in text
    assert "https://mybinder.org/v2/gh/some-school/rl-course/course-2027?urlpath=lab/tree/" in text
    assert "git+https://github.com/some-school/rl-course@course-2027" in text
    assert "your-org" not in text
    # Once written, applying again changes nothing and keeps one badge cell.
    assert badges.apply(tmp_path) == [] and badges.stale(tmp_path) == []
    cells = nbformat.read(str(source), as_version=4).cells
    assert [cell.id for cell in cells].count(badges.BADGE_CELL_ID) == 1
    assert sum(badges.BLOCK_START in cell.source for cell in cells) == 1


def test_a_notebook_without_launch_lines_gets_them_in_front(root, tmp_path):
    source = make_workbook(root, tmp_path, "https://github.com/a/b")
    notebook = nbformat.read(str(source), as_version=4)
    notebook.cells = [cell for cell in notebook.cells if cell.id != badges.BADGE_CELL_ID]
    setup = next(cell for cell in notebook.cells if cell.cell_type == "code")
    start = setup.source.index(badges.BLOCK_START)
    end = setup.source.index(badges.BLOCK_END) + len(badges.BLOCK_END)
    own_lines = setup.source[end:].lstrip("\n")
    setup.source = own_lines
    nbformat.write(notebook, str(source))
    assert badges.update_notebook(source, tmp_path, badges.read_config(tmp_path))
    updated = nbformat.read(str(source), as_version=4)
    assert updated.cells[0].id == badges.BADGE_CELL_ID
    first = next(cell for cell in updated.cells if cell.cell_type == "code")
    assert first.source.startswith(badges.BLOCK_START) and first.source.endswith(own_lines)
    assert start == 0


@pytest.mark.parametrize("setting, message", [
    ("https://gitlab.com/a/b", "must look like https://github.com/OWNER/NAME"),
    ("github.com/a/b", "must look like"),
])
def test_a_bad_repository_setting_is_explained(tmp_path, setting, message):
    (tmp_path / "pyproject.toml").write_text(f'[tool.rlbook]\nrepository = "{setting}"\n')
    with pytest.raises(ValueError, match=message):
        badges.read_config(tmp_path)


def test_a_missing_setting_shows_what_to_add(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    with pytest.raises(ValueError, match=r"\[tool.rlbook\]\nrepository = "):
        badges.read_config(tmp_path)
