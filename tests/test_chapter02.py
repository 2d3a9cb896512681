"""Chapter 02's visible checks catch the plausible mistakes, with a useful message.

Each check cell of the source notebook is executed (without its hidden part)
against a wrong answer a learner might write; it must fail and say why. The
reference solution must pass the whole cell, hidden part included.
"""

import json

import rlbook  # noqa: F401  (legacy Keras before TensorFlow)

import numpy as np
import pytest

SOURCE = "solutions/02_policy_gradients/02_policy_gradients.ipynb"


@pytest.fixture(scope="module")
def cells(root):
    notebook = json.loads((root / SOURCE).read_text())
    return {cell["id"]: "".join(cell["source"]) for cell in notebook["cells"]}


def namespace_with(cells, *cell_ids):
    from rlbook import envs

    import tensorflow as tf

    namespace = {"np": np, "tf": tf, "envs": envs}
    for cell_id in cell_ids:
        exec(cells[cell_id], namespace)
    return namespace


def run_visible_check(cells, test_id, answer, setup=()):
    namespace = namespace_with(cells, *setup)
    exec(answer, namespace)
    exec(cells[test_id].split("### BEGIN HIDDEN TESTS")[0], namespace)


WRONG = {
    # discount_rewards
    "integer returns": (
        "test_discount_rewards", (),
        "def discount_rewards(rewards, discount_factor):\n"
        "    returns = np.array(rewards)\n"
        "    for t in range(len(returns) - 2, -1, -1):\n"
        "        returns[t] += discount_factor * returns[t + 1]\n"
        "    return returns\n",
        "truncates 1.5"),
    "walks forwards": (
        "test_discount_rewards", (),
        "def discount_rewards(rewards, discount_factor):\n"
        "    returns = np.array(rewards, dtype=float)\n"
        "    for t in range(1, len(returns)):\n"
        "        returns[t] += discount_factor * returns[t - 1]\n"
        "    return returns\n",
        "walk backwards from the last step"),
    "no discount": (
        "test_discount_rewards", (),
        "def discount_rewards(rewards, discount_factor):\n"
        "    return np.cumsum(np.asarray(rewards, dtype=float)[::-1])[::-1]\n",
        "walk backwards from the last step"),
    "returns a list": (
        "test_discount_rewards", (),
        "def discount_rewards(rewards, discount_factor):\n"
        "    out, g = [], 0.0\n"
        "    for r in reversed(rewards):\n"
        "        g = r + discount_factor * g\n"
        "        out.insert(0, g)\n"
        "    return out\n",
        "return a NumPy array"),
    # discount_and_normalize_rewards
    "normalized episode by episode": (
        "test_discount_and_normalize_rewards", ("discount_rewards",),
        "def discount_and_normalize_rewards(all_rewards, discount_factor):\n"
        "    out = [discount_rewards(r, discount_factor) for r in all_rewards]\n"
        "    return [(g - g.mean()) / g.std() for g in out]\n",
        "you normalized episode by episode"),
    "mean only": (
        "test_discount_and_normalize_rewards", ("discount_rewards",),
        "def discount_and_normalize_rewards(all_rewards, discount_factor):\n"
        "    out = [discount_rewards(r, discount_factor) for r in all_rewards]\n"
        "    mean = np.concatenate(out).mean()\n"
        "    return [g - mean for g in out]\n",
        "divide by their standard deviation"),
    "one flat array": (
        "test_discount_and_normalize_rewards", ("discount_rewards",),
        "def discount_and_normalize_rewards(all_rewards, discount_factor):\n"
        "    flat = np.concatenate([discount_rewards(r, discount_factor) for r in all_rewards])\n"
        "    return (flat - flat.mean()) / flat.std()\n",
        "return a list with one array per episode"),
    # action_and_gradients
    "target is the action itself": (
        "test_action_and_gradients", ("code-12",),
        "def action_and_gradients(model, loss_fn, obs, u):\n"
        "    with tf.GradientTape() as tape:\n"
        "        p = model(obs[tf.newaxis])\n"
        "        a = tf.cast(u > p, tf.float32)\n"
        "        loss = tf.reduce_mean(loss_fn(a, p))\n"
        "    return tf.cast(a[0, 0], tf.int32), tape.gradient(loss, model.trainable_variables)\n",
        "LESS likely"),
    "action chosen the wrong way round": (
        "test_action_and_gradients", ("code-12",),
        "def action_and_gradients(model, loss_fn, obs, u):\n"
        "    with tf.GradientTape() as tape:\n"
        "        p = model(obs[tf.newaxis])\n"
        "        a = tf.cast(u < p, tf.float32)\n"
        "        loss = tf.reduce_mean(loss_fn(1.0 - a, p))\n"
        "    return tf.cast(a[0, 0], tf.int32), tape.gradient(loss, model.trainable_variables)\n",
        "the action is 1 only when u > left_proba"),
    "loss outside the tape": (
        "test_action_and_gradients", ("code-12",),
        "def action_and_gradients(model, loss_fn, obs, u):\n"
        "    with tf.GradientTape() as tape:\n"
        "        p = model(obs[tf.newaxis])\n"
        "    a = tf.cast(u > p, tf.float32)\n"
        "    loss = tf.reduce_mean(loss_fn(1.0 - a, p))\n"
        "    return tf.cast(a[0, 0], tf.int32), tape.gradient(loss, model.trainable_variables)\n",
        "a gradient is None"),
    "Python int on a tensor": (
        "test_action_and_gradients", ("code-12",),
        "def action_and_gradients(model, loss_fn, obs, u):\n"
        "    with tf.GradientTape() as tape:\n"
        "        p = model(obs[tf.newaxis])\n"
        "        action = int(u > p[0, 0])\n"
        "        loss = tf.reduce_mean(loss_fn(tf.constant([[1.0 - action]]), p))\n"
        "    return tf.constant(action), tape.gradient(loss, model.trainable_variables)\n",
        "tf.function cannot compile your function"),
    "action as a float": (
        "test_action_and_gradients", ("code-12",),
        "def action_and_gradients(model, loss_fn, obs, u):\n"
        "    with tf.GradientTape() as tape:\n"
        "        p = model(obs[tf.newaxis])\n"
        "        a = tf.cast(u > p, tf.float32)\n"
        "        loss = tf.reduce_mean(loss_fn(1.0 - a, p))\n"
        "    return a[0, 0], tape.gradient(loss, model.trainable_variables)\n",
        "int32 scalar tensor"),
}


@pytest.mark.parametrize("mistake", list(WRONG))
def test_a_plausible_mistake_fails_a_visible_check_with_a_hint(cells, mistake):
    test_id, setup, answer, hint = WRONG[mistake]
    with pytest.raises(AssertionError, match=hint):
        run_visible_check(cells, test_id, answer, setup)


@pytest.mark.parametrize("setup, test_id", [
    (("discount_rewards",), "test_discount_rewards"),
    (("discount_rewards", "discount_and_normalize_rewards"), "test_discount_and_normalize_rewards"),
    (("code-12", "action_and_gradients"), "test_action_and_gradients"),
    (("weighted_mean_gradients",), "test_weighted_mean_gradients"),
])
def test_the_reference_solution_passes_visible_and_hidden_checks(cells, setup, test_id):
    namespace = namespace_with(cells, *setup)
    exec(cells[test_id], namespace)


def test_the_rewritten_returns_agree_with_the_reference_values(cells):
    # Same arithmetic order as r_t + gamma * G_(t+1): bit for bit, not just close.
    namespace = namespace_with(cells, "discount_rewards", "discount_and_normalize_rewards")
    rewards = np.random.default_rng(0).integers(0, 2, size=200)
    expected = np.array(rewards, dtype=np.float64)
    for t in range(len(expected) - 2, -1, -1):
        expected[t] += 0.95 * expected[t + 1]
    np.testing.assert_array_equal(namespace["discount_rewards"](rewards, 0.95), expected)
    got = namespace["discount_and_normalize_rewards"]([[10, 0, -50], [10, 20]], 0.8)
    np.testing.assert_allclose(np.concatenate(got), [-0.28435071, -0.86597718, -1.18910299,
                                                     1.26665318, 1.0727777], rtol=1e-7)


def test_play_multiple_episodes_keeps_rewards_and_gradients_per_step(cells):
    import tensorflow as tf

    namespace = namespace_with(cells, "code-12", "action_and_gradients", "code-17")
    tf.random.set_seed(0)
    model = namespace["build_policy_network"]()
    env = namespace["envs"].make_env("CartPole-v1", seed=3)
    rng = np.random.default_rng(0)
    all_rewards, all_grads = namespace["play_multiple_episodes"](
        env, 3, 12, model, tf.keras.losses.binary_crossentropy, rng)
    assert len(all_rewards) == len(all_grads) == 3
    assert [len(r) for r in all_rewards] == [len(g) for g in all_grads]
    assert all(1 <= len(r) <= 12 for r in all_rewards)
    assert all(len(step) == len(model.trainable_variables) for g in all_grads for step in g)
