"""A class of bad (and good) submissions, built from chapter 01's notebooks.

Each entry is written from the released student notebook with answers taken
from the instructor source, then damaged in one way. ``EXPECTED`` is the
outcome the grader must produce for each, as documented in the README.
"""

import copy
import json
import zipfile

import nbformat

ASSIGNMENT = "01_gym_and_policies"
NOTEBOOK = ASSIGNMENT
EXERCISES = ["test_basic_policy", "test_run_episodes", "test_basic_policy_statistics",
             "test_build_policy_network", "test_sample_action"]
POINTS = {"test_basic_policy": 2, "test_run_episodes": 3, "test_basic_policy_statistics": 1,
          "test_build_policy_network": 2, "test_sample_action": 2}
FULL = dict(POINTS)


def _without(*lost):
    return {e: (0 if e in lost else p) for e, p in POINTS.items()}


# student -> the scores per exercise, or ("not graded", reason fragment).
# Notes ("graded" rows of problems.csv) are checked in the test itself.
EXPECTED = {
    "alice": FULL,                                                        # correct
    "bob": _without(*POINTS),                                             # blank
    "carol": _without("test_build_policy_network", "test_sample_action"),  # partly wrong
    "dan": _without("test_run_episodes", "test_basic_policy_statistics"),  # exception
    "erin": _without("test_sample_action"),                               # infinite loop
    "frank": _without("test_build_policy_network"),                       # memory hog
    "gina": _without("test_basic_policy", "test_basic_policy_statistics"),  # sys.exit()
    "hank": ("not graded", "the kernel died"),                            # killed kernel
    "ivan": FULL,                                      # huge output, warnings on stderr
    "jane": _without("test_basic_policy", "test_basic_policy_statistics"),  # edited test
    "kim": _without("test_run_episodes", "test_basic_policy_statistics"),   # deleted test
    "mia": FULL,                                           # renamed file, cells reordered
    "nick": ("not graded", "not a notebook: invalid JSON"),               # not JSON
    "olga": ("not graded", "notebook from another assignment"),           # other assignment
}


def _solutions(source):
    """grade_id -> the source's solution code without the markers."""
    answers = {}
    for cell in source.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            answers[meta["grade_id"]] = "\n".join(
                line for line in cell.source.splitlines()
                if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION"))
    return answers


def _index(notebook, grade_id):
    return next(i for i, c in enumerate(notebook.cells)
                if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


class Corpus:
    def __init__(self, root):
        self.source = nbformat.read(str(root / "solutions" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"), 4)
        self.released = nbformat.read(str(root / "notebooks" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"), 4)
        self.answers = _solutions(self.source)

    def student(self, **changes):
        """The released notebook with every answer filled in, then ``changes``."""
        notebook = copy.deepcopy(self.released)
        for grade_id, code in {**self.answers, **changes}.items():
            notebook.cells[_index(notebook, grade_id)].source = code
        return notebook

    def answer(self, grade_id, before="", after=""):
        return before + self.answers[grade_id] + after

    def notebooks(self):
        """file name -> notebook (nbformat) or raw bytes."""
        files = {}
        files["alice"] = self.student()
        files["bob"] = copy.deepcopy(self.released)
        files["carol"] = self.student(
            sample_action="def sample_action(left_proba, rng):\n"
                          "    return int(rng.random() < left_proba)\n",
            build_policy_network=self.answer("build_policy_network").replace('"elu"', '"relu"'))
        files["dan"] = self.student(run_episodes=self.answer(
            "run_episodes", before="raise RuntimeError('not finished yet')\n"))
        files["erin"] = self.student(sample_action=self.answer(
            "sample_action", before="while True:\n    pass\n"))
        # np.empty reserves address space without touching it, so the test
        # reaches the limit without taking the machine's memory.
        files["frank"] = self.student(build_policy_network=self.answer(
            "build_policy_network",
            before="def grow():\n    hog = []\n    while True:\n"
                   "        hog.append(np.empty(2**24))\ngrow()\n"))
        files["gina"] = self.student(basic_policy=self.answer(
            "basic_policy", before="import sys\nsys.exit('I give up')\n"))
        files["hank"] = self.student(sample_action=self.answer(
            "sample_action", before="import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n"))
        # 200k lines of output, then warnings on stderr from every test call.
        files["ivan"] = self.student(basic_policy=self.answer("basic_policy", before=(
            "for i in range(200_000):\n    print(i, 'spam' * 20)\n"), after=(
            "\nimport sys, warnings\nimport gym\n"
            "_plain = basic_policy\n"
            "def basic_policy(obs):\n"
            "    warnings.warn('old API', DeprecationWarning)\n"
            "    gym.logger.warn('this environment is deprecated')\n"
            "    print('W tensorflow/core: a log line', file=sys.stderr)\n"
            "    return _plain(obs)\n")))
        jane = self.student(basic_policy="def basic_policy(obs):\n    return 1\n")
        jane.cells[_index(jane, "test_basic_policy")].source = "# my tests\npass\n"
        files["jane"] = jane
        kim = self.student(run_episodes="def run_episodes(env, policy, n_episodes, seed=0):\n"
                                        "    return np.zeros(n_episodes)\n")
        del kim.cells[_index(kim, "test_run_episodes")]
        files["kim"] = kim
        other = nbformat.v4.new_notebook()
        other.cells = [nbformat.v4.new_code_cell("def q(): return 1", metadata={"nbgrader": {
            "grade": False, "grade_id": "q1", "locked": False, "solution": True,
            "schema_version": 3, "task": False}})]
        named = {f"{s}_{NOTEBOOK}.ipynb": nb for s, nb in files.items()}
        mia = self.student()
        mia.cells.append(mia.cells.pop(_index(mia, "sample_action")))
        named["mia_homework_final.ipynb"] = mia
        named[f"olga_{NOTEBOOK}.ipynb"] = other
        named[f"nick_{NOTEBOOK}.ipynb"] = b'{"cells": [ this is not json'
        return named

    def write_zip(self, path, names=None):
        with zipfile.ZipFile(path, "w") as archive:
            for name, notebook in self.notebooks().items():
                if names is None or name.split("_")[0] in names:
                    data = notebook if isinstance(notebook, bytes) else \
                        json.dumps(nbformat.from_dict(notebook)).encode()
                    archive.writestr(f"class/{name}", data)
        return path
