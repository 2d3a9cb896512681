"""`rlbook grade` on a class of good, bad and hostile chapter-01 submissions.

The corpus (tests/grading_corpus.py) is graded once per module with real
nbgrader, real sandboxed kernels and TensorFlow, two at a time on the
default sqlite gradebook; the tests read the gradebook, the CSVs, the
feedback and the summary it produced.
"""

import csv
import os
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import psutil
import pytest

from grading_corpus import (ASSIGNMENT, EXERCISES, EXPECTED, FLAGGED, HOSTILE_EXPECTED,
                            NOTEBOOK, POINTS, Corpus)
from rlbook.course.grading import collect, feedback, layout, leaks, restore
from rlbook.course.grading.grade import Limits, grade
from rlbook.course.grading.sandbox.watchdog import survivors

# Generous for a busy 2-core machine (the slowest chapter-01 cell takes about
# 7 s there), short enough that the infinite loop costs little.
LIMITS = Limits(cell_timeout=30, timeout=240)
ROSTER = sorted(EXPECTED) + sorted(HOSTILE_EXPECTED) + ["zoe"]
EVERYONE = {**EXPECTED, **HOSTILE_EXPECTED}


def _rows(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def corpus(root):
    return Corpus(root)


# What grading must leave exactly as it was: the environment, the
# interpreter it was made from, and the checkout.
def _tree_state(top):
    """{path: (inode, size, mtime, ctime, mode)} of everything under ``top``;
    any write, replacement, chmod or deletion changes an entry (ctime cannot
    be set back from user space)."""
    state = {}
    for folder, dirs, names in os.walk(top):
        for name in dirs + names:
            path = os.path.join(folder, name)
            st = os.lstat(path)
            state[path] = (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_mode)
    return state


def _tree_changes(before, after):
    """What changed between two _tree_state()s. Python writes bytecode into
    __pycache__ by itself, so new or rewritten files there are not damage;
    a missing one is."""
    changes = []
    for path in sorted(before.keys() | after.keys()):
        cache = f"{os.sep}__pycache__{os.sep}" in path
        if path not in after:
            changes.append(f"deleted {path}")
        elif path not in before:
            if not cache:
                changes.append(f"added {path}")
        elif before[path] != after[path] and not (cache or os.path.isdir(path)):
            changes.append(f"changed {path}")
        elif before[path][4] != after[path][4]:
            changes.append(f"mode changed {path}")
    return changes


def _record_problems(prefix):
    """Files pip's RECORD lists that are missing, or whose sha256 differs
    (bytecode excepted: Python rewrites it)."""
    import base64
    import hashlib
    from concurrent.futures import ThreadPoolExecutor

    rows = []
    for record in Path(prefix).glob("lib/python3*/site-packages/*.dist-info/RECORD"):
        site = record.parent.parent
        with open(record, newline="") as handle:
            rows += [(os.path.normpath(site / row[0]), row[1] if len(row) > 1 else "")
                     for row in csv.reader(handle) if row and row[0]]

    def check(row):
        path, digest = row
        if not os.path.lexists(path):
            return f"missing {path}"
        if "=" in digest and not path.endswith(".pyc"):
            algorithm, expected = digest.split("=", 1)
            hasher = hashlib.new(algorithm)
            with open(path, "rb") as handle:
                for block in iter(lambda: handle.read(2**20), b""):
                    hasher.update(block)
            if base64.urlsafe_b64encode(hasher.digest()).rstrip(b"=").decode() != expected:
                return f"differs from RECORD {path}"
        return None

    assert len(rows) > 10_000, f"no pip RECORD files under {prefix}"
    with ThreadPoolExecutor(os.cpu_count() or 2) as pool:
        return [problem for problem in pool.map(check, rows) if problem]


def _checkout_state(root):
    """{path: content hash} of every file of the checkout that git tracks or
    would track (ignored outputs left out); a commit in between changes
    nothing here, an edit or a deletion does."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others",
                             "--exclude-standard"], cwd=root, capture_output=True, check=True)
    paths = sorted({p for p in listed.stdout.decode().split("\0") if p})
    present = [p for p in paths if os.path.lexists(root / p)]
    hashed = subprocess.run(["git", "hash-object", "--no-filters", "--stdin-paths"], cwd=root,
                            input="\n".join(present) + "\n", capture_output=True, text=True,
                            check=True)
    return dict(zip(present, hashed.stdout.split())), sorted(set(paths) - set(present))


@pytest.fixture(scope="module")
def machine_before(root):
    """Taken before the class is graded; see test_grading_leaves_the_machine_as_it_was."""
    return {"env": _tree_state(sys.prefix), "base": _tree_state(sys.base_prefix),
            "checkout": _checkout_state(root)}


@pytest.fixture(scope="module")
def graded(root, corpus, tmp_path_factory, machine_before):
    folder = tmp_path_factory.mktemp("class")
    inbox = corpus.write_zip(folder / "submissions.zip", hostile=True)
    roster = folder / "roster.csv"
    roster.write_text("student_id,first_name\n" + "".join(f"{s},{s.title()}\n" for s in ROSTER))
    # Two at a time on sqlite: only this process writes the gradebook.
    result = grade(inbox, ASSIGNMENT, out=folder / "out", roster=roster, limits=LIMITS,
                   root=root, jobs=2)
    return result


@pytest.mark.notebook
def test_every_graded_submission_gets_its_expected_scores(graded):
    rows = {row["student"]: row for row in _rows(graded.out / "grades.csv")}
    expected = {s: scores for s, scores in EVERYONE.items() if isinstance(scores, dict)}
    assert sorted(rows) == sorted(expected)
    for student, scores in expected.items():
        row = rows[student]
        got = {exercise: float(row[exercise]) for exercise in EXERCISES}
        assert got == scores, (student, got)
        assert float(row["total"]) == sum(scores.values())
        assert float(row["max"]) == sum(POINTS.values()) == 10
        assert row["assignment"] == ASSIGNMENT


@pytest.mark.notebook
def test_failures_are_listed_with_their_reason_and_never_scored(graded):
    problems = _rows(graded.out / "problems.csv")
    grades = {row["student"] for row in _rows(graded.out / "grades.csv")}
    for student, outcome in EVERYONE.items():
        if isinstance(outcome, dict):
            continue
        _, reason = outcome
        listed = [p for p in problems if p["student"] == student and p["status"] == "not graded"]
        assert len(listed) == 1 and reason in listed[0]["reason"], (student, listed)
        assert student not in grades
    missing = [p for p in problems if p["student"] == "zoe"]
    assert [(p["status"], p["reason"]) for p in missing] == [("not graded", "no submission")]


@pytest.mark.notebook
def test_repairs_and_limits_are_noted_beside_the_score(graded):
    notes = {}
    for row in _rows(graded.out / "problems.csv"):
        if row["status"] == "graded":
            notes.setdefault(row["student"], []).append(row["reason"])
    assert any("test_sample_action" in n or "per-cell time limit" in n for n in notes["erin"])
    assert any("MemoryError" in n for n in notes["frank"])
    assert any(n.startswith("edited locked cells") and "test_basic_policy" in n
               for n in notes["jane"])
    assert any("restored deleted cells from the release: test_run_episodes" == n
               for n in notes["kim"])
    assert any("renamed notebook" in n for n in notes["mia"])
    assert any("out of order" in n for n in notes["mia"])
    assert "alice" not in notes and "bob" not in notes and "ivan" not in notes


@pytest.mark.notebook
def test_tampering_is_flagged_with_its_evidence_and_keeps_its_score(graded):
    flags = {}
    for row in _rows(graded.out / "problems.csv"):
        if row["status"] == "flagged":
            flags.setdefault(row["student"], []).append(row["reason"])
    assert sorted(flags) == sorted(FLAGGED), flags
    for student, fragments in FLAGGED.items():
        for fragment in fragments:
            assert any(fragment in flag for flag in flags[student]), (student, fragment, flags)
    # Honest and merely broken submissions are never flagged.
    assert not set(flags) & set(EXPECTED)
    graded_rows = {row["student"] for row in _rows(graded.out / "grades.csv")}
    assert set(flags) <= graded_rows


@pytest.mark.notebook
def test_one_students_attack_reaches_no_one_else(graded):
    # The saboteur overwrote every notebook it could see and the db-writer
    # every database: inside the sandbox that was nothing of the course.
    for student in ("alice", "mia", "carol"):
        assert nbformat.read(str(graded.out / "submitted" / student / ASSIGNMENT /
                                 f"{NOTEBOOK}.ipynb"), 4).cells
    with sqlite3.connect(graded.out / "gradebook.db") as db:
        assert db.execute("select count(*) from submitted_assignment").fetchone()[0] == len(
            [o for o in EVERYONE.values() if isinstance(o, dict)])


@pytest.mark.notebook
def test_the_gradebook_is_sqlite_and_holds_only_real_gradings(graded):
    from nbgrader.api import Gradebook, MissingEntry

    with sqlite3.connect(graded.out / "gradebook.db") as db:
        assert db.execute("select count(*) from grade_cells").fetchone()[0] == len(EXERCISES)
    totals = {row["student"]: float(row["total"]) for row in _rows(graded.out / "grades.csv")}
    with Gradebook(f"sqlite:///{graded.out / 'gradebook.db'}", "rlbook") as gradebook:
        for student, outcome in EVERYONE.items():
            if isinstance(outcome, dict):
                assert gradebook.find_submission(ASSIGNMENT, student).score == totals[student]
            else:
                with pytest.raises(MissingEntry):
                    gradebook.find_submission(ASSIGNMENT, student)


def _hidden_snippets(root):
    source = nbformat.read(str(root / "solutions" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"), 4)
    snippets = []
    for cell in source.cells:
        lines = cell.source.splitlines()
        if "### BEGIN HIDDEN TESTS" in lines:
            inside = lines[lines.index("### BEGIN HIDDEN TESTS"):lines.index("### END HIDDEN TESTS") + 1]
            snippets += [line.strip() for line in inside if len(line.strip()) > 12]
    return snippets


def _page_text(page):
    import html
    import re

    # Syntax highlighting wraps every token in a span: compare the bare text.
    return html.unescape(re.sub(r"<[^>]+>", "", page.read_text()))


@pytest.mark.notebook
def test_feedback_never_shows_hidden_tests(graded, root):
    snippets = _hidden_snippets(root)
    assert len(snippets) > 10
    files = sorted(p for p in (graded.out / "feedback").rglob("*") if p.is_file())
    pages = [p for p in files if p.suffix == ".html"]
    assert {p.parts[-3] for p in pages} == {s for s, o in EVERYONE.items() if isinstance(o, dict)}
    for page in files:
        text = _page_text(page)
        if page.suffix == ".html":
            # A visible check is shown, so the search below can find code.
            assert "leaning_left = np.array([0.0, 0.0, -0.05, 0.0])" in text, page
        leaked = [snippet for snippet in snippets if snippet in text]
        assert leaked == [] and "HIDDEN TESTS" not in text, (page, leaked)
    biggest = max(p.stat().st_size for p in pages)
    assert biggest < 5 * 2**20, "nbgrader's LimitOutput should cap enormous output"
    # The leaker printed the hidden tests: its page says what was removed.
    assert leaks.NOTE in _page_text(
        graded.out / "feedback" / "leaker" / ASSIGNMENT / f"{NOTEBOOK}.html")


@pytest.mark.notebook
def test_stored_executed_notebooks_hold_no_hidden_test_in_their_outputs(graded, root):
    source = restore.instructor_source(root / "solutions", ASSIGNMENT, NOTEBOOK)
    release = restore.instructor_source(root / "notebooks", ASSIGNMENT, NOTEBOOK)
    secrets = leaks.secret_lines(source, release)
    stored = sorted((graded.out / "autograded").rglob("*.ipynb"))
    assert len(stored) == len([o for o in EVERYONE.values() if isinstance(o, dict)])
    for path in stored:
        assert leaks.leaking_outputs(nbformat.read(str(path), 4), secrets) == [], path


@pytest.mark.notebook
def test_summary_png_and_terminal_report(graded):
    png = graded.out / "summary.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    scored = [s for s in EVERYONE.values() if isinstance(s, dict)]
    for exercise in EXERCISES:
        passed = sum(s[exercise] == POINTS[exercise] for s in scored)
        assert f"({passed}/{len(scored)})" in next(
            line for line in graded.summary.splitlines() if exercise in line)
    assert f"{len(scored)} graded, totals out of 10" in graded.summary


def _children():
    """This process's live descendants, but for multiprocessing's resource
    tracker (the standard library starts it with the first worker pool; it
    lives as long as its parent). Zombies have ended already; where this
    process is a namespace's init, orphans it has not reaped yet are such."""
    return _live_children()


def _live_children():
    found = []
    for child in psutil.Process().children(recursive=True):
        try:
            if child.status() != psutil.STATUS_ZOMBIE and \
                    "resource_tracker" not in " ".join(child.cmdline()):
                found.append(child)
        except psutil.NoSuchProcess:     # ended while we looked
            pass
    return found


@pytest.mark.notebook
def test_no_process_started_by_a_submission_outlives_the_run(graded):
    # The daemon student started sleepers in sessions of their own and a
    # double fork; the fork bomb left dozens of children.
    if os.geteuid() == 0:       # one uid per run; nick's and olga's files never ran
        assert len(graded.sandbox_uids) == len(EVERYONE) - 2
    assert survivors(graded.sandbox_uids) == []
    assert _children() == []


@pytest.mark.notebook
def test_grading_the_same_submissions_again_gives_the_same_lines(graded, corpus, root, tmp_path):
    again = {"carol", "nick"}
    inbox = corpus.write_zip(tmp_path / "again.zip", names=again)
    result = grade(inbox, ASSIGNMENT, out=tmp_path / "out", limits=LIMITS, root=root)

    def lines(path):
        text = path.read_text().splitlines()
        return [text[0]] + [line for line in text[1:] if line.split(",")[0] in again]

    assert lines(result.out / "grades.csv") == lines(graded.out / "grades.csv")
    assert lines(result.out / "problems.csv") == lines(graded.out / "problems.csv")


@pytest.mark.notebook
def test_a_loop_that_swallows_interrupts_hits_the_whole_notebook_limit(corpus, root, tmp_path):
    stubborn = corpus.student(basic_policy=corpus.answer("basic_policy", before=(
        "import time\nwhile True:\n    try:\n        time.sleep(0.1)\n"
        "    except KeyboardInterrupt:\n        pass\n")))
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    nbformat.write(stubborn, str(inbox / f"quinn_{NOTEBOOK}.ipynb"))
    result = grade(inbox, ASSIGNMENT, out=tmp_path / "out", root=root,
                   limits=Limits(cell_timeout=10, timeout=40))
    assert result.graded == []
    assert [p[2:] for p in result.problems] == [
        ("not graded", "ran past the whole-notebook limit of 40 s; nothing was graded")]
    assert _children() == []
    assert survivors(result.sandbox_uids) == []


@pytest.mark.notebook
def test_validate_and_the_grader_give_the_same_verdicts(graded, corpus, tmp_path):
    from rlbook.course.grading.validate import validate

    # ivan's basic_policy warns on stderr whenever a test calls it.
    path = tmp_path / f"{NOTEBOOK}.ipynb"
    nbformat.write(corpus.notebooks()[f"ivan_{NOTEBOOK}.ipynb"], str(path))
    report = validate(path, timeout=LIMITS.cell_timeout)
    row = next(r for r in _rows(graded.out / "grades.csv") if r["student"] == "ivan")
    by_grader = {e: float(row[e]) == POINTS[e] for e in EXERCISES}
    by_validate = {e: e in report.passed for e in EXERCISES}
    assert by_validate == by_grader
    assert by_grader["test_basic_policy"] is False
    assert report.errors["test_basic_policy"].startswith("wrote to stderr")


@pytest.mark.notebook
def test_no_sandbox_grades_with_a_warning_on_screen_and_in_the_log(corpus, root, tmp_path):
    from rlbook.course.grading.grade import NO_SANDBOX_WARNING

    inbox = corpus.write_zip(tmp_path / "one.zip", names={"alice"})
    said = []
    result = grade(inbox, ASSIGNMENT, out=tmp_path / "out", limits=LIMITS, root=root,
                   sandbox=False, echo=said.append)
    assert said[0] == NO_SANDBOX_WARNING and "--no-sandbox" in said[0]
    assert (result.out / "grading.log").read_text().splitlines()[0] == NO_SANDBOX_WARNING
    assert _rows(result.out / "grades.csv")[0]["total"] == "10"


def test_an_empty_zip_is_a_clear_error(root, tmp_path, venv_bin):
    empty = tmp_path / "empty.zip"
    zipfile.ZipFile(empty, "w").close()
    done = subprocess.run([venv_bin / "rlbook", "grade", ASSIGNMENT, str(empty),
                           "--out", str(tmp_path / "out")],
                          cwd=root, capture_output=True, text=True)
    assert done.returncode == 2
    assert "holds no files" in done.stderr and f"<student_id>_{NOTEBOOK}.ipynb" in done.stderr


def test_an_unknown_assignment_names_the_known_ones(root, tmp_path):
    with pytest.raises(ValueError, match=ASSIGNMENT):
        grade(tmp_path, "99_nothing", out=tmp_path / "out", root=root)


def test_a_folder_not_made_by_the_grader_is_never_cleared(root, tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "thesis.tex").write_text("precious")
    with pytest.raises(ValueError, match="not made by `rlbook grade`"):
        grade(tmp_path, ASSIGNMENT, out=tmp_path / "out", root=root)
    assert (tmp_path / "out" / "thesis.tex").read_text() == "precious"


# Intake and repair on their own: no kernel needed.

def test_file_names_identify_the_student(corpus, tmp_path):
    released = {NOTEBOOK: corpus.released}
    for name in (f"ann_lee_{NOTEBOOK}.ipynb", f"x/{NOTEBOOK}.ipynb", "noseparator.ipynb",
                 "notes.txt", f"ann_lee_{NOTEBOOK} (1).ipynb"):
        path = tmp_path / "inbox" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(corpus.released, str(path))
    subs, rejected = collect.collect(tmp_path / "inbox", released, roster={"ann_lee": {}, "x": {}})
    assert sorted((s.student, s.file) for s in subs) == [
        ("ann_lee", f"ann_lee_{NOTEBOOK}.ipynb"), ("x", f"x/{NOTEBOOK}.ipynb")]
    reasons = {r.file: r.reason for r in rejected}
    assert "cannot tell the student" in reasons["noseparator.ipynb"]
    assert reasons["notes.txt"] == "not a .ipynb file"
    assert reasons[f"ann_lee_{NOTEBOOK} (1).ipynb"].startswith("second file")


def test_a_bad_roster_says_what_to_fix(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("name,email\nann,a@b.c\n")
    with pytest.raises(ValueError, match="'student_id' column"):
        collect.read_roster(roster)
    roster.write_text("student_id\nann smith\n")
    with pytest.raises(ValueError, match="line 2: 'ann smith'"):
        collect.read_roster(roster)


def test_layout_restores_order_and_deleted_cells(corpus):
    student = corpus.student()
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in student.cells]
    shuffled = nbformat.from_dict(student)
    del shuffled.cells[ids.index("test_sample_action")]
    # A test moved above its solution would fail without the repair.
    first = ids.index("basic_policy")
    shuffled.cells[first], shuffled.cells[first + 1] = shuffled.cells[first + 1], shuffled.cells[first]
    repaired, notes = layout.restore_layout(shuffled, corpus.released)
    assert [c.source for c in repaired.cells] == [c.source for c in student.cells]
    assert "restored deleted cells from the release: test_sample_action" in notes
    assert "cells were out of order; restored the released order" in notes


def test_hidden_test_failures_are_reported_without_their_code():
    source = "assert f(1) == 2, 'visible'\n### BEGIN HIDDEN TESTS\nassert f(2) == 41.698\n### END HIDDEN TESTS"
    cell = nbformat.v4.new_code_cell(source)
    cell.outputs = [nbformat.v4.new_output(
        "error", ename="AssertionError", evalue="41.698",
        traceback=["\x1b[0;32mCell In[3], line 3\x1b[0m", "assert f(2) == 41.698"])]
    cell, _ = feedback.HideHiddenTests().preprocess_cell(cell, {}, 0)
    assert "41.698" not in cell.source + str(cell.outputs)
    assert cell.source.splitlines() == ["assert f(1) == 2, 'visible'", feedback.HIDDEN_NOTE]
    assert cell.outputs[0].evalue == "a hidden test failed"


@pytest.mark.notebook
def test_two_jobs_on_postgresql_write_the_same_lines(graded, corpus, root, tmp_path):
    import pg_server

    if pg_server.missing():
        pytest.skip(pg_server.missing())
    subset = {"carol", "hank", "nick"}
    inbox = corpus.write_zip(tmp_path / "subset.zip", names=subset)
    with pg_server.server() as url:
        result = grade(inbox, ASSIGNMENT, out=tmp_path / "out", limits=LIMITS, root=root,
                       jobs=2, db_url=url)
        from nbgrader.api import Gradebook

        with Gradebook(url, "rlbook") as gradebook:
            stored = {s.student.id: s.score for s in gradebook.assignment_submissions(ASSIGNMENT)}
    assert not (result.out / "gradebook.db").exists()
    assert stored == {"carol": sum(EXPECTED["carol"].values())}

    def lines(path):
        text = path.read_text().splitlines()
        return [text[0]] + [line for line in text[1:] if line.split(",")[0] in subset]

    assert lines(result.out / "grades.csv") == lines(graded.out / "grades.csv")
    assert lines(result.out / "problems.csv") == lines(graded.out / "problems.csv")


def test_a_bad_jobs_count_is_a_clear_error(root, tmp_path):
    with pytest.raises(ValueError, match="--jobs must be a whole number of at least 1, got 0"):
        grade(tmp_path, ASSIGNMENT, out=tmp_path / "out", root=root, jobs=0)


def _stdout_of(graded, student):
    nb = nbformat.read(str(graded.out / "autograded" / student / ASSIGNMENT /
                           f"{NOTEBOOK}.ipynb"), 4)
    return "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", [])
                   if o.get("output_type") == "stream")


@pytest.mark.notebook
def test_attacks_on_the_course_found_nothing_to_attack(graded):
    # Each attacker looked where nbgrader keeps the course and reports what
    # it hit: inside the sandbox, nothing of the course was there.
    assert "gradebooks changed: []" in _stdout_of(graded, "db-writer")
    assert "notebooks overwritten: []" in _stdout_of(graded, "sabotage")
    escaper = _stdout_of(graded, "escaper")
    assert "WRITTEN" not in escaper and escaper.count("Read-only file system") >= 6, escaper
    assert "network: Network is unreachable" in escaper or "network: Connection refused" \
        in escaper, escaper
    assert "/tmp full: No space left on device" in _stdout_of(graded, "filler")


@pytest.mark.notebook
def test_grading_leaves_the_machine_as_it_was(graded, machine_before, root):
    # The whole corpus, honest and hostile, has been graded by now. Nothing
    # of the environment, its base interpreter or the checkout may differ.
    env_changes = _tree_changes(machine_before["env"], _tree_state(sys.prefix))
    base_changes = _tree_changes(machine_before["base"], _tree_state(sys.base_prefix))
    unchanged = {path for path, st in machine_before["env"].items()
                 if os.path.lexists(path) and os.lstat(path).st_ctime_ns == st[3]}
    # A RECORD mismatch on a file nobody touched since before grading was
    # there already (a bytecode rebuild, a local edit): not grading's doing.
    record = [p for p in _record_problems(sys.prefix) if p.split(" ")[-1] not in unchanged]
    assert env_changes == [] and record == [], (env_changes + record)[:30]
    assert base_changes == [], base_changes[:30]
    files, missing = _checkout_state(root)
    files_before, missing_before = machine_before["checkout"]
    assert missing == missing_before
    assert {p for p in files.keys() | files_before.keys()
            if files.get(p) != files_before.get(p)} == set()
