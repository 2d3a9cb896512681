"""The TF-Agents trainer: a real short run, a real SIGKILL and resume, a real export."""

import math
import os
import re
import signal
import subprocess
import sys
import time

from rlbook.tfagents_train import History, TrainEvalResult, train_eval

import numpy as np
import pytest

# Small but real CartPole settings shared by the tests.
SMALL = dict(initial_collect_steps=100, batch_size=32, eval_interval=100, num_eval_episodes=2,
             log_interval=50, progress=False)


def test_short_cartpole_run_returns_finite_losses_and_a_history(tmp_path):
    result = train_eval(None, "CartPole-v0", num_iterations=300, iterations_per_call=25,
                        export_policy=False, **SMALL)
    history = result.history
    assert isinstance(result, TrainEvalResult) and result.agent is result.model
    assert result.train_step == 300
    assert history.loss_steps == [50, 100, 150, 200, 250, 300]
    assert all(math.isfinite(loss) for loss in history.losses)
    assert history.eval_steps == [0, 100, 200, 300]
    assert all(0 < r <= 200 for r in history.average_returns)
    # One collect step per iteration, on top of the warm-up. Drivers and the
    # EnvironmentSteps metric skip the boundary items (LAST -> FIRST) that
    # the buffer also stores, one per finished episode.
    assert result.env_steps == 300
    boundaries = int(np.sum(result.replay_buffer.gather_all().step_type.numpy() == 2))
    assert boundaries >= result.episodes > 0
    assert int(result.replay_buffer.num_frames()) == 400 + boundaries
    assert result.device.startswith(("CPU", "GPU"))
    np.testing.assert_array_equal(result.x, [0, 100, 200, 300])
    np.testing.assert_array_equal(result.returns, history.average_returns)
    assert result.seconds > 0 and result.config["num_iterations"] == 300
    ax = result.plot(target=195)
    assert len(ax.lines) >= 2 and ax.get_xlabel() == "Train step"


def test_bad_hyperparameters_say_what_is_wrong():
    with pytest.raises(ValueError, match="batch_size should be a positive integer, got: 0"):
        train_eval(None, batch_size=0)
    with pytest.raises(TypeError, match="num_iterations should be a positive integer, got: 2.5"):
        train_eval(None, num_iterations=2.5)
    with pytest.raises(ValueError, match="td_errors_loss_fn should be one of 'mse', 'huber'"):
        train_eval(None, td_errors_loss_fn="squared")
    with pytest.raises(ValueError, match="checkpoint_interval needs a root_dir"):
        train_eval(None, checkpoint_interval=10)
    with pytest.raises(ValueError, match="unknown environment id 'CartPol-v0'"):
        train_eval(None, "CartPol-v0", progress=False)


def test_a_notebooks_own_environment_and_network_are_the_ones_trained():
    # Chapters 06 and 07 hand the trainer the learner's pipeline and network.
    from tf_agents.environments import suite_gym
    from tf_agents.networks import q_network

    made = []

    def make_cartpole():
        made.append(suite_gym.load("CartPole-v0"))
        return made[-1]

    def seven_units(observation_spec, action_spec):
        return q_network.QNetwork(observation_spec, action_spec, fc_layer_params=(7,))

    result = train_eval(None, make_cartpole, q_network=seven_units, num_iterations=50,
                        iterations_per_call=25, export_policy=False, **SMALL)
    assert len(made) == 2  # the training and the evaluation environment
    assert result.train_env.pyenv.envs[0] is made[0]
    shapes = [tuple(w.shape) for w in result.agent._q_network.trainable_weights]
    assert shapes == [(4, 7), (7,), (7, 2), (2,)]
    assert result.train_step == 50 and all(math.isfinite(x) for x in result.history.losses)
    with pytest.raises(TypeError, match="env should be a gym id or a function that returns"):
        train_eval(None, lambda: "CartPole-v0", progress=False)
    with pytest.raises(TypeError, match="q_network should be a function"):
        train_eval(None, make_cartpole, q_network=lambda o, a: None, progress=False)


def test_rlbook_hands_over_no_tf_agents_exercise():
    # Chapters 05-07 have the learner build these; rlbook keeps its builders private.
    import rlbook.tfagents
    import rlbook.tfagents_train

    answers = {"load_env", "nature_q_network", "dense_q_network", "dqn_agent",
               "build_agent", "make_collector", "train_iteration", "compute_avg_return",
               "make_atari_env", "build_nature_q_network", "build_atari_agent",
               "make_epsilon_fn", "transition_mask", "make_space_invaders_env",
               "build_q_network", "mean_max_q"}
    for module in (rlbook.tfagents, rlbook.tfagents_train):
        public = {name for name in vars(module) if not name.startswith("_")}
        assert public & answers == set(), module.__name__


def test_the_atari_epsilon_is_the_books_polynomial_decay():
    # The shared TensorFlow-free schedule, stretched so that epsilon reaches
    # epsilon_greedy after epsilon_decay_steps: the book's PolynomialDecay line.
    from rlbook.tfagents_train import _epsilon

    import tensorflow as tf

    step = tf.Variable(0, dtype=tf.int64)
    epsilon = tf.function(_epsilon(step, 0.01, 62_500))
    book = tf.keras.optimizers.schedules.PolynomialDecay(1.0, 62_500, 0.01)
    for at in (0, 6_250, 31_250, 62_499, 62_500, 500_000):
        step.assign(at)
        assert float(epsilon()) == pytest.approx(float(book(at)), abs=1e-6), at
    assert _epsilon(step, 0.1, None) == 0.1


RUN = """
import sys
from rlbook.tfagents_train import train_eval
train_eval(sys.argv[1], "CartPole-v0", num_iterations=1_000_000, checkpoint_interval=100,
           iterations_per_call=50, initial_collect_steps=100, batch_size=32,
           eval_interval=100, num_eval_episodes=2, log_interval=50, progress=False)
"""


def checkpoint_counters(ckpt_dir):
    """Read the step counter, buffer size and env-step metric straight from the files."""
    import tensorflow as tf

    reader = tf.train.load_checkpoint(str(ckpt_dir))
    names = reader.get_variable_to_shape_map()

    def value(*parts):
        matches = [n for n in names if all(p in n for p in parts)]
        assert len(matches) == 1, (parts, sorted(names))
        return int(reader.get_tensor(matches[0]))

    return dict(train_step=value("global_step/"),
                replay_frames=value("replay_buffer/", "_last_id/") + 1,
                env_steps=value("metrics/", "/environment_steps/"),
                episodes=value("metrics/", "/number_episodes/"))


def latest_checkpoint_step(index):
    text = index.read_text() if index.exists() else ""
    found = re.search(r'model_checkpoint_path: "ckpt-(\d+)"', text)
    return int(found.group(1)) if found else 0


def test_a_killed_run_resumes_from_its_last_checkpoint(tmp_path):
    root = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-c", RUN, str(root)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    index = root / "train" / "checkpoint"
    try:
        # Generous: on a shared 2-core machine starting TensorFlow alone can take a minute.
        deadline = time.monotonic() + 400
        # Wait for a second checkpoint, so the kill lands mid-run.
        while time.monotonic() < deadline:
            if latest_checkpoint_step(index) >= 200:
                break
            assert proc.poll() is None, proc.stdout.read().decode()
            time.sleep(0.2)
        else:
            pytest.fail("no second checkpoint was written within 400 s")
        time.sleep(0.5)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL

    saved = checkpoint_counters(root / "train")
    assert saved["train_step"] >= 200 and saved["train_step"] % 100 == 0
    assert saved["replay_frames"] >= 100 + saved["env_steps"] + saved["episodes"]
    history_before = History.load(root / "history.json")

    more = 200
    result = train_eval(root, "CartPole-v0", num_iterations=saved["train_step"] + more,
                        checkpoint_interval=100, iterations_per_call=50, **SMALL)
    assert result.resumed_from == saved
    assert result.train_step == saved["train_step"] + more
    # No warm-up again, one collect step per train step from where it stopped.
    assert result.env_steps == saved["env_steps"] + more
    new_episodes = result.episodes - saved["episodes"]
    assert int(result.replay_buffer.num_frames()) == saved["replay_frames"] + more + new_episodes
    # The evaluations up to the checkpoint are kept, then continue.
    kept = [s for s in history_before.eval_steps if s <= saved["train_step"]]
    assert result.history.eval_steps == kept + [saved["train_step"] + 100,
                                                saved["train_step"] + 200]
    assert checkpoint_counters(root / "train")["train_step"] == result.train_step


PLAY = """
import sys
import rlbook
import numpy as np
import tensorflow as tf
from tf_agents.environments import suite_gym, tf_py_environment
from rlbook import video

policy = tf.saved_model.load(sys.argv[1])
env = tf_py_environment.TFPyEnvironment(suite_gym.load("CartPole-v0"))
time_step, total, steps = env.reset(), 0.0, 0
state = policy.get_initial_state(batch_size=1)
while not time_step.is_last():
    step = policy.action(time_step, state)
    time_step = env.step(step.action)
    total += float(time_step.reward[0])
    steps += 1
from rlbook.tfagents_train import load_policy
clip = video.play(suite_gym.load("CartPole-v0"), load_policy(sys.argv[1]), path=sys.argv[2],
                  max_steps=50)
print("RETURN", total, steps, clip.num_frames, clip.returns[0])
"""


def test_exported_policy_plays_in_a_fresh_process(tmp_path):
    root = tmp_path / "run"
    result = train_eval(root, "CartPole-v0", num_iterations=200, iterations_per_call=50, **SMALL)
    assert (result.policy_dir / "saved_model.pb").exists()
    out = subprocess.run([sys.executable, "-c", PLAY, str(result.policy_dir),
                          str(tmp_path / "clip.mp4")],
                         capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr[-3000:]
    total, steps, frames, clip_return = out.stdout.split("RETURN")[1].split()
    assert float(total) == int(steps) >= 8  # CartPole pays 1 per step
    assert int(frames) >= 9 and float(clip_return) > 0
    assert os.path.getsize(tmp_path / "clip.mp4") > 0


def test_breakout_trains_with_the_frame_buffer_and_resumes(tmp_path):
    from rlbook.tfagents_train import ATARI_HYPERPARAMETERS

    settings = {**ATARI_HYPERPARAMETERS, **dict(
        initial_collect_steps=200, replay_buffer_capacity=1_000, max_episode_steps=100,
        batch_size=8, eval_interval=20, num_eval_episodes=1, log_interval=10,
        iterations_per_call=10, checkpoint_interval=20, export_policy=False, progress=False)}
    first = train_eval(tmp_path, "BreakoutNoFrameskip-v4", num_iterations=20, **settings)
    assert type(first.replay_buffer).__name__ == "FrameStackReplayBuffer"
    assert all(math.isfinite(loss) for loss in first.history.losses)
    assert first.env_steps == 20 * 4  # train every 4 agent steps
    frames = int(first.replay_buffer.num_frames())
    again = train_eval(tmp_path, "BreakoutNoFrameskip-v4", num_iterations=30, **settings)
    assert again.resumed_from["train_step"] == 20
    assert again.resumed_from["replay_frames"] == frames
    assert again.env_steps == 30 * 4
