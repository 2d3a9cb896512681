"""The trusted side's checks on their own, without a kernel: the static scan,
the probe's comparison, the leak scrubber, restored metadata, limits and
what the sandbox is allowed to show."""

import copy
import html

import nbformat
import pytest

from grading_corpus import Corpus
from rlbook.course.grading import leaks, probe, restore, tamper
from rlbook.course.grading.sandbox import paths
from rlbook.course.grading.sandbox.limits import Limits


@pytest.fixture(scope="module")
def corpus(root):
    return Corpus(root)


@pytest.fixture(scope="module")
def context(corpus):
    return tamper.Context(corpus.source, corpus.released)


def findings(corpus, context, **answers):
    return [str(f) for f in tamper.scan(corpus.student(**answers), context)]


def test_honest_answers_raise_no_finding(corpus, context):
    assert findings(corpus, context) == []
    assert tamper.scan(copy.deepcopy(corpus.released), context) == []
    # Importing a module again under its usual name is not rebinding it.
    assert findings(corpus, context, basic_policy="import numpy as np\nfrom rlbook import envs\n"
                    + corpus.answers["basic_policy"]) == []


@pytest.mark.parametrize("code, expected", [
    ("np.allclose = lambda *a, **k: True", "changes numpy.allclose (basic_policy, line 1)"),
    ("import numpy.testing as npt\nnpt.assert_allclose = print",
     "changes numpy.testing.assert_allclose (basic_policy, line 2)"),
    ("import builtins\nbuiltins.abs = lambda x: 0", "changes builtins.abs (basic_policy, line 2)"),
    ("import sys\nsys.excepthook = print", "changes sys.excepthook (basic_policy, line 2)"),
    ("setattr(np, 'isclose', print)", "changes numpy with setattr() (basic_policy, line 1)"),
    ("np = None", "rebinds `np`, which the tests use (basic_policy, line 1)"),
    ("import sys\nsys.settrace(print)", "installs a hook with sys.settrace() (basic_policy, line 2)"),
    ("ip = get_ipython()\nip.set_custom_exc((Exception,), print)",
     "changes IPython's machinery (IPython shell.set_custom_exc()) (basic_policy, line 2)"),
    ("get_ipython().ast_transformers.append(None)",
     "changes IPython's machinery (IPython shell.ast_transformers.append()) (basic_policy, line 1)"),
    ("exec('x = 1')", "runs code built at run time (exec()) (basic_policy, line 1)"),
    ("print(In[-1])", "reads IPython's input/output history (`In`) (basic_policy, line 1)"),
    ("import sys\nf = sys._getframe(0)",
     "reaches into interpreter internals (sys._getframe) (basic_policy, line 2)"),
    ("globals()['np'] = None", "changes names through globals() (basic_policy, line 1)"),
    ("%config InlineBackend.figure_format = 'png'\nnp.isclose = print",
     "changes numpy.isclose (basic_policy, line 2)"),
])
def test_tampering_is_found_with_cell_and_line(corpus, context, code, expected):
    found = findings(corpus, context, basic_policy=code + "\n" + corpus.answers["basic_policy"])
    assert expected in found, found


def test_rebinding_what_an_instructor_cell_computed_is_found(corpus, context):
    # basic_returns is computed by a released cell and read by a test.
    nb = corpus.student()
    index = next(i for i, c in enumerate(nb.cells) if "basic_returns = run_episodes" in c.source)
    nb.cells.insert(index + 1, nbformat.v4.new_code_cell("basic_returns = np.full(500, 42.0)"))
    assert [str(f) for f in tamper.scan(nb, context)] == [
        f"rebinds `basic_returns`, which the tests use (cell {index + 2}, line 1)"]


def test_changed_tags_on_a_test_cell_are_found(corpus):
    nb = corpus.student()
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id")
                == "test_sample_action")
    cell.metadata["tags"] = ["skip-execution"]
    cell.metadata["collapsed"] = True          # the front end's own: not a finding
    assert [str(f) for f in tamper.metadata_findings(nb, corpus.released)] == [
        "changed the metadata of a test cell (tags=['skip-execution']) (test_sample_action)"]


def test_restored_metadata_comes_from_the_instructor(corpus):
    nb = corpus.student()
    for cell in nb.cells:
        cell.metadata["tags"] = ["skip-execution", "raises-exception"]
    restore.restore_metadata(nb, corpus.source)
    by_id = {restore.grade_id(c): c for c in corpus.source.cells}
    for cell in nb.cells:
        if restore.grade_id(cell):
            assert cell.metadata.get("tags") == by_id[restore.grade_id(cell)].metadata.get("tags")
        else:
            assert cell.metadata["tags"] == ["skip-execution", "raises-exception"]


SITE = "/venv/lib/python3.11/site-packages"
BASE = {"numpy.allclose": [1, SITE + "/numpy/core/numeric.py"], "sys.excepthook": [2, None],
        "IPython events.post_execute": {"hooks": [[3, SITE + "/IPython/x.py"]]},
        "aliases": {}}


def test_the_probe_names_what_changed():
    now = copy.deepcopy(BASE)
    now["numpy.allclose"] = [9, "/tmp/ipykernel_1/123.py"]
    now["IPython events.post_execute"]["hooks"].append([4, "/tmp/ipykernel_1/123.py"])
    now["aliases"] = {"np": False, "tf": True}
    assert probe.compare(BASE, now, {"np": "numpy", "tf": "tensorflow"}) == [
        "IPython events.post_execute was changed", "numpy.allclose was rebound",
        "`np` no longer names the module numpy"]


def test_hooks_that_libraries_add_are_not_tampering():
    now = copy.deepcopy(BASE)
    now["IPython events.post_execute"]["hooks"].append(
        [5, SITE + "/matplotlib_inline/backend_inline.py"])
    now["sys.excepthook"] = [6, SITE + "/absl/app.py"]
    assert probe.compare(BASE, now, {}) == []
    now["sys.excepthook"] = [7, None]              # a builtin put in its place
    assert probe.compare(BASE, now, {}) == ["sys.excepthook was rebound"]


def _stdout(text):
    return {"output_type": "stream", "name": "stdout", "text": text}


def test_a_silenced_or_forged_probe_is_itself_evidence():
    check = probe.Probe({})
    before = [{"status": "ok", "outputs": [_stdout("RLBOOK-BASELINE " + '{"a": 1}\n')]}]
    canary = {"status": "error", "outputs": [{"output_type": "error", "ename": "AssertionError",
                                               "evalue": check.canary, "traceback": []}]}
    good = {"status": "ok", "outputs": [_stdout(
        check.secret + ' {"fingerprint": {"a": 1}, "behaviour": {"numpy.allclose": false}}\n')]}
    assert check.verdict(before, [canary, good]) == []
    silent = {"status": "ok", "outputs": []}
    assert check.verdict(before, [canary, silent]) == [
        "the integrity probe gave no well-formed answer after the notebook "
        "(its output was suppressed or altered)"]
    forged = {"status": "ok", "outputs": [_stdout(
        "rlbook-probe-0000 " + '{"fingerprint": {"a": 1}, "behaviour": {}}\n')]}
    assert "no well-formed answer" in check.verdict(before, [canary, forged])[0]
    swallowed = {"status": "ok", "outputs": []}
    assert check.verdict(before, [swallowed, good])[0].startswith(
        "the probe's failing check did not fail")
    lying = copy.deepcopy(good)
    lying["outputs"][0]["text"] = lying["outputs"][0]["text"].replace("false", "true")
    assert check.verdict(before, [canary, lying]) == [
        "numpy.allclose says two different numbers are equal"]
    with pytest.raises(RuntimeError, match="baseline did not run"):
        check.verdict([], [canary, good])


def test_hidden_test_lines_are_scrubbed_from_any_output(corpus):
    secrets = leaks.secret_lines(corpus.source, corpus.released)
    assert "assert abs(basic_returns.mean() - 41.698) < 1e-6, basic_returns.mean()" in secrets
    assert not any("BEGIN HIDDEN" in s or "leaning_left" in s for s in secrets)
    nb = nbformat.v4.new_notebook()
    hidden = "assert abs(basic_returns.mean() - 41.698) < 1e-6, basic_returns.mean()"
    nb.cells = [nbformat.v4.new_code_cell("print(stolen)")]
    nb.cells[0].outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="ok\n"),
        nbformat.v4.new_output("display_data", data={
            "text/html": "<pre>" + html.escape(hidden).replace(
                "basic_returns", "<b>basic_returns</b>") + "</pre>", "text/plain": "x"}),
        nbformat.v4.new_output("error", ename="AssertionError", evalue="x", traceback=[
            "\x1b[0;31m" + hidden.replace(" ", "  ") + "\x1b[0m"]),
    ]
    assert leaks.leaking_outputs(nb, secrets) == [(0, 1), (0, 2)]
    leaks.scrub(nb, secrets)
    assert leaks.leaking_outputs(nb, secrets) == []
    assert nb.cells[0].outputs[0].text == "ok\n"
    assert nb.cells[0].outputs[2].output_type == "error"      # still fails the cell
    nbformat.validate(nb)


def test_limits_reject_nonsense_with_the_bad_value():
    with pytest.raises(ValueError, match="memory_mb must be a positive number, got -1"):
        Limits(memory_mb=-1)
    with pytest.raises(ValueError, match=r"per-cell limit \(60 s\) is longer than the "
                                         r"whole-notebook limit \(30 s\)"):
        Limits(cell_timeout=60, timeout=30)
    assert Limits(processes=100).rlimits()["RLIMIT_NPROC"] == 100


def test_the_sandbox_is_shown_the_package_but_never_the_course(root):
    shown = [dest for _, dest in paths.readonly_binds()]
    assert str(root / "rlbook") in shown
    for forbidden in (root, root / "solutions", root / "tests", root / "notebooks"):
        assert str(forbidden) not in shown
        assert not any(str(forbidden).startswith(d.rstrip("/") + "/") for d in shown
                       if d != str(root / ".venv")), forbidden
