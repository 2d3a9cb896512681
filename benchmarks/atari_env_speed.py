"""Breakout agent steps per second through the book's preprocessing.

Anchor: the raw emulator (ale-py's ALEInterface stepping BreakoutNoFrameskip
one frame at a time). Measured: suite_atari.load("BreakoutNoFrameskip-v4")
with AtariPreprocessing + FrameStack4, random actions, as the book loads it.
One agent step is 4 emulator frames (frame skip 4), so the fair comparison
is frames per second; the ratio shows what preprocessing and the TF-Agents
wrappers cost.

    .venv/bin/python benchmarks/atari_env_speed.py [--seconds 10]
"""

import argparse
import time

import rlbook  # noqa: F401  (registers nothing heavy; keeps TF in legacy Keras)

import numpy as np


def raw_ale_frames_per_second(seconds):
    import ale_py
    from ale_py import roms

    ale_py.ALEInterface.setLoggerMode(ale_py.LoggerMode.Error)
    ale = ale_py.ALEInterface()
    ale.setInt("random_seed", 0)
    ale.loadROM(roms.get_rom_path("breakout"))
    actions = ale.getMinimalActionSet()
    rng = np.random.default_rng(0)
    frames, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        ale.act(actions[rng.integers(len(actions))])
        frames += 1
        if ale.game_over():
            ale.reset_game()
    return frames / (time.perf_counter() - start)


def book_pipeline_steps_per_second(seconds):
    from tf_agents.environments import suite_atari
    from tf_agents.environments.atari_preprocessing import AtariPreprocessing
    from tf_agents.environments.atari_wrappers import FrameStack4

    env = suite_atari.load("BreakoutNoFrameskip-v4", max_episode_steps=27_000,
                           gym_env_wrappers=[AtariPreprocessing, FrameStack4])
    rng = np.random.default_rng(0)
    actions = [np.array(a, dtype=np.int64) for a in range(env.action_spec().maximum + 1)]
    env.reset()
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        time_step = env.step(actions[rng.integers(len(actions))])
        steps += 1
        if time_step.is_last():
            env.reset()
    return steps / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="time per measurement")
    args = parser.parse_args()
    raw = raw_ale_frames_per_second(args.seconds)
    steps = book_pipeline_steps_per_second(args.seconds)
    print(f"anchor  raw ALE, Breakout, 1 frame per act:          {raw:9.0f} frames/s")
    print(f"book    AtariPreprocessing + FrameStack4 (skip 4):   {steps:9.0f} agent steps/s"
          f" = {4 * steps:.0f} frames/s")
    print(f"ratio   book pipeline frames/s / raw ALE frames/s:   {4 * steps / raw:9.2f}")


if __name__ == "__main__":
    main()
