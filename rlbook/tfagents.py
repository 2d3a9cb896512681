"""TF-Agents building blocks for the CartPole and Atari chapters.

Each function builds one piece the way the TF-Agents tutorial and the book
do, so a reader can match a line here to a line there:

* ``load_env``: CartPole through ``suite_gym``, Atari through ``suite_atari``
  with ``AtariPreprocessing`` and ``FrameStack4``;
* ``dense_q_network`` / ``nature_q_network``: the tutorial's (100,) MLP and
  the Nature-DQN conv net (uint8 frames cast to float and divided by 255);
* ``dqn_agent``: a ``DqnAgent`` with an int64 train-step counter (an int32
  counter fails on TF 2.21); epsilon may be a number or a callable schedule.

The training loop that uses them lives in ``rlbook.tfagents_train``.
"""

import rlbook  # noqa: F401  (legacy Keras before TensorFlow)

ATARI_CONV_LAYERS = ((32, (8, 8), 4), (64, (4, 4), 2), (64, (3, 3), 1))


def is_atari(env):
    """True for the book's Atari ids (``BreakoutNoFrameskip-v4``, ...)."""
    from rlbook.atari_ids import GAMES

    return any(env.startswith(name) for name in GAMES.values())


def load_env(env, max_episode_steps=None, seed=None):
    """A TF-Agents ``PyEnvironment``; Atari ids get the book's preprocessing.

    Atari: ``suite_atari.load(env, max_episode_steps=27_000,
    gym_env_wrappers=[AtariPreprocessing, FrameStack4])`` (84x84 grayscale,
    frame skip 4, the last 4 frames stacked: observations (84, 84, 4) uint8).
    """
    import gym
    from tf_agents.environments import suite_atari, suite_gym

    if env not in gym.envs.registry.env_specs:
        raise ValueError(f"unknown environment id {env!r}; try 'CartPole-v0' or "
                         "'BreakoutNoFrameskip-v4'")
    if is_atari(env):
        from tf_agents.environments.atari_preprocessing import AtariPreprocessing
        from tf_agents.environments.atari_wrappers import FrameStack4

        py_env = suite_atari.load(env, max_episode_steps=max_episode_steps or 27_000,
                                  gym_env_wrappers=[AtariPreprocessing, FrameStack4])
    else:
        py_env = suite_gym.load(env, max_episode_steps=max_episode_steps)
    if seed is not None:
        py_env.seed(int(seed))
    return py_env


def dense_q_network(observation_spec, action_spec, fc_layer_params=(100,)):
    """The tutorial's Q-network: dense ReLU layers, one Q-value per action."""
    from tf_agents.networks import q_network

    return q_network.QNetwork(observation_spec, action_spec,
                              fc_layer_params=tuple(fc_layer_params))


def nature_q_network(observation_spec, action_spec, conv_layer_params=ATARI_CONV_LAYERS,
                     fc_layer_params=(512,)):
    """The Nature-DQN Q-network over stacked uint8 frames.

    Frames stay uint8 in the replay buffer (4x smaller than float32) and are
    scaled to [0, 1] only here, inside the network.
    """
    import tensorflow as tf
    from tf_agents.networks import q_network

    preprocessing = tf.keras.layers.Lambda(lambda obs: tf.cast(obs, tf.float32) / 255.0)
    return q_network.QNetwork(observation_spec, action_spec,
                              preprocessing_layers=preprocessing,
                              conv_layer_params=tuple(conv_layer_params),
                              fc_layer_params=tuple(fc_layer_params))


def dqn_agent(time_step_spec, action_spec, q_net, optimizer, *, gamma=0.99,
              epsilon_greedy=0.1, target_update_period=1, td_errors_loss_fn=None,
              train_step_counter=None):
    """A ``DqnAgent``; ``epsilon_greedy`` may be a float or a callable schedule."""
    import tensorflow as tf
    from tf_agents.agents.dqn import dqn_agent as dqn
    from tf_agents.utils import common

    if train_step_counter is None:
        train_step_counter = tf.Variable(0, dtype=tf.int64, name="train_step")
    if train_step_counter.dtype != tf.int64:
        raise TypeError("train_step_counter should be an int64 tf.Variable (an int32 "
                        "counter fails on TF 2.21), got: a "
                        f"{train_step_counter.dtype.name} one; use "
                        "tf.Variable(0, dtype=tf.int64)")
    agent = dqn.DqnAgent(
        time_step_spec, action_spec, q_network=q_net, optimizer=optimizer,
        gamma=gamma, epsilon_greedy=epsilon_greedy,
        target_update_period=int(target_update_period),
        td_errors_loss_fn=td_errors_loss_fn or common.element_wise_squared_loss,
        train_step_counter=train_step_counter)
    agent.initialize()
    return agent
