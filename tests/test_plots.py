from rlbook import plots
from rlbook.plots import plot_q_values
from rlbook.progress import progress

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")


def test_moving_average():
    np.testing.assert_allclose(plots.moving_average([1, 2, 3, 4], 2), [1, 1.5, 2.5, 3.5])
    np.testing.assert_allclose(plots.moving_average([5, 5, 5], 10), [5, 5, 5])
    with pytest.raises(ValueError, match="window"):
        plots.moving_average([1], 0)


def test_learning_curve_draws_raw_and_smoothed_lines():
    values = np.arange(100.0)
    ax = plots.plot_learning_curve(values, label="DQN", window=10, target=195)
    raw, smooth = ax.lines[0], ax.lines[1]
    np.testing.assert_allclose(raw.get_ydata(), values)
    np.testing.assert_allclose(smooth.get_ydata(), plots.moving_average(values, 10))
    assert any(line.get_ydata()[0] == 195 for line in ax.lines[2:])
    assert "DQN" in ax.get_legend().get_texts()[0].get_text()


def test_learning_curve_errors():
    with pytest.raises(ValueError, match="non-empty"):
        plots.plot_learning_curve([])
    with pytest.raises(ValueError, match="xs has 2 entries"):
        plots.plot_learning_curve([1, 2, 3], xs=[1, 2])


def test_progress_counts_every_item():
    bar = progress(range(5), desc="demo", disable=False)
    assert list(bar) == [0, 1, 2, 3, 4]
    assert bar.n == 5 and bar.total == 5

Q = np.array([[18.9, 17.0, 13.6], [0.0, -np.inf, -4.9], [-np.inf, 50.1, -np.inf]])


def test_every_cell_is_labelled_and_impossible_actions_say_so():
    ax = plot_q_values(Q, title="gamma 0.90")
    texts = [t.get_text() for t in ax.texts]
    assert texts == ["18.90", "17.00", "13.60", "0.00", "impossible", "-4.90",
                     "impossible", "50.10", "impossible"]
    assert ax.get_title() == "gamma 0.90"
    image = ax.images[0].get_array()
    assert np.ma.is_masked(image) and image.mask.tolist() == (~np.isfinite(Q)).tolist()


def test_the_greedy_action_of_each_state_is_framed():
    ax = plot_q_values(Q)
    corners = sorted((p.get_x(), p.get_y()) for p in ax.patches
                     if isinstance(p, matplotlib.patches.Rectangle) and not p.get_fill())
    # argmax per row: s0 -> a0, s1 -> a0, s2 -> a1
    assert corners == [(-0.5, -0.5), (-0.5, 0.5), (0.5, 1.5)]


def test_custom_names():
    ax = plot_q_values(Q, state_names=["A", "B", "C"], action_names=["x", "y", "z"])
    assert [t.get_text() for t in ax.get_yticklabels()] == ["A", "B", "C"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["x", "y", "z"]


def test_bad_input_is_explained():
    with pytest.raises(ValueError, match="2-D table"):
        plot_q_values([1.0, 2.0])
    with pytest.raises(ValueError, match="NaN"):
        plot_q_values([[np.nan, 1.0]])
    with pytest.raises(ValueError, match="action_names has 2 names but the table has 3"):
        plot_q_values(Q, action_names=["x", "y"])
