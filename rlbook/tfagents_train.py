"""One DQN trainer for CartPole and Atari, built from TF-Agents pieces.

``train_eval`` follows the shape of TF-Agents' own ``train_eval`` examples:
one function, hyperparameters as grouped keyword arguments, a root folder
that holds everything a run leaves behind::

    root_dir/
      train/         checkpoints: agent, replay buffer, train step, metrics
      history.json   evaluations and losses so far (plot with History.plot)
      policy/        the greedy policy as a SavedModel (PolicySaver)

Run it again with the same ``root_dir`` after an interruption and it goes on
from the last checkpoint: the step counter, the replay buffer's contents and
the training metrics come back exactly as they were saved.

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
from rlbook.tfagents import (dense_q_network, dqn_agent, epsilon_schedule, is_atari, load_env,
                             nature_q_network)

# The book's Atari settings (chapter 18, Breakout). Pass them on with
# ``train_eval("BreakoutNoFrameskip-v4", **ATARI_HYPERPARAMETERS)``.
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


@dataclass
class History:
    """What a run measured: evaluations and training losses, by train step."""

    eval_steps: list = field(default_factory=list)
    average_returns: list = field(default_factory=list)
    loss_steps: list = field(default_factory=list)
    losses: list = field(default_factory=list)
    env_steps: list = field(default_factory=list)
    wall_s: list = field(default_factory=list)

    def record_eval(self, step, average_return, env_steps, wall_s):
        self.eval_steps.append(int(step))
        self.average_returns.append(float(average_return))
        self.env_steps.append(int(env_steps))
        self.wall_s.append(float(wall_s))

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
                       [self.wall_s[i] for i in keep])

    def save(self, path):
        path = Path(path)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.__dict__))
        os.replace(tmp, path)  # atomic: a kill never leaves half a file

    @classmethod
    def load(cls, path):
        path = Path(path)
        return cls(**json.loads(path.read_text())) if path.exists() else cls()

    def plot(self, ax=None, target=None, title=None):
        """Average evaluation return against train steps (rlbook.plots)."""
        from rlbook.plots import plot_learning_curve

        if not self.eval_steps:
            raise ValueError("the history has no evaluations yet; train for at least "
                             "eval_interval steps")
        return plot_learning_curve(self.average_returns, xs=self.eval_steps, window=1,
                                   label="average return", xlabel="Train step",
                                   ylabel="Average return", target=target, ax=ax,
                                   title=title)


@dataclass
class TrainResult:
    """What ``train_eval`` hands back."""

    agent: object
    history: History
    train_env: object
    eval_env: object
    replay_buffer: object
    train_step: int
    env_steps: int
    episodes: int
    resumed_from: dict
    device: str
    wall_s: float
    policy_dir: Path = None
    solved_at: int = None


def make_optimizer(name, learning_rate):
    import tensorflow as tf

    if name == "adam":
        return tf.keras.optimizers.Adam(learning_rate=learning_rate)
    if name == "rmsprop":  # the book's Atari optimizer
        return tf.keras.optimizers.RMSprop(learning_rate=learning_rate, rho=0.95, momentum=0.0,
                                           epsilon=1e-5, centered=True)
    raise ValueError(f"optimizer must be 'adam' or 'rmsprop', got {name!r}")


def make_loss(name):
    import tensorflow as tf
    from tf_agents.utils import common

    if name == "squared":
        return common.element_wise_squared_loss
    if name == "huber":  # element-wise: the agent averages it itself
        return tf.keras.losses.Huber(reduction="none")
    raise ValueError(f"td_errors_loss_fn must be 'squared' or 'huber', got {name!r}")


def make_replay_buffer(kind, data_spec, batch_size, max_length):
    """'uniform': TFUniformReplayBuffer; 'frames': rlbook's frame-once buffer for Atari."""
    if kind == "uniform":
        from tf_agents.replay_buffers import tf_uniform_replay_buffer

        from rlbook.frame_replay import spec_nbytes
        from rlbook.replay import check_fits_in_memory

        check_fits_in_memory(spec_nbytes(data_spec) * max_length * batch_size,
                             "TFUniformReplayBuffer")
        return tf_uniform_replay_buffer.TFUniformReplayBuffer(
            data_spec=data_spec, batch_size=batch_size, max_length=max_length)
    if kind == "frames":
        from rlbook.frame_replay import FrameStackReplayBuffer

        return FrameStackReplayBuffer(data_spec, batch_size=batch_size, max_length=max_length)
    raise ValueError(f"replay_buffer must be 'uniform' or 'frames', got {kind!r}")


def _positive(**values):
    for name, value in values.items():
        if value is not None and int(value) < 1:
            raise ValueError(f"{name} must be at least 1, got {value!r}")


def train_eval(
    root_dir=None,
    env_name="CartPole-v0",
    *,
    # Environment
    max_episode_steps=None,
    seed=0,
    # Q-network and agent
    fc_layer_params=(100,),
    optimizer="adam",
    learning_rate=1e-3,
    gamma=0.99,
    epsilon_greedy=0.1,
    epsilon_decay_steps=None,
    target_update_period=1,
    td_errors_loss_fn="squared",
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

    Environment
      root_dir: folder for checkpoints, history.json and the exported policy;
        None keeps nothing on disk (no resume). env_name: a gym id; the book's
        Atari ids get AtariPreprocessing + FrameStack4 and the Nature conv net.
      max_episode_steps: episode cap (Atari default 27,000 agent steps).
      seed: seeds TensorFlow, the train env (seed) and the eval env (seed+1).
    Q-network and agent
      fc_layer_params: dense layers ((100,) CartPole, (512,) Atari).
      optimizer: 'adam' or 'rmsprop' (the book's Atari RMSprop); learning_rate.
      gamma: discount. epsilon_greedy: exploration rate of the collect policy;
        with epsilon_decay_steps it is the final value of a 1.0 -> epsilon_greedy
        PolynomialDecay over that many train steps.
      target_update_period: train steps between target-network copies.
      td_errors_loss_fn: 'squared' (tutorial) or 'huber' (book, Atari).
    Replay buffer and collection
      replay_buffer: 'uniform' (TFUniformReplayBuffer) or 'frames' (Atari
        frames stored once, rlbook.frame_replay). replay_buffer_capacity: its
        max_length. initial_collect_steps: random-policy warm-up steps.
      collect_steps_per_iteration: agent steps per train step.
    Training
      num_iterations: train steps in all (a resumed run counts those already
        done). batch_size: transitions per train step. iterations_per_call:
        iterations run inside one tf.function call (fewer Python round trips).
    Evaluation and logging
      eval_interval: train steps between evaluations of the greedy policy over
        num_eval_episodes episodes. log_interval: train steps between loss
        records. stop_return: stop early once an evaluation reaches it.
    Checkpoints and export
      checkpoint_interval: train steps between checkpoints (None: only at the
        end; needs root_dir). export_policy: save agent.policy with PolicySaver
        to root_dir/policy. progress: draw a progress bar (steps/s, return).
      live_plot: True draws each evaluation's average return as training runs
        (rlbook.widgets.live.LiveCurve: at most one redraw a second, the final
        curve kept in the notebook); a LiveCurve adds this run to it.

    Returns a TrainResult with the agent, the History, the environments, the
    replay buffer, the final train step, env steps, ``resumed_from`` (the
    counters found in the checkpoint, or None on a fresh start) and the device.
    """
    import numpy as np
    import tensorflow as tf
    from tf_agents.drivers import dynamic_episode_driver, dynamic_step_driver
    from tf_agents.environments import tf_py_environment
    from tf_agents.eval import metric_utils
    from tf_agents.metrics import tf_metrics
    from tf_agents.policies import policy_saver, random_tf_policy
    from tf_agents.utils import common

    from rlbook.device import describe
    from rlbook.progress import progress as progress_bar

    _positive(num_iterations=num_iterations, batch_size=batch_size,
              iterations_per_call=iterations_per_call, eval_interval=eval_interval,
              num_eval_episodes=num_eval_episodes, log_interval=log_interval,
              collect_steps_per_iteration=collect_steps_per_iteration,
              replay_buffer_capacity=replay_buffer_capacity,
              checkpoint_interval=checkpoint_interval)
    if initial_collect_steps < 2:
        raise ValueError("initial_collect_steps must be at least 2 (a transition needs two "
                         f"time steps), got {initial_collect_steps}")
    if checkpoint_interval and root_dir is None:
        raise ValueError("checkpoint_interval needs a root_dir to write checkpoints into")
    from rlbook.widgets.live import live_curve

    live = live_curve(live_plot, title=f"DQN on {env_name}", xlabel="Train step",
                      ylabel="Average return", window=1, target=stop_return)
    started = time.perf_counter()
    device = describe()
    tf.random.set_seed(seed)
    np.random.seed(seed)

    atari = is_atari(env_name)
    train_env = tf_py_environment.TFPyEnvironment(load_env(env_name, max_episode_steps, seed))
    eval_env = tf_py_environment.TFPyEnvironment(load_env(env_name, max_episode_steps, seed + 1))
    train_step = tf.Variable(0, dtype=tf.int64, name="train_step")
    net = (nature_q_network if atari else dense_q_network)(
        train_env.observation_spec(), train_env.action_spec(), fc_layer_params=fc_layer_params)
    epsilon = (epsilon_schedule(train_step, 1.0, epsilon_greedy, epsilon_decay_steps)
               if epsilon_decay_steps else epsilon_greedy)
    agent = dqn_agent(train_env.time_step_spec(), train_env.action_spec(), net,
                      make_optimizer(optimizer, learning_rate), gamma=gamma,
                      epsilon_greedy=epsilon, target_update_period=target_update_period,
                      td_errors_loss_fn=make_loss(td_errors_loss_fn),
                      train_step_counter=train_step)
    buffer = make_replay_buffer(replay_buffer, agent.collect_data_spec, train_env.batch_size,
                                replay_buffer_capacity)
    train_metrics = [tf_metrics.NumberOfEpisodes(), tf_metrics.EnvironmentSteps(),
                     tf_metrics.AverageReturnMetric(), tf_metrics.AverageEpisodeLengthMetric()]

    root = Path(root_dir) if root_dir is not None else None
    checkpointer = None
    history = History()
    if root is not None:
        root.mkdir(parents=True, exist_ok=True)
        # Restores the latest checkpoint, if any, as it is built.
        checkpointer = common.Checkpointer(
            ckpt_dir=str(root / "train"), max_to_keep=1, agent=agent, policy=agent.policy,
            replay_buffer=buffer, global_step=train_step,
            metrics=metric_utils.MetricsGroup(train_metrics, "train_metrics"))
        history = History.load(root / "history.json").up_to(int(train_step.numpy()))
    start_step = int(train_step.numpy())
    resumed_from = None
    if start_step > 0:
        resumed_from = dict(train_step=start_step, replay_frames=int(buffer.num_frames()),
                            env_steps=int(train_metrics[1].result()),
                            episodes=int(train_metrics[0].result()))

    # Warm-up: a random policy fills the buffer (skipped when it was restored).
    missing = initial_collect_steps - int(buffer.num_frames())
    if missing > 0:
        random_policy = random_tf_policy.RandomTFPolicy(train_env.time_step_spec(),
                                                        train_env.action_spec())
        warmup = dynamic_step_driver.DynamicStepDriver(
            train_env, random_policy, observers=[buffer.add_batch], num_steps=missing)
        common.function(warmup.run)()

    collect_driver = dynamic_step_driver.DynamicStepDriver(
        train_env, agent.collect_policy, observers=[buffer.add_batch, *train_metrics],
        num_steps=collect_steps_per_iteration)

    @common.function(autograph=True)  # tf.range below becomes a graph loop
    def train_iterations(n):
        loss = tf.constant(0.0)
        for _ in tf.range(n):
            collect_driver.run()
            # num_steps=2: each sample is one transition (s, a, r, s').
            experience, _ = buffer.get_next(sample_batch_size=batch_size, num_steps=2)
            loss = agent.train(experience).loss
        return loss

    eval_return = tf_metrics.AverageReturnMetric(buffer_size=num_eval_episodes)
    eval_driver = dynamic_episode_driver.DynamicEpisodeDriver(
        eval_env, agent.policy, observers=[eval_return], num_episodes=num_eval_episodes)
    eval_run = common.function(eval_driver.run)

    def evaluate():
        eval_return.reset()
        eval_env.reset()
        eval_run()
        return float(eval_return.result())

    def save_checkpoint(step):
        # History first: on resume it is cut back to the checkpoint's step.
        history.save(root / "history.json")
        checkpointer.save(global_step=step)

    bar = progress_bar(total=num_iterations, initial=start_step, desc=env_name, unit="step",
                       disable=not progress)
    intervals = [eval_interval, log_interval] + ([checkpoint_interval] if checkpoint_interval else [])
    step, solved_at = start_step, None
    if step == 0 and eval_interval:
        history.record_eval(0, evaluate(), int(train_metrics[1].result()),
                            time.perf_counter() - started)
    if live is not None:  # a resumed run shows its evaluations so far too
        for eval_step, avg in zip(history.eval_steps, history.average_returns):
            live.add(avg, x=eval_step)
    while step < num_iterations:
        # Run up to the next boundary where Python has something to do.
        boundary = min([num_iterations] + [(step // k + 1) * k for k in intervals])
        n = min(iterations_per_call, boundary - step)
        loss = float(train_iterations(tf.constant(n, dtype=tf.int64)))
        step = int(train_step.numpy())
        bar.update(n)
        if not np.isfinite(loss):
            raise FloatingPointError(f"the loss became {loss} at train step {step}; "
                                     "try a smaller learning_rate")
        if step % log_interval == 0:
            history.record_loss(step, loss)
            bar.set_postfix(loss=f"{loss:.3g}", avg_return=_last(history.average_returns),
                            refresh=False)
        if step % eval_interval == 0 or step == num_iterations:
            avg = evaluate()
            history.record_eval(step, avg, int(train_metrics[1].result()),
                                time.perf_counter() - started)
            bar.set_postfix(loss=f"{loss:.3g}", avg_return=f"{avg:.1f}", refresh=False)
            if live is not None:
                live.add(avg, x=step)
            if stop_return is not None and avg >= stop_return:
                solved_at = step
        if checkpointer is not None and checkpoint_interval and step % checkpoint_interval == 0:
            save_checkpoint(step)
        if solved_at is not None:
            break
    bar.close()
    if live is not None:
        live.flush()
    if checkpointer is not None:
        save_checkpoint(step)
    policy_dir = None
    if export_policy and root is not None:
        policy_dir = root / "policy"
        policy_saver.PolicySaver(agent.policy, batch_size=None).save(str(policy_dir))
    return TrainResult(agent=agent, history=history, train_env=train_env, eval_env=eval_env,
                       replay_buffer=buffer, train_step=step,
                       env_steps=int(train_metrics[1].result()),
                       episodes=int(train_metrics[0].result()), resumed_from=resumed_from,
                       device=device, wall_s=time.perf_counter() - started,
                       policy_dir=policy_dir, solved_at=solved_at)


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
