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

import time
from dataclasses import dataclass, field

import rlbook  # first: legacy Keras before TensorFlow
from rlbook.checks import check_choice, check_int, check_number
from rlbook.envs import make_env
from rlbook.exploration import epsilon_schedule
from rlbook.live import live_curve
from rlbook.progress import progress as progress_bar
from rlbook.replay import PrioritizedReplayBuffer, ReplayBuffer
from rlbook.training import TD_ERRORS_LOSSES, TrainResult, make_optimizer

import numpy as np
import tensorflow as tf

TARGET_UPDATE_UNITS = ("episodes", "steps")


class DuelingAggregation(tf.keras.layers.Layer):
    """``Q(s, a) = V(s) + A(s, a) - max_a' A(s, a')`` (Wang et al., 2015).

    Subtracting the best advantage makes the split unique: the greedy
    action gets advantage 0, so ``V(s)`` is the value of the state.
    """

    def call(self, inputs):
        state_value, advantages = inputs
        return state_value + advantages - tf.reduce_max(advantages, axis=1, keepdims=True)


def keras_q_network(n_inputs=4, n_actions=2, fc_layer_params=(32, 32), activation="elu",
                    dueling=False):
    """A Q-network: a state in, one Q-value per action out.

    Args:
        n_inputs, n_actions: the sizes of an observation and of the action set.
        fc_layer_params: units of each hidden Dense layer.
        activation: the hidden layers' activation.
        dueling: split the last hidden layer into a state-value head ``V(s)``
            (1 unit) and an advantage head ``A(s, a)`` (``n_actions`` units),
            joined by :class:`DuelingAggregation`.
    """
    n_inputs, n_actions = check_int("n_inputs", n_inputs), check_int("n_actions", n_actions)
    inputs = tf.keras.layers.Input(shape=[n_inputs], dtype=tf.float32)
    hidden = inputs
    for units in fc_layer_params:
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
class DQNResult(TrainResult):
    """What :func:`train_dqn` returns: the :class:`~rlbook.training.TrainResult` core, plus

    Attributes:
        losses: the mean training loss of each episode (NaN before training starts).
        train_step: how many gradient steps ran.
        target_updates: how many times the target network was refreshed.
        replay_buffer: the replay buffer, still filled.
        evaluations: ``(episode, mean greedy return)`` pairs when ``eval_interval`` is set.

    ``returns`` holds every training episode's return (with exploration) and
    ``model`` the online Q-network (the best one evaluated, with ``eval_interval``).
    """

    losses: np.ndarray = None
    train_step: int = 0
    target_updates: int = 0
    replay_buffer: object = None
    evaluations: list = field(default_factory=list)


def _check_config(cfg, env):
    if not hasattr(env.action_space, "n"):
        raise ValueError(f"DQN needs a discrete action space, {cfg['env']} has "
                         f"{env.action_space}")
    if len(env.observation_space.shape) != 1:
        raise ValueError(f"train_dqn expects flat observations, {cfg['env']} has shape "
                         f"{env.observation_space.shape}")
    for name in ("num_episodes", "max_episode_steps", "batch_size", "replay_buffer_capacity",
                 "epsilon_decay_episodes", "train_steps_per_episode", "num_eval_episodes"):
        check_int(name, cfg[name])
    check_int("warmup_episodes", cfg["warmup_episodes"], 0)
    for name in ("max_total_steps", "train_every_n_steps", "eval_interval",
                 "target_update_period"):
        check_int(name, cfg[name], none_ok=True)
    if cfg["batch_size"] > cfg["replay_buffer_capacity"]:
        raise ValueError(f"batch_size should not exceed replay_buffer_capacity "
                         f"({cfg['replay_buffer_capacity']}), got: {cfg['batch_size']}")
    check_number("gamma", cfg["gamma"], 0, 1)
    check_choice("td_errors_loss_fn", cfg["td_errors_loss_fn"], TD_ERRORS_LOSSES)
    check_choice("target_update_unit", cfg["target_update_unit"], TARGET_UPDATE_UNITS)
    if cfg["double"] and cfg["target_update_period"] is None:
        raise ValueError("double=True needs a target network to evaluate the chosen actions: "
                         "set target_update_period (for example 50 episodes)")


class _Learner:
    """The networks, the replay buffer and one gradient step: what ``train_dqn`` trains.

    ``act`` picks epsilon-greedy actions, ``remember`` stores a transition,
    ``learn`` takes one gradient step on a sampled batch and ``end_episode``
    copies the online network into the target network when it is due.
    """

    def __init__(self, n_inputs, n_actions, cfg, rng, n_train_steps):
        self.cfg, self.rng, self.n_actions = cfg, rng, n_actions
        build = lambda: keras_q_network(n_inputs, n_actions, cfg["fc_layer_params"],  # noqa: E731
                                        cfg["activation"], cfg["dueling"])
        self.model = build()
        self.target = None
        if cfg["target_update_period"] is not None:
            self.target = build()
            self.target.set_weights(self.model.get_weights())
        self.q_values = compiled_q_values(self.model)
        capacity, shape = cfg["replay_buffer_capacity"], (n_inputs,)
        if cfg["prioritized"]:
            self.buffer = PrioritizedReplayBuffer(
                capacity, shape, zeta=cfg["zeta"], beta_start=cfg["beta_start"],
                beta_end=cfg["beta_end"], beta_steps=n_train_steps, epsilon=cfg["per_epsilon"])
        else:
            self.buffer = ReplayBuffer(capacity, shape)
        self._ones = np.ones(cfg["batch_size"], np.float32)
        self._gradient_step = self._compile_gradient_step(
            make_optimizer(cfg["optimizer"], cfg["learning_rate"]))
        self.train_step = self.target_updates = 0

    def _compile_gradient_step(self, optimizer):
        model, target, n_actions = self.model, self.target, self.n_actions
        gamma, double = self.cfg["gamma"], self.cfg["double"]
        huber = self.cfg["td_errors_loss_fn"] == "huber"
        n_inputs = model.input_shape[-1]
        spec = [tf.TensorSpec([None, n_inputs], tf.float32), tf.TensorSpec([None], tf.int64),
                tf.TensorSpec([None], tf.float32), tf.TensorSpec([None, n_inputs], tf.float32),
                tf.TensorSpec([None], tf.bool), tf.TensorSpec([None], tf.float32)]

        @tf.function(input_signature=spec)
        def gradient_step(states, actions, rewards, next_states, dones, weights):
            evaluator = model if target is None else target
            next_q_online = model(next_states) if double else None
            targets = dqn_targets(rewards, dones, evaluator(next_states), gamma, next_q_online)
            with tf.GradientTape() as tape:
                all_q = model(states, training=True)
                # The mask keeps only the Q-value of the action actually taken.
                q_taken = tf.reduce_sum(all_q * tf.one_hot(actions, n_actions), axis=1)
                td_errors = targets - q_taken
                if huber:
                    abs_td = tf.abs(td_errors)
                    per_sample = tf.where(abs_td < 1.0, 0.5 * tf.square(td_errors),
                                          abs_td - 0.5)
                else:
                    per_sample = tf.square(td_errors)
                loss = tf.reduce_mean(weights * per_sample)
            grads = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
            return loss, td_errors

        return gradient_step

    def act(self, obs, epsilon):
        if self.rng.random() < epsilon:
            return int(self.rng.integers(self.n_actions))
        return int(np.argmax(self.q_values(obs[np.newaxis].astype(np.float32))[0]))

    def remember(self, obs, action, reward, next_obs, terminal):
        self.buffer.add(obs, action, reward, next_obs, terminal)

    @property
    def can_learn(self):
        return len(self.buffer) >= self.cfg["batch_size"]

    def learn(self):
        """One gradient step on a sampled batch; returns its loss."""
        batch_size = self.cfg["batch_size"]
        if self.cfg["prioritized"]:
            batch, indices, weights = self.buffer.sample(batch_size, self.rng)
        else:
            batch, weights = self.buffer.sample(batch_size, self.rng), self._ones
        loss, td_errors = self._gradient_step(*batch, weights)
        if self.cfg["prioritized"]:
            self.buffer.update_priorities(indices, td_errors.numpy())
        self.train_step += 1
        self._sync_target_if_due("steps", self.train_step)
        return float(loss)

    def end_episode(self, episode):
        self._sync_target_if_due("episodes", episode + 1)

    def _sync_target_if_due(self, unit, count):
        # Fixed Q-value targets: a frozen copy, refreshed every target_update_period units.
        if (self.target is not None and self.cfg["target_update_unit"] == unit
                and count % self.cfg["target_update_period"] == 0):
            self.target.set_weights(self.model.get_weights())
            self.target_updates += 1


def _play_episode(env, learner, obs, epsilon, max_steps, learn_every, total_steps):
    """Play one episode from ``obs``; returns ``(return, steps, losses)``.

    With ``learn_every``, a gradient step follows every ``learn_every``-th
    environment step of the run (counted from ``total_steps``).
    """
    episode_return, losses = 0.0, []
    for step in range(1, max_steps + 1):
        action = learner.act(obs, epsilon)
        next_obs, reward, done, info = env.step(action)
        # A time-limit cut is not a real end: the pole was still up, so the
        # future term must not be zeroed for it.
        terminal = done and not info.get("TimeLimit.truncated", False)
        learner.remember(obs, action, reward, next_obs, terminal)
        obs, episode_return = next_obs, episode_return + reward
        if learn_every and (total_steps + step) % learn_every == 0 and learner.can_learn:
            losses.append(learner.learn())
        if done:
            break
    return episode_return, step, losses


class _BestWeights:
    """Evaluation and model selection: keep the weights of the best greedy score.

    DQN often peaks, then collapses (catastrophic forgetting), so every
    ``eval_interval`` episodes after the warm-up the greedy policy plays
    ``num_eval_episodes`` episodes and the best weights seen are kept.
    """

    EVAL_SEED = 10_000  # starting states apart from evaluate()'s defaults

    def __init__(self, learner, cfg):
        self.learner, self.cfg = learner, cfg
        self.evaluations, self.best_score, self.best_weights = [], -np.inf, None

    def after_episode(self, episode):
        interval, warmup = self.cfg["eval_interval"], self.cfg["warmup_episodes"]
        if interval is None or episode < warmup or (episode + 1 - warmup) % interval:
            return
        score, _ = _greedy_returns(self.learner.q_values, self.cfg["env"],
                                   self.cfg["num_eval_episodes"],
                                   self.cfg["max_episode_steps"], self.EVAL_SEED)
        self.evaluations.append((episode, score))
        if score > self.best_score:
            self.best_score, self.best_weights = score, self.learner.model.get_weights()

    def restore(self):
        if self.best_weights is not None:
            self.learner.model.set_weights(self.best_weights)


def train_dqn(env="CartPole-v1", *,
              # run
              num_episodes=600, max_episode_steps=200, max_total_steps=None, seed=42,
              progress=True, desc=None,
              # network and optimizer
              fc_layer_params=(32, 32), activation="elu", optimizer="adam",
              learning_rate=1e-2,
              # Q-learning
              gamma=0.95, batch_size=32, replay_buffer_capacity=2_000, warmup_episodes=50,
              train_steps_per_episode=1, train_every_n_steps=None, td_errors_loss_fn="mse",
              # exploration
              epsilon_decay_episodes=500, epsilon_min=0.01,
              # variants
              target_update_period=None, target_update_unit="episodes",
              double=False, dueling=False, prioritized=False,
              zeta=0.6, beta_start=0.4, beta_end=1.0, per_epsilon=1e-6,
              # evaluation and model selection
              eval_interval=None, num_eval_episodes=10,
              # display
              live_plot=False):
    """Train a DQN on a gym environment with flat observations and discrete actions.

    Args:
        env: a gym id such as ``"CartPole-v1"``.
        num_episodes: training episodes (600 in the book).
        max_episode_steps: step cap per episode (200, CartPole-v0's limit).
        max_total_steps: optional budget of environment steps; the run stops
            (mid-episode if need be) once it is spent.
        seed: seeds TensorFlow (the initial weights), the environment, the
            exploration and the replay sampling; the same seed repeats a run.
        progress: draw a progress bar (``rlbook.progress``); ``desc`` labels it.
        desc: a name for the run (progress bar, live-plot series).
        fc_layer_params: the hidden Dense layers, (32, 32) as in the book.
        activation: their activation, elu as in the book.
        optimizer: ``"adam"``, ``"rmsprop"`` or a Keras optimizer
            (``rlbook.training.make_optimizer``).
        learning_rate: the optimizer's. The book's text says 1e-3; its
            author's notebook moved to 1e-2 because 1e-3 diverged in his runs.
        gamma: the discount factor, 0.95.
        batch_size: transitions per gradient step, 32.
        replay_buffer_capacity: the replay buffer's size, 2,000.
        warmup_episodes: only collect for this many episodes, then train (50).
        train_steps_per_episode: gradient steps after each later episode (the
            book does one).
        train_every_n_steps: if set, train during episodes instead: a
            gradient step every ``train_every_n_steps`` environment steps once
            the warm-up is over (``train_steps_per_episode`` is then ignored),
            as most DQN implementations do.
        td_errors_loss_fn: ``"mse"`` (the book's CartPole DQN) or ``"huber"``
            (DeepMind's choice: errors above 1 get a constant gradient).
        epsilon_decay_episodes, epsilon_min: epsilon-greedy exploration with
            ``epsilon = max(1 - episode / epsilon_decay_episodes, epsilon_min)``
            (``rlbook.exploration.epsilon_schedule``).
        target_update_period: None for plain DQN (the online network computes
            its own targets); an integer for fixed Q-value targets: a target
            network copied from the online one every ``target_update_period``
            episodes or gradient steps (``target_update_unit``). The book
            syncs every 50 episodes.
        target_update_unit: ``"episodes"`` or ``"steps"``.
        double: Double DQN (needs a target network).
        dueling: a dueling Q-network (:func:`keras_q_network`).
        prioritized: prioritized replay with exponent ``zeta`` and
            importance-sampling ``beta`` annealed from ``beta_start`` to
            ``beta_end`` over the training steps; ``per_epsilon`` keeps every
            priority positive.
        zeta, beta_start, beta_end, per_epsilon: see ``prioritized``.
        eval_interval: if set, every ``eval_interval`` episodes after the
            warm-up the greedy policy plays ``num_eval_episodes`` episodes
            and the best weights seen are restored at the end.
        num_eval_episodes: episodes per evaluation (10).
        live_plot: True draws the episode returns as training runs
            (``rlbook.live.LiveCurve``); a LiveCurve adds this run to it as a
            series named ``desc``.

    Returns:
        A :class:`DQNResult`: ``returns`` has one value per episode played.
    """
    config = {k: v for k, v in locals().items() if k not in ("progress", "live_plot")}
    started = time.perf_counter()
    rlbook.set_seed(seed)
    gym_env = make_env(env)
    _check_config(config, gym_env)
    live = live_curve(live_plot, title=f"DQN on {env}", target=max_episode_steps)
    rng = np.random.default_rng(seed)
    gym_env.action_space.seed(seed)
    n_inputs, n_actions = gym_env.observation_space.shape[0], int(gym_env.action_space.n)
    learner = _Learner(n_inputs, n_actions, config, rng, _planned_train_steps(config))
    selector = _BestWeights(learner, config)
    budget = np.inf if max_total_steps is None else max_total_steps

    returns, losses, total_steps = [], [], 0
    episodes = progress_bar(range(num_episodes), desc=desc or "DQN", unit="episode",
                            disable=not progress)
    for episode in episodes:
        obs = gym_env.reset(seed=seed) if episode == 0 else gym_env.reset()
        epsilon = epsilon_schedule(episode, epsilon_decay_episodes, epsilon_min)
        trained = episode >= warmup_episodes
        episode_return, steps, episode_losses = _play_episode(
            gym_env, learner, obs, epsilon, int(min(max_episode_steps, budget - total_steps)),
            train_every_n_steps if trained else None, total_steps)
        total_steps += steps
        if trained and train_every_n_steps is None and learner.can_learn:
            episode_losses = [learner.learn() for _ in range(train_steps_per_episode)]
        learner.end_episode(episode)
        selector.after_episode(episode)
        returns.append(episode_return)
        losses.append(np.mean(episode_losses) if episode_losses else np.nan)
        if live is not None:
            live.add(episode_return, series=desc)
        if progress and episode % 10 == 0:
            episodes.set_postfix(ret=f"{episode_return:.0f}", eps=f"{epsilon:.2f}")
        if total_steps >= budget:  # the stop rule: the step budget is spent
            break
    episodes.close()
    gym_env.close()
    if live is not None:
        live.flush()
    selector.restore()
    return DQNResult(returns=np.array(returns), model=learner.model, config=config,
                     seconds=time.perf_counter() - started, losses=np.array(losses),
                     train_step=learner.train_step, target_updates=learner.target_updates,
                     replay_buffer=learner.buffer, evaluations=selector.evaluations)


def _planned_train_steps(cfg):
    """Gradient steps the run will take (an upper bound when training every n steps).

    Prioritized replay anneals its importance-sampling exponent over them.
    """
    later_episodes = cfg["num_episodes"] - cfg["warmup_episodes"]
    if cfg["train_every_n_steps"] is None:
        planned = later_episodes * cfg["train_steps_per_episode"]
    else:  # every later episode lasting max_episode_steps
        planned = later_episodes * cfg["max_episode_steps"] // cfg["train_every_n_steps"]
    return max(1, planned)


def _greedy_returns(q_values, env, num_episodes, max_episode_steps, seed):
    gym_env = make_env(env)
    returns = np.zeros(num_episodes)
    for i in range(num_episodes):
        obs = gym_env.reset(seed=seed + i)
        for _ in range(max_episode_steps):
            action = int(np.argmax(q_values(obs[np.newaxis].astype(np.float32))[0]))
            obs, reward, done, _ = gym_env.step(action)
            returns[i] += reward
            if done:
                break
    gym_env.close()
    return float(returns.mean()), returns


def evaluate(model, env="CartPole-v1", num_episodes=20, max_episode_steps=200, seed=0):
    """Average return of the greedy policy over ``num_episodes`` episodes.

    Episode ``i`` starts from ``reset(seed=seed + i)``, so two models are
    compared on the same starting states.

    Returns:
        ``(mean, returns)``: the mean and each episode's return.
    """
    check_int("num_episodes", num_episodes)
    check_int("max_episode_steps", max_episode_steps)
    return _greedy_returns(compiled_q_values(model), env, num_episodes, max_episode_steps, seed)
