"""canvas.csv against the layout Canvas's Gradebook import reads.

Canvas's importer (GradebookImporter in instructure/canvas-lms) wants a
header starting ``Student, ID``, with ``SIS User ID, SIS Login ID`` next
and ``Section`` as the last column about the student; a row whose first cell
holds ``Points Possible``; then one row per student, a blank score meaning
"no change". These tests pin that text exactly.
"""

from rlbook.course.grading.canvas import canvas_people, write_canvas

ROSTER = """\
student_id,first_name,last_name,email,canvas_id,sis_user_id,section
alice,Alice,Smith,alice@example.org,101,,A
bob,Bob,"O'Neil, Jr.",bob@example.org,,S-2002,B
carol,,,,,,
dan,Dan,,,,,
"""


def test_roster_columns_become_canvas_columns_and_ungraded_students_stay_blank(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER)
    out = tmp_path / "canvas.csv"
    write_canvas(out, "Homework 1 (4242)", {"alice": 10.0, "bob": 7.5, "carol": 0.0}, 10.0,
                 canvas_people(roster))
    assert out.read_text() == (
        "Student,ID,SIS User ID,SIS Login ID,Section,Homework 1 (4242)\n"
        "Points Possible,,,,,10\n"
        '"Smith, Alice",101,,alice,A,10\n'
        "\"O'Neil, Jr., Bob\",,S-2002,bob,B,7.5\n"
        "carol,,,carol,,0\n"
        "Dan,,,dan,,\n")


def test_a_roster_may_name_the_sis_login_and_extra_graded_students_are_kept(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("student_id,sis_login_id\nalice,asmith@uni.example\n")
    out = tmp_path / "canvas.csv"
    write_canvas(out, "01_gym_and_policies", {"alice": 6.0, "zed": 3.0}, 10.0,
                 canvas_people(roster))
    assert out.read_text() == (
        "Student,ID,SIS User ID,SIS Login ID,Section,01_gym_and_policies\n"
        "Points Possible,,,,,10\n"
        "alice,,,asmith@uni.example,,6\n"
        "zed,,,zed,,3\n")


def test_without_a_roster_the_graded_students_are_listed_by_id(tmp_path):
    out = tmp_path / "canvas.csv"
    write_canvas(out, "01_gym_and_policies", {"bob": 2.0, "alice": 10.0}, 10.0)
    assert out.read_text() == (
        "Student,ID,SIS User ID,SIS Login ID,Section,01_gym_and_policies\n"
        "Points Possible,,,,,10\n"
        "alice,,,alice,,10\n"
        "bob,,,bob,,2\n")
