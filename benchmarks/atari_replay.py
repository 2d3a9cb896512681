"""Atari replay memory: rlbook's frame-once buffer against TFUniformReplayBuffer.

Both hold the same real Breakout trajectories (AtariPreprocessing +
FrameStack4, random play, 84x84x4 uint8 observations). Prints the bytes
each stores per transition (the buffers' own variables divided by their
capacity) and the throughput of sampling batches of 64 transitions
(get_next(sample_batch_size=64, num_steps=2) inside a tf.function, the
buffers taking turns, median of 9 rounds; wall-clock and CPU time). The frame buffer is measured
on its TensorFlow sampling path (gather, then uint32 byte packing).

    nice -n 10 .venv/bin/python benchmarks/atari_replay.py
"""

import argparse
import time

import rlbook  # noqa: F401

import numpy as np
import tensorflow as tf


def stored_bytes(buffer):
    variables = buffer.variables  # a method on TFUniformReplayBuffer, a property on tf.Module
    variables = variables() if callable(variables) else variables
    return sum(int(np.prod(v.shape)) * v.dtype.size for v in variables)


def sampler(buffer):
    sample = tf.function(lambda: buffer.get_next(sample_batch_size=64, num_steps=2)[0].observation)
    sample()  # trace once
    return sample


def sampling_rates(buffers, batches, rounds=9):
    """Batches per second of each buffer, the median over alternating rounds.

    The machine is shared, so the buffers take turns, ``batches // rounds``
    batches at a time: a busy moment slows both rather than one. Also returns
    batches per CPU-second of this process (all its threads), which other
    processes disturb less than wall time.
    """
    samples = [sampler(buffer) for buffer in buffers]
    per_round = max(1, batches // rounds)
    rates = [[] for _ in buffers]
    cpu_rates = [[] for _ in buffers]
    for _ in range(rounds):
        for sample, rate, cpu_rate in zip(samples, rates, cpu_rates, strict=True):
            started, cpu_started = time.perf_counter(), time.process_time()
            for _ in range(per_round):
                sample().numpy()  # .numpy() waits for the batch to exist
            rate.append(per_round / (time.perf_counter() - started))
            cpu_rate.append(per_round / max(time.process_time() - cpu_started, 1e-9))
    return ([float(np.median(rate)) for rate in rates],
            [float(np.median(rate)) for rate in cpu_rates])


def main():
    from rlbook.frame_replay import FrameStackReplayBuffer

    from tf_agents.drivers import dynamic_step_driver
    from tf_agents.environments import suite_atari, tf_py_environment
    from tf_agents.environments.atari_preprocessing import AtariPreprocessing
    from tf_agents.environments.atari_wrappers import FrameStack4
    from tf_agents.policies import random_tf_policy
    from tf_agents.replay_buffers import tf_uniform_replay_buffer
    from tf_agents.specs import tensor_spec
    from tf_agents.trajectories import policy_step, trajectory

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--capacity", type=int, default=5_000)
    parser.add_argument("--batches", type=int, default=450)
    args = parser.parse_args()

    py_env = suite_atari.load("BreakoutNoFrameskip-v4",
                              gym_env_wrappers=[AtariPreprocessing, FrameStack4])
    py_env.seed(0)
    env = tf_py_environment.TFPyEnvironment(py_env)
    policy = random_tf_policy.RandomTFPolicy(env.time_step_spec(), env.action_spec())
    spec = tensor_spec.from_spec(trajectory.from_transition(
        env.time_step_spec(), policy_step.PolicyStep(env.action_spec(), (), ()),
        env.time_step_spec()))
    uniform = tf_uniform_replay_buffer.TFUniformReplayBuffer(spec, batch_size=1,
                                                             max_length=args.capacity)
    frames = FrameStackReplayBuffer(spec, batch_size=1, max_length=args.capacity)
    driver = dynamic_step_driver.DynamicStepDriver(
        env, policy, [uniform.add_batch, frames.add_batch], num_steps=args.capacity)
    tf.function(driver.run)()
    print(f"all buffers hold {int(frames.num_frames())} real Breakout transitions")
    buffers = {"TFUniformReplayBuffer": uniform, "FrameStackReplayBuffer": frames}
    rates, cpu_rates = sampling_rates(list(buffers.values()), args.batches)
    rows = []
    for (name, buffer), rate, cpu_rate in zip(buffers.items(), rates, cpu_rates, strict=True):
        per_item = stored_bytes(buffer) / args.capacity
        rows.append((per_item, rate, cpu_rate))
        print(f"{name:30s} {per_item:9,.0f} bytes/transition  {rate:8.1f} batches of 64/s  "
              f"{cpu_rate:8.1f} per CPU-second")
    (u_bytes, u_rate, u_cpu), (f_bytes, f_rate, f_cpu) = rows
    print(f"memory: {u_bytes / f_bytes:.2f}x smaller ({f_bytes / 1000:.2f} KB per transition, "
          f"goal <= 7.2 KB); sampling: {f_rate / u_rate:.2f}x the uniform buffer's rate "
          f"({f_cpu / u_cpu:.2f}x per CPU-second)")

if __name__ == "__main__":
    main()
