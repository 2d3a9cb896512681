"""Chapter 04's visible checks catch the plausible mistakes, with a useful message.

Each check cell of the source notebook is executed (without its hidden part)
against a wrong answer a learner might write; it must fail and say why.
"""

import json

import numpy as np
import pytest

SOURCE = "solutions/04_deep_q_learning/04_deep_q_learning.ipynb"


@pytest.fixture(scope="module")
def cells(root):
    notebook = json.loads((root / SOURCE).read_text())
    return {cell["id"]: "".join(cell["source"]) for cell in notebook["cells"]}


def run_visible_check(cells, test_id, answer):
    namespace = {"np": np}
    exec(answer, namespace)
    exec(cells[test_id].split("### BEGIN HIDDEN TESTS")[0], namespace)


def solution_code(cells, grade_id):
    return cells[grade_id]


WRONG = {
    "forgets the end of the episode": (
        "test_td_targets",
        "def compute_td_targets(rewards, dones, next_q_values, gamma):\n"
        "    return rewards + gamma * np.max(next_q_values, axis=1)\n",
        "Multiply the future term by \\(1 - done\\)"),
    "max over the wrong axis": (
        "test_td_targets",
        "def compute_td_targets(rewards, dones, next_q_values, gamma):\n"
        "    return rewards + gamma * (1 - dones) * np.max(next_q_values, axis=0)\n",
        "take the max over the actions"),
    "double DQN written as plain DQN": (
        "test_double_targets",
        "def compute_double_td_targets(rewards, dones, next_q_online, next_q_target, gamma):\n"
        "    return rewards + gamma * (1 - dones) * next_q_target.max(axis=1)\n",
        "that is plain DQN"),
    "double DQN valued by the online net": (
        "test_double_targets",
        "def compute_double_td_targets(rewards, dones, next_q_online, next_q_target, gamma):\n"
        "    return rewards + gamma * (1 - dones) * next_q_online.max(axis=1)\n",
        "the online network only chooses the action"),
    "ring buffer samples empty slots": (
        "test_ring_buffer",
        "class RingReplayBuffer:\n"
        "    def __init__(self, capacity, obs_size):\n"
        "        self.capacity, self.i, self.n = capacity, 0, 0\n"
        "        self.states = np.zeros((capacity, obs_size)); self.next_states = np.zeros((capacity, obs_size))\n"  # noqa: E501
        "        self.actions = np.zeros(capacity, int); self.rewards = np.zeros(capacity)\n"
        "        self.dones = np.zeros(capacity, bool)\n"
        "    def append(self, s, a, r, ns, d):\n"
        "        self.states[self.i], self.actions[self.i], self.rewards[self.i] = s, a, r\n"
        "        self.next_states[self.i], self.dones[self.i] = ns, d\n"
        "        self.i = (self.i + 1) % self.capacity; self.n = min(self.n + 1, self.capacity)\n"
        "    def __len__(self):\n"
        "        return self.n\n"
        "    def sample(self, batch_size, rng):\n"
        "        k = rng.integers(self.capacity, size=batch_size)\n"
        "        return self.states[k], self.actions[k], self.rewards[k], self.next_states[k], self.dones[k]\n",  # noqa: E501
        "draw only among the filled slots"),
    "sum tree that adds instead of replacing": (
        "test_sum_tree",
        "class PrioritySumTree:\n"
        "    def __init__(self, capacity):\n"
        "        self.capacity = capacity; self.nodes = np.zeros(2 * capacity)\n"
        "    def update(self, index, priority):\n"
        "        node = self.capacity + index\n"
        "        while node >= 1:\n"
        "            self.nodes[node] += priority; node //= 2\n"
        "    def total(self):\n"
        "        return self.nodes[1]\n"
        "    def find(self, u):\n"
        "        node = 1\n"
        "        while node < self.capacity:\n"
        "            if u < self.nodes[2 * node]: node = 2 * node\n"
        "            else: u -= self.nodes[2 * node]; node = 2 * node + 1\n"
        "        return node - self.capacity\n",
        "update must replace a priority"),
    "PER without the absolute value": (
        "test_per_weights",
        "def per_probabilities(td_errors, zeta=0.6, epsilon=1e-6):\n"
        "    p = (td_errors + epsilon) ** zeta\n"
        "    return p / p.sum()\n"
        "def importance_weights(probabilities, n_stored, beta):\n"
        "    w = (n_stored * probabilities) ** -beta\n"
        "    return w / w.max()\n",
        "absolute value"),
    "dueling with the mean": (
        "test_dueling",
        "def dueling_q_values(state_values, advantages):\n"
        "    return state_values + advantages - advantages.mean(axis=1, keepdims=True)\n",
        "subtracts the mean advantage"),
}


@pytest.mark.parametrize("mistake", list(WRONG))
def test_a_plausible_mistake_fails_a_visible_check_with_a_hint(cells, mistake):
    test_id, answer, hint = WRONG[mistake]
    with pytest.raises(AssertionError, match=hint):
        run_visible_check(cells, test_id, answer)


@pytest.mark.parametrize("grade_id, test_id", [
    ("td_targets", "test_td_targets"), ("double_targets", "test_double_targets"),
    ("sum_tree", "test_sum_tree"), ("per_weights", "test_per_weights"),
    ("dueling", "test_dueling"), ("ring_buffer", "test_ring_buffer"),
])
def test_the_reference_solution_passes_visible_and_hidden_checks(cells, grade_id, test_id):
    namespace = {"np": np}
    exec(cells[grade_id], namespace)
    exec(cells[test_id], namespace)


def test_no_graded_exercise_shares_a_name_with_rlbook():
    import rlbook.dqn
    import rlbook.replay

    exercise_names = ["compute_td_targets", "compute_double_td_targets", "RingReplayBuffer",
                      "PrioritySumTree", "per_probabilities", "importance_weights",
                      "dueling_q_values"]
    for module in (rlbook, rlbook.dqn, rlbook.replay):
        clash = [name for name in exercise_names if hasattr(module, name)]
        assert clash == [], f"{module.__name__} defines {clash}"
