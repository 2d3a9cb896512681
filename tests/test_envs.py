import os

from rlbook import envs

import numpy as np
import pytest


def test_cartpole_reset_matches_the_syllabus_reference():
    env = envs.make_env("CartPole-v1")
    obs = env.reset(seed=42)
    np.testing.assert_allclose(obs, [0.0273956, -0.00611216, 0.03585979, 0.0197368], rtol=1e-5)


def test_renders_without_a_display(monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    env = envs.make_env("CartPole-v1", seed=0)
    env.reset(seed=0)
    frame = env.render(mode="rgb_array")
    assert frame.shape == (400, 600, 3) and frame.dtype == np.uint8
    assert frame.std() > 0, "the frame should show a cart, not a blank image"
    assert os.environ["SDL_VIDEODRIVER"] == "dummy"


def test_seed_makes_episodes_repeatable():
    def rollout(seed):
        env = envs.make_env("CartPole-v1", seed=seed)
        obs, done, trace = env.reset(seed=seed), False, [env.reset(seed=seed)]
        while not done:
            obs, _, done, _ = env.step(env.action_space.sample())
            trace.append(obs)
        return np.array(trace)

    np.testing.assert_array_equal(rollout(3), rollout(3))
    other = rollout(4)
    assert other.shape != rollout(3).shape or not np.array_equal(other, rollout(3))


def test_unknown_id_suggests_the_right_one():
    with pytest.raises(ValueError) as info:
        envs.make_env("CartPol-v1")
    assert "'CartPole-v1'" in str(info.value)
    assert "registered_ids()" in str(info.value)


def test_non_string_id_is_a_clear_type_error():
    with pytest.raises(TypeError, match="env_id should be a string"):
        envs.make_env(42)
