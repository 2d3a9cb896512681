"""Keep the instructor's hidden tests out of every output.

Code in a submission can read the test that is running (a traceback, the
frame stack, IPython's history) and print it, and a failing hidden test's
traceback quotes its line. The feedback hides the hidden blocks of test
*sources* (feedback.py); this module cleans the *outputs* of every cell: an
output holding any line of a hidden test that the released notebook does
not also contain is replaced by a note. (The solutions never reach the
kernel, which runs the student's answers, so outputs cannot hold them.)
Lines are compared with markup, colour codes and runs of white space
removed, so HTML or a traceback's formatting does not hide them. Text that
was encoded before printing (base64, reversed) is not recognised; see the
threat model in docs/grading.md.
"""

import html
import json
import re

import nbformat
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

from .restore import instructor_source

MIN_LENGTH = 12        # shorter lines ("pass", "x = 1") are too common to be secrets
NOTE = "[output removed by the grader: it quoted the instructor's hidden tests]"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")
BEGIN, END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"


def normalise(text):
    return _SPACE.sub(" ", html.unescape(_TAG.sub("", _ANSI.sub("", text)))).strip()


def secret_lines(source, released):
    """Normalised lines of hidden tests that no released cell contains."""
    public = {normalise(line) for cell in released.cells for line in cell.source.splitlines()}
    secrets, inside = set(), False
    for cell in source.cells:
        for line in cell.source.splitlines():
            if line.strip() in (BEGIN, END):
                inside = line.strip() == BEGIN
                continue
            text = normalise(line)
            if inside and len(text) >= MIN_LENGTH and text not in public:
                secrets.add(text)
        inside = False
    return secrets


def output_text(output):
    parts = []
    kind = output.get("output_type")
    if kind == "stream":
        parts.append(output.get("text", ""))
    elif kind == "error":
        parts += [output.get("ename", ""), output.get("evalue", "")]
        parts += output.get("traceback", [])
    for value in (output.get("data") or {}).values():
        parts.append(value if isinstance(value, str) else json.dumps(value))
    parts = ["".join(p) if isinstance(p, list) else str(p) for p in parts]
    return normalise("\n".join(parts))


def leaking_outputs(nb, secrets):
    """(cell index, output index) of every output that quotes a secret line."""
    found = []
    for index, cell in enumerate(nb.cells):
        for number, output in enumerate(cell.get("outputs", [])):
            text = output_text(output)
            if any(secret in text for secret in secrets):
                found.append((index, number))
    return found


def scrub(nb, secrets):
    for index, number in leaking_outputs(nb, secrets):
        output = nb.cells[index].outputs[number]
        if output.output_type == "error":
            # Still an error, so the cell still fails; only the text goes.
            output.evalue = NOTE
            output.traceback = [f"{output.ename}: {NOTE}"]
        else:
            nb.cells[index].outputs[number] = nbformat.v4.new_output(
                "stream", name="stdout", text=NOTE + "\n")
    return nb


class ScrubLeaks(NbGraderPreprocessor):
    source_dir = Unicode(help="the grading folder's source/").tag(config=True)
    release_dir = Unicode(help="the grading folder's release/").tag(config=True)

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        secrets = secret_lines(
            instructor_source(self.source_dir, info["assignment"], info["notebook"]),
            instructor_source(self.release_dir, info["assignment"], info["notebook"]))
        return scrub(nb, secrets), resources
