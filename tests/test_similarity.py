"""`rlbook similarity` on a tiny chapter-01 class, and its parts on hand-made input.

The class: alice wrote the instructor's answers; bob copied all of them with
his own names, comments and spacing; erin copied alice's run_episodes only
and left the rest as handed out; carol wrote every answer her own way; dan
handed in the release untouched.
"""

import base64
import csv
import re
import zipfile

from rlbook.course import similarity as sim
from rlbook.course.cli import main

import nbformat
import pytest
from grading_corpus import NOTEBOOK, Corpus

EXERCISES = ["basic_policy", "run_episodes", "build_policy_network", "sample_action"]

BOB = {
    "basic_policy": (
        "def basic_policy(observation):\n"
        "    '''Return 0 (push left) if the pole angle obs[2] is negative, else 1.'''\n"
        "    # leaning left: push left\n"
        "    return 0 if observation[2]<0 else 1\n"),
    "run_episodes": (
        "def run_episodes(env, policy, n_episodes, seed=0):\n"
        "    '''Play n_episodes with policy(obs) -> action; return their returns as an array.'''\n"
        "    totals = []   # one per episode\n"
        "    for k in range(n_episodes):\n"
        "        state = env.reset(seed=seed + k)\n\n"
        "        total, finished = 0., False\n"
        "        while not finished:\n"
        "            state, r, finished, _ = env.step(policy(state))\n"
        "            total += r\n"
        "        totals.append(total)\n"
        "    return np.array(totals)\n"),
    "build_policy_network": (
        "def build_policy_network(n_inputs=4, n_hidden=5):\n"
        "    # two layers, as in the book\n"
        "    return tf.keras.Sequential([tf.keras.layers.Dense(n_hidden, activation='elu', "
        "input_shape=[n_inputs]),\n"
        "                                tf.keras.layers.Dense(1, activation='sigmoid')])\n"),
    "sample_action": (
        "def sample_action(p_left, generator):\n"
        "    \"\"\"my version\"\"\"\n"
        "    return int( generator.random()>p_left )\n"),
}

CAROL = {
    "basic_policy": (
        "def basic_policy(obs):\n"
        "    if obs[2] < 0:\n"
        "        return 0\n"
        "    return 1\n"),
    "run_episodes": (
        "def run_episodes(env, policy, n_episodes, seed=0):\n"
        "    scores = np.zeros(n_episodes)\n"
        "    for i, _ in enumerate(scores):\n"
        "        start = int(seed + i)\n"
        "        state = env.reset(seed=start)\n"
        "        while True:\n"
        "            action = policy(state)\n"
        "            step = env.step(action)\n"
        "            state = step[0]\n"
        "            scores[i] = scores[i] + step[1]\n"
        "            if step[2]:\n"
        "                break\n"
        "    return scores\n"),
    "build_policy_network": (
        "def build_policy_network(n_inputs=4, n_hidden=5):\n"
        "    from tensorflow.keras import layers\n"
        "    inputs = tf.keras.Input(shape=(n_inputs,))\n"
        "    hidden = layers.Dense(n_hidden, activation='elu')(inputs)\n"
        "    return tf.keras.Model(inputs, layers.Dense(units=1, activation='sigmoid')(hidden))\n"),
    "sample_action": (
        "def sample_action(left_proba, rng):\n"
        "    u = rng.random()\n"
        "    return 0 if u <= left_proba else 1\n"),
}


@pytest.fixture(scope="module")
def corpus(root):
    return Corpus(root)


def _write_class(folder, corpus):
    notebooks = {
        "alice": corpus.student(),
        "bob": corpus.student(**BOB),
        "carol": corpus.student(**CAROL),
        "dan": corpus.released,
        "erin": corpus.student(**{e: corpus.released.cells[_cell(corpus.released, e)].source
                                  for e in EXERCISES if e != "run_episodes"}),
    }
    folder.mkdir()
    for student, notebook in notebooks.items():
        nbformat.write(notebook, str(folder / f"{student}_{NOTEBOOK}.ipynb"))
    return folder


def _cell(notebook, grade_id):
    return next(i for i, c in enumerate(notebook.cells)
                if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


@pytest.fixture(scope="module")
def report(corpus, root, tmp_path_factory):
    top = tmp_path_factory.mktemp("similarity")
    inbox = _write_class(top / "class", corpus)
    lines = []
    result = sim.similarity("01_gym_and_policies", inbox, out=top / "out", root=root,
                            echo=lines.append)
    return result, lines


@pytest.mark.slow
def test_the_copy_with_new_names_and_comments_ranks_top_with_score_one(report):
    result, lines = report
    top = result.comparison.pairs[0]
    assert (top.a, top.b, top.score) == ("alice", "bob", 1.0)
    assert top.exercises == dict.fromkeys(EXERCISES, 1.0)
    assert lines[1] == "  1.000  alice and bob"


@pytest.mark.slow
def test_pairs_csv_is_exactly_the_copies_and_nothing_else(report):
    result, _ = report
    sizes = {e: len(result.answers["alice"][e].prints) for e in EXERCISES}
    total = sum(sizes.values())
    copied = sizes["run_episodes"]
    # erin holds alice's run_episodes fingerprints and nothing else of her own.
    assert len(result.answers["erin"]["run_episodes"].prints) == copied
    assert sum(len(a.prints) for a in result.answers["erin"].values()) == copied
    part = f"{copied / total:.3f}"
    expected = (
        "student_a,student_b,score,shared," + ",".join(EXERCISES) + "\n"
        f"alice,bob,1.000,{total},1.000,1.000,1.000,1.000\n"
        f"alice,erin,{part},{copied},0.000,1.000,0.000,0.000\n"
        f"bob,erin,{part},{copied},0.000,1.000,0.000,0.000\n")
    assert (result.out / "pairs.csv").read_text() == expected
    assert 0 < copied < total


@pytest.mark.slow
def test_the_release_stub_counts_for_nothing(report):
    result, _ = report
    # dan handed in the release: not one fingerprint, in no pair.
    assert all(not a.prints for a in result.answers["dan"].values())
    assert set(result.answers["dan"]) == set(EXERCISES)
    assert not [p for p in result.comparison.pairs if "dan" in (p.a, p.b)]
    # carol wrote her own answers: compared, and sharing nothing with anyone.
    assert all(result.answers["carol"][e].prints for e in EXERCISES)
    assert not [p for p in result.comparison.pairs if "carol" in (p.a, p.b)]
    assert result.comparison.total_pairs == 10


@pytest.mark.slow
def test_the_report_shows_the_pairs_side_by_side_with_the_matches_marked(report):
    result, _ = report
    page = (result.out / "report.html").read_text()
    png = re.search(r"data:image/png;base64,([A-Za-z0-9+/=]+)", page).group(1)
    assert base64.b64decode(png).startswith(b"\x89PNG\r\n\x1a\n")
    assert "5 students, 10 pairs; 3 pairs share code" in page
    first = page.split("<h2 id='pair-1'>")[1].split("<h2 id='pair-2'>")[0]
    assert first.startswith("1. alice and bob: 1.000</h2>")
    assert [h for h in re.findall(r"<h3>(\w+): 1.000</h3>", first)] == EXERCISES
    # bob's renamed line is marked, his comment lies inside a marked stretch
    # of code or outside it, and the stub's docstring line is never marked.
    assert "<mark>0 if observation[2]&lt;0 else 1</mark>" in first.replace("return ", "")
    assert "Return 0 (push left)" in first
    assert not re.search(r"<mark>[^<]*Return 0 \(push left\)", first)
    third = page.split("<h2 id='pair-3'>")[1]
    assert third.count("<h3>") == 1 and "<h3>run_episodes: 1.000</h3>" in third


def test_normalising_keeps_the_api_and_drops_names_comments_and_prose():
    source = ("def f(x, y=2):  # comment\n"
              "    '''docstring'''\n"
              "    z = np.maximum(x, y, out=None); print(f'{z} done', 'elu', \"a b\")\n"
              "    return len(z)\n")
    assert [t[0] for t in sim.code_tokens(source)] == [
        "def", "V", "(", "V", ",", "y", "=", "2", ")", ":", ";", "{",
        "V", "=", "V", ".", "maximum", "(", "V", ",", "V", ",", "out", "=", "None", ")", ";",
        "print", "(", "S", ",", "'elu'", ",", "S", ")", ";",
        "return", "len", "(", "V", ")", ";", "}"]
    # Code the tokenizer rejects is still read, with the same rules.
    assert [t[0] for t in sim.code_tokens("x = (1,\n# c\ny.z 'ok'")] == [
        "V", "=", "(", "1", ",", ";", "V", ".", "z", "'ok'"]
    assert [t[0] for t in sim.word_tokens("The Bellman *equation*, again.")] == [
        "the", "bellman", "equation", "again"]


def test_winnowing_picks_the_rightmost_minimum_of_each_window_once():
    assert sim.winnow([5, 3, 3, 7, 1, 9, 2], window=3) == [2, 4]
    assert sim.winnow([4, 4], window=3) == [1]
    assert sim.winnow([], window=3) == []


def test_stub_tokens_are_not_the_students():
    stub = ["def", "V", "(", ")", ":", "raise", "E", "(", ")"]
    answer = ["def", "V", "(", ")", ":", "return", "1", "(", ")"]
    assert sim.own_tokens(answer, stub) == [False] * 5 + [True] * 4
    assert sim.own_tokens(stub, stub) == [False] * 9


def _answer(*prints):
    return sim.Answer("", [], {p: [0] for p in prints})


def test_scores_are_jaccard_indexes_and_common_code_is_ignored():
    answers = {"a": {"e1": _answer(1, 2, 3), "e2": _answer(4)},
               "b": {"e1": _answer(3), "e2": _answer(4, 5)},
               "c": {"e1": _answer(9)},
               "d": {"e1": _answer(3)}}
    pairs = sim.compare(answers, ["e1", "e2"], common=10).pairs
    found = [(p.a, p.b, p.score, p.exercises, p.shared) for p in pairs]
    assert found == [("a", "b", 2 / 5, {"e1": 1 / 3, "e2": 1 / 2}, 2),
                     ("b", "d", 1 / 3, {"e1": 1.0, "e2": 0.0}, 1),
                     ("a", "d", 1 / 4, {"e1": 1 / 3, "e2": 0.0}, 1)]
    # Fingerprint 3 is in three students' e1: above common=2, it counts for no one.
    comparison = sim.compare(answers, ["e1", "e2"], common=2)
    assert comparison.common == {("e1", 3)}
    assert [(p.a, p.b, p.score) for p in comparison.pairs] == [("a", "b", 1 / 4)]


def test_a_missing_assignment_names_the_known_ones(root, tmp_path):
    with pytest.raises(ValueError, match=r"no assignment '99_nothing' in .*notebooks; "
                                         r"choose one of: 01_gym_and_policies, "):
        sim.similarity("99_nothing", tmp_path, root=root, echo=None)


def test_empty_or_missing_submissions_are_clear_errors(root, tmp_path, capsys):
    empty = tmp_path / "empty.zip"
    zipfile.ZipFile(empty, "w").close()
    assert main(["similarity", "01_gym_and_policies", str(empty),
                 "--out", str(tmp_path / "out")]) == 2
    assert "holds no files; expected notebooks named " \
           "<student_id>_01_gym_and_policies.ipynb" in capsys.readouterr().err
    with pytest.raises(FileNotFoundError, match="no submissions at .*nowhere: give a folder"):
        sim.similarity("01_gym_and_policies", tmp_path / "nowhere", root=root, echo=None)
    with pytest.raises(ValueError, match="--common should be a whole number of at least 2"):
        sim.similarity("01_gym_and_policies", tmp_path, root=root, common=1, echo=None)


def test_one_readable_submission_is_not_enough(corpus, root, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    nbformat.write(corpus.student(), str(inbox / f"alice_{NOTEBOOK}.ipynb"))
    (inbox / f"bob_{NOTEBOOK}.ipynb").write_text("{not json")
    with pytest.raises(ValueError, match=r"holds 1 readable submission\(s\); comparing needs "
                                         r"at least two\n  bob \(bob_01_gym_and_policies.ipynb\): "
                                         r"not a notebook: invalid JSON"):
        sim.similarity("01_gym_and_policies", inbox, root=root, echo=None)


@pytest.mark.slow
def test_the_command_writes_the_report_from_a_zip(corpus, root, tmp_path, capsys, monkeypatch):
    folder = _write_class(tmp_path / "class", corpus)
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        for path in sorted(folder.iterdir()):
            handle.write(path, f"class/{path.name}")
    monkeypatch.chdir(root)
    out = tmp_path / "out"
    assert main(["similarity", "01_gym_and_policies", str(archive), "--out", str(out),
                 "--top", "1"]) == 0
    printed = capsys.readouterr().out
    assert "5 students, 10 pairs compared in" in printed
    assert "3 pairs share code\n  1.000  alice and bob\n" in printed
    with open(out / "pairs.csv", newline="") as handle:
        assert [(r["student_a"], r["student_b"]) for r in csv.DictReader(handle)] == [
            ("alice", "bob"), ("alice", "erin"), ("bob", "erin")]
    page = (out / "report.html").read_text()
    assert "<h2>Top 1 pairs</h2>" in page and "id='pair-2'" not in page
