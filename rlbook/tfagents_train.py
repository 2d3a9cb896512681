"""One DQN trainer for CartPole and Atari, built from TF-Agents pieces.

``train_eval`` follows the shape of TF-Agents' own ``train_eval`` examples:
one function, hyperparameters as grouped keyword arguments, a root folder
that holds everything a run leaves behind::

    root_dir/
      train/         checkpoints: agent, replay buffer, train step, metrics
      history.json   evaluations and losses so far
      policy/        the greedy policy as a SavedModel (PolicySaver)

Run it again with the same ``root_dir`` after an interruption and it goes on
from the last checkpoint: the step counter, the replay buffer's contents and
the training metrics come back exactly as they were saved.

The loop stays short because its steps have names, as TF-Agents' triggers
and Learner have: :class:`_Checkpoints` (restore and save), :class:`_Evaluator`
(the greedy policy's average return), ``_next_boundary`` (where Python next
has work) and the stop rule (``stop_return``).

Speed: the tutorial calls ``driver.run`` and ``agent.train`` from Python once
per iteration. Here ``iterations_per_call`` iterations (collect, sample,
train) run inside one ``tf.function``, so Python is visited only at log,
evaluation and checkpoint boundaries. Evaluation also runs as a graph.
On a GPU, TensorFlow places the network there with no change to this code.
"""

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import rlbook  # noqa: F401  (legacy Keras before TensorFlow)
from rlbook.checks import check_choice, check_int, check_number
from rlbook.tfagents import _agent, _py_environment, _q_network
from rlbook.training import TD_ERRORS_LOSSES, TrainResult, make_optimizer

import numpy as np

# The book's Atari settings (chapter 18, Breakout). Pass them on with
# ``train_eval(root_dir, "BreakoutNoFrameskip-v4", **ATARI_HYPERPARAMETERS)``.
ATARI_HYPERPARAMETERS = dict(
    fc_layer_params=(512,),
    optimizer="rmsprop",           # lr 2.5e-4, rho 0.95, momentum 0, epsilon 1e-5, centered
    learning_rate=2.5e-4,
    gamma=0.99,
    epsilon_greedy=0.01,           # reached after epsilon_decay_steps train steps
    epsilon_decay_steps=250_000 // 4,
    target_update_period=2_000,
    td_errors_loss_fn="huber",
    replay_buffer="frames",        # each 84x84 frame stored once
    replay_buffer_capacity=100_000,
    initial_collect_steps=20_000,
    collect_steps_per_iteration=4,  # train every 4 agent steps
    batch_size=64,
    eval_interval=10_000,
    num_eval_episodes=1,
    log_interval=1_000,
)
REPLAY_BUFFERS = ("uniform", "frames")


@dataclass
class History:
    """What a run measured: evaluations and training losses, by train step."""

    eval_steps: list = field(default_factory=list)
    average_returns: list = field(default_factory=list)
    loss_steps: list = field(default_factory=list)
    losses: list = field(default_factory=list)
    env_steps: list = field(default_factory=list)
    seconds: list = field(default_factory=list)

    def record_eval(self, step, average_return, env_steps, seconds):
        self.eval_steps.append(int(step))
        self.average_returns.append(float(average_return))
        self.env_steps.append(int(env_steps))
        self.seconds.append(float(seconds))

    def record_loss(self, step, loss):
        self.loss_steps.append(int(step))
        self.losses.append(float(loss))

    def up_to(self, step):
        """The part of the history at or before ``step`` (what a checkpoint covers)."""
        keep = [i for i, s in enumerate(self.eval_steps) if s <= step]
        keep_loss = [i for i, s in enumerate(self.loss_steps) if s <= step]
        return History([self.eval_steps[i] for i in keep],
                       [self.average_returns[i] for i in keep],
                       [self.loss_steps[i] for i in keep_loss],
                       [self.losses[i] for i in keep_loss],
                       [self.env_steps[i] for i in keep],
                       [self.seconds[i] for i in keep])

    def save(self, path):
        path = Path(path)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.__dict__))
        os.replace(tmp, path)  # atomic: a kill never leaves half a file

    @classmethod
    def load(cls, path):
        path = Path(path)
        if not path.exists():
            return cls()
        saved = json.loads(path.read_text())
        if "wall_s" in saved:  # written before the trainers shared one vocabulary
            saved["seconds"] = saved.pop("wall_s")
        return cls(**saved)


@dataclass
class TrainEvalResult(TrainResult):
    """What ``train_eval`` returns: the :class:`~rlbook.training.TrainResult` core, plus

    Attributes:
        history: the :class:`History` of evaluations and losses.
        train_env, eval_env: the TF environments.
        replay_buffer: the replay buffer, still filled.
        train_step: the final train step.
        env_steps, episodes: agent steps and episodes collected in all.
        resumed_from: the counters found in the checkpoint, or None on a fresh start.
        device: where TensorFlow trained (``rlbook.device.describe``).
        policy_dir: the exported policy's folder, or None.
        solved_at: the train step whose evaluation reached ``stop_return``, or None.

    ``returns`` holds the average return of every evaluation, measured at
    train steps ``x``, and ``model`` the TF-Agents agent (also ``agent``).
    """

    history: History = None
    train_env: object = None
    eval_env: object = None
    replay_buffer: object = None
    train_step: int = 0
    env_steps: int = 0
    episodes: int = 0
    resumed_from: dict = None
    device: str = ""
    policy_dir: Path = None
    solved_at: int = None
    xlabel = "Train step"
    ylabel = "Average return"

    @property
    def x(self):
        return np.asarray(self.history.eval_steps)

    @property
    def agent(self):
        """The trained DqnAgent (the same object as ``model``), under TF-Agents' name."""
        return self.model


def _td_errors_loss(name):
    """The agent's element-wise TD loss for a name of ``rlbook.training.TD_ERRORS_LOSSES``."""
    import tensorflow as tf
    from tf_agents.utils import common

    if name == "mse":  # TF-Agents' squared loss is halved, as in the tutorial
        return common.element_wise_squared_loss
    return tf.keras.losses.Huber(reduction="none")  # element-wise: the agent averages it


def _epsilon(train_step, epsilon_greedy, epsilon_decay_steps):
    """A float, or a callable: 1.0 falling linearly to ``epsilon_greedy`` over the decay.

    The agent evaluates the callable inside its compiled collect step, so the
    shared schedule is computed with ``tf.math``. Its ``decay_steps`` is the
    step at which epsilon would reach 0, hence the stretch: the book's
    ``PolynomialDecay(1.0, epsilon_decay_steps, epsilon_greedy)`` line.
    """
    if not epsilon_decay_steps or epsilon_greedy >= 1.0:
        return epsilon_greedy
    from rlbook.exploration import epsilon_schedule

    import tensorflow as tf

    to_zero = epsilon_decay_steps / (1.0 - epsilon_greedy)
    return lambda: tf.cast(epsilon_schedule(tf.cast(train_step, tf.float64), to_zero,
                                            epsilon_greedy, xp=tf.math), tf.float32)


def make_replay_buffer(kind, data_spec, batch_size, max_length):
    """'uniform': TFUniformReplayBuffer; 'frames': rlbook's frame-once buffer for Atari."""
    check_choice("replay_buffer", kind, REPLAY_BUFFERS)
    if kind == "uniform":
        from rlbook.frame_replay import spec_nbytes
        from rlbook.replay import check_fits_in_memory

        from tf_agents.replay_buffers import tf_uniform_replay_buffer

        check_fits_in_memory(spec_nbytes(data_spec) * max_length * batch_size,
                             "TFUniformReplayBuffer")
        return tf_uniform_replay_buffer.TFUniformReplayBuffer(
            data_spec=data_spec, batch_size=batch_size, max_length=max_length)
    from rlbook.frame_replay import FrameStackReplayBuffer

    return FrameStackReplayBuffer(data_spec, batch_size=batch_size, max_length=max_length)


def _check_config(cfg):
    for name in ("num_iterations", "batch_size", "iterations_per_call", "eval_interval",
                 "num_eval_episodes", "log_interval", "collect_steps_per_iteration",
                 "replay_buffer_capacity", "target_update_period"):
        check_int(name, cfg[name])
    check_int("checkpoint_interval", cfg["checkpoint_interval"], none_ok=True)
    check_int("epsilon_decay_steps", cfg["epsilon_decay_steps"], none_ok=True)
    # A transition needs two time steps.
    check_int("initial_collect_steps", cfg["initial_collect_steps"], 2)
    check_number("gamma", cfg["gamma"], 0, 1)
    check_number("epsilon_greedy", cfg["epsilon_greedy"], 0, 1)
    check_choice("td_errors_loss_fn", cfg["td_errors_loss_fn"], TD_ERRORS_LOSSES)
    check_choice("replay_buffer", cfg["replay_buffer"], REPLAY_BUFFERS)
    if cfg["checkpoint_interval"] and cfg["root_dir"] is None:
        raise ValueError("checkpoint_interval needs a root_dir to write checkpoints into, "
                         "got: root_dir=None")


def _build(cfg, train_step):
    """The environments, the agent, its replay buffer and the training metrics."""
    from tf_agents.environments import tf_py_environment
    from tf_agents.metrics import tf_metrics

    seed = cfg["seed"]
    train_env = tf_py_environment.TFPyEnvironment(_py_environment(cfg, seed))
    eval_env = tf_py_environment.TFPyEnvironment(_py_environment(cfg, seed + 1))
    agent = _agent(
        cfg, train_env, _q_network(cfg, train_env),
        make_optimizer(cfg["optimizer"], cfg["learning_rate"]),
        _epsilon(train_step, cfg["epsilon_greedy"], cfg["epsilon_decay_steps"]),
        _td_errors_loss(cfg["td_errors_loss_fn"]), train_step)
    buffer = make_replay_buffer(cfg["replay_buffer"], agent.collect_data_spec,
                                train_env.batch_size, cfg["replay_buffer_capacity"])
    # Episodes, environment steps, average return and length, in that order.
    metrics = [tf_metrics.NumberOfEpisodes(), tf_metrics.EnvironmentSteps(),
               tf_metrics.AverageReturnMetric(), tf_metrics.AverageEpisodeLengthMetric()]
    return train_env, eval_env, agent, buffer, metrics


class _Checkpoints:
    """Checkpointing: restores the latest checkpoint of ``root_dir`` when built.

    ``history`` is the history up to the restored step; ``save(step)``
    writes the history, then the checkpoint. Without a root_dir nothing is
    kept and ``save`` does nothing.
    """

    def __init__(self, root_dir, agent, buffer, train_step, metrics):
        from tf_agents.eval import metric_utils
        from tf_agents.utils import common

        self.root = None if root_dir is None else Path(root_dir)
        self.history = History()
        self._checkpointer = None
        if self.root is None:
            return
        self.root.mkdir(parents=True, exist_ok=True)
        self._checkpointer = common.Checkpointer(
            ckpt_dir=str(self.root / "train"), max_to_keep=1, agent=agent, policy=agent.policy,
            replay_buffer=buffer, global_step=train_step,
            metrics=metric_utils.MetricsGroup(metrics, "train_metrics"))
        self.history = History.load(self.root / "history.json").up_to(int(train_step.numpy()))

    def save(self, step):
        if self._checkpointer is None:
            return
        # History first: on resume it is cut back to the checkpoint's step.
        self.history.save(self.root / "history.json")
        self._checkpointer.save(global_step=step)


class _Evaluator:
    """Evaluation: the greedy policy's average return over ``num_episodes``, as a graph."""

    def __init__(self, eval_env, policy, num_episodes):
        from tf_agents.drivers import dynamic_episode_driver
        from tf_agents.metrics import tf_metrics
        from tf_agents.utils import common

        self.env = eval_env
        self.average_return = tf_metrics.AverageReturnMetric(buffer_size=num_episodes)
        driver = dynamic_episode_driver.DynamicEpisodeDriver(
            eval_env, policy, observers=[self.average_return], num_episodes=num_episodes)
        self._run = common.function(driver.run)

    def __call__(self):
        self.average_return.reset()
        self.env.reset()
        self._run()
        return float(self.average_return.result())


def _warm_up(train_env, buffer, num_steps):
    """A random policy fills the buffer (nothing to do when it was restored)."""
    if num_steps <= 0:
        return
    from tf_agents.drivers import dynamic_step_driver
    from tf_agents.policies import random_tf_policy
    from tf_agents.utils import common

    policy = random_tf_policy.RandomTFPolicy(train_env.time_step_spec(),
                                             train_env.action_spec())
    driver = dynamic_step_driver.DynamicStepDriver(train_env, policy,
                                                   observers=[buffer.add_batch],
                                                   num_steps=num_steps)
    common.function(driver.run)()


def _compiled_train_iterations(train_env, agent, buffer, metrics, cfg):
    """``train_iterations(n)``: n times collect, sample a batch and train, in one graph."""
    import tensorflow as tf
    from tf_agents.drivers import dynamic_step_driver
    from tf_agents.utils import common

    collect_driver = dynamic_step_driver.DynamicStepDriver(
        train_env, agent.collect_policy, observers=[buffer.add_batch, *metrics],
        num_steps=cfg["collect_steps_per_iteration"])
    batch_size = cfg["batch_size"]

    @common.function(autograph=True)  # tf.range below becomes a graph loop
    def train_iterations(n):
        loss = tf.constant(0.0)
        for _ in tf.range(n):
            collect_driver.run()
            # num_steps=2: each sample is one transition (s, a, r, s').
            experience, _ = buffer.get_next(sample_batch_size=batch_size, num_steps=2)
            loss = agent.train(experience).loss
        return loss

    return train_iterations


def _next_boundary(step, num_iterations, intervals):
    """The next train step where Python has work: a log, an evaluation, a checkpoint, the end."""
    return min([num_iterations] + [(step // k + 1) * k for k in intervals if k])


def _export_policy(agent, root):
    from tf_agents.policies import policy_saver

    policy_dir = root / "policy"
    policy_saver.PolicySaver(agent.policy, batch_size=None).save(str(policy_dir))
    return policy_dir


def train_eval(
    root_dir=None,
    env="CartPole-v0",
    *,
    # Environment
    max_episode_steps=None,
    seed=0,
    # Q-network and agent
    q_network=None,
    fc_layer_params=(100,),
    optimizer="adam",
    learning_rate=1e-3,
    gamma=0.99,
    epsilon_greedy=0.1,
    epsilon_decay_steps=None,
    target_update_period=1,
    td_errors_loss_fn="mse",
    # Replay buffer and collection
    replay_buffer="uniform",
    replay_buffer_capacity=100_000,
    initial_collect_steps=1_000,
    collect_steps_per_iteration=1,
    # Training
    num_iterations=20_000,
    batch_size=64,
    iterations_per_call=1,
    # Evaluation and logging
    eval_interval=1_000,
    num_eval_episodes=10,
    log_interval=200,
    stop_return=None,
    # Checkpoints and export
    checkpoint_interval=None,
    export_policy=True,
    progress=True,
    live_plot=False,
):
    """Train a DQN agent with TF-Agents; evaluate, checkpoint, export.

    Args:
        root_dir: folder for checkpoints, history.json and the exported
            policy; None keeps nothing on disk (no resume).
        env: a gym id (the book's Atari ids get AtariPreprocessing +
            FrameStack4 and the Nature conv net), or a function of no
            arguments that returns a PyEnvironment (a notebook's own
            pipeline; the trainer seeds what it returns).
        max_episode_steps: episode cap for a gym id (Atari default 27,000
            agent steps).
        seed: seeds TensorFlow, the train env (seed) and the eval env (seed + 1).
        q_network: a function (observation_spec, action_spec) -> a TF-Agents
            Network (a notebook's own Q-network); None builds a QNetwork
            with ``fc_layer_params`` (and the Nature convolutions for
            image observations).
        fc_layer_params: dense layers ((100,) CartPole, (512,) Atari).
        optimizer: ``"adam"``, ``"rmsprop"`` (the book's Atari RMSprop) or a
            Keras optimizer (``rlbook.training.make_optimizer``).
        learning_rate: the named optimizer's learning rate.
        gamma: the discount factor.
        epsilon_greedy: exploration rate of the collect policy; with
            ``epsilon_decay_steps`` the value epsilon falls to, linearly from
            1.0 over that many train steps (the book's Atari schedule).
        epsilon_decay_steps: see ``epsilon_greedy``; None keeps it constant.
        target_update_period: train steps between target-network copies.
        td_errors_loss_fn: ``"mse"`` (the tutorial's squared loss) or
            ``"huber"`` (the book's, for Atari).
        replay_buffer: ``"uniform"`` (TFUniformReplayBuffer) or ``"frames"``
            (Atari frames stored once, ``rlbook.frame_replay``).
        replay_buffer_capacity: its max_length.
        initial_collect_steps: random-policy warm-up steps (at least 2).
        collect_steps_per_iteration: agent steps per train step.
        num_iterations: train steps in all (a resumed run counts those
            already done).
        batch_size: transitions per train step.
        iterations_per_call: iterations run inside one tf.function call
            (fewer Python round trips).
        eval_interval: train steps between evaluations of the greedy policy.
        num_eval_episodes: episodes per evaluation.
        log_interval: train steps between loss records.
        stop_return: stop early once an evaluation reaches it (the stop rule).
        checkpoint_interval: train steps between checkpoints (None: only at
            the end; needs root_dir).
        export_policy: save agent.policy with PolicySaver to root_dir/policy.
        progress: draw a progress bar (steps/s, loss, average return).
        live_plot: True draws each evaluation's average return as training
            runs (``rlbook.live.LiveCurve``); a LiveCurve adds this run to it.

    Returns:
        A :class:`TrainEvalResult`: ``returns`` holds the evaluations'
        average returns, ``model`` (and ``agent``) the trained agent.
    """
    config = {k: v for k, v in locals().items() if k not in ("progress", "live_plot")}
    _check_config(config)
    from rlbook.device import describe
    from rlbook.live import live_curve
    from rlbook.progress import progress as progress_bar

    import tensorflow as tf

    name = env if isinstance(env, str) else getattr(env, "__name__", "a custom environment")
    live = live_curve(live_plot, title=f"DQN on {name}", xlabel="Train step",
                      ylabel="Average return", window=1, target=stop_return)
    started = time.perf_counter()
    device = describe()
    tf.random.set_seed(seed)
    np.random.seed(seed)
    train_step = tf.Variable(0, dtype=tf.int64, name="train_step")
    train_env, eval_env, agent, buffer, metrics = _build(config, train_step)
    checkpoints = _Checkpoints(root_dir, agent, buffer, train_step, metrics)
    history = checkpoints.history
    step = start_step = int(train_step.numpy())
    resumed_from = None if start_step == 0 else dict(
        train_step=start_step, replay_frames=int(buffer.num_frames()),
        env_steps=int(metrics[1].result()), episodes=int(metrics[0].result()))
    _warm_up(train_env, buffer, initial_collect_steps - int(buffer.num_frames()))
    train_iterations = _compiled_train_iterations(train_env, agent, buffer, metrics, config)
    evaluate = _Evaluator(eval_env, agent.policy, num_eval_episodes)

    def record_evaluation(at_step):
        average = evaluate()
        history.record_eval(at_step, average, int(metrics[1].result()),
                            time.perf_counter() - started)
        if live is not None:
            live.add(average, x=at_step)
        return average

    if live is not None:  # a resumed run shows its evaluations so far too
        for eval_step, average in zip(history.eval_steps, history.average_returns, strict=True):
            live.add(average, x=eval_step)
    if step == 0:
        record_evaluation(0)
    bar = progress_bar(total=num_iterations, initial=start_step, desc=name, unit="step",
                       disable=not progress)
    intervals = [eval_interval, log_interval, checkpoint_interval]
    solved_at = None
    while step < num_iterations and solved_at is None:
        # Run up to the next boundary where Python has something to do.
        n = min(iterations_per_call, _next_boundary(step, num_iterations, intervals) - step)
        loss = float(train_iterations(tf.constant(n, dtype=tf.int64)))
        step = int(train_step.numpy())
        bar.update(n)
        if not np.isfinite(loss):
            raise FloatingPointError(f"the loss became {loss} at train step {step}; "
                                     "try a smaller learning_rate")
        if step % log_interval == 0:
            history.record_loss(step, loss)
        if step % eval_interval == 0 or step == num_iterations:
            average = record_evaluation(step)
            if stop_return is not None and average >= stop_return:
                solved_at = step  # the stop rule: the target return is reached
        bar.set_postfix(loss=f"{loss:.3g}", avg_return=_last(history.average_returns),
                        refresh=False)
        if checkpoint_interval and step % checkpoint_interval == 0:
            checkpoints.save(step)
    bar.close()
    if live is not None:
        live.flush()
    checkpoints.save(step)
    policy_dir = (_export_policy(agent, checkpoints.root)
                  if export_policy and checkpoints.root is not None else None)
    return TrainEvalResult(
        returns=np.asarray(history.average_returns, dtype=np.float64), model=agent,
        config=config, seconds=time.perf_counter() - started, history=history,
        train_env=train_env, eval_env=eval_env, replay_buffer=buffer, train_step=step,
        env_steps=int(metrics[1].result()), episodes=int(metrics[0].result()),
        resumed_from=resumed_from, device=device, policy_dir=policy_dir, solved_at=solved_at)


def _last(values):
    return f"{values[-1]:.1f}" if values else "-"


def load_policy(policy_dir):
    """Load a policy that ``PolicySaver`` exported, ready for ``rlbook.video.play``.

    Returns a ``SavedModelPyTFEagerPolicy``: the SavedModel
    (``tf.saved_model.load``) with the specs PolicySaver wrote beside it, so it
    acts on a PyEnvironment's unbatched time steps.
    """
    from tf_agents.policies import py_tf_eager_policy

    policy_dir = Path(policy_dir)
    if not (policy_dir / "saved_model.pb").exists():
        raise FileNotFoundError(f"no SavedModel in {str(policy_dir)!r}; train_eval writes one "
                                "to root_dir/policy when export_policy=True")
    return py_tf_eager_policy.SavedModelPyTFEagerPolicy(str(policy_dir),
                                                        load_specs_from_pbtxt=True)
