"""Pictures of tabular Q-values: one row per state, one column per action."""

import numpy as np


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
