"""`rlbook grade --deadlines --roster`: late penalties in grades.csv, the feedback and canvas.csv.

A class of four chapter-01 submissions (10 points), graded for real (sandboxed
kernels, nbgrader), due 2026-10-05 23:59 in Berlin, 10% of the points off per
started day late, 0 after more than 3 days:

* alice, correct, zip entry time 2026-10-05 22:00: on time, 10;
* bob, correct, his folder's timestamp.txt says 2026-10-07 08:00 UTC (10:00 in
  Berlin): 34 hours late, 2 days, -2: 8;
* carol, partly wrong (6), handed in 2026-10-08 12:00 within her extension
  to 2026-10-08 23:59: on time, 6;
* erin, correct, 2026-10-10 00:30: 5 days late, more than 3: 0.
dan is on the roster and handed in nothing.
"""

import re
import zipfile

from rlbook.course.cli import main

import nbformat
import pytest
from grading_corpus import ASSIGNMENT, NOTEBOOK, Corpus

DEADLINES = f"""\
timezone = "Europe/Berlin"

[late]
policy = "percent_per_day"
percent = 10
days = 3

[assignments.{ASSIGNMENT}]
due = 2026-10-05T23:59:00
extensions = {{ carol = 2026-10-08T23:59:00 }}
"""

ROSTER = """\
student_id,first_name,last_name,canvas_id,section
alice,Alice,Smith,101,A
bob,Bob,Jones,102,A
carol,Carol,Wu,,B
dan,Dan,Ode,,B
erin,Erin,Kay,105,
"""


@pytest.fixture(scope="module")
def graded(root, tmp_path_factory):
    corpus = Corpus(root)
    correct = nbformat.writes(corpus.student()).encode()
    partly = nbformat.writes(corpus.student(
        sample_action="def sample_action(left_proba, rng):\n"
                      "    return int(rng.random() < left_proba)\n",
        build_policy_network=corpus.answer("build_policy_network").replace('"elu"', '"relu"'),
    )).encode()
    top = tmp_path_factory.mktemp("late")
    inbox = top / "class.zip"
    with zipfile.ZipFile(inbox, "w") as archive:
        def entry(name, data, when=(2026, 9, 1, 0, 0, 0)):
            archive.writestr(zipfile.ZipInfo(f"class/{name}", when), data)
        entry(f"alice_{NOTEBOOK}.ipynb", correct, (2026, 10, 5, 22, 0, 0))
        entry(f"bob/{NOTEBOOK}.ipynb", correct, (2026, 10, 1, 0, 0, 0))
        entry("bob/timestamp.txt", "2026-10-07 08:00:00.000000 UTC\n")
        entry(f"carol_{NOTEBOOK}.ipynb", partly, (2026, 10, 8, 12, 0, 0))
        entry(f"erin_{NOTEBOOK}.ipynb", correct, (2026, 10, 10, 0, 30, 0))
    (top / "deadlines.toml").write_text(DEADLINES)
    (top / "roster.csv").write_text(ROSTER)
    out = top / "out"
    code = main(["grade", ASSIGNMENT, str(inbox), "--out", str(out), "--jobs", "2",
                 "--roster", str(top / "roster.csv"), "--deadlines", str(top / "deadlines.toml"),
                 "--canvas-column", "Homework 1 (4242)", "--cell-timeout", "60",
                 "--timeout", "300"])
    assert code == 0
    return out


@pytest.mark.notebook
def test_grades_csv_shows_raw_penalty_and_final(graded):
    head = ("student,assignment,test_basic_policy,test_run_episodes,"
            "test_basic_policy_statistics,test_build_policy_network,test_sample_action,"
            "total,max,submitted,days_late,penalty,final\n")
    assert (graded / "grades.csv").read_text() == head + (
        f"alice,{ASSIGNMENT},2,3,1,2,2,10,10,2026-10-05T22:00:00+02:00,0,0,10\n"
        f"bob,{ASSIGNMENT},2,3,1,2,2,10,10,2026-10-07T10:00:00+02:00,2,2,8\n"
        f"carol,{ASSIGNMENT},2,3,1,0,0,6,10,2026-10-08T12:00:00+02:00,0,0,6\n"
        f"erin,{ASSIGNMENT},2,3,1,2,2,10,10,2026-10-10T00:30:00+02:00,5,10,0\n")


@pytest.mark.notebook
def test_canvas_csv_has_the_final_scores_by_roster_id(graded):
    assert (graded / "canvas.csv").read_text() == (
        "Student,ID,SIS User ID,SIS Login ID,Section,Homework 1 (4242)\n"
        "Points Possible,,,,,10\n"
        '"Smith, Alice",101,,alice,A,10\n'
        '"Jones, Bob",102,,bob,A,8\n'
        '"Wu, Carol",,,carol,B,6\n'
        '"Ode, Dan",,,dan,B,\n'
        '"Kay, Erin",105,,erin,,0\n')
    assert "dan,,not graded,no submission\n" in (graded / "problems.csv").read_text()


def _text(page):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


@pytest.mark.notebook
def test_the_feedback_says_when_it_came_in_and_what_lateness_cost(graded):
    def feedback(student):
        return _text((graded / "feedback" / student / ASSIGNMENT
                      / f"{NOTEBOOK}.html").read_text())

    policy = ("Late policy : 10% of the points possible off per day late (a started day counts "
              "whole); more than 3 days late scores 0.")
    bob = feedback("bob")
    assert "Due 2026-10-05 23:59 CEST. Submitted 2026-10-07 10:00 CEST: 2 days late." in bob
    assert policy in bob
    assert "Late penalty : -2: 10 becomes 8 of 10." in bob
    assert "Late submission penalty (Score: -2.0)" in bob          # nbgrader's own line
    carol = feedback("carol")
    assert ("Due 2026-10-05 23:59 CEST, with your extension 2026-10-08 23:59 CEST. "
            "Submitted 2026-10-08 12:00 CEST: on time.") in carol
    assert "Late penalty :" not in carol
    erin = feedback("erin")
    assert "5 days late" in erin and "Late penalty : -10: 10 becomes 0 of 10." in erin
