import matplotlib
import numpy as np
import pytest

from rlbook import plots
from rlbook.progress import progress

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
