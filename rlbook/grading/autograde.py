"""Autograde one submission in its own process, under time and memory limits.

The parent (``grade_submission``) starts ``python -m rlbook.grading.autograde``
for one student, caps the address space of that process and of the kernel it
starts (``RLIMIT_AS`` is inherited), and kills the whole process tree when the
whole-notebook limit passes. A crash, a hang or a memory blow-up therefore
ends in a reason for that one student, and the next one starts clean.
"""

import argparse
import json
import re
import resource
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from nbgrader.preprocessors import NbGraderPreprocessor

from . import feedback


class StderrIsNotFailure(NbGraderPreprocessor):
    """Show what a test cell wrote to stderr without failing it.

    nbgrader gives a test cell 0 points when it writes anything to stderr,
    so a DeprecationWarning from TensorFlow, gym or NumPy would cost a
    student the exercise. The workbook's tests fail by raising; the text
    stays in the feedback, relabelled as ordinary output.
    """

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and (cell.metadata.get("nbgrader") or {}).get("grade"):
            for output in cell.get("outputs", []):
                if output.output_type == "stream" and output.name == "stderr":
                    output.name = "stdout"
        return cell, resources


def graded_preprocessors():
    """nbgrader's autograde chain with the stderr rule inserted after execution."""
    from nbconvert.preprocessors import ClearMetadataPreprocessor
    from nbgrader.preprocessors import (
        AssignLatePenalties, CheckCellMetadata, Execute, IgnorePattern, LimitOutput,
        SaveAutoGrades)

    return [Execute, StderrIsNotFailure, IgnorePattern, ClearMetadataPreprocessor,
            LimitOutput, SaveAutoGrades, AssignLatePenalties, CheckCellMetadata]


@dataclass
class Outcome:
    student: str
    graded: bool
    seconds: float
    reason: str = ""
    notes: list = field(default_factory=list)


def _cell_notes(path, memory_mb):
    """Notes on cells that hit a limit in an autograded notebook."""
    import nbformat

    notes = []
    for notebook in sorted(Path(path).glob("*.ipynb")):
        for index, cell in enumerate(nbformat.read(str(notebook), as_version=4).cells):
            for output in cell.get("outputs", []):
                if output.get("output_type") != "error":
                    continue
                label = (cell.get("metadata", {}).get("nbgrader") or {}).get("grade_id") \
                    or f"cell {index}"
                if output.ename == "CellTimeoutError":
                    notes.append(f"{label}: interrupted at the per-cell time limit")
                elif output.ename == "MemoryError":
                    notes.append(f"{label}: MemoryError at the {memory_mb} MB memory limit")
    return notes


def _why_failed(log):
    if "DeadKernelError" in log or "Kernel died" in log or "kernel died" in log:
        return ("the kernel died while running the notebook (os._exit, a killed "
                "process or a crash in native code); nothing was graded")
    # The first exception line names the cause; nbgrader's last line never does.
    causes = [line.strip() for line in log.splitlines()
              if re.match(r"^\s*[\w.]+(Error|Exception|Interrupt)\b", line)
              and "NbGraderException" not in line]
    return "nbgrader autograde failed: " + (causes[0][:300] if causes else "see the log")


def _worker(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("config")      # JSON: root, out, db_url, cell_timeout
    parser.add_argument("assignment")
    parser.add_argument("student")
    parser.add_argument("result")
    args = parser.parse_args(argv)
    settings = json.loads(args.config)

    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    from .course import nbgrader_config

    config = nbgrader_config(settings["root"], settings["out"], settings["db_url"],
                             settings["cell_timeout"])
    api = NbGraderAPI(CourseDirectory(config=config), config=config)
    result = api.autograde(args.assignment, args.student, force=True, create=True)
    logs = Path(settings["out"]) / "logs"
    logs.mkdir(exist_ok=True)
    (logs / f"{args.student}.log").write_text(result["log"] + (result.get("error") or ""))
    if result["success"]:
        done = api.generate_feedback(args.assignment, args.student, force=True)
        answer = {"graded": done["success"],
                  "reason": "" if done["success"] else "feedback failed: " + done["log"][-300:]}
        answer["notes"] = _cell_notes(
            Path(settings["out"]) / "autograded" / args.student / args.assignment,
            settings["memory_mb"])
    else:
        answer = {"graded": False, "reason": _why_failed(result["log"] + result.get("error", "")),
                  "notes": []}
    Path(args.result).write_text(json.dumps(answer))


def _limit_memory(megabytes):
    def apply():
        limit = int(megabytes) * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    return apply


def _kill_tree(pid):
    import psutil

    try:
        parent = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return
    # The kernel runs in its own session, so killing the group is not enough.
    family = parent.children(recursive=True) + [parent]
    for process in family:
        try:
            process.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(family, timeout=10)


def forget(config, assignment, student):
    """Take a failed grading out of the gradebook, so it cannot read as a 0."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(config.CourseDirectory.db_url, config.CourseDirectory.course_id) as gradebook:
        try:
            gradebook.remove_submission(assignment, student)
        except MissingEntry:
            pass


def grade_submission(settings, assignment, student, timeout, scratch):
    """Autograde and write feedback for one student; returns an Outcome."""
    result = Path(scratch) / f"{student}.json"
    result.unlink(missing_ok=True)
    command = [sys.executable, "-m", "rlbook.grading.autograde", json.dumps(settings),
               assignment, student, str(result)]
    start = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               preexec_fn=_limit_memory(settings["memory_mb"]),
                               start_new_session=True, text=True)
    try:
        log, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_tree(process.pid)
        process.communicate()
        return Outcome(student, False, time.monotonic() - start,
                       f"ran past the whole-notebook limit of {timeout:g} s; nothing was graded")
    finally:
        _kill_tree(process.pid)   # a kernel left behind must not eat the next one's CPU
    seconds = time.monotonic() - start
    if not result.exists():
        tail = (log or "").strip().splitlines()[-1:] or ["no output"]
        return Outcome(student, False, seconds,
                       f"the grading process failed (exit {process.returncode}): {tail[0][:300]}")
    answer = json.loads(result.read_text())
    return Outcome(student, answer["graded"], seconds, answer["reason"], answer["notes"])


if __name__ == "__main__":
    _worker()
