"""A reusable REINFORCE trainer (Williams, 1992) for discrete-action gym tasks.

Chapter 02 writes REINFORCE step by step; later chapters call
``train_reinforce`` instead. It does the same thing, only faster:

* the episodes of one update are played side by side, so the policy is asked
  for all of their action probabilities in one compiled (``tf.function``)
  call per time step instead of one eager Keras call per action;
* the gradients are not recorded step by step: the observations and actions
  are kept, and one batched loss ``mean(advantage * -log pi(action | obs))``
  is differentiated at the end. Its gradient is exactly the mean of the
  per-step gradients weighted by their advantages, as in the chapter.

Two kinds of policy network are understood:

* one sigmoid output, read as the book's probability of action 0 (CartPole's
  "push left"), for environments with two actions;
* ``n_actions`` softmax outputs, one probability per action (for example
  LunarLander's four engines).

>>> history = train_reinforce("CartPole-v1", n_iterations=150, seed=42)
>>> history.mean_returns[-1]    # climbs towards 200, the step limit (186 here)
"""

import time
from dataclasses import dataclass, field

import numpy as np

import rlbook  # noqa: F401  (legacy Keras before TensorFlow)

_EPSILON = 1e-7  # keeps log(probability) finite, like Keras' cross-entropy


@dataclass
class ReinforceHistory:
    """What ``train_reinforce`` returns.

    mean_returns: the mean episode return of each iteration, shape (n_iterations,)
    (shorter if a callback stopped the run). episode_returns: every episode's
    return, shape (n_iterations, n_episodes_per_update). model: the trained
    policy network. seconds: wall-clock time of the run.
    """

    mean_returns: np.ndarray
    episode_returns: np.ndarray
    model: object = None
    seconds: float = 0.0
    config: dict = field(default_factory=dict)

    def __len__(self):
        return len(self.mean_returns)


def build_policy_network(n_inputs, n_actions, n_hidden=(5,), activation="elu"):
    """A small policy network: Dense hidden layers, then action probabilities.

    Two actions give the book's network with one sigmoid output (the
    probability of action 0); more give ``n_actions`` softmax outputs.
    """
    import tensorflow as tf

    if int(n_actions) < 2:
        raise ValueError(f"a policy needs at least 2 actions to choose from, got {n_actions}")
    hidden = [tf.keras.layers.Dense(units, activation=activation) for units in n_hidden]
    if int(n_actions) == 2:
        head = tf.keras.layers.Dense(1, activation="sigmoid")
    else:
        head = tf.keras.layers.Dense(int(n_actions), activation="softmax")
    return tf.keras.Sequential([tf.keras.layers.InputLayer(input_shape=[int(n_inputs)]),
                                *hidden, head])


def action_probabilities(model, obs):
    """The model's probabilities for every action, shape (batch, n_actions).

    A single sigmoid output is the book's probability of action 0; it becomes
    the two columns [p, 1 - p].
    """
    import tensorflow as tf

    out = model(obs, training=False)
    if out.shape[-1] == 1:
        out = tf.concat([out, 1.0 - out], axis=-1)
    return out


def reinforce_loss(probas, actions, advantages):
    """mean(advantage * -log pi(action | obs)) over a batch of steps.

    -log pi(a | s) is the cross-entropy loss that makes the taken action more
    likely (the chapter's binary cross-entropy with target 1 - action). The
    gradient of this mean is the mean of the per-step gradients weighted by
    their advantages: the REINFORCE update.
    """
    import tensorflow as tf

    actions = tf.cast(actions, tf.int32)
    chosen = tf.gather(probas, actions, axis=1, batch_dims=1)
    log_likelihood = tf.math.log(tf.clip_by_value(chosen, _EPSILON, 1.0))
    return -tf.reduce_mean(tf.cast(advantages, probas.dtype) * log_likelihood)


def _returns_to_go(rewards, discount_factor):
    # Each step's return: its reward plus the discounted return of the next.
    returns = np.array(rewards, dtype=np.float64)
    for step in range(len(returns) - 2, -1, -1):
        returns[step] += discount_factor * returns[step + 1]
    return returns


def _advantages(episode_rewards, discount_factor):
    # Returns normalized over every step of every episode of one update.
    returns = [_returns_to_go(rewards, discount_factor) for rewards in episode_rewards]
    flat = np.concatenate(returns)
    std = flat.std()
    return (flat - flat.mean()) / (std if std > 0 else 1.0)


def _make_envs(env, count, seed):
    """A list of environments to play side by side, seeded seed, seed + 1, ..."""
    from . import envs as rl_envs

    if isinstance(env, str):
        made = [rl_envs.make_env(env) for _ in range(count)]
    elif hasattr(env, "reset") and hasattr(env, "step"):
        made = [env]  # one instance: its episodes are played one after another
    elif callable(env):
        made = [env() for _ in range(count)]
        if not all(hasattr(e, "reset") and hasattr(e, "step") for e in made):
            raise TypeError("env factory must return gym environments (with reset and step)")
    else:
        raise TypeError("env must be an environment id such as 'CartPole-v1', a gym "
                        f"environment, or a function returning one; got {type(env).__name__}")
    for offset, one in enumerate(made):
        one.reset(seed=int(seed) + offset)
        one.action_space.seed(int(seed) + offset)
    return made


def _check_positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


def train_reinforce(env="CartPole-v1", model=None, *, n_iterations=150,
                    n_episodes_per_update=10, n_max_steps=200, discount_factor=0.95,
                    learning_rate=0.01, optimizer=None, seed=42, progress=True,
                    callback=None, live_plot=False):
    """Train a policy network with REINFORCE and return its ``ReinforceHistory``.

    Arguments
    ---------
    env: an environment id (``"CartPole-v1"``), a function returning a new
        environment, or one gym environment (its episodes are then played one
        after another, which is slower). Actions must be discrete.
    model: a Keras model mapping a batch of observations to action
        probabilities (one sigmoid output for two actions, or one softmax
        output per action), or a function ``builder(n_inputs, n_actions)``
        returning one. Default: ``build_policy_network`` (one hidden layer
        of 5 elu units, the book's CartPole policy).
    n_iterations: number of policy updates (150 in the book).
    n_episodes_per_update: episodes played with the current policy before
        each update (10).
    n_max_steps: an episode is cut after this many steps (200).
    discount_factor: gamma, for the returns of the actions (0.95).
    learning_rate: Adam's learning rate (0.01); ignored if ``optimizer`` is given.
    optimizer: a Keras optimizer to use instead of Adam.
    seed: seeds the initial weights (when the model is built here), the
        environments (``seed``, ``seed + 1``, ...) and the action sampling,
        so equal seeds give equal runs. Like ``rlbook.set_seed``, it also
        reseeds Python's, NumPy's and TensorFlow's global generators.
    progress: show a progress bar (``rlbook.progress``) with the last mean return.
    callback: ``callback(iteration, episode_returns, model)``, called after each
        update with that iteration's returns; return True to stop early.
    live_plot: True draws the mean return of each iteration as training runs
        (``rlbook.widgets.live.LiveCurve``, at most one redraw a second, the
        final curve kept in the notebook); a LiveCurve adds this run to it.
    """
    import tensorflow as tf

    from .config import set_seed
    from .progress import progress as progress_bar

    for name, value in (("n_iterations", n_iterations),
                        ("n_episodes_per_update", n_episodes_per_update),
                        ("n_max_steps", n_max_steps)):
        _check_positive_int(name, value)
    if not 0.0 <= float(discount_factor) <= 1.0:
        raise ValueError(f"discount_factor must lie in [0, 1], got {discount_factor}")
    if optimizer is None and not float(learning_rate) > 0:
        raise ValueError(f"learning_rate must be positive, got {learning_rate}")
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be a function, got {type(callback).__name__}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    from .widgets.live import live_curve

    live = live_curve(live_plot, xlabel="Iteration", ylabel="Mean return", target=n_max_steps,
                      title="REINFORCE" + (f" on {env}" if isinstance(env, str) else ""))

    envs = _make_envs(env, n_episodes_per_update, seed)
    space = envs[0].action_space
    if not hasattr(space, "n"):
        raise ValueError(f"REINFORCE here needs discrete actions, but the action space is {space}")
    n_actions = int(space.n)
    n_inputs = int(np.prod(envs[0].observation_space.shape))

    # Keras draws unseeded initial weights from Python's and NumPy's global
    # generators as well as TensorFlow's, so all three are seeded.
    set_seed(int(seed))
    if model is None:
        model = build_policy_network(n_inputs, n_actions)
    elif not isinstance(model, tf.keras.Model) and callable(model):
        model = model(n_inputs, n_actions)
    if not isinstance(model, tf.keras.Model):
        raise TypeError(f"model must be a Keras model or a builder returning one, got "
                        f"{type(model).__name__}")
    optimizer = optimizer or tf.keras.optimizers.Adam(learning_rate=float(learning_rate))
    obs_spec = tf.TensorSpec([None, n_inputs], tf.float32)

    @tf.function(input_signature=[obs_spec])
    def action_probas(obs):
        return action_probabilities(model, obs)

    probe = action_probas(np.zeros((1, n_inputs), np.float32)).numpy()
    if probe.shape[-1] != n_actions:
        raise ValueError(
            f"the model has {model.output_shape[-1]} outputs but the environment has "
            f"{n_actions} actions: use 1 sigmoid output for 2 actions, or "
            f"Dense({n_actions}, activation='softmax')")
    if not (np.all(probe >= 0) and np.allclose(probe.sum(axis=-1), 1.0, atol=1e-4)):
        raise ValueError("the model must output action probabilities (a sigmoid or softmax "
                         f"output layer), but it gave {probe[0]}")

    @tf.function(input_signature=[obs_spec, tf.TensorSpec([None], tf.int32),
                                  tf.TensorSpec([None], tf.float32)])
    def update(obs, actions, advantages):
        with tf.GradientTape() as tape:
            loss = reinforce_loss(action_probabilities(model, obs), actions, advantages)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    rng = np.random.default_rng(int(seed))
    mean_returns, all_returns = [], []
    started = time.perf_counter()
    bar = progress_bar(range(int(n_iterations)), desc="REINFORCE", disable=not progress)
    try:
        for iteration in bar:
            obs, actions, rewards = _play_episodes(envs, action_probas, n_episodes_per_update,
                                                   int(n_max_steps), rng)
            advantages = _advantages(rewards, float(discount_factor))
            update(np.asarray(obs, np.float32), np.asarray(actions, np.int32),
                   advantages.astype(np.float32))
            returns = np.array([np.sum(r) for r in rewards], dtype=np.float64)
            all_returns.append(returns)
            mean_returns.append(returns.mean())
            if progress:
                bar.set_postfix(mean_return=f"{returns.mean():.1f}")
            if live is not None:
                live.add(returns.mean())
            if callback is not None and callback(iteration, returns, model):
                break
    finally:  # an interrupted run still leaves its curve so far
        bar.close()
        if live is not None:
            live.flush()
    config = dict(n_iterations=n_iterations, n_episodes_per_update=n_episodes_per_update,
                  n_max_steps=n_max_steps, discount_factor=discount_factor,
                  learning_rate=learning_rate, seed=seed)
    return ReinforceHistory(mean_returns=np.array(mean_returns),
                            episode_returns=np.array(all_returns), model=model,
                            seconds=time.perf_counter() - started, config=config)


def _play_episodes(envs, action_probas, n_episodes, n_max_steps, rng):
    """Play ``n_episodes`` episodes, ``len(envs)`` at a time.

    Returns the observations and actions of every step, flat and in episode
    order, and each episode's list of rewards.
    """
    episodes = []  # (observations, actions, rewards) per episode
    while len(episodes) < n_episodes:
        wave = envs[:n_episodes - len(episodes)]
        obs = [env.reset() for env in wave]
        logs = [([], [], []) for _ in wave]
        live = list(range(len(wave)))
        for _ in range(n_max_steps):
            if not live:
                break
            batch = np.asarray([obs[i] for i in live], np.float32).reshape(len(live), -1)
            probas = action_probas(batch).numpy().astype(np.float64)
            # Inverse-CDF sampling: one uniform draw per live episode.
            cdf = np.cumsum(probas, axis=1)
            draws = rng.random(len(live))[:, None] * cdf[:, -1:]
            actions = np.minimum((draws >= cdf).sum(axis=1), probas.shape[1] - 1)
            still_live = []
            for i, row, action in zip(live, batch, actions):
                next_obs, reward, done, _ = wave[i].step(int(action))
                logs[i][0].append(row)
                logs[i][1].append(int(action))
                logs[i][2].append(float(reward))
                obs[i] = next_obs
                if not done:
                    still_live.append(i)
            live = still_live
        episodes.extend(logs)
    obs = np.concatenate([np.asarray(o) for o, _, _ in episodes])
    actions = np.concatenate([np.asarray(a) for _, a, _ in episodes])
    return obs, actions, [r for _, _, r in episodes]
