"""rlbook.widgets.cartpole_play: CartPole played by clicking the real ipywidgets buttons."""

import base64

from rlbook import envs
from rlbook.widgets.cartpole_play import CartPolePlay, frame_png
from rlbook.widgets.display import WIDGET_MIME, bundle

import numpy as np
import pytest

# CartPole-v1 after reset(seed=42), from the syllabus.
FIRST_OBSERVATION = [0.0273956, -0.00611216, 0.03585979, 0.0197368]


@pytest.fixture
def game():
    return CartPolePlay("CartPole-v1", seed=42)


def test_starts_from_the_seeded_reset(game):
    np.testing.assert_allclose(game.observation, FIRST_OBSERVATION, atol=1e-7)
    assert game.steps == 0 and game.total_return == 0 and not game.done
    assert bytes(game.image.value).startswith(b"\x89PNG")
    assert "step 0 · return 0" in game.status.value
    assert "x +0.027" in game.status.value and "angle +0.036" in game.status.value


def test_each_click_is_one_step_with_that_action(game):
    reference = envs.make_env("CartPole-v1")
    reference.reset(seed=42)
    first_png = bytes(game.image.value)
    for n, button in enumerate([game.right, game.right, game.right, game.left], start=1):
        button.click()
        expected, _, _, _ = reference.step(1 if button is game.right else 0)
        np.testing.assert_allclose(game.observation, expected)
        assert game.steps == n
        assert game.total_return == n, "CartPole pays +1 per step"
        assert f"step {n} · return {n} ·" in game.status.value
        # The picture is the environment's own frame after this step.
        assert bytes(game.image.value) == frame_png(reference.render(mode="rgb_array"))
    # One push moves the cart by less than a pixel; three make a visible change.
    assert bytes(game.image.value) != first_png, "the frame should change as the cart moves"


def test_the_buttons_lock_when_the_episode_ends_and_reset_unlocks_them(game):
    clicks = 0
    while not game.done:
        game.right.click()  # always right: the pole falls within a few dozen steps
        clicks += 1
        assert clicks < 200, "pushing right forever should end the episode"
    assert game.steps == clicks and game.total_return == clicks
    assert game.left.disabled and game.right.disabled and not game.reset_button.disabled
    assert "episode over" in game.status.value
    # A click on a disabled button in the browser sends nothing; called
    # directly, step() refuses rather than stepping a finished episode.
    with pytest.raises(RuntimeError, match="reset"):
        game.step(1)
    game.reset_button.click()
    assert not game.left.disabled and not game.right.disabled
    assert game.steps == 0 and game.total_return == 0 and not game.done
    assert "episode over" not in game.status.value
    game.left.click()
    assert game.steps == 1


def test_the_same_seed_replays_the_same_game():
    a, b = CartPolePlay(seed=7), CartPolePlay(seed=7)
    for game in (a, b):
        for _ in range(5):
            game.left.click()
    np.testing.assert_array_equal(a.observation, b.observation)
    assert bytes(a.image.value) == bytes(b.image.value)
    other = CartPolePlay(seed=8)
    for _ in range(5):
        other.left.click()
    assert not np.array_equal(a.observation, other.observation)


def test_display_bundle_has_the_widget_and_the_first_frame(game):
    data = bundle(game.widget, game.figure(), game.text())
    assert data[WIDGET_MIME]["model_id"] == game.widget.model_id
    assert base64.b64decode(data["image/png"]).startswith(b"\x89PNG")
    assert "CartPole-v1" in data["text/plain"]


def test_bad_arguments_say_what_is_wrong(game):
    with pytest.raises(ValueError, match="Unknown environment id 'CartPole-v9'"):
        CartPolePlay("CartPole-v9")
    with pytest.raises(ValueError, match="CartPole only"):
        CartPolePlay("MountainCar-v0")
    with pytest.raises(TypeError, match="seed must be an int"):
        CartPolePlay(seed="42")
    with pytest.raises(ValueError, match="action must be 0"):
        game.step(2)
