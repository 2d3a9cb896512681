"""Learning curves."""

import numpy as np


def moving_average(values, window):
    """Trailing mean over ``window`` values (shorter at the start)."""
    values = np.asarray(values, dtype=np.float64)
    if window < 1:
        raise ValueError(f"window must be at least 1, got {window}")
    cumsum = np.cumsum(np.insert(values, 0, 0.0))
    counts = np.minimum(np.arange(1, len(values) + 1), window)
    starts = np.arange(1, len(values) + 1) - counts
    return (cumsum[1:] - cumsum[starts]) / counts


def plot_learning_curve(values, xs=None, label=None, window=None, ax=None,
                        xlabel="Episode", ylabel="Return", target=None, title=None):
    """Plot a noisy series faintly with its moving average on top.

    ``window`` defaults to about a twentieth of the run; ``target`` draws a
    dashed horizontal line (for example 195 for CartPole-v0).
    """
    import matplotlib.pyplot as plt

    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1 or len(values) == 0:
        raise ValueError(f"values must be a non-empty 1-D sequence, got shape {values.shape}")
    xs = np.arange(1, len(values) + 1) if xs is None else np.asarray(xs)
    if len(xs) != len(values):
        raise ValueError(f"xs has {len(xs)} entries but values has {len(values)}")
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.5))
    window = window or max(1, len(values) // 20)
    line, = ax.plot(xs, values, alpha=0.25)
    ax.plot(xs, moving_average(values, window), color=line.get_color(),
            label=label if window == 1 else f"{label or 'mean'} ({window}-point mean)")
    if target is not None:
        ax.axhline(target, color="gray", linestyle="--", linewidth=1)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="best")
    return ax
