"""rlbook.pg: the REINFORCE trainer, on real CartPole/Acrobot with real TensorFlow."""

from rlbook import envs, pg

import numpy as np
import pytest
import tensorflow as tf

QUICK = dict(num_episodes_per_update=4, max_episode_steps=50, progress=False)


def test_short_run_returns_one_finite_mean_per_iteration():
    history = pg.train_reinforce("CartPole-v1", num_iterations=3, seed=0, **QUICK)
    assert isinstance(history, pg.ReinforceResult)
    assert len(history) == 3
    assert history.returns.shape == (3,)
    assert history.episode_returns.shape == (3, 4)
    assert np.all(np.isfinite(history.returns))
    # CartPole pays 1 per step, the cap is 50 steps, and every episode lasts at least one.
    assert np.all((history.episode_returns >= 1) & (history.episode_returns <= 50))
    np.testing.assert_allclose(history.returns, history.episode_returns.mean(axis=1))
    assert isinstance(history.model, tf.keras.Model)
    assert history.seconds > 0


def test_same_seed_same_run_and_other_seed_other_run():
    first = pg.train_reinforce("CartPole-v1", num_iterations=4, seed=3, **QUICK)
    again = pg.train_reinforce("CartPole-v1", num_iterations=4, seed=3, **QUICK)
    other = pg.train_reinforce("CartPole-v1", num_iterations=4, seed=4, **QUICK)
    np.testing.assert_array_equal(first.episode_returns, again.episode_returns)
    for a, b in zip(first.model.get_weights(), again.model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first.episode_returns, other.episode_returns)


def test_training_changes_the_weights_and_can_stop_early():
    model = pg.build_policy_network(4, 2)
    before = [w.copy() for w in model.get_weights()]
    seen = []

    def stop_after_two(iteration, returns, trained):
        seen.append((iteration, returns.shape, trained is model))
        return iteration == 1

    history = pg.train_reinforce("CartPole-v1", model, num_iterations=10, seed=1,
                                 callback=stop_after_two, **QUICK)
    assert len(history) == 2
    assert seen == [(0, (4,), True), (1, (4,), True)]
    assert any(not np.allclose(a, b) for a, b in zip(before, model.get_weights(), strict=True))


def test_softmax_policy_with_three_actions():
    # Acrobot has 3 actions: the default network ends in a 3-way softmax.
    history = pg.train_reinforce("Acrobot-v1", num_iterations=2, seed=0, **QUICK)
    assert history.model.output_shape == (None, 3)
    assert history.episode_returns.shape == (2, 4)
    # Acrobot pays -1 per step until it swings up; 50 steps are too few to get there.
    np.testing.assert_array_equal(history.episode_returns, -50)


def test_accepts_an_env_instance_a_factory_and_a_model_builder():
    def builder(n_inputs, n_actions):
        return pg.build_policy_network(n_inputs, n_actions, fc_layer_params=(8, 8))

    env = envs.make_env("CartPole-v1")
    from_instance = pg.train_reinforce(env, builder, num_iterations=2, seed=0, **QUICK)
    assert [w.shape for w in from_instance.model.get_weights()][:2] == [(4, 8), (8,)]
    from_factory = pg.train_reinforce(lambda: envs.make_env("CartPole-v1"), num_iterations=2,
                                      seed=0, **QUICK)
    assert from_factory.episode_returns.shape == (2, 4)


def test_reinforce_loss_gradient_is_the_mean_of_weighted_per_step_gradients():
    # The trainer's batched loss must give the chapter's update: the mean over
    # steps of advantage * gradient of the binary cross-entropy (target 1 - action).
    tf.random.set_seed(5)
    model = pg.build_policy_network(4, 2)
    rng = np.random.default_rng(5)
    obs = rng.normal(size=(6, 4)).astype(np.float32)
    actions = np.array([0, 1, 1, 0, 1, 0])
    advantages = rng.normal(size=6).astype(np.float32)

    with tf.GradientTape() as tape:
        loss = pg.reinforce_loss(pg.action_probabilities(model, obs), actions, advantages)
    batched = tape.gradient(loss, model.trainable_variables)

    per_step = []
    for o, a in zip(obs, actions, strict=True):
        with tf.GradientTape() as tape:
            left_proba = model(o[None])
            step_loss = tf.reduce_mean(tf.keras.losses.binary_crossentropy([[1.0 - a]], left_proba))
        per_step.append(tape.gradient(step_loss, model.trainable_variables))
    for index, grad in enumerate(batched):
        expected = np.mean([adv * g[index].numpy()
                            for adv, g in zip(advantages, per_step, strict=True)], axis=0)
        np.testing.assert_allclose(grad.numpy(), expected, rtol=1e-4, atol=1e-6)


def test_advantages_match_the_reference_values():
    advantages = pg._advantages([[10, 0, -50], [10, 20]], 0.8)
    np.testing.assert_allclose(advantages, [-0.28435071, -0.86597718, -1.18910299,
                                            1.26665318, 1.0727777], rtol=1e-6)
    # All-equal returns have no spread: zeros, not NaN.
    np.testing.assert_array_equal(pg._advantages([[1.0]], 0.9), [0.0])


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(num_iterations=0), ValueError, "num_iterations should be a positive integer, got: 0"),
    (dict(num_episodes_per_update=2.5), TypeError,
     "num_episodes_per_update should be a positive integer, got: 2.5"),
    (dict(max_episode_steps=-1), ValueError, "max_episode_steps should be a positive integer"),
    (dict(gamma=1.5), ValueError, r"gamma should be in \[0, 1\], got: 1.5"),
    (dict(learning_rate=0), ValueError, "learning_rate should be positive, got: 0"),
    (dict(seed=-1), ValueError, "seed should be a non-negative integer, got: -1"),
    (dict(env="CartPole-v9"), ValueError, "Unknown environment id 'CartPole-v9'"),
    (dict(env="Pendulum-v1"), ValueError, "needs discrete actions"),
])
def test_bad_arguments_get_clear_errors(kwargs, error, message):
    kwargs = {"num_iterations": 1, **kwargs}
    with pytest.raises(error, match=message):
        pg.train_reinforce(kwargs.pop("env", "CartPole-v1"), progress=False, **kwargs)


def test_a_model_that_does_not_fit_the_environment_is_refused():
    three_way = pg.build_policy_network(4, 3)
    with pytest.raises(ValueError, match="3 outputs but the environment has 2 actions"):
        pg.train_reinforce("CartPole-v1", three_way, num_iterations=1, progress=False)
    linear = tf.keras.Sequential([tf.keras.layers.Dense(2, input_shape=[4],
                                                        kernel_initializer="ones",
                                                        bias_initializer="ones")])
    with pytest.raises(ValueError, match="should output action probabilities"):
        pg.train_reinforce("CartPole-v1", linear, num_iterations=1, progress=False)
    with pytest.raises(TypeError, match="model should be a Keras model"):
        pg.train_reinforce("CartPole-v1", "not a model", num_iterations=1, progress=False)
    with pytest.raises(TypeError, match="env should be an environment id"):
        pg.train_reinforce(42, num_iterations=1, progress=False)


def test_a_modest_run_beats_the_untrained_policy():
    # The book's settings, cut to 80 of 150 updates (about 10 s). Measured over
    # seeds 0-4 and 42, the last 5 iterations averaged 108-184 steps against
    # 20-41 for the first 5, so this margin is wide.
    history = pg.train_reinforce("CartPole-v1", num_iterations=80, num_episodes_per_update=10,
                                 max_episode_steps=200, seed=42, progress=False)
    untrained = history.returns[:5].mean()
    trained = history.returns[-5:].mean()
    assert trained > 2 * untrained and trained > 80, (untrained, trained)
