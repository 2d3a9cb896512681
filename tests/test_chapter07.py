"""Chapter 07: the LunarLander steps' visible checks catch plausible mistakes with a
useful message, and in real nbgrader written answers wait for a human while code is
scored.

One submission, made from the instructor source (the model answers filled
in), is graded with `rlbook grade`; the gradebook must list the seven
written answers as needing manual grading and score the autograded tests.
"""

import json
import shutil

from rlbook.course.grading.grade import Limits, grade

import numpy as np
import pytest
from nbgrader.api import Gradebook

ASSIGNMENT = "07_exercises"
WRITTEN = ["q1_define_rl", "q2_applications", "q3_discount_factor", "q4_measure_performance",
           "q5_credit_assignment", "q6_replay_buffer", "q7_off_policy"]
AUTOGRADED = {"test_softmax_probabilities": 1, "test_flat_advantages": 1, "test_play_episode": 1,
              "test_policy_gradient": 2, "test_reinforce_lunar_lander": 3,
              "test_make_space_invaders_env": 2, "test_build_q_network": 2,
              "test_space_invaders_learning": 3}


@pytest.fixture(scope="module")
def gradebook(root, tmp_path_factory):
    folder = tmp_path_factory.mktemp("ch07")
    inbox = folder / "inbox"
    inbox.mkdir()
    shutil.copy(root / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb",
                inbox / f"ada_{ASSIGNMENT}.ipynb")
    roster = folder / "roster.csv"
    roster.write_text("student_id,first_name\nada,Ada\n")
    result = grade(inbox, ASSIGNMENT, out=folder / "out", roster=roster,
                   limits=Limits(cell_timeout=180, timeout=400), root=root)
    assert [o.student for o in result.graded] == ["ada"], result.problems
    with Gradebook(f"sqlite:///{result.out / 'gradebook.db'}", "rlbook") as gb:
        yield {g.name: (g.needs_manual_grade, g.score, g.max_score)
               for g in gb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, "ada").grades}


@pytest.mark.notebook
def test_written_answers_wait_for_manual_grading(gradebook):
    for name in WRITTEN:
        needs_manual, _, max_score = gradebook[name]
        assert needs_manual, f"{name} should need manual grading"
        assert max_score > 0, name
    assert sum(gradebook[name][2] for name in WRITTEN) == 15


@pytest.mark.notebook
def test_autograded_exercises_get_full_scores(gradebook):
    for name, points in AUTOGRADED.items():
        needs_manual, score, max_score = gradebook[name]
        assert not needs_manual, name
        assert (score, max_score) == (points, points), (name, score, max_score)


# ---------------------------------------------------------------------------
# The LunarLander steps: wrong answers a learner might write.

SOURCE = f"solutions/{ASSIGNMENT}/{ASSIGNMENT}.ipynb"
STEPS = ["softmax_probabilities", "flat_advantages", "play_episode", "policy_gradient", "reinforce"]


@pytest.fixture(scope="module")
def cells(root):
    notebook = json.loads((root / SOURCE).read_text())
    return {cell["id"]: "".join(cell["source"]) for cell in notebook["cells"]}


def namespace_with(cells, replaced, answer):
    """The given helpers (Adam, add_bias), the reference steps, and one wrong step."""
    import gym

    namespace = {"np": np, "gym": gym}
    exec(cells["code-19"], namespace)
    for step in STEPS:
        exec(answer if step == replaced else cells[step], namespace)
    return namespace


def visible_part(cells, step):
    test_id = "test_reinforce_lunar_lander" if step == "reinforce" else f"test_{step}"
    return cells[test_id].split("### BEGIN HIDDEN TESTS")[0]


WRONG = {
    "softmax without the bias": ("softmax_probabilities",
        "def softmax_probabilities(theta, obs):\n"
        "    z = np.asarray(obs, dtype=float) @ theta[:-1]\n"
        "    e = np.exp(z - z.max(axis=-1, keepdims=True))\n"
        "    return e / e.sum(axis=-1, keepdims=True)\n",
        "the bias"),
    "softmax that overflows": ("softmax_probabilities",
        "def softmax_probabilities(theta, obs):\n"
        "    e = np.exp(add_bias(obs) @ theta)\n"
        "    return e / e.sum(axis=-1, keepdims=True)\n",
        "exp\\(\\) overflows"),
    "softmax normalized over the whole batch": ("softmax_probabilities",
        "def softmax_probabilities(theta, obs):\n"
        "    z = add_bias(obs) @ theta\n"
        "    e = np.exp(z - z.max())\n"
        "    return e / e.sum()\n",
        "along the last axis"),
    "advantages of the rewards": ("flat_advantages",
        "def flat_advantages(all_rewards, discount_factor):\n"
        "    r = np.concatenate([np.asarray(x, dtype=float) for x in all_rewards])\n"
        "    return (r - r.mean()) / r.std()\n",
        "these are the normalized rewards"),
    "advantages per episode": ("flat_advantages",
        "def flat_advantages(all_rewards, discount_factor):\n"
        "    out = []\n"
        "    for rewards in all_rewards:\n"
        "        g, returns = 0.0, []\n"
        "        for r in reversed(rewards):\n"
        "            g = r + discount_factor * g\n"
        "            returns.insert(0, g)\n"
        "        returns = np.array(returns)\n"
        "        out.append((returns - returns.mean()) / (returns.std() or 1.0))\n"
        "    return np.concatenate(out)\n",
        "normalized each episode on its own"),
    "returns that run across episodes": ("flat_advantages",
        "def flat_advantages(all_rewards, discount_factor):\n"
        "    r = np.concatenate([np.asarray(x, dtype=float) for x in all_rewards])\n"
        "    g, returns = 0.0, np.empty(len(r))\n"
        "    for t in reversed(range(len(r))):\n"
        "        g = r[t] + discount_factor * g\n"
        "        returns[t] = g\n"
        "    return (returns - returns.mean()) / (returns.std() or 1.0)\n",
        "stop at its own last step"),
    "advantages divided by a zero spread": ("flat_advantages",
        "def flat_advantages(all_rewards, discount_factor):\n"
        "    returns = []\n"
        "    for rewards in all_rewards:\n"
        "        g, one = 0.0, []\n"
        "        for r in reversed(rewards):\n"
        "            g = r + discount_factor * g\n"
        "            one.insert(0, g)\n"
        "        returns.extend(one)\n"
        "    returns = np.array(returns)\n"
        "    with np.errstate(all='ignore'):\n"
        "        return (returns - returns.mean()) / returns.std()\n",
        "standard deviation is 0"),
    "episode records the next observation": ("play_episode",
        "def play_episode(env, theta, rng, n_max_steps, seed):\n"
        "    obs = env.reset(seed=seed)\n"
        "    observations, actions, rewards = [], [], []\n"
        "    for _ in range(n_max_steps):\n"
        "        action = rng.choice(4, p=softmax_probabilities(theta, obs))\n"
        "        obs, reward, done, _ = env.step(action)\n"
        "        observations.append(obs); actions.append(action); rewards.append(reward)\n"
        "        if done:\n"
        "            break\n"
        "    return np.array(observations), np.array(actions), np.array(rewards)\n",
        "the one action i was chosen from"),
    "episode ignores done": ("play_episode",
        "def play_episode(env, theta, rng, n_max_steps, seed):\n"
        "    obs = env.reset(seed=seed)\n"
        "    observations, actions, rewards = [], [], []\n"
        "    for _ in range(n_max_steps):\n"
        "        action = rng.choice(4, p=softmax_probabilities(theta, obs))\n"
        "        observations.append(obs); actions.append(action)\n"
        "        obs, reward, done, _ = env.step(action)\n"
        "        rewards.append(reward)\n"
        "    return np.array(observations), np.array(actions), np.array(rewards)\n",
        "stop when done is True"),
    "episode ignores n_max_steps": ("play_episode",
        "def play_episode(env, theta, rng, n_max_steps, seed):\n"
        "    obs, done = env.reset(seed=seed), False\n"
        "    observations, actions, rewards = [], [], []\n"
        "    while not done:\n"
        "        action = rng.choice(4, p=softmax_probabilities(theta, obs))\n"
        "        observations.append(obs); actions.append(action)\n"
        "        obs, reward, done, _ = env.step(action)\n"
        "        rewards.append(reward)\n"
        "    return np.array(observations), np.array(actions), np.array(rewards)\n",
        "stop after n_max_steps"),
    "episode ignores the policy": ("play_episode",
        "def play_episode(env, theta, rng, n_max_steps, seed):\n"
        "    obs = env.reset(seed=seed)\n"
        "    observations, actions, rewards = [], [], []\n"
        "    for _ in range(n_max_steps):\n"
        "        action = rng.integers(4)\n"
        "        observations.append(obs); actions.append(action)\n"
        "        obs, reward, done, _ = env.step(action)\n"
        "        rewards.append(reward)\n"
        "        if done:\n"
        "            break\n"
        "    return np.array(observations), np.array(actions), np.array(rewards)\n",
        "strongly favouring action 3"),
    "gradient downhill": ("policy_gradient",
        "def policy_gradient(theta, observations, actions, advantages):\n"
        "    p = softmax_probabilities(theta, observations)\n"
        "    onehot = np.eye(theta.shape[1])[actions]\n"
        "    return add_bias(observations).T @ ((p - onehot) * np.asarray(advantages)[:, None]) / len(p)\n",  # noqa: E501 (a student's line)
        "points downhill"),
    "gradient summed": ("policy_gradient",
        "def policy_gradient(theta, observations, actions, advantages):\n"
        "    p = softmax_probabilities(theta, observations)\n"
        "    onehot = np.eye(theta.shape[1])[actions]\n"
        "    return add_bias(observations).T @ ((onehot - p) * np.asarray(advantages)[:, None])\n",
        "average over the steps"),
    "gradient without advantages": ("policy_gradient",
        "def policy_gradient(theta, observations, actions, advantages):\n"
        "    p = softmax_probabilities(theta, observations)\n"
        "    onehot = np.eye(theta.shape[1])[actions]\n"
        "    return add_bias(observations).T @ (onehot - p) / len(p)\n",
        "scale each step's term by its advantage"),
    "gradient without the probabilities": ("policy_gradient",
        "def policy_gradient(theta, observations, actions, advantages):\n"
        "    onehot = np.eye(theta.shape[1])[actions]\n"
        "    return add_bias(observations).T @ (onehot * np.asarray(advantages)[:, None]) / len(onehot)\n",  # noqa: E501 (a student's line)
        "gives a last row of"),
    "reinforce descends": ("reinforce",
        "def reinforce(env, n_iterations, n_episodes_per_update=10, n_max_steps=300,\n"
        "              discount_factor=0.99, learning_rate=0.01, seed=42):\n"
        "    theta = np.zeros((env.observation_space.shape[0] + 1, env.action_space.n))\n"
        "    adam, rng = Adam(theta.shape, learning_rate), np.random.default_rng(seed)\n"
        "    for i in range(n_iterations):\n"
        "        eps = [play_episode(env, theta, rng, n_max_steps, seed * 1000 + i * 100 + e)\n"
        "               for e in range(n_episodes_per_update)]\n"
        "        obs, acts, rews = zip(*eps)\n"
        "        g = policy_gradient(theta, np.concatenate(obs), np.concatenate(acts),\n"
        "                            flat_advantages(rews, discount_factor))\n"
        "        theta = theta - adam.step(g)\n"
        "    return theta\n",
        "LESS likely"),
    "reinforce credits only the immediate reward": ("reinforce",
        "def reinforce(env, n_iterations, n_episodes_per_update=10, n_max_steps=300,\n"
        "              discount_factor=0.99, learning_rate=0.01, seed=42):\n"
        "    theta = np.zeros((env.observation_space.shape[0] + 1, env.action_space.n))\n"
        "    adam, rng = Adam(theta.shape, learning_rate), np.random.default_rng(seed)\n"
        "    for i in range(n_iterations):\n"
        "        eps = [play_episode(env, theta, rng, n_max_steps, seed * 1000 + i * 100 + e)\n"
        "               for e in range(n_episodes_per_update)]\n"
        "        obs, acts, rews = zip(*eps)\n"
        "        g = policy_gradient(theta, np.concatenate(obs), np.concatenate(acts),\n"
        "                            flat_advantages(rews, 0.0))\n"
        "        theta = theta + adam.step(g)\n"
        "    return theta\n",
        "discounted return of what follows it"),
    "reinforce reuses one seed": ("reinforce",
        "def reinforce(env, n_iterations, n_episodes_per_update=10, n_max_steps=300,\n"
        "              discount_factor=0.99, learning_rate=0.01, seed=42):\n"
        "    theta = np.zeros((env.observation_space.shape[0] + 1, env.action_space.n))\n"
        "    adam, rng = Adam(theta.shape, learning_rate), np.random.default_rng(seed)\n"
        "    for i in range(n_iterations):\n"
        "        eps = [play_episode(env, theta, rng, n_max_steps, seed)\n"
        "               for e in range(n_episodes_per_update)]\n"
        "        obs, acts, rews = zip(*eps)\n"
        "        g = policy_gradient(theta, np.concatenate(obs), np.concatenate(acts),\n"
        "                            flat_advantages(rews, discount_factor))\n"
        "        theta = theta + adam.step(g)\n"
        "    return theta\n",
        "its own reset seed"),
    "reinforce plays one episode per update": ("reinforce",
        "def reinforce(env, n_iterations, n_episodes_per_update=10, n_max_steps=300,\n"
        "              discount_factor=0.99, learning_rate=0.01, seed=42):\n"
        "    theta = np.zeros((env.observation_space.shape[0] + 1, env.action_space.n))\n"
        "    adam, rng = Adam(theta.shape, learning_rate), np.random.default_rng(seed)\n"
        "    for i in range(n_iterations):\n"
        "        obs, acts, rews = play_episode(env, theta, rng, n_max_steps, seed * 1000 + i)\n"
        "        g = policy_gradient(theta, obs, acts, flat_advantages([rews], discount_factor))\n"
        "        theta = theta + adam.step(g)\n"
        "    return theta\n",
        "make 24 env.step calls"),
}


@pytest.mark.parametrize("mistake", list(WRONG))
def test_a_plausible_lunar_lander_mistake_fails_a_visible_check_with_a_hint(cells, mistake):
    step, answer, hint = WRONG[mistake]
    namespace = namespace_with(cells, step, answer)
    with pytest.raises(AssertionError, match=hint):
        exec(visible_part(cells, step), namespace)


@pytest.mark.parametrize("step", STEPS[:-1])
def test_the_reference_steps_pass_visible_and_hidden_checks(cells, step):
    namespace = namespace_with(cells, None, "")
    exec(cells[f"test_{step}"], namespace)


def test_every_step_has_at_least_three_wrong_answers_tried():
    counts = {step: sum(1 for s, _, _ in WRONG.values() if s == step) for step in STEPS}
    assert min(counts.values()) >= 3, counts


def test_the_training_check_is_computed_inside_the_locked_test_cell(cells):
    # The behaviour check trains with the student's functions in the graded cell itself,
    # not from a theta some editable cell produced.
    test = cells["test_reinforce_lunar_lander"]
    assert "reinforce(lander" in test and "reinforce(DelayedReward()" in test
    assert "### BEGIN HIDDEN TESTS" in test
    for step in STEPS[:-1]:
        assert "### BEGIN HIDDEN TESTS" in cells[f"test_{step}"], step


@pytest.mark.slow
def test_the_reference_reinforce_passes_its_whole_check(cells):
    namespace = namespace_with(cells, None, "")
    exec(cells["test_reinforce_lunar_lander"], namespace)
