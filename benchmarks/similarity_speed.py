"""How long does `rlbook similarity` take for a class of 500?

Builds a synthetic chapter-01 class in a zip: every student fills the four
answer cells of the released notebook from one of a few ways of writing each
answer (so honest students share a lot, as real ones do), with names of
their own, comments, blank lines and now and then an extra line with numbers
of their own. Ten students copy a classmate's whole notebook, renaming every
variable and rewriting the comments. Then it runs the command's function on
the zip and prints each stage's time and the pairs compared per second.

The anchor is the naive way: the Jaccard index of every pair of students
from their fingerprint sets, all n(n-1)/2 pairs, on the same fingerprints;
both must give the same scores. The last lines check that the ten planted
copies are the ten top pairs.

    nice -n 19 .venv/bin/python benchmarks/similarity_speed.py [--students 500]
"""

import argparse
import copy
import itertools
import random
import tempfile
import time
import zipfile
from pathlib import Path

from rlbook.course import similarity as sim

import nbformat

ASSIGNMENT = "01_gym_and_policies"
ROOT = Path(__file__).resolve().parents[1]
WORDS = ["obs", "state", "x", "angle", "theta", "total", "acc", "ret", "rets", "scores", "ep",
         "i", "k", "done", "finished", "r", "rew", "reward", "p", "prob", "u", "draw", "net",
         "model", "hidden", "layer", "out", "values", "result", "tmp", "n", "count"]

# Ways of writing each answer; {a}, {b}, ... are the student's names.
WAYS = {
    "basic_policy": [
        "    return 0 if {a}[2] < 0 else 1\n",
        "    if {a}[2] < 0:\n        return 0\n    return 1\n",
        "    {b} = {a}[2]\n    return int({b} >= 0)\n",
        "    if {a}[2] >= 0:\n        return 1\n    else:\n        return 0\n",
    ],
    "run_episodes": [
        "    {b} = []\n    for {c} in range(n_episodes):\n"
        "        {d} = env.reset(seed=seed + {c})\n        {e}, {f} = 0.0, False\n"
        "        while not {f}:\n            {d}, {g}, {f}, _ = env.step(policy({d}))\n"
        "            {e} += {g}\n        {b}.append({e})\n    return np.array({b})\n",
        "    {b} = np.zeros(n_episodes)\n    for {c} in range(n_episodes):\n"
        "        {d} = env.reset(seed=seed + {c})\n        while True:\n"
        "            {d}, {g}, {f}, {h} = env.step(policy({d}))\n            {b}[{c}] += {g}\n"
        "            if {f}:\n                break\n    return {b}\n",
        "    {b} = []\n    {c} = 0\n    while {c} < n_episodes:\n"
        "        {d} = env.reset(seed=seed + {c})\n        {f} = False\n        {e} = 0\n"
        "        while not {f}:\n            {i} = policy({d})\n"
        "            {d}, {g}, {f}, {h} = env.step({i})\n            {e} = {e} + {g}\n"
        "        {b}.append({e})\n        {c} += 1\n    return np.array({b}, dtype=float)\n",
    ],
    "build_policy_network": [
        "    return tf.keras.Sequential([\n"
        "        tf.keras.layers.Dense(n_hidden, activation=\"elu\", input_shape=[n_inputs]),\n"
        "        tf.keras.layers.Dense(1, activation=\"sigmoid\"),\n    ])\n",
        "    {b} = tf.keras.Sequential()\n"
        "    {b}.add(tf.keras.layers.Dense(n_hidden, activation='elu', input_shape=(n_inputs,)))\n"
        "    {b}.add(tf.keras.layers.Dense(1, activation='sigmoid'))\n    return {b}\n",
        "    {c} = tf.keras.Input(shape=[n_inputs])\n"
        "    {d} = tf.keras.layers.Dense(n_hidden, activation='elu')({c})\n"
        "    {e} = tf.keras.layers.Dense(1, activation='sigmoid')({d})\n"
        "    return tf.keras.Model(inputs={c}, outputs={e})\n",
    ],
    "sample_action": [
        "    return int({b}.random() > {a})\n",
        "    {c} = {b}.random()\n    return 0 if {c} < {a} else 1\n",
        "    if {b}.random() < {a}:\n        return 0\n    return 1\n",
    ],
}
COMMENTS = ["# first try", "# TODO tidy up", "# this works", "# see the book", "# hmm", "#"]


def plan(rng):
    """What one student writes: a way per answer, and their own extra lines."""
    return {exercise: (rng.randrange(len(ways)),
                       [rng.randrange(1000) for _ in range(3)] if rng.random() < 0.5 else None)
            for exercise, ways in WAYS.items()}


def render(stub, exercise, choice, rng):
    """The cell: the stub's header, the answer in this student's names and layout."""
    way, extra = choice
    header = [line for line in stub.splitlines()
              if line.strip() and "YOUR CODE" not in line and "NotImplementedError" not in line]
    names = rng.sample(WORDS, 10)
    keep = dict(zip("abcdefghij", names, strict=True))
    if exercise == "basic_policy":
        keep["a"] = header[0].split("(")[1].split(")")[0]
    if exercise == "sample_action":
        keep["a"], keep["b"] = "left_proba", "rng"
    body = WAYS[exercise][way].format(**keep)
    lines = body.splitlines()
    if extra:
        lines.insert(0, f"    {rng.choice(WORDS)}_{rng.randrange(99)} = "
                        f"{extra[0]} * {extra[1]} + {extra[2]}")
    if rng.random() < 0.5:
        lines.insert(rng.randrange(len(lines)), "    " + rng.choice(COMMENTS))
    if rng.random() < 0.3:
        lines.insert(rng.randrange(len(lines)), "")
    return "\n".join(header[:1] + (header[1:] if rng.random() < 0.7 else []) + lines) + "\n"


def synthetic_class(path, students, copies, seed=0):
    """A zip of ``students`` notebooks; returns the planted copy pairs."""
    released = nbformat.read(str(ROOT / "notebooks" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"), 4)
    cells = {c.metadata["nbgrader"]["grade_id"]: i for i, c in enumerate(released.cells)
             if (c.metadata.get("nbgrader") or {}).get("solution")}
    rng = random.Random(seed)
    ids = [f"s{n:04d}" for n in range(students)]
    plans = {student: plan(rng) for student in ids}
    copied = rng.sample(ids, 2 * copies)
    planted = set()
    for source, copier in zip(copied[::2], copied[1::2], strict=True):
        plans[copier] = plans[source]
        planted.add(tuple(sorted((source, copier))))
    with zipfile.ZipFile(path, "w") as archive:
        for student in ids:
            notebook = copy.deepcopy(released)
            for exercise, index in cells.items():
                notebook.cells[index].source = render(
                    released.cells[index].source, exercise, plans[student][exercise], rng)
            archive.writestr(f"class/{student}_{ASSIGNMENT}.ipynb", nbformat.writes(notebook))
    return planted


def naive(answers, exercises, common):
    """Every pair's Jaccard index straight from the sets: the anchor."""
    sets = {s: {e: set(a.prints) - {p for (x, p) in common if x == e}
                for e, a in by.items()} for s, by in answers.items()}
    found = {}
    for a, b in itertools.combinations(sorted(sets), 2):
        both = sum(len(sets[a].get(e, set()) & sets[b].get(e, set())) for e in exercises)
        if both:
            either = sum(len(v) for v in sets[a].values()) + sum(len(v) for v in sets[b].values())
            found[(a, b)] = both / (either - both)
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=500)
    parser.add_argument("--copies", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rlbook-similarity-") as scratch:
        inbox = Path(scratch) / "class.zip"
        started = time.monotonic()
        planted = synthetic_class(inbox, args.students, args.copies)
        print(f"synthetic class: {args.students} students, {args.copies} planted copies "
              f"({time.monotonic() - started:.1f} s to write)")
        result = sim.similarity(ASSIGNMENT, inbox, out=Path(scratch) / "out", root=ROOT,
                                echo=lambda line: None)
        comparison = result.comparison
        pairs = comparison.total_pairs
        times = result.seconds
        print("rlbook similarity, seconds per stage: " + ", ".join(
            f"{stage} {seconds:.2f}" for stage, seconds in times.items()))
        print(f"  whole run: {times['total']:.1f} s for {pairs} pairs, "
              f"{pairs / times['total']:,.0f} pairs/s")
        print(f"  scoring (inverted index): {times['scoring']:.3f} s, "
              f"{pairs / times['scoring']:,.0f} pairs/s; {len(comparison.pairs)} pairs share "
              f"code, {len(comparison.common)} fingerprints ignored as common")
        started = time.monotonic()
        anchor = naive(result.answers, comparison.exercises, comparison.common)
        seconds = time.monotonic() - started
        print(f"anchor, every pair's sets intersected: {seconds:.3f} s, "
              f"{pairs / seconds:,.0f} pairs/s (index {seconds / times['scoring']:.1f}x faster)")
        indexed = {(p.a, p.b): p.score for p in comparison.pairs}
        same = indexed.keys() == anchor.keys() and all(
            abs(indexed[k] - anchor[k]) < 1e-12 for k in anchor)
        print(f"same scores both ways: {same}")
        top = {(p.a, p.b) for p in comparison.pairs[:len(planted)]}
        print(f"planted copies among the top {len(planted)} pairs: "
              f"{len(top & planted)}/{len(planted)}; top scores "
              + ", ".join(f"{p.score:.2f}" for p in comparison.pairs[:len(planted) + 2]))
        return 0 if same and top == planted else 1


if __name__ == "__main__":
    raise SystemExit(main())
