"""Do the frame buffer's writes stay cheap, alone and right after sampling?

A TensorFlow variable whose buffer is still referenced by a read tensor is
copied whole by the next write to it (copy-on-write), and a slice-assign
reads the whole variable. This script times, on a 50,000-frame buffer
(354 MB of frames):

* add: one ``add_batch`` of a Breakout-shaped item,
* sample: one ``get_next(sample_batch_size=64, num_steps=2)``,
* sample + add: both in one ``tf.function``; a hidden copy would show as
  sample + add costing far more than the two apart.

For scale it also times one ``read_value()`` of the frames, a full copy.

    nice -n 10 .venv/bin/python benchmarks/frame_replay_writes.py
"""

import time

import rlbook  # noqa: F401

import numpy as np
import tensorflow as tf


def per_call_ms(fn, calls=200, rounds=3):
    fn()  # trace
    best = []
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(calls):
            fn()
        best.append((time.perf_counter() - started) / calls * 1e3)
    return float(np.median(best))


def main(capacity=50_000):
    from rlbook.frame_replay import FrameStackReplayBuffer

    from tf_agents.environments import suite_atari, tf_py_environment
    from tf_agents.environments.atari_preprocessing import AtariPreprocessing
    from tf_agents.environments.atari_wrappers import FrameStack4
    from tf_agents.specs import tensor_spec
    from tf_agents.trajectories import policy_step, time_step, trajectory

    py_env = suite_atari.load("BreakoutNoFrameskip-v4",
                              gym_env_wrappers=[AtariPreprocessing, FrameStack4])
    py_env.seed(0)
    env = tf_py_environment.TFPyEnvironment(py_env)
    spec = tensor_spec.from_spec(trajectory.from_transition(
        env.time_step_spec(), policy_step.PolicyStep(env.action_spec(), (), ()),
        env.time_step_spec()))
    item = tensor_spec.sample_spec_nest(spec, seed=0, outer_dims=(1,))
    item = item._replace(step_type=tf.fill([1], time_step.StepType.MID))
    buffer = FrameStackReplayBuffer(spec, max_length=capacity)
    for _ in range(10):
        buffer.add_batch(item)
    add = tf.function(lambda buffer=buffer: buffer.add_batch(item))
    sample = tf.function(
        lambda buffer=buffer: buffer.get_next(sample_batch_size=64,
                                              num_steps=2)[0].observation)

    @tf.function
    def sample_then_add(buffer=buffer):
        observation = buffer.get_next(sample_batch_size=64, num_steps=2)[0].observation
        with tf.control_dependencies([observation]):
            buffer.add_batch(item)
        return observation

    a, s, sa = per_call_ms(add), per_call_ms(sample), per_call_ms(sample_then_add)
    print(f"add {a:6.3f} ms  sample {s:6.3f} ms  sample + add {sa:6.3f} ms "
          f"(extra {sa - s - a:+.3f} ms)")
    frames = buffer._frames
    read = per_call_ms(lambda: frames.read_value().numpy(), calls=5)
    print(f"one read_value() of the {frames.shape[0]:,}-frame variable (a full copy): "
          f"{read:.1f} ms")


if __name__ == "__main__":
    main()
