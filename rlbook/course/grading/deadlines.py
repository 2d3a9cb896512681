"""Due dates, extensions and the late policy, from a small TOML file.

    timezone = "Europe/Berlin"        # optional (default UTC): for times written
                                      # without an offset, and for zip entry times
    [late]                            # optional (default: policy = "none")
    policy = "percent_per_day"        # "none", "percent_per_day" or "zero_after"
    percent = 10                      # percent_per_day: share of the points possible
                                      # lost per day late, a started day counting whole
    days = 3                          # zero_after: more days late than this scores 0
                                      # (percent_per_day: optional, the same cut-off)
    grace_minutes = 5                 # optional: this late still counts as on time

    [assignments.01_gym_and_policies]
    due = 2026-10-05T23:59:00
    extensions = { alice = 2026-10-08T23:59:00, bob = 2 }   # a new due time, or days more
    late = { policy = "none" }        # optional: this assignment's own policy

A submission's time is its ``timestamp.txt`` (nbgrader's file, in the
student's folder or named ``<student>_timestamp.txt``), else the time its
notebook's entry carries in the zip.
"""

import datetime
import math
import tomllib
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path

UTC = datetime.timezone.utc
POLICIES = ("none", "percent_per_day", "zero_after")
_TOP = {"timezone", "late", "assignments"}
_LATE = {"policy", "percent", "days", "grace_minutes"}
_ASSIGNMENT = {"due", "extensions", "late"}


@dataclass(frozen=True)
class LatePolicy:
    policy: str = "none"
    percent: float = 0.0          # percent_per_day: of the points possible, per day late
    days: int | None = None       # more days late than this: the score is 0
    grace_minutes: float = 0.0

    def days_late(self, seconds_late):
        """Whole days late, a started day counting whole, after the grace period."""
        over = seconds_late - 60 * self.grace_minutes
        return math.ceil(over / 86400) if seconds_late > 0 and over > 0 else 0

    def penalty(self, score, max_score, seconds_late):
        """Points taken from ``score`` (never more than it) for a submission this late."""
        days = self.days_late(seconds_late)
        if not days or self.policy == "none":
            return 0.0
        if self.days is not None and days > self.days:
            return float(score)
        if self.policy == "percent_per_day":
            return float(min(score, max_score * self.percent / 100 * days))
        return 0.0                                      # zero_after, within its days

    def describe(self):
        if self.policy == "none":
            text = "no penalty for late work"
        elif self.policy == "percent_per_day":
            text = (f"{self.percent:g}% of the points possible off per day late "
                    "(a started day counts whole)")
            if self.days is not None:
                text += f"; more than {self.days} days late scores 0"
        else:
            text = f"more than {self.days} days late scores 0"
        if self.grace_minutes:
            text += f"; up to {self.grace_minutes:g} minutes late counts as on time"
        return text

    def as_dict(self):
        return {"policy": self.policy, "percent": self.percent, "days": self.days,
                "grace_minutes": self.grace_minutes}


@dataclass
class Deadline:
    """One assignment's due time, extensions and policy; times are aware."""
    assignment: str
    due: datetime.datetime
    timezone: zoneinfo.ZoneInfo | datetime.timezone
    policy: LatePolicy = field(default_factory=LatePolicy)
    extensions: dict = field(default_factory=dict)      # student -> due time for them

    def due_for(self, student):
        return self.extensions.get(student, self.due)

    def extension(self, student):
        """How much later than everyone ``student`` may hand in (a timedelta or None)."""
        return self.extensions[student] - self.due if student in self.extensions else None


def _fail(path, where, problem):
    raise ValueError(f"{path}: {where}: {problem}")


def _check_keys(path, where, table, allowed):
    if not isinstance(table, dict):
        _fail(path, where, f"should be a table, got: {table!r}")
    unknown = sorted(set(table) - allowed)
    if unknown:
        _fail(path, where, f"unknown key {unknown[0]!r}; the keys are: "
              + ", ".join(sorted(allowed)))


def _time(path, where, value, tz):
    if isinstance(value, datetime.datetime):
        return value if value.tzinfo else value.replace(tzinfo=tz)
    if isinstance(value, datetime.date):
        _fail(path, where, f"{value} has no time of day; write it like {value}T23:59:00")
    _fail(path, where, f"should be a date and time like 2026-10-05T23:59:00, got: {value!r}")


def _policy(path, where, table, default=None):
    _check_keys(path, where, table, _LATE)
    merged = {**(default.as_dict() if default else {}), **table}
    policy = merged.get("policy", "none")
    if policy not in POLICIES:
        _fail(path, f"{where}.policy", f"should be one of {', '.join(POLICIES)}, "
              f"got: {policy!r}")
    percent, days = merged.get("percent") or 0, merged.get("days")
    grace = merged.get("grace_minutes") or 0
    if isinstance(percent, bool) or not isinstance(percent, (int, float)) \
            or not 0 <= percent <= 100:
        _fail(path, f"{where}.percent", f"should be a number from 0 to 100, got: {percent!r}")
    if policy == "percent_per_day" and not percent:
        _fail(path, where, "percent_per_day needs percent = <share of the points per day>")
    if days is not None and (isinstance(days, bool) or not isinstance(days, int) or days < 0):
        _fail(path, f"{where}.days", f"should be a whole number of days, got: {days!r}")
    if policy == "zero_after" and days is None:
        _fail(path, where, "zero_after needs days = <days late after which the score is 0>")
    if isinstance(grace, bool) or not isinstance(grace, (int, float)) or grace < 0:
        _fail(path, f"{where}.grace_minutes", f"should be minutes (0 or more), got: {grace!r}")
    return LatePolicy(policy, float(percent), days, float(grace))


def load(path, assignment, roster=None):
    """The Deadline of ``assignment`` from the TOML file at ``path``.

    ``roster`` (student ids), when given, catches extensions for unknown ids.
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise FileNotFoundError(f"no deadlines file at {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path} is not valid TOML: {exc}") from None
    _check_keys(path, "top level", data, _TOP)
    name = data.get("timezone", "UTC")
    try:
        tz = UTC if name == "UTC" else zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
        _fail(path, "timezone", f"{name!r} is not a time zone; use a name like "
              "'Europe/Berlin' or 'America/New_York'")
    policy = _policy(path, "[late]", data.get("late", {}))
    assignments = data.get("assignments", {})
    _check_keys(path, "[assignments]", assignments, set(assignments))
    if assignment not in assignments:
        _fail(path, "[assignments]", f"no entry for {assignment!r}; add "
              f"[assignments.{assignment}] with due = <date and time>")
    where = f"[assignments.{assignment}]"
    entry = assignments[assignment]
    _check_keys(path, where, entry, _ASSIGNMENT)
    if "due" not in entry:
        _fail(path, where, "needs due = <date and time>, like 2026-10-05T23:59:00")
    due = _time(path, f"{where}.due", entry["due"], tz)
    if "late" in entry:
        policy = _policy(path, f"{where}.late", entry["late"], policy)
    extensions = {}
    given = entry.get("extensions", {})
    _check_keys(path, f"{where}.extensions", given, set(given))
    for student, value in given.items():
        key = f"{where}.extensions.{student}"
        if roster is not None and student not in roster:
            _fail(path, key, f"{student!r} is not on the roster")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if value < 0:
                _fail(path, key, f"days should be 0 or more, got: {value!r}")
            extensions[student] = due + datetime.timedelta(days=value)
        else:
            extensions[student] = _time(path, key, value, tz)
            if extensions[student] < due:
                _fail(path, key, f"{value} is before the due time {entry['due']}")
    return Deadline(assignment, due, tz, policy, extensions)


def submission_time(evidence, tz):
    """(aware time, or None; a note when the time could not be read).

    ``evidence``: ("timestamp", text of timestamp.txt), ("zip", the zip
    entry's (year, month, day, hour, minute, second)), or None.
    """
    if evidence is None:
        return None, ("no submission time (no timestamp.txt, not from a zip): "
                      "graded as on time")
    kind, value = evidence
    if kind == "zip":
        return datetime.datetime(*value, tzinfo=tz), None
    try:
        return parse_timestamp(value, tz), None
    except ValueError:
        return None, (f"timestamp.txt holds no time nbgrader or ISO 8601 can read "
                      f"({value.strip()[:40]!r}): graded as on time")


def parse_timestamp(text, tz):
    """nbgrader's ``2026-10-05 21:59:00.000000 UTC`` or ISO 8601, aware; no zone: ``tz``."""
    import dateutil.parser
    from nbgrader.utils import parse_utc

    text = text.strip()
    try:
        if len(text.split(" ")) == 3:                 # nbgrader's: date, time, zone
            return parse_utc(text).replace(tzinfo=UTC)
        when = dateutil.parser.isoparse(text)
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"not a time: {text!r}") from exc
    return when if when.tzinfo else when.replace(tzinfo=tz)


def nbgrader_timestamp(when):
    """``when`` as nbgrader writes timestamp.txt (UTC)."""
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f UTC")


def utc_naive(when):
    """What nbgrader's gradebook stores: naive UTC."""
    return when.astimezone(UTC).replace(tzinfo=None)
