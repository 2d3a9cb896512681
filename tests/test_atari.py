"""The book's Atari ids, offline, through TF-Agents exactly as the book loads them."""

import subprocess
import sys

from rlbook.atari import AtariEnv

import numpy as np
import pytest


def test_ids_exist_in_plain_gym_without_importing_rlbook():
    # gym runs rlbook's entry point on import: no `import rlbook` needed.
    code = ("import gym; ids = gym.envs.registry.env_specs; "
            "print(all(i in ids for i in ('BreakoutNoFrameskip-v4', "
            "'SpaceInvadersNoFrameskip-v4', 'PongNoFrameskip-v4', 'Breakout-v4')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"
    assert "unmaintained" not in out.stderr, "the gym banner should be silenced"


@pytest.mark.parametrize("env_id, n_actions", [("BreakoutNoFrameskip-v4", 4),
                                               ("SpaceInvadersNoFrameskip-v4", 6)])
def test_suite_atari_loads_and_steps_as_the_book_writes_it(env_id, n_actions):
    from tf_agents.environments import suite_atari
    from tf_agents.environments.atari_preprocessing import AtariPreprocessing
    from tf_agents.environments.atari_wrappers import FrameStack4

    env = suite_atari.load(env_id, max_episode_steps=27_000,
                           gym_env_wrappers=[AtariPreprocessing, FrameStack4])
    assert env.observation_spec().shape == (84, 84, 4)
    assert env.observation_spec().dtype == np.uint8
    assert env.action_spec().maximum + 1 == n_actions
    time_step = env.reset()
    rng = np.random.default_rng(0)
    frames_differ = False
    for _ in range(200):
        previous = time_step.observation
        time_step = env.step(np.array(rng.integers(n_actions), dtype=np.int64))
        frames_differ |= not np.array_equal(previous, time_step.observation)
        if time_step.is_last():
            time_step = env.reset()
    assert time_step.observation.shape == (84, 84, 4)
    assert frames_differ, "the screen never changed: the emulator is not running"


def test_breakout_raw_observation_and_action_meanings():
    env = AtariEnv("breakout", frameskip=1)
    obs = env.reset(seed=0)
    assert obs.shape == (210, 160, 3) and obs.dtype == np.uint8
    assert env.get_action_meanings() == ["NOOP", "FIRE", "RIGHT", "LEFT"]
    assert env.lives() == 5


def test_same_seed_same_game():
    def play(seed):
        env = AtariEnv("breakout", frameskip=4, repeat_action_probability=0.25)
        env.reset(seed=seed)
        rng = np.random.default_rng(1)
        return np.stack([env.step(int(rng.integers(4)))[0] for _ in range(60)])

    np.testing.assert_array_equal(play(5), play(5))
    assert not np.array_equal(play(5), play(6)), "another seed should give another game"


def test_clear_errors():
    with pytest.raises(ValueError, match="no ROM named 'breakout2'"):
        AtariEnv("breakout2")
    env = AtariEnv("breakout")
    env.reset()
    with pytest.raises(ValueError, match=r"integer in \[0, 4\)"):
        env.step(7)
    with pytest.raises(ValueError, match="rgb_array"):
        env.render(mode="human")
