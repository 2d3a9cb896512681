"""rlbook.widgets.gamma: the gamma slider over the chapter-03 MDP, driven like a user would."""

import base64
import re

from rlbook.widgets.display import WIDGET_MIME, bundle
from rlbook.widgets.gamma import GammaExplorer, _q_value_iteration, policy_flips

import numpy as np
import pytest

# The syllabus reference: 50 sweeps of Q-value iteration from Q = 0.
REFERENCE = {
    0.90: ([[18.91891892, 17.02702702, 13.62162162], [0, -np.inf, -4.87971488],
            [-np.inf, 50.13365013, -np.inf]], [0, 0, 1]),
    0.95: ([[21.73304188, 20.63807938, 16.70138772], [0.95462106, -np.inf, 1.01361207],
            [-np.inf, 53.70728682, -np.inf]], [0, 2, 1]),
}


def loop_solver(transition_probabilities, rewards, possible_actions, gamma, n_iterations):
    """A learner's loop-style q_value_iteration, as the chapter's exercise asks for."""
    n_states, n_actions = len(transition_probabilities), len(transition_probabilities[0])
    q_values = np.full((n_states, n_actions), -np.inf)
    for state, actions in enumerate(possible_actions):
        q_values[state, actions] = 0.0
    for _ in range(n_iterations):
        best_next = q_values.max(axis=1)
        new = q_values.copy()
        for state, actions in enumerate(possible_actions):
            for action in actions:
                new[state, action] = np.sum(np.asarray(transition_probabilities[state][action])
                                            * (np.asarray(rewards[state][action], float)
                                               + gamma * best_next))
        q_values = new
    return q_values


def shown_q_table(explorer, precise=False):
    """The Q-values as the HTML table shows them (impossible = -inf).

    precise: read the eight-decimal tooltip instead of the four-decimal text.
    """
    rows = re.findall(r"<tr><th>s\d</th>(.*?)</tr>", explorer.summary.value)
    table = []
    for row in rows:
        cells = re.findall(r"<td([^>]*)>([^<]*)</td>", row)
        table.append([-np.inf if text == "impossible"
                      else float(re.search(r"title='([^']*)'", attributes).group(1)) if precise
                      else float(text) for attributes, text in cells])
    return np.array(table)


def shown_policy(explorer):
    text = re.search(r"greedy policy: \[(.*?)\]", explorer.summary.value).group(1)
    return [int(a) for a in re.findall(r"s\d: a(\d)", text)]


@pytest.fixture(scope="module")
def explorer():
    return GammaExplorer(loop_solver)


@pytest.mark.parametrize("gamma", [0.90, 0.95])
def test_slider_shows_the_reference_q_values_and_policy(explorer, gamma):
    expected_q, expected_policy = REFERENCE[gamma]
    explorer.slider.value = gamma
    np.testing.assert_allclose(explorer.q_values, expected_q, rtol=0, atol=1e-6)
    # The table shows four decimals, and eight when hovered.
    np.testing.assert_allclose(shown_q_table(explorer), expected_q, rtol=0, atol=5e-5)
    np.testing.assert_allclose(shown_q_table(explorer, precise=True), expected_q, rtol=0,
                               atol=1e-6)
    assert shown_policy(explorer) == expected_policy == explorer.policy
    assert f"gamma = {gamma:.3f}" in explorer.summary.value


def test_the_flip_in_s1_lies_between_090_and_095(explorer):
    assert len(explorer.flips) == 1, explorer.flips
    flip = explorer.flips[0]
    assert (flip.state, flip.before, flip.after) == (1, 0, 2)
    assert 0.90 < flip.gamma < 0.95
    below = explorer.solve(flip.gamma - 0.001)
    above = explorer.solve(flip.gamma + 0.001)
    assert np.argmax(below[1]) == 0 and np.argmax(above[1]) == 2
    # Right at the flip the two actions of s1 are worth the same.
    at = explorer.solve(flip.gamma)
    assert abs(at[1, 2] - at[1, 0]) < 1e-4
    assert f"s1 goes through the fire from gamma ≈ {flip.gamma:.4f}" in explorer.summary.value


def test_the_marker_follows_the_slider(explorer):
    flip = explorer.flips[0]
    explorer.slider.value = 0.90
    assert "➜ s1 goes" not in explorer.summary.value
    png_before = bytes(explorer.plot.value)
    explorer.slider.value = 0.95
    assert "➜ s1 goes" in explorer.summary.value
    png_after = bytes(explorer.plot.value)
    assert png_after != png_before and png_after.startswith(b"\x89PNG")
    assert 0.90 < flip.gamma < 0.95


def test_the_private_default_solver_agrees_with_a_learners_loop():
    default = GammaExplorer()
    assert default.solver is _q_value_iteration
    for gamma in (0.85, 0.93, 0.97):
        default.slider.value = gamma
        np.testing.assert_allclose(default.q_values, default.solve(gamma))
        np.testing.assert_allclose(
            default.q_values,
            loop_solver(default.transition_probabilities, default.rewards,
                        default.possible_actions, gamma, 50), atol=1e-9)


def test_policy_flips_finds_every_change_of_a_made_up_problem():
    # Two "states" whose best action changes at 0.3 and 0.7 respectively.
    def solve(gamma):
        return np.array([[gamma, 0.3], [0.7, gamma]])

    flips = policy_flips(solve, 0.1, 0.9)
    assert [(f.state, f.before, f.after) for f in flips] == [(0, 1, 0), (1, 0, 1)]
    np.testing.assert_allclose([f.gamma for f in flips], [0.3, 0.7], atol=1e-6)


def test_display_bundle_has_the_widget_and_a_png_fallback(explorer):
    data = bundle(explorer.widget, explorer.figure(), explorer.text())
    assert data[WIDGET_MIME]["model_id"] == explorer.widget.model_id
    assert base64.b64decode(data["image/png"]).startswith(b"\x89PNG")
    assert "s1 goes through the fire" in data["text/plain"]


@pytest.mark.parametrize("gamma_range", [(0.0, 0.95), (0.8, 1.0), (0.95, 0.9), (-0.2, 0.5),
                                         (0.9,), "0.9"])
def test_a_gamma_range_outside_0_1_is_refused(gamma_range):
    with pytest.raises(ValueError, match="gamma_range"):
        GammaExplorer(gamma_range=gamma_range)


def test_other_bad_arguments_say_what_is_wrong():
    with pytest.raises(ValueError, match="outside gamma_range"):
        GammaExplorer(gamma=0.5)
    with pytest.raises(TypeError, match="gamma must be a number"):
        GammaExplorer(gamma="0.9")
    with pytest.raises(TypeError, match="solver must be a function"):
        GammaExplorer(solver="q_value_iteration")
    with pytest.raises(ValueError, match="all three"):
        GammaExplorer(rewards=[[0]])
    with pytest.raises(ValueError, match="n_iterations"):
        GammaExplorer(n_iterations=0)
    with pytest.raises(ValueError, match="shape"):
        GammaExplorer(solver=lambda *args: np.zeros(3))
