"""The deadlines file, the late policies and where a submission's time comes from."""

import datetime
import zipfile
from zoneinfo import ZoneInfo

from rlbook.course.grading import collect
from rlbook.course.grading.deadlines import LatePolicy, load, parse_timestamp, submission_time

import nbformat
import pytest
from grading_corpus import NOTEBOOK, Corpus

BERLIN = ZoneInfo("Europe/Berlin")
UTC = datetime.timezone.utc
DAY = 86400

GOOD = """\
timezone = "Europe/Berlin"

[late]
policy = "percent_per_day"
percent = 10
days = 3

[assignments.01_gym_and_policies]
due = 2026-10-05T23:59:00
extensions = { carol = 2026-10-08T23:59:00, dan = 1.5 }

[assignments.02_policy_gradients]
due = 2026-10-12T23:59:00Z
late = { policy = "zero_after", days = 1, grace_minutes = 5 }
"""


def _write(tmp_path, text):
    path = tmp_path / "deadlines.toml"
    path.write_text(text)
    return path


def test_a_deadlines_file_gives_due_times_extensions_and_the_policy(tmp_path):
    path = _write(tmp_path, GOOD)
    first = load(path, "01_gym_and_policies")
    due = datetime.datetime(2026, 10, 5, 23, 59, tzinfo=BERLIN)
    assert first.due == due and first.due.utcoffset() == datetime.timedelta(hours=2)
    assert first.policy == LatePolicy("percent_per_day", 10.0, 3, 0.0)
    assert first.due_for("carol") == datetime.datetime(2026, 10, 8, 23, 59, tzinfo=BERLIN)
    assert first.extension("dan") == datetime.timedelta(days=1.5)
    assert first.due_for("alice") == due and first.extension("alice") is None
    second = load(path, "02_policy_gradients")
    assert second.due == datetime.datetime(2026, 10, 12, 23, 59, tzinfo=UTC)
    # The assignment's own policy overrides the file's, key by key.
    assert second.policy == LatePolicy("zero_after", 10.0, 1, 5.0)


@pytest.mark.parametrize("text, message", [
    ("lat = 1\n", "top level: unknown key 'lat'; the keys are: assignments, late, timezone"),
    ("[assignments.other]\ndue = 2026-10-05T23:59:00\n",
     "[assignments]: no entry for '01_gym_and_policies'; add "
     "[assignments.01_gym_and_policies] with due = <date and time>"),
    ("[assignments.01_gym_and_policies]\ndue = 2026-10-05\n",
     "[assignments.01_gym_and_policies].due: 2026-10-05 has no time of day; "
     "write it like 2026-10-05T23:59:00"),
    ("[assignments.01_gym_and_policies]\nextensions = {}\n",
     "[assignments.01_gym_and_policies]: needs due = <date and time>, like 2026-10-05T23:59:00"),
    ("[assignments.01_gym_and_policies]\ndue = 2026-10-05T23:59:00\ndeu = 1\n",
     "[assignments.01_gym_and_policies]: unknown key 'deu'; the keys are: due, extensions, "
     "late"),
    ("timezone = \"Berlin\"\n", "timezone: 'Berlin' is not a time zone; use a name like "
     "'Europe/Berlin' or 'America/New_York'"),
    ("[late]\npolicy = \"half\"\n", "[late].policy: should be one of none, percent_per_day, "
     "zero_after, got: 'half'"),
    ("[late]\npolicy = \"zero_after\"\n",
     "[late]: zero_after needs days = <days late after which the score is 0>"),
    ("[late]\npolicy = \"percent_per_day\"\npercent = 150\n",
     "[late].percent: should be a number from 0 to 100, got: 150"),
    ("[assignments.01_gym_and_policies]\ndue = 2026-10-05T23:59:00\n"
     "extensions = { mallory = 2 }\n",
     "[assignments.01_gym_and_policies].extensions.mallory: 'mallory' is not on the roster"),
    ("[assignments.01_gym_and_policies]\ndue = 2026-10-05T23:59:00\n"
     "extensions = { alice = 2026-10-01T12:00:00 }\n",
     "[assignments.01_gym_and_policies].extensions.alice: 2026-10-01 12:00:00 is before the "
     "due time 2026-10-05 23:59:00"),
    ("due = \n", "is not valid TOML: "),
])
def test_a_bad_deadlines_file_says_where_and_how_to_fix_it(tmp_path, text, message):
    path = _write(tmp_path, text)
    with pytest.raises(ValueError) as caught:
        load(path, "01_gym_and_policies", roster={"alice": {}})
    assert str(caught.value).startswith(f"{path}")
    assert message in str(caught.value)


def test_a_missing_deadlines_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="no deadlines file at .*nowhere.toml"):
        load(tmp_path / "nowhere.toml", "01_gym_and_policies")


def test_percent_per_day_counts_started_days_of_the_points_possible():
    policy = LatePolicy("percent_per_day", 10.0, 3)
    assert [policy.days_late(s) for s in (0, 1, DAY, DAY + 1, 3 * DAY + 1)] == [0, 1, 1, 2, 4]
    assert policy.penalty(9, 10, 0) == 0
    assert policy.penalty(9, 10, 1) == 1.0           # 10% of 10 points, for one started day
    assert policy.penalty(9, 10, DAY + 1) == 2.0
    assert policy.penalty(1, 10, 2 * DAY + 1) == 1.0  # never more than the score
    assert policy.penalty(9, 10, 3 * DAY + 1) == 9.0  # more than 3 days late: 0
    assert policy.describe() == ("10% of the points possible off per day late (a started day "
                                 "counts whole); more than 3 days late scores 0")


def test_zero_after_none_and_the_grace_period():
    zero = LatePolicy("zero_after", days=1, grace_minutes=5)
    assert zero.penalty(7, 10, 299) == 0 and zero.days_late(299) == 0
    assert zero.penalty(7, 10, DAY + 300) == 0        # one day late, after the grace
    assert zero.penalty(7, 10, DAY + 301) == 7.0      # into a second day
    assert LatePolicy().penalty(7, 10, 30 * DAY) == 0
    assert LatePolicy().describe() == "no penalty for late work"
    assert zero.describe() == ("more than 1 days late scores 0; up to 5 minutes late counts "
                               "as on time")


def test_submission_times_from_nbgrader_iso_and_zip_entries():
    assert parse_timestamp("2026-10-05 21:59:00.000000 UTC\n", BERLIN) == \
        datetime.datetime(2026, 10, 5, 21, 59, tzinfo=UTC)
    assert parse_timestamp("2026-10-05T23:59:00+02:00", UTC) == \
        datetime.datetime(2026, 10, 5, 21, 59, tzinfo=UTC)
    # No zone written: the deadlines file's.
    assert parse_timestamp("2026-10-05T23:59:00", BERLIN).utcoffset() == \
        datetime.timedelta(hours=2)
    assert submission_time(("zip", (2026, 10, 5, 23, 59, 0)), BERLIN) == (
        datetime.datetime(2026, 10, 5, 23, 59, tzinfo=BERLIN), None)
    assert submission_time(("timestamp", "yesterday"), BERLIN) == (
        None, "timestamp.txt holds no time nbgrader or ISO 8601 can read ('yesterday'): "
              "graded as on time")
    assert submission_time(None, BERLIN) == (
        None, "no submission time (no timestamp.txt, not from a zip): graded as on time")


def test_collect_finds_timestamp_files_and_zip_entry_times(root, tmp_path):
    corpus = Corpus(root)
    data = nbformat.writes(corpus.student()).encode()
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr(zipfile.ZipInfo(f"class/alice_{NOTEBOOK}.ipynb",
                                        (2026, 10, 5, 22, 0, 0)), data)
        handle.writestr(f"class/bob/{NOTEBOOK}.ipynb", data)
        handle.writestr("class/bob/timestamp.txt", "2026-10-07 08:00:00.000000 UTC\n")
        handle.writestr(f"class/carol/{NOTEBOOK}/{NOTEBOOK}.ipynb", data)
        handle.writestr(f"class/carol/{NOTEBOOK}/timestamp.txt", "2026-10-06T10:00:00")
        handle.writestr(f"class/dan_{NOTEBOOK}.ipynb", data)
        handle.writestr("class/dan_timestamp.txt", "2026-10-04 10:00:00.000000 UTC")
        handle.writestr("class/erin_timestamp.txt", "2026-10-04 10:00:00.000000 UTC")
    submissions, rejected = collect.collect(archive, {NOTEBOOK: corpus.released},
                                            assignment=NOTEBOOK)
    found = {s.student: s.time for s in submissions}
    assert found == {
        "alice": ("zip", (2026, 10, 5, 22, 0, 0)),
        "bob": ("timestamp", "2026-10-07 08:00:00.000000 UTC\n"),
        "carol": ("timestamp", "2026-10-06T10:00:00"),
        "dan": ("timestamp", "2026-10-04 10:00:00.000000 UTC"),
    }
    assert [(r.student, r.file, r.reason) for r in rejected] == [
        ("erin", "class/erin_timestamp.txt", "a timestamp.txt without a notebook")]
    # A folder has no entry times; only timestamp files give one.
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / f"alice_{NOTEBOOK}.ipynb").write_bytes(data)
    submissions, _ = collect.collect(folder, {NOTEBOOK: corpus.released})
    assert [s.time for s in submissions] == [None]
