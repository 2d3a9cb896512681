"""A Keras DQN trainer for CartPole-style environments, with its variants.

One function, :func:`train_dqn`, trains plain DQN (the book's chapter 18
setup) and, through keyword arguments, fixed Q-value targets, Double DQN,
Dueling DQN and prioritized experience replay. :func:`evaluate` measures
the greedy policy.

Speed: the book picks every action with ``model.predict``, which builds a
``tf.data`` pipeline for a single observation and costs tens of
milliseconds. Here the forward pass and the training step are each one
``tf.function`` traced once, so a step of the loop costs well under a
millisecond (``benchmarks/dqn_loop_speed.py`` measures it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

import rlbook  # noqa: F401  (legacy Keras before TensorFlow)
import tensorflow as tf

from rlbook.envs import make_env
from rlbook.progress import progress as progress_bar
from rlbook.replay import PrioritizedReplayBuffer, ReplayBuffer

TARGET_UPDATE_UNITS = ("episodes", "steps")


class DuelingAggregation(tf.keras.layers.Layer):
    """``Q(s, a) = V(s) + A(s, a) - max_a' A(s, a')`` (Wang et al., 2015).

    Subtracting the best advantage makes the split unique: the greedy
    action gets advantage 0, so ``V(s)`` is the value of the state.
    """

    def call(self, inputs):
        state_value, advantages = inputs
        return state_value + advantages - tf.reduce_max(advantages, axis=1, keepdims=True)


def build_q_network(n_inputs=4, n_actions=2, hidden_units=(32, 32), activation="elu",
                    dueling=False):
    """A Q-network: a state in, one Q-value per action out.

    ``dueling=True`` splits the last hidden layer into a state-value head
    ``V(s)`` (1 unit) and an advantage head ``A(s, a)`` (``n_actions``
    units), joined by :class:`DuelingAggregation`.
    """
    for name, value in (("n_inputs", n_inputs), ("n_actions", n_actions)):
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} should be a positive integer, got: {value!r}")
    inputs = tf.keras.layers.Input(shape=[int(n_inputs)], dtype=tf.float32)
    hidden = inputs
    for units in hidden_units:
        hidden = tf.keras.layers.Dense(units, activation=activation)(hidden)
    if dueling:
        state_value = tf.keras.layers.Dense(1, name="state_value")(hidden)
        advantages = tf.keras.layers.Dense(n_actions, name="advantages")(hidden)
        q_values = DuelingAggregation(name="q_values")([state_value, advantages])
    else:
        q_values = tf.keras.layers.Dense(n_actions, name="q_values")(hidden)
    return tf.keras.Model(inputs=inputs, outputs=q_values)


def dqn_targets(rewards, dones, next_q_target, gamma, next_q_online=None):
    """TD targets ``r + gamma * (1 - done) * Q_target(s', a*)``.

    Plain DQN (``next_q_online=None``): ``a* = argmax_a Q_target(s', a)``.
    Double DQN: the online network picks ``a* = argmax_a Q_online(s', a)``
    and the target network evaluates it. The future term is zeroed at the
    end of an episode: nothing follows a terminal state.

    Shapes: ``rewards`` and ``dones`` ``[batch]``, Q-values
    ``[batch, n_actions]``. Returns a float32 tensor ``[batch]``.
    """
    rewards = tf.cast(rewards, tf.float32)
    not_done = 1.0 - tf.cast(dones, tf.float32)
    next_q_target = tf.cast(next_q_target, tf.float32)
    if next_q_online is None:
        next_value = tf.reduce_max(next_q_target, axis=1)
    else:
        best = tf.argmax(next_q_online, axis=1, output_type=tf.int32)
        next_value = tf.gather(next_q_target, best, axis=1, batch_dims=1)
    return rewards + gamma * not_done * next_value


def epsilon_schedule(episode, epsilon_episodes=500, epsilon_min=0.01):
    """``max(1 - episode / epsilon_episodes, epsilon_min)``: the book's decay."""
    return max(1.0 - episode / epsilon_episodes, epsilon_min)


def compiled_q_values(model):
    """A ``tf.function`` forward pass, traced once for any batch size."""
    n_inputs = model.input_shape[-1]

    @tf.function(input_signature=[tf.TensorSpec([None, n_inputs], tf.float32)])
    def q_values(states):
        return model(states, training=False)

    return q_values


def greedy_action_fn(model):
    """``obs -> argmax_a Q(obs, a)`` through a compiled forward pass."""
    q_values = compiled_q_values(model)

    def act(obs):
        return int(np.argmax(q_values(np.asarray(obs, np.float32)[np.newaxis])[0]))

    return act


@dataclass
class DQNResult:
    """What :func:`train_dqn` returns.

    ``returns``: the return of every training episode (with exploration);
    ``losses``: the mean training loss of each episode (NaN before training
    starts); ``model``: the online Q-network (the best one evaluated when
    ``eval_interval`` is set); ``n_gradient_steps``: how many training steps
    ran; ``evaluations``: ``(episode, mean greedy return)`` pairs when
    ``eval_interval`` is set; ``config``: the arguments used.
    """

    returns: np.ndarray
    losses: np.ndarray
    model: tf.keras.Model
    n_gradient_steps: int = 0
    evaluations: list = field(default_factory=list)
    config: dict = field(default_factory=dict)


def _check_config(cfg, env):
    if not hasattr(env.action_space, "n"):
        raise ValueError(
            f"DQN needs a discrete action space, {cfg['env_id']} has {env.action_space}")
    if len(env.observation_space.shape) != 1:
        raise ValueError(
            f"train_dqn expects flat observations, {cfg['env_id']} has shape "
            f"{env.observation_space.shape}")
    for name in ("n_episodes", "max_steps", "batch_size", "buffer_capacity",
                 "epsilon_episodes", "train_steps_per_episode", "eval_episodes"):
        if not isinstance(cfg[name], (int, np.integer)) or cfg[name] < 1:
            raise ValueError(f"{name} should be a positive integer, got: {cfg[name]!r}")
    if cfg["batch_size"] > cfg["buffer_capacity"]:
        raise ValueError(
            f"batch_size ({cfg['batch_size']}) should not exceed buffer_capacity "
            f"({cfg['buffer_capacity']})")
    budget = cfg["max_total_steps"]
    if budget is not None and (not isinstance(budget, (int, np.integer)) or budget < 1):
        raise ValueError(f"max_total_steps should be a positive integer or None, got: {budget!r}")
    if not 0 <= cfg["gamma"] <= 1:
        raise ValueError(f"gamma should be in [0, 1], got: {cfg['gamma']}")
    every = cfg["train_every_n_steps"]
    if every is not None and (not isinstance(every, (int, np.integer)) or every < 1):
        raise ValueError(f"train_every_n_steps should be a positive integer or None, "
                         f"got: {every!r}")
    interval = cfg["eval_interval"]
    if interval is not None and (not isinstance(interval, (int, np.integer)) or interval < 1):
        raise ValueError(f"eval_interval should be a positive integer or None, got: {interval!r}")
    if cfg["loss"] not in ("mse", "huber"):
        raise ValueError(f"loss should be 'mse' or 'huber', got: {cfg['loss']!r}")
    if cfg["target_update_unit"] not in TARGET_UPDATE_UNITS:
        raise ValueError(f"target_update_unit should be one of {TARGET_UPDATE_UNITS}, "
                         f"got: {cfg['target_update_unit']!r}")
    period = cfg["target_update_period"]
    if period is not None and (not isinstance(period, (int, np.integer)) or period < 1):
        raise ValueError(f"target_update_period should be a positive integer or None, "
                         f"got: {period!r}")
    if cfg["double"] and period is None:
        raise ValueError(
            "double=True needs a target network to evaluate the chosen actions: "
            "set target_update_period (for example 50 episodes)")


def train_dqn(env_id="CartPole-v1", *,
              # run
              n_episodes=600, max_steps=200, max_total_steps=None, seed=42,
              progress=True, desc=None,
              # network and optimizer
              hidden_units=(32, 32), activation="elu", learning_rate=1e-2,
              # Q-learning
              gamma=0.95, batch_size=32, buffer_capacity=2_000, warmup_episodes=50,
              train_steps_per_episode=1, train_every_n_steps=None, loss="mse",
              # exploration
              epsilon_episodes=500, epsilon_min=0.01,
              # variants
              target_update_period=None, target_update_unit="episodes",
              double=False, dueling=False, prioritized=False,
              zeta=0.6, beta_start=0.4, beta_end=1.0, per_epsilon=1e-6,
              # model selection
              eval_interval=None, eval_episodes=10,
              # display
              live_plot=False):
    """Train a DQN on ``env_id`` and return its episode returns and model.

    Run:
        n_episodes: training episodes (600 in the book).
        max_steps: step cap per episode (200, CartPole-v0's limit).
        max_total_steps: optional budget of environment steps; the run stops
            (mid-episode if need be) once it is spent, and the results hold
            the episodes played.
        seed: seeds TensorFlow (the initial weights), the environment, the
            exploration and the replay sampling; the same seed repeats a run.
        progress: draw a progress bar (``rlbook.progress``); ``desc`` labels it.
    Network and optimizer:
        hidden_units, activation: the hidden Dense layers, (32, 32) with elu.
        learning_rate: Adam's. The book's text says 1e-3; its author's
            notebook moved to 1e-2 because 1e-3 diverged in his runs.
    Q-learning:
        gamma: the discount factor, 0.95.
        batch_size: experiences per training step, 32.
        buffer_capacity: the replay buffer's size, 2,000.
        warmup_episodes: only collect for this many episodes, then train (50).
        train_steps_per_episode: gradient steps after each later episode (the
            book does one).
        train_every_n_steps: if set, train during episodes instead: one
            gradient step every ``train_every_n_steps`` environment steps once
            ``warmup_episodes`` are over (``train_steps_per_episode`` is then
            ignored). Most DQN implementations train this way.
        loss: ``"mse"`` (the book's CartPole DQN) or ``"huber"`` (DeepMind's
            choice: errors above 1 get a constant gradient).
    Exploration:
        epsilon_episodes, epsilon_min: epsilon-greedy with
            ``epsilon = max(1 - episode / epsilon_episodes, epsilon_min)``.
    Variants:
        target_update_period: None for plain DQN (the online network computes
            its own targets); an integer for fixed Q-value targets: a target
            network copied from the online one every ``target_update_period``
            episodes or steps (``target_update_unit``; steps count gradient
            steps). The book syncs every 50 episodes.
        double: Double DQN (needs a target network).
        dueling: a dueling Q-network (:func:`build_q_network`).
        prioritized: prioritized replay with exponent ``zeta`` and
            importance-sampling ``beta`` annealed from ``beta_start`` to
            ``beta_end`` over the training steps; ``per_epsilon`` keeps every
            priority positive.

    Model selection:
        eval_interval: if set, every ``eval_interval`` episodes after the
            warm-up the greedy policy plays ``eval_episodes`` episodes
            (starting states seeded 10,000 + i, apart from :func:`evaluate`'s
            defaults) and the best weights seen are restored at the end. A
            guard against catastrophic forgetting: DQN often peaks, then
            collapses.
    Display:
        live_plot: True draws the episode returns as training runs
            (``rlbook.widgets.live.LiveCurve``: at most one redraw a second,
            the final curve kept in the notebook); a LiveCurve adds this run
            to it as a series named ``desc`` (several runs on one plot).

    Returns a :class:`DQNResult` with ``returns`` (shape ``[n_episodes]``).
    """
    config = {k: v for k, v in locals().items() if k not in ("progress", "live_plot")}
    rlbook.set_seed(seed)
    tf.random.set_seed(seed)
    env = make_env(env_id)
    _check_config(config, env)
    from rlbook.widgets.live import live_curve

    live = live_curve(live_plot, title=f"DQN on {env_id}", target=max_steps)
    n_inputs, n_actions = env.observation_space.shape[0], int(env.action_space.n)
    rng = np.random.default_rng(seed)
    env.action_space.seed(seed)

    model = build_q_network(n_inputs, n_actions, hidden_units, activation, dueling)
    target = None
    if target_update_period is not None:
        target = build_q_network(n_inputs, n_actions, hidden_units, activation, dueling)
        target.set_weights(model.get_weights())
    optimizer = tf.keras.optimizers.Adam(learning_rate=learning_rate)
    q_values = compiled_q_values(model)

    if train_every_n_steps is None:
        n_train_steps = (n_episodes - warmup_episodes) * train_steps_per_episode
    else:  # an upper bound: every later episode lasting max_steps
        n_train_steps = (n_episodes - warmup_episodes) * max_steps // train_every_n_steps
    n_train_steps = max(1, n_train_steps)
    if prioritized:
        buffer = PrioritizedReplayBuffer(buffer_capacity, (n_inputs,), zeta=zeta,
                                         beta_start=beta_start, beta_end=beta_end,
                                         beta_steps=n_train_steps, epsilon=per_epsilon)
    else:
        buffer = ReplayBuffer(buffer_capacity, (n_inputs,))

    batch_spec = [tf.TensorSpec([None, n_inputs], tf.float32), tf.TensorSpec([None], tf.int64),
                  tf.TensorSpec([None], tf.float32), tf.TensorSpec([None, n_inputs], tf.float32),
                  tf.TensorSpec([None], tf.bool), tf.TensorSpec([None], tf.float32)]

    use_huber = loss == "huber"

    @tf.function(input_signature=batch_spec)
    def train_step(states, actions, rewards, next_states, dones, weights):
        evaluator = model if target is None else target
        next_q_online = model(next_states) if double else None
        targets = dqn_targets(rewards, dones, evaluator(next_states), gamma, next_q_online)
        with tf.GradientTape() as tape:
            all_q = model(states, training=True)
            # The mask keeps only the Q-value of the action actually taken.
            q_taken = tf.reduce_sum(all_q * tf.one_hot(actions, n_actions), axis=1)
            td_errors = targets - q_taken
            if use_huber:
                abs_td = tf.abs(td_errors)
                per_sample = tf.where(abs_td < 1.0, 0.5 * tf.square(td_errors), abs_td - 0.5)
            else:
                per_sample = tf.square(td_errors)
            loss = tf.reduce_mean(weights * per_sample)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss, td_errors

    ones = np.ones(batch_size, np.float32)

    def learn():
        # One gradient step on a sampled batch; syncs the target if due.
        nonlocal gradient_steps
        if prioritized:
            batch, indices, weights = buffer.sample(batch_size, rng)
        else:
            batch, weights = buffer.sample(batch_size, rng), ones
        batch_loss, td_errors = train_step(*batch, weights)
        if prioritized:
            buffer.update_priorities(indices, td_errors.numpy())
        gradient_steps += 1
        if target is not None and target_update_unit == "steps" \
                and gradient_steps % target_update_period == 0:
            target.set_weights(model.get_weights())
        return float(batch_loss)

    returns = np.zeros(n_episodes)
    losses = np.full(n_episodes, np.nan)
    gradient_steps = total_steps = 0
    evaluations, best = [], (-np.inf, None)
    budget = np.inf if max_total_steps is None else max_total_steps
    episodes = progress_bar(range(n_episodes), desc=desc or "DQN", unit="episode",
                            disable=not progress)
    for episode in episodes:
        obs = env.reset(seed=seed) if episode == 0 else env.reset()
        epsilon = epsilon_schedule(episode, epsilon_episodes, epsilon_min)
        episode_return = 0.0
        episode_losses = []
        train_now = train_every_n_steps is not None and episode >= warmup_episodes
        for _ in range(max_steps):
            if rng.random() < epsilon:
                action = int(rng.integers(n_actions))
            else:
                action = int(np.argmax(q_values(obs[np.newaxis].astype(np.float32))[0]))
            next_obs, reward, done, info = env.step(action)
            # A time-limit cut is not a real end: the pole was still up, so
            # the future term must not be zeroed for it.
            terminal = done and not info.get("TimeLimit.truncated", False)
            buffer.add(obs, action, reward, next_obs, terminal)
            obs, episode_return = next_obs, episode_return + reward
            total_steps += 1
            if train_now and total_steps % train_every_n_steps == 0 \
                    and len(buffer) >= batch_size:
                episode_losses.append(learn())
            if done or total_steps >= budget:
                break
        returns[episode] = episode_return
        if live is not None:
            live.add(episode_return, series=desc)

        if train_every_n_steps is None and episode >= warmup_episodes \
                and len(buffer) >= batch_size:
            episode_losses = [learn() for _ in range(train_steps_per_episode)]
        if episode_losses:
            losses[episode] = np.mean(episode_losses)
        if target is not None and target_update_unit == "episodes" \
                and (episode + 1) % target_update_period == 0:
            target.set_weights(model.get_weights())
        if eval_interval is not None and episode >= warmup_episodes \
                and (episode + 1 - warmup_episodes) % eval_interval == 0:
            score, _ = _greedy_returns(q_values, env_id, eval_episodes, max_steps, 10_000)
            evaluations.append((episode, score))
            if score > best[0]:
                best = (score, model.get_weights())
        if progress and episode % 10 == 0:
            episodes.set_postfix(ret=f"{episode_return:.0f}", eps=f"{epsilon:.2f}")
        if total_steps >= budget:
            returns, losses = returns[:episode + 1], losses[:episode + 1]
            break
    episodes.close()
    env.close()
    if live is not None:
        live.flush()
    if best[1] is not None:
        model.set_weights(best[1])
    return DQNResult(returns=returns, losses=losses, model=model,
                     n_gradient_steps=gradient_steps, evaluations=evaluations,
                     config=config)


def _greedy_returns(q_values, env_id, n_episodes, max_steps, seed):
    env = make_env(env_id)
    returns = np.zeros(n_episodes)
    for i in range(n_episodes):
        obs = env.reset(seed=seed + i)
        for _ in range(max_steps):
            action = int(np.argmax(q_values(obs[np.newaxis].astype(np.float32))[0]))
            obs, reward, done, _ = env.step(action)
            returns[i] += reward
            if done:
                break
    env.close()
    return float(returns.mean()), returns


def evaluate(model, env_id="CartPole-v1", n_episodes=20, max_steps=200, seed=0):
    """Average return of the greedy policy over ``n_episodes`` episodes.

    Episode ``i`` starts from ``reset(seed=seed + i)``, so two models are
    compared on the same starting states. Returns ``(mean, returns)``.
    """
    if not isinstance(n_episodes, (int, np.integer)) or n_episodes < 1:
        raise ValueError(f"n_episodes should be a positive integer, got: {n_episodes!r}")
    return _greedy_returns(compiled_q_values(model), env_id, n_episodes, max_steps, seed)
