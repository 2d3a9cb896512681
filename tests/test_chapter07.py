"""Chapter 07 in real nbgrader: written answers wait for a human, code is scored.

One submission, made from the instructor source (the model answers filled
in), is graded with `rlbook grade`; the gradebook must list the seven
written answers as needing manual grading and score the autograded tests.
"""

import shutil

from rlbook.grading.grade import Limits, grade

import pytest
from nbgrader.api import Gradebook

ASSIGNMENT = "07_exercises"
WRITTEN = ["q1_define_rl", "q2_applications", "q3_discount_factor", "q4_measure_performance",
           "q5_credit_assignment", "q6_replay_buffer", "q7_off_policy"]
AUTOGRADED = {"test_reinforce_lunar_lander": 4, "test_make_space_invaders_env": 2}


@pytest.fixture(scope="module")
def gradebook(root, tmp_path_factory):
    folder = tmp_path_factory.mktemp("ch07")
    inbox = folder / "inbox"
    inbox.mkdir()
    shutil.copy(root / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb",
                inbox / f"ada_{ASSIGNMENT}.ipynb")
    roster = folder / "roster.csv"
    roster.write_text("student_id,first_name\nada,Ada\n")
    result = grade(inbox, ASSIGNMENT, out=folder / "out", roster=roster,
                   limits=Limits(cell_timeout=180, timeout=400), root=root)
    assert [o.student for o in result.graded] == ["ada"], result.problems
    with Gradebook(f"sqlite:///{result.out / 'gradebook.db'}", "rlbook") as gb:
        yield {g.name: (g.needs_manual_grade, g.score, g.max_score)
               for g in gb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, "ada").grades}


@pytest.mark.notebook
def test_written_answers_wait_for_manual_grading(gradebook):
    for name in WRITTEN:
        needs_manual, _, max_score = gradebook[name]
        assert needs_manual, f"{name} should need manual grading"
        assert max_score > 0, name
    assert sum(gradebook[name][2] for name in WRITTEN) == 15


@pytest.mark.notebook
def test_autograded_exercises_get_full_scores(gradebook):
    for name, points in AUTOGRADED.items():
        needs_manual, score, max_score = gradebook[name]
        assert not needs_manual, name
        assert (score, max_score) == (points, points), (name, score, max_score)
