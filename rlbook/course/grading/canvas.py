"""canvas.csv: the assignment's scores in the layout Canvas's Gradebook imports.

Canvas (Grades > Import) reads a header row whose first columns are
``Student, ID, SIS User ID, SIS Login ID, Section``, one column per
assignment after them, and an optional row whose first cell says
``Points Possible``. It finds each student by ``ID`` (Canvas's own user id),
else ``SIS User ID``, else ``SIS Login ID``, else the name; an assignment
column named ``Title (12345)`` updates the Canvas assignment with id 12345,
one named by a title alone updates the assignment of that title or creates
it. A blank score changes nothing in Canvas.

The roster's ``student_id`` goes into ``SIS Login ID`` unless the roster has
its own ``sis_login_id`` column; optional columns ``canvas_id``,
``sis_user_id`` and ``section`` fill the others. The score is the final one
(after any late penalty). Students not graded get a blank, never a 0:
``problems.csv`` says why.
"""

import csv
from pathlib import Path

HEADER = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
POINTS_POSSIBLE = "Points Possible"


def canvas_people(roster_path):
    """{student_id: {"name", "canvas_id", "sis_user_id", "sis_login_id", "section"}}
    from the roster CSV (already checked by ``collect.read_roster``)."""
    with Path(roster_path).open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    people = {}
    for row in rows:
        student = (row.get("student_id") or "").strip()
        value = {key: (row.get(key) or "").strip()
                 for key in ("first_name", "last_name", "canvas_id", "sis_user_id",
                             "sis_login_id", "section")}
        first, last = value.pop("first_name"), value.pop("last_name")
        # Canvas shows and exports names as "Last, First".
        value["name"] = ", ".join(p for p in (last, first) if p) or student
        value["sis_login_id"] = value["sis_login_id"] or student
        people[student] = value
    return people


def write_canvas(path, column, finals, points_possible, people=None):
    """Write canvas.csv.

    ``column``: the assignment column's header; ``finals``: {student: final
    score} of the graded; ``people``: ``canvas_people(roster)``, or None to
    list the graded students by their ids alone.
    """
    from .report import _number

    if people is None:
        people = {s: {"name": s, "canvas_id": "", "sis_user_id": "", "sis_login_id": s,
                      "section": ""} for s in finals}
    students = sorted(set(people) | set(finals))
    with Path(path).open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow([*HEADER, column])
        writer.writerow([POINTS_POSSIBLE, "", "", "", "", _number(points_possible)])
        for student in students:
            who = people.get(student) or {"name": student, "canvas_id": "", "sis_user_id": "",
                                          "sis_login_id": student, "section": ""}
            score = finals.get(student)
            writer.writerow([who["name"], who["canvas_id"], who["sis_user_id"],
                             who["sis_login_id"], who["section"],
                             "" if score is None else _number(score)])
