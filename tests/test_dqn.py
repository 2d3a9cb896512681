"""rlbook.dqn on the real CartPole with real TensorFlow."""

import rlbook  # noqa: F401
from rlbook.dqn import (
    DQNResult,
    dqn_targets,
    evaluate,
    greedy_action_fn,
    keras_q_network,
    train_dqn,
)
from rlbook.exploration import epsilon_schedule

import numpy as np
import pytest
import tensorflow as tf

# Short runs: 6 episodes of collection, then 6 trained episodes.
SHORT = dict(num_episodes=12, warmup_episodes=6, max_episode_steps=50, progress=False)


def test_target_zeroes_the_future_term_at_episode_end():
    rewards = np.array([1.0, 1.0, 0.5])
    dones = np.array([False, True, True])
    next_q = np.array([[2.0, 5.0], [100.0, -3.0], [7.0, 8.0]])
    targets = dqn_targets(rewards, dones, next_q, gamma=0.9).numpy()
    np.testing.assert_allclose(targets, [1.0 + 0.9 * 5.0, 1.0, 0.5])


def test_double_dqn_target_lets_the_online_net_choose_and_the_target_net_judge():
    rewards = np.array([0.0, 1.0, 2.0])
    dones = np.array([False, False, True])
    target_q = np.array([[1.0, 10.0], [4.0, 3.0], [9.0, 9.0]])
    online_q = np.array([[5.0, 0.0], [0.0, 2.0], [0.0, 1.0]])  # prefers 0, 1, 1
    double = dqn_targets(rewards, dones, target_q, 0.5, next_q_online=online_q).numpy()
    np.testing.assert_allclose(double, [0.0 + 0.5 * 1.0, 1.0 + 0.5 * 3.0, 2.0])
    plain = dqn_targets(rewards, dones, target_q, 0.5).numpy()
    np.testing.assert_allclose(plain, [5.0, 3.0, 2.0])


def test_dueling_network_aggregates_value_and_advantages():
    model = keras_q_network(4, 3, dueling=True)
    states = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    q = model(states).numpy()
    value_model = tf.keras.Model(model.input, [model.get_layer("state_value").output,
                                               model.get_layer("advantages").output])
    v, a = (t.numpy() for t in value_model(states))
    np.testing.assert_allclose(q, v + a - a.max(axis=1, keepdims=True), rtol=1e-5, atol=1e-6)
    # the greedy action's Q-value is exactly the state value
    np.testing.assert_allclose(q.max(axis=1), v[:, 0], rtol=1e-5, atol=1e-6)


def test_plain_network_has_the_books_shape():
    model = keras_q_network()
    assert [layer.units for layer in model.layers[1:]] == [32, 32, 2]
    assert model.layers[1].activation.__name__ == "elu"
    assert model.count_params() == (4 * 32 + 32) + (32 * 32 + 32) + (32 * 2 + 2)


def test_epsilon_schedule_is_the_books():
    assert epsilon_schedule(0, 500) == 1.0
    assert epsilon_schedule(250, 500) == pytest.approx(0.5)
    assert epsilon_schedule(400, 500) == pytest.approx(0.2)
    assert epsilon_schedule(499, 500) == 0.01  # 1 - 499/500 = 0.002 is floored
    assert epsilon_schedule(10, decay_steps=20, epsilon_min=0.1) == pytest.approx(0.5)
    assert epsilon_schedule(600, 500) == 0.01


def test_a_short_run_trains_and_returns_one_return_per_episode():
    result = train_dqn(**SHORT, seed=1)
    assert isinstance(result, DQNResult)
    assert result.returns.shape == (12,)
    assert np.all((result.returns >= 8) & (result.returns <= 50)), result.returns
    # no loss while collecting, a finite loss once training starts
    assert np.isnan(result.losses[:6]).all()
    assert np.isfinite(result.losses[6:]).all() and (result.losses[6:] >= 0).all()


def test_a_run_is_reproducible_with_its_seed():
    a = train_dqn(**SHORT, seed=3)
    b = train_dqn(**SHORT, seed=3)
    np.testing.assert_array_equal(a.returns, b.returns)
    np.testing.assert_allclose(a.losses[6:], b.losses[6:], rtol=1e-5)
    for wa, wb in zip(a.model.get_weights(), b.model.get_weights(), strict=True):
        np.testing.assert_allclose(wa, wb, rtol=1e-5, atol=1e-6)
    c = train_dqn(**SHORT, seed=4)
    assert not np.array_equal(a.returns, c.returns)


def test_training_changes_the_weights_it_started_from():
    # The real starting weights: the same seed with no gradient step at all
    # (warm-up for the whole run) builds the network train_dqn trains.
    untrained = train_dqn(**{**SHORT, "warmup_episodes": 12}, seed=5)
    assert untrained.train_step == 0
    trained = train_dqn(**SHORT, seed=5)
    assert trained.train_step == 6
    start, end = untrained.model.get_weights(), trained.model.get_weights()
    assert all(not np.allclose(w0, w1) for w0, w1 in zip(start, end, strict=True))
    # The same seed with no training really is the start: a third run repeats it.
    again = train_dqn(**{**SHORT, "warmup_episodes": 12}, seed=5)
    for w0, w1 in zip(start, again.model.get_weights(), strict=True):
        np.testing.assert_array_equal(w0, w1)


@pytest.fixture(scope="module")
def fixed_targets_run():
    """The run every variant is compared with: fixed Q-targets synced every 3 episodes."""
    return train_dqn(**SHORT, seed=0, target_update_period=3)


def test_fixed_targets_sync_on_schedule_and_change_the_training(fixed_targets_run):
    # Syncs after episodes 3, 6, 9 and 12; none without a target network.
    assert fixed_targets_run.target_updates == 4
    plain = train_dqn(**SHORT, seed=0)
    assert plain.target_updates == 0
    assert not np.allclose(plain.losses[6:], fixed_targets_run.losses[6:])


def test_target_syncs_can_count_gradient_steps():
    # 6 trained episodes x 2 gradient steps = 12 steps: syncs at steps 5 and 10.
    result = train_dqn(**SHORT, seed=0, target_update_period=5, target_update_unit="steps",
                       train_steps_per_episode=2)
    assert result.train_step == 12 and result.target_updates == 2


@pytest.mark.parametrize("flag", [dict(double=True), dict(dueling=True),
                                  dict(prioritized=True), dict(td_errors_loss_fn="huber")],
                         ids=["double", "dueling", "per", "huber"])
def test_each_variant_flag_changes_the_training(flag, fixed_targets_run):
    # Same seed, same schedule: only the flag differs, so must the losses.
    result = train_dqn(**SHORT, seed=0, target_update_period=3, **flag)
    assert result.returns.shape == (12,)
    assert np.isfinite(result.losses[6:]).all()
    assert not np.allclose(result.losses[6:], fixed_targets_run.losses[6:])
    if flag.get("dueling"):
        assert "state_value" in [layer.name for layer in result.model.layers]


def test_prioritized_replay_updates_the_priorities_it_samples_by():
    result = train_dqn(**SHORT, seed=0, prioritized=True)
    buffer = result.replay_buffer
    priorities = buffer.tree.priorities[:len(buffer)]
    # New experiences enter at the largest priority so far; each trained batch
    # then gets |TD error| + epsilon, so the priorities spread out.
    assert len(np.unique(priorities)) > 32
    assert buffer.n_samples == result.train_step == 6


def test_all_variants_together_run(fixed_targets_run):
    result = train_dqn(**SHORT, seed=0, target_update_period=20, target_update_unit="steps",
                       double=True, dueling=True, prioritized=True, train_every_n_steps=4,
                       td_errors_loss_fn="huber")
    assert np.isfinite(result.losses[6:]).all() and result.train_step >= 12


def test_training_every_n_steps_gives_more_gradient_steps():
    # 6 trained episodes of >= 8 steps each: at least 12 gradient steps at
    # one per 4 env steps, against 6 with one per episode.
    per_step = train_dqn(**SHORT, seed=2, train_every_n_steps=4)
    assert np.isfinite(per_step.losses[6:]).all()
    assert np.isnan(per_step.losses[:6]).all()
    assert per_step.train_step >= 12
    per_episode = train_dqn(**SHORT, seed=2, train_steps_per_episode=3)
    assert per_episode.train_step == 18


def test_a_step_budget_stops_the_run_mid_episode():
    result = train_dqn(num_episodes=1000, max_total_steps=150, warmup_episodes=2, seed=0,
                       progress=False)
    assert result.returns.sum() == 150  # CartPole pays 1 per step
    assert len(result.returns) == len(result.losses) < 1000


def test_eval_interval_keeps_the_best_weights_seen():
    result = train_dqn(**SHORT, seed=6, eval_interval=3, num_eval_episodes=2)
    assert [episode for episode, _ in result.evaluations] == [8, 11]
    best = max(score for _, score in result.evaluations)
    # the returned model is the best evaluated one, on the same starting states
    assert evaluate(result.model, num_episodes=2, max_episode_steps=50, seed=10_000)[0] == best


def test_greedy_evaluation_averages_returns_and_is_deterministic():
    model = keras_q_network()
    mean, returns = evaluate(model, num_episodes=3, max_episode_steps=60, seed=0)
    assert returns.shape == (3,) and mean == pytest.approx(returns.mean())
    assert np.all((returns >= 1) & (returns <= 60))
    assert evaluate(model, num_episodes=3, max_episode_steps=60, seed=0)[1].tolist() == \
        returns.tolist()
    act = greedy_action_fn(model)
    obs = np.zeros(4, np.float32)
    assert act(obs) == int(np.argmax(model(obs[None]).numpy()))


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(double=True), ValueError, "double=True needs a target network"),
    (dict(gamma=1.5), ValueError, r"gamma should be in \[0, 1\], got: 1.5"),
    (dict(gamma="high"), TypeError, r"gamma should be in \[0, 1\], got: 'high'"),
    (dict(num_episodes=0), ValueError, "num_episodes should be a positive integer, got: 0"),
    (dict(num_episodes=2.5), TypeError, "num_episodes should be a positive integer, got: 2.5"),
    (dict(batch_size=64, replay_buffer_capacity=32), ValueError,
     r"batch_size should not exceed replay_buffer_capacity \(32\), got: 64"),
    (dict(target_update_period=5, target_update_unit="hours"), ValueError,
     "target_update_unit should be one of 'episodes', 'steps', got: 'hours'"),
    (dict(target_update_period=0), ValueError,
     "target_update_period should be a positive integer or None, got: 0"),
    (dict(train_every_n_steps=0), ValueError, "train_every_n_steps should be a positive integer"),
    (dict(td_errors_loss_fn="l1"), ValueError,
     "td_errors_loss_fn should be one of 'mse', 'huber', got: 'l1'"),
    (dict(eval_interval=0), ValueError, "eval_interval should be a positive integer or None"),
    (dict(max_total_steps=-1), ValueError, "max_total_steps should be a positive integer"),
    (dict(optimizer="sgd"), ValueError, "optimizer should be one of 'adam', 'rmsprop'"),
])
def test_bad_arguments_are_explained(kwargs, error, message):
    with pytest.raises(error, match=message):
        train_dqn(progress=False, **kwargs)


def test_continuous_actions_and_unknown_envs_are_refused():
    with pytest.raises(ValueError, match="DQN needs a discrete action space"):
        train_dqn("Pendulum-v1", progress=False)
    with pytest.raises(ValueError, match="Unknown environment id 'CartPole-v9'"):
        train_dqn("CartPole-v9", progress=False)
    with pytest.raises(ValueError, match="num_episodes should be a positive integer"):
        evaluate(keras_q_network(), num_episodes=0)
