"""Pictures of training: learning curves and tabular Q-values."""

from rlbook.checks import check_int

import numpy as np


def moving_average(values, window):
    """Trailing mean over ``window`` values (shorter at the start)."""
    values = np.asarray(values, dtype=np.float64)
    window = check_int("window", window)
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
        raise ValueError(f"values should be a non-empty 1-D sequence, got: shape {values.shape}")
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

def plot_q_values(q_values, ax=None, title=None, state_names=None, action_names=None,
                  fmt="{:.2f}"):
    """Draw a Q-table as an annotated heatmap and frame the greedy action of each state.

    Impossible actions (Q = -inf) are drawn grey and labelled "impossible", so
    they are never mistaken for a value of 0. Returns the matplotlib axes.
    """
    import matplotlib.pyplot as plt

    q_values = np.asarray(q_values, dtype=np.float64)
    if q_values.ndim != 2 or q_values.size == 0:
        raise ValueError(
            f"q_values must be a 2-D table [state, action], got shape {q_values.shape}")
    if np.isnan(q_values).any() or np.isposinf(q_values).any():
        raise ValueError("q_values contains NaN or +inf: only -inf (impossible action) "
                         "is allowed besides finite values")
    n_states, n_actions = q_values.shape
    state_names = _names(state_names, n_states, "s", "state_names")
    action_names = _names(action_names, n_actions, "a", "action_names")
    if ax is None:
        _, ax = plt.subplots(figsize=(1.3 * n_actions + 1.5, 0.8 * n_states + 1))

    finite = np.isfinite(q_values)
    shown = np.ma.masked_array(q_values, mask=~finite)
    ax.set_facecolor("lightgray")  # shows through the masked (impossible) cells
    ax.imshow(shown, cmap="RdYlGn", aspect="auto")
    for s in range(n_states):
        for a in range(n_actions):
            text = fmt.format(q_values[s, a]) if finite[s, a] else "impossible"
            ax.text(a, s, text, ha="center", va="center",
                    fontsize=9 if finite[s, a] else 7, color="black")
        if finite[s].any():
            best = int(np.argmax(q_values[s]))
            ax.add_patch(plt.Rectangle((best - 0.5, s - 0.5), 1, 1, fill=False,
                                       edgecolor="black", linewidth=2.5))
    ax.set_xticks(range(n_actions), action_names)
    ax.set_yticks(range(n_states), state_names)
    ax.set_xlabel("action (framed: greedy choice)")
    ax.set_ylabel("state")
    if title:
        ax.set_title(title)
    return ax


def _names(names, count, prefix, argument):
    if names is None:
        return [f"{prefix}{i}" for i in range(count)]
    names = list(names)
    if len(names) != count:
        raise ValueError(f"{argument} has {len(names)} names but the table has {count}")
    return names
