"""The parts ``rlbook.tfagents_train.train_eval`` builds a run from.

Chapters 05, 06 and 07 have the learner build these pieces in the notebook:
the agent from its specs, the Atari environment pipeline, the Nature
Q-network, the book's agent settings. So that no call here hands over one
of those answers, the builders are private and read the trainer's whole
configuration (a dict of ``train_eval``'s arguments) rather than the
exercise's arguments, and ``train_eval`` prefers the notebook's own
builders when it is given them (``env=`` a function that makes the
environment, ``q_network=`` a function of the specs). That is how chapters
06 and 07 run their book-scale training on the learner's pieces.
"""

import rlbook  # noqa: F401  (legacy Keras before TensorFlow)

# The Nature DQN's convolutions, as QNetwork's (filters, kernel, stride).
_NATURE_CONV_LAYERS = ((32, (8, 8), 4), (64, (4, 4), 2), (64, (3, 3), 1))


def is_atari(env):
    """True for the book's Atari ids (``BreakoutNoFrameskip-v4``, ...)."""
    from rlbook.atari_ids import GAMES

    return isinstance(env, str) and any(env.startswith(name) for name in GAMES.values())


def _py_environment(cfg, seed):
    """The run's PyEnvironment for ``cfg["env"]``, seeded with ``seed``.

    ``cfg["env"]`` is a gym id (Atari ids get AtariPreprocessing, FrameStack4
    and a 27,000-step cap unless ``max_episode_steps`` says otherwise) or a
    function of no arguments that returns a PyEnvironment.
    """
    import gym
    from tf_agents.environments import py_environment, suite_atari, suite_gym

    env, cap = cfg["env"], cfg["max_episode_steps"]
    if callable(env):
        py_env = env()
        if not isinstance(py_env, py_environment.PyEnvironment):
            raise TypeError("env should be a gym id or a function that returns a TF-Agents "
                            f"PyEnvironment, got: a function returning {type(py_env).__name__}")
    elif env not in gym.envs.registry.env_specs:
        raise ValueError(f"unknown environment id {env!r}; try 'CartPole-v0' or "
                         "'BreakoutNoFrameskip-v4'")
    elif is_atari(env):
        from tf_agents.environments.atari_preprocessing import AtariPreprocessing
        from tf_agents.environments.atari_wrappers import FrameStack4

        py_env = suite_atari.load(env, max_episode_steps=cap or 27_000,
                                  gym_env_wrappers=[AtariPreprocessing, FrameStack4])
    else:
        py_env = suite_gym.load(env, max_episode_steps=cap)
    py_env.seed(int(seed))
    return py_env


def _q_network(cfg, tf_env):
    """The run's Q-network: ``cfg["q_network"](specs)`` if given, else one for the env.

    Image observations (rank 3) get the Nature convolutions, with the uint8
    frames scaled to [0, 1] inside the network (the replay buffer keeps them
    4x smaller as bytes); vectors get dense ReLU layers only.
    """
    import tensorflow as tf
    from tf_agents.networks import network, q_network

    observation_spec, action_spec = tf_env.observation_spec(), tf_env.action_spec()
    if cfg["q_network"] is not None:
        net = cfg["q_network"](observation_spec, action_spec)
        if not isinstance(net, network.Network):
            raise TypeError("q_network should be a function (observation_spec, action_spec) -> "
                            f"a TF-Agents Network, got: one returning {type(net).__name__}")
        return net
    layers = dict(fc_layer_params=tuple(cfg["fc_layer_params"]))
    if len(observation_spec.shape) == 3:
        layers.update(conv_layer_params=_NATURE_CONV_LAYERS, preprocessing_layers=(
            tf.keras.layers.Lambda(lambda frames: tf.cast(frames, tf.float32) / 255.0)))
    return q_network.QNetwork(observation_spec, action_spec, **layers)


def _agent(cfg, tf_env, q_net, optimizer, epsilon_greedy, td_errors_loss_fn, train_step):
    """The run's initialized ``DqnAgent``; ``train_step`` must be an int64 variable."""
    import tensorflow as tf
    from tf_agents.agents.dqn import dqn_agent

    if train_step.dtype != tf.int64:  # an int32 counter fails on TF 2.21
        raise TypeError("the train step counter should be an int64 tf.Variable, got: a "
                        f"{train_step.dtype.name} one; use tf.Variable(0, dtype=tf.int64)")
    agent = dqn_agent.DqnAgent(
        tf_env.time_step_spec(), tf_env.action_spec(), q_network=q_net, optimizer=optimizer,
        gamma=cfg["gamma"], epsilon_greedy=epsilon_greedy,
        target_update_period=int(cfg["target_update_period"]),
        td_errors_loss_fn=td_errors_loss_fn, train_step_counter=train_step)
    agent.initialize()
    return agent
