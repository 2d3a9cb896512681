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

>>> result = train_reinforce("CartPole-v1", num_iterations=150, seed=42)
>>> result.returns[-1]    # climbs towards 200, the step limit (186 here)
"""

import time
from dataclasses import dataclass

import rlbook  # noqa: F401  (legacy Keras before TensorFlow)
from rlbook.checks import check_int, check_number
from rlbook.training import TrainResult

import numpy as np

_EPSILON = 1e-7  # keeps log(probability) finite, like Keras' cross-entropy


@dataclass
class ReinforceResult(TrainResult):
    """What ``train_reinforce`` returns: the :class:`~rlbook.training.TrainResult` core, plus

    Attributes:
        episode_returns: every episode's return, shape
            ``(num_iterations, num_episodes_per_update)``.

    ``returns`` holds the mean episode return of each iteration (fewer if a
    callback stopped the run) and ``model`` the trained policy network.
    """

    episode_returns: np.ndarray = None
    xlabel = "Iteration"
    ylabel = "Mean return"


def build_policy_network(n_inputs, n_actions, fc_layer_params=(5,), activation="elu"):
    """A small policy network: Dense hidden layers, then action probabilities.

    Two actions give the book's network with one sigmoid output (the
    probability of action 0); more give ``n_actions`` softmax outputs.
    """
    import tensorflow as tf

    check_int("n_inputs", n_inputs)
    check_int("n_actions", n_actions, 2)
    hidden = [tf.keras.layers.Dense(units, activation=activation) for units in fc_layer_params]
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


def _returns_to_go(rewards, gamma):
    # Each step's return: its reward plus the discounted return of the next.
    returns = np.array(rewards, dtype=np.float64)
    for step in range(len(returns) - 2, -1, -1):
        returns[step] += gamma * returns[step + 1]
    return returns


def _advantages(episode_rewards, gamma):
    # Returns normalized over every step of every episode of one update.
    returns = [_returns_to_go(rewards, gamma) for rewards in episode_rewards]
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
            raise TypeError("env should be a function returning gym environments (with reset "
                            f"and step), got: {made[0]!r}")
    else:
        raise TypeError("env should be an environment id such as 'CartPole-v1', a gym "
                        f"environment, or a function returning one, got: {env!r}")
    for offset, one in enumerate(made):
        one.reset(seed=int(seed) + offset)
        one.action_space.seed(int(seed) + offset)
    return made


def _policy_model(model, n_inputs, n_actions, fc_layer_params):
    """The policy network to train: built here, by the caller's builder, or the caller's."""
    import tensorflow as tf

    if model is None:
        model = build_policy_network(n_inputs, n_actions, fc_layer_params)
    elif not isinstance(model, tf.keras.Model) and callable(model):
        model = model(n_inputs, n_actions)
    if not isinstance(model, tf.keras.Model):
        raise TypeError(f"model should be a Keras model or a builder returning one, got: "
                        f"{model!r}")
    return model


def _compiled_policy(model, n_inputs, n_actions):
    """``(action_probas, update)``: the compiled forward pass and REINFORCE step.

    A probe call checks first that the model outputs one probability per action.
    """
    import tensorflow as tf

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
        raise ValueError("the model should output action probabilities (a sigmoid or softmax "
                         f"output layer), got: {probe[0]}")

    def compile_update(optimizer):
        @tf.function(input_signature=[obs_spec, tf.TensorSpec([None], tf.int32),
                                      tf.TensorSpec([None], tf.float32)])
        def update(obs, actions, advantages):
            with tf.GradientTape() as tape:
                loss = reinforce_loss(action_probabilities(model, obs), actions, advantages)
            grads = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
            return loss

        return update

    return action_probas, compile_update


def train_reinforce(env="CartPole-v1", model=None, *, num_iterations=150,
                    num_episodes_per_update=10, max_episode_steps=200, gamma=0.95,
                    fc_layer_params=(5,), optimizer="adam", learning_rate=0.01, seed=42,
                    progress=True, callback=None, live_plot=False):
    """Train a policy network with REINFORCE on a discrete-action gym task.

    Args:
        env: an environment id (``"CartPole-v1"``), a function returning a new
            environment, or one gym environment (its episodes are then played
            one after another, which is slower).
        model: a Keras model mapping a batch of observations to action
            probabilities (one sigmoid output for two actions, or one softmax
            output per action), or a function ``builder(n_inputs, n_actions)``
            returning one. Default: ``build_policy_network`` with
            ``fc_layer_params``.
        num_iterations: policy updates (150 in the book).
        num_episodes_per_update: episodes played with the current policy
            before each update (10).
        max_episode_steps: an episode is cut after this many steps (200).
        gamma: the discount factor of the actions' returns (0.95).
        fc_layer_params: the hidden layers of the default network ((5,), the
            book's CartPole policy: one layer of 5 elu units).
        optimizer: ``"adam"``, ``"rmsprop"`` or a Keras optimizer
            (``rlbook.training.make_optimizer``).
        learning_rate: the named optimizer's learning rate (0.01).
        seed: seeds the initial weights (when the model is built here), the
            environments (``seed``, ``seed + 1``, ...) and the action sampling,
            so equal seeds give equal runs. Like ``rlbook.set_seed``, it also
            reseeds Python's, NumPy's and TensorFlow's global generators.
        progress: show a progress bar (``rlbook.progress``) with the last mean return.
        callback: ``callback(iteration, episode_returns, model)``, called after
            each update with that iteration's returns; return True to stop.
        live_plot: True draws the mean return of each iteration as training
            runs (``rlbook.live.LiveCurve``); a LiveCurve adds this run to it.

    Returns:
        A :class:`ReinforceResult`: ``returns`` has one mean return per iteration.
    """
    from .config import set_seed
    from .live import live_curve
    from .progress import progress as progress_bar
    from .training import make_optimizer

    config = {k: v for k, v in locals().items()
              if k not in ("model", "optimizer", "callback", "progress", "live_plot",
                           "set_seed", "live_curve", "progress_bar", "make_optimizer")}
    started = time.perf_counter()
    for name in ("num_iterations", "num_episodes_per_update", "max_episode_steps"):
        check_int(name, config[name])
    check_number("gamma", gamma, 0, 1)
    check_int("seed", seed, 0)
    if callback is not None and not callable(callback):
        raise TypeError(f"callback should be a function, got: {callback!r}")
    optimizer = make_optimizer(optimizer, learning_rate)
    envs = _make_envs(env, num_episodes_per_update, seed)
    space = envs[0].action_space
    if not hasattr(space, "n"):
        raise ValueError(f"REINFORCE here needs discrete actions, got: action space {space}")
    n_actions = int(space.n)
    n_inputs = int(np.prod(envs[0].observation_space.shape))
    # Keras draws unseeded initial weights from Python's and NumPy's global
    # generators as well as TensorFlow's, so all three are seeded.
    set_seed(int(seed))
    model = _policy_model(model, n_inputs, n_actions, fc_layer_params)
    action_probas, compile_update = _compiled_policy(model, n_inputs, n_actions)
    update = compile_update(optimizer)
    live = live_curve(live_plot, xlabel="Iteration", ylabel="Mean return",
                      target=max_episode_steps,
                      title="REINFORCE" + (f" on {env}" if isinstance(env, str) else ""))

    rng = np.random.default_rng(int(seed))
    all_returns = []
    bar = progress_bar(range(num_iterations), desc="REINFORCE", disable=not progress)
    try:
        for iteration in bar:
            obs, actions, rewards = _play_episodes(envs, action_probas, num_episodes_per_update,
                                                   max_episode_steps, rng)
            update(np.asarray(obs, np.float32), np.asarray(actions, np.int32),
                   _advantages(rewards, float(gamma)).astype(np.float32))
            returns = np.array([np.sum(r) for r in rewards], dtype=np.float64)
            all_returns.append(returns)
            if progress:
                bar.set_postfix(mean_return=f"{returns.mean():.1f}")
            if live is not None:
                live.add(returns.mean())
            if callback is not None and callback(iteration, returns, model):
                break  # the stop rule: the caller's callback says so
    finally:  # an interrupted run still leaves its curve so far
        bar.close()
        if live is not None:
            live.flush()
    episode_returns = np.array(all_returns)
    return ReinforceResult(returns=episode_returns.mean(axis=1) if all_returns else np.zeros(0),
                           model=model, config=config, seconds=time.perf_counter() - started,
                           episode_returns=episode_returns)


def _play_episodes(envs, action_probas, num_episodes, max_episode_steps, rng):
    """Play ``num_episodes`` episodes, ``len(envs)`` at a time.

    Returns the observations and actions of every step, flat and in episode
    order, and each episode's list of rewards.
    """
    episodes = []  # (observations, actions, rewards) per episode
    while len(episodes) < num_episodes:
        wave = envs[:num_episodes - len(episodes)]
        obs = [env.reset() for env in wave]
        logs = [([], [], []) for _ in wave]
        live = list(range(len(wave)))
        for _ in range(max_episode_steps):
            if not live:
                break
            batch = np.asarray([obs[i] for i in live], np.float32).reshape(len(live), -1)
            probas = action_probas(batch).numpy().astype(np.float64)
            # Inverse-CDF sampling: one uniform draw per live episode.
            cdf = np.cumsum(probas, axis=1)
            draws = rng.random(len(live))[:, None] * cdf[:, -1:]
            actions = np.minimum((draws >= cdf).sum(axis=1), probas.shape[1] - 1)
            still_live = []
            for i, row, action in zip(live, batch, actions, strict=True):
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
