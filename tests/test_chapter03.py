"""Chapter 03's Q-learning exercise: the visible checks catch plausible mistakes with
a useful message, and the reference solution reproduces the book's seeded run."""

import json

import numpy as np
import pytest

SOURCE = "solutions/03_mdps_and_q_learning/03_mdps_and_q_learning.ipynb"
# The MDP, step(), q_value_iteration(), initial_q_values() and exploration_policy().
SETUP = ("code-05", "step", "q_value_iteration", "code-19", "code-23")


@pytest.fixture(scope="module")
def cells(root):
    notebook = json.loads((root / SOURCE).read_text())
    return {cell["id"]: "".join(cell["source"]) for cell in notebook["cells"]}


def namespace_with(cells, *cell_ids):
    namespace = {"np": np}
    for cell_id in cell_ids:
        exec(cells[cell_id], namespace)
    return namespace


def q_learning_variant(body):
    return ("def q_learning(n_iterations, alpha0=0.05, decay=0.005, gamma=0.90, seed=42):\n"
            "    np.random.seed(seed)\n"
            "    q_values = initial_q_values(possible_actions)\n"
            "    history = []\n"
            "    state = 0\n"
            "    for iteration in range(n_iterations):\n" + body +
            "    return q_values, np.array(history)\n")


GOOD_UPDATE = ("        q_values[state, action] += alpha * (reward + gamma * q_values[next_state].max()\n"  # noqa: E501 (a student's line)
               "                                            - q_values[state, action])\n")

WRONG = {
    "history keeps references": q_learning_variant(
        "        action = exploration_policy(state)\n"
        "        next_state, reward = step(state, action)\n"
        "        alpha = alpha0 / (1 + iteration * decay)\n" + GOOD_UPDATE +
        "        history.append(q_values)\n"
        "        state = next_state\n"),
    "draws in the wrong order": q_learning_variant(
        "        saved = np.random.get_state()\n"
        "        np.random.rand()\n"  # a transition drawn before the action
        "        action = exploration_policy(state)\n"
        "        next_state, reward = step(state, action)\n"
        "        alpha = alpha0 / (1 + iteration * decay)\n" + GOOD_UPDATE +
        "        history.append(q_values.copy())\n"
        "        state = next_state\n"),
    "iterations counted from 1": q_learning_variant(
        "        action = exploration_policy(state)\n"
        "        next_state, reward = step(state, action)\n"
        "        alpha = alpha0 / (1 + (iteration + 1) * decay)\n" + GOOD_UPDATE +
        "        history.append(q_values.copy())\n"
        "        state = next_state\n"),
    "no discount in the target": q_learning_variant(
        "        action = exploration_policy(state)\n"
        "        next_state, reward = step(state, action)\n"
        "        alpha = alpha0 / (1 + iteration * decay)\n"
        "        q_values[state, action] += alpha * (reward + q_values[next_state].max()\n"
        "                                            - q_values[state, action])\n"
        "        history.append(q_values.copy())\n"
        "        state = next_state\n"),
}
HINTS = {
    "history keeps references": "store a copy of q_values",
    "draws in the wrong order": "check the order of the draws",
    "iterations counted from 1": "with iteration counting from 0",
    "no discount in the target": "the discount gamma is missing",
}


@pytest.mark.parametrize("mistake", list(WRONG))
def test_a_plausible_q_learning_mistake_fails_with_a_hint(cells, mistake):
    namespace = namespace_with(cells, *SETUP)
    exec(WRONG[mistake], namespace)
    with pytest.raises(AssertionError, match=HINTS[mistake]):
        exec(cells["test_q_learning"].split("### BEGIN HIDDEN TESTS")[0], namespace)


def test_the_reference_q_learning_passes_visible_and_hidden_checks(cells):
    namespace = namespace_with(cells, *SETUP, "q_learning")
    exec(cells["test_q_learning"], namespace)


def test_the_td_error_form_reproduces_the_books_seeded_run(cells):
    # Q + alpha * (target - Q) and (1 - alpha) * Q + alpha * target round differently;
    # over 10,000 updates they must still agree far inside the checks' tolerance.
    namespace = namespace_with(cells, *SETUP, "q_learning")
    q_values, history = namespace["q_learning"](10_000)
    np.testing.assert_allclose(q_values, [[18.77621289, 17.2238872, 13.74543343],
                                          [0, -np.inf, -8.00485647],
                                          [-np.inf, 49.40208921, -np.inf]], rtol=1e-8, atol=1e-8)
    np.random.seed(42)
    book = namespace["initial_q_values"](namespace["possible_actions"])
    state = 0
    for iteration in range(10_000):
        action = namespace["exploration_policy"](state)
        next_state, reward = namespace["step"](state, action)
        alpha = 0.05 / (1 + iteration * 0.005)
        target = reward + 0.90 * np.max(book[next_state])
        book[state, action] = (1 - alpha) * book[state, action] + alpha * target
        state = next_state
    finite = np.isfinite(book)
    assert np.max(np.abs(q_values[finite] - book[finite])) < 1e-10
    np.testing.assert_array_equal(history[-1], q_values)
