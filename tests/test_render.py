from rlbook import render

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")


def test_plot_frame_shows_the_pixels():
    frame = np.zeros((40, 60, 3), np.uint8)
    frame[10:20, 5:15] = 255
    ax = render.plot_frame(frame, title="box")
    shown = ax.images[0].get_array()
    assert shown.shape == (40, 60, 3)
    assert np.array_equal(np.asarray(shown), frame)
    assert ax.get_title() == "box"


def test_plot_frame_rejects_a_stack_with_a_hint():
    with pytest.raises(ValueError, match="plot_stack"):
        render.plot_frame(np.zeros((84, 84, 4), np.uint8))


def test_stack_to_rgb_tints_old_frames_and_keeps_the_newest_white():
    stack = np.zeros((84, 84, 4), np.uint8)
    stack[0, 0, 3] = 255  # only in the newest frame
    stack[1, 1, 0] = 255  # only in the oldest frame
    rgb = render.stack_to_rgb(stack)
    assert rgb.shape == (84, 84, 3) and rgb.dtype == np.uint8
    assert rgb[0, 0].tolist() == [255, 255, 255]
    oldest = rgb[1, 1]
    assert oldest[2] > oldest[0], "the oldest frame should be tinted blue"
    assert rgb[5, 5].tolist() == [0, 0, 0]


def test_animate_is_self_contained():
    frames = [np.full((20, 30, 3), i * 20, np.uint8) for i in range(6)]
    html = render.animate(frames, fps=10).data
    assert html.count("data:image/png;base64") == 6
    assert "font-awesome" not in html and "https://" not in html
    with pytest.raises(ValueError, match="at least one frame"):
        render.animate([])
