"""Chapter 03: drag the discount factor and watch the optimal policy change.

The widget solves the chapter's 3-state MDP with Q-value iteration for the
gamma on a slider, shows the Q-table and the greedy policy, and marks the
gammas where the greedy policy changes (in the book's MDP: s1 stops staying
put and goes through the fire a little below gamma 0.95).

The solver is a parameter so the chapter can pass the learner's own
``q_value_iteration``; the default here is private on purpose, so that the
graded exercise cannot be answered by importing it from rlbook.
"""

import html
from typing import NamedTuple

from rlbook.widgets.display import figure_png, show

import numpy as np

# The MDP of the book (Bellman, 1957), indexed [s][a][s']; None = impossible.
_TRANSITION_PROBABILITIES = [
    [[0.7, 0.3, 0.0], [1.0, 0.0, 0.0], [0.8, 0.2, 0.0]],
    [[0.0, 1.0, 0.0], None, [0.0, 0.0, 1.0]],
    [None, [0.8, 0.1, 0.1], None],
]
_REWARDS = [
    [[+10, 0, 0], [0, 0, 0], [0, 0, 0]],
    [[0, 0, 0], [0, 0, 0], [0, 0, -50]],
    [[0, 0, 0], [+40, 0, 0], [0, 0, 0]],
]
_POSSIBLE_ACTIONS = [[0, 1, 2], [0, 2], [1]]
_FIRE = (1, 2)  # (state, action) that the chapter calls "through the fire"
_CELL = "padding:2px 10px;text-align:right"
_GREEDY = ";font-weight:bold;background:#cfe8cf"


def _q_value_iteration(transition_probabilities, rewards, possible_actions, gamma,
                       n_iterations):
    """Vectorised Bellman optimality sweeps from Q = 0 (-inf for impossible actions)."""
    n_states, n_actions = len(transition_probabilities), len(transition_probabilities[0])
    n_next = next(len(row) for rows in transition_probabilities for row in rows if row)
    probabilities = np.zeros((n_states, n_actions, n_next))
    for state, actions in enumerate(possible_actions):
        for action in actions:
            probabilities[state, action] = transition_probabilities[state][action]
    reward = np.asarray(rewards, dtype=np.float64)
    possible = np.zeros((n_states, n_actions), dtype=bool)
    for state, actions in enumerate(possible_actions):
        possible[state, actions] = True
    q_values = np.where(possible, 0.0, -np.inf)
    for _ in range(n_iterations):
        next_values = q_values.max(axis=1)
        expected = (probabilities * (reward + gamma * next_values)).sum(axis=2)
        q_values = np.where(possible, expected, -np.inf)
    return q_values


class Flip(NamedTuple):
    """A gamma where the greedy action of ``state`` changes from ``before`` to ``after``."""
    gamma: float
    state: int
    before: int
    after: int


def greedy_policy(q_values):
    return [int(a) for a in np.argmax(q_values, axis=1)]


def policy_flips(solve, low, high, n_grid=40, tolerance=1e-7):
    """Every gamma in (low, high) where the greedy policy of ``solve(gamma)`` changes.

    A grid of ``n_grid`` steps finds the intervals where the policy differs at
    the two ends; bisection then narrows each to ``tolerance``. Two changes
    closer together than one grid step would be missed.
    """
    grid = np.linspace(low, high, n_grid + 1)
    policies = [greedy_policy(solve(g)) for g in grid]
    flips = []
    for left, right, p_left, p_right in zip(grid, grid[1:], policies, policies[1:], strict=False):
        for state in np.flatnonzero(np.array(p_left) != np.array(p_right)):
            a, b = float(left), float(right)
            while b - a > tolerance:
                middle = (a + b) / 2
                if greedy_policy(solve(middle))[state] == p_left[state]:
                    a = middle
                else:
                    b = middle
            flips.append(Flip((a + b) / 2, int(state), p_left[state], p_right[state]))
    return sorted(flips)


class GammaExplorer:
    """A gamma slider over an MDP: Q-table, greedy policy and where the policy flips.

    solver: ``solver(transition_probabilities, rewards, possible_actions, gamma,
        n_iterations)`` returning the Q-table [state, action], as in the
        chapter's exercise; default: a private copy of Q-value iteration.
    transition_probabilities, rewards, possible_actions: the MDP, indexed
        [s][a][s']; default: the chapter's 3-state MDP.
    gamma: the slider's starting value; gamma_range: its (low, high) ends,
        with 0 < low < high < 1; step: the slider's step.
    n_iterations: sweeps per solve (50, as in the chapter's reference table).

    Parts, for tests and for embedding: ``slider``, ``summary`` (HTML: policy,
    Q-table, flips), ``plot`` (Image of Q(s, a) against gamma for the state
    that flips) and ``widget`` (the whole box).
    """

    def __init__(self, solver=None, transition_probabilities=None, rewards=None,
                 possible_actions=None, gamma=0.90, gamma_range=(0.80, 0.99),
                 step=0.005, n_iterations=50):
        import ipywidgets

        mdp = (transition_probabilities, rewards, possible_actions)
        if all(part is None for part in mdp):
            mdp = (_TRANSITION_PROBABILITIES, _REWARDS, _POSSIBLE_ACTIONS)
        elif any(part is None for part in mdp):
            raise ValueError("pass all three of transition_probabilities, rewards and "
                             "possible_actions, or none of them for the chapter's MDP")
        self.transition_probabilities, self.rewards, self.possible_actions = mdp
        self.solver = _q_value_iteration if solver is None else solver
        if not callable(self.solver):
            raise TypeError("solver must be a function such as q_value_iteration("
                            "transition_probabilities, rewards, possible_actions, gamma, "
                            f"n_iterations), got {type(solver).__name__}")
        low, high = _check_range(gamma_range)
        if not isinstance(gamma, (int, float, np.floating)):
            raise TypeError(f"gamma must be a number, got {type(gamma).__name__}")
        if not low <= gamma <= high:
            raise ValueError(f"gamma {gamma} lies outside gamma_range ({low}, {high})")
        if not (isinstance(n_iterations, (int, np.integer)) and n_iterations >= 1):
            raise ValueError(f"n_iterations must be a positive integer, got {n_iterations!r}")
        if not 0 < step < high - low:
            raise ValueError(f"step must be between 0 and high - low = {high - low}, got {step}")
        self.n_iterations = int(n_iterations)
        self.gamma_range = (low, high)

        try:
            first = self.solve(gamma)
        except NotImplementedError:
            name = getattr(self.solver, "__name__", "the solver")
            raise NotImplementedError(f"{name} is not written yet: finish its exercise "
                                      "and run this cell again") from None
        self._check_solver_output(first)
        self.flips = policy_flips(self.solve, low, high)
        self.watched_state = self.flips[0].state if self.flips else 0
        # The curves behind the plot, computed once; the slider only moves a line.
        self._gammas = np.linspace(low, high, 60)
        self._curves = np.array([self.solve(g)[self.watched_state] for g in self._gammas])

        self.slider = ipywidgets.FloatSlider(
            value=gamma, min=low, max=high, step=step, readout_format=".3f",
            description="gamma", continuous_update=False,
            layout=ipywidgets.Layout(width="520px"))
        self.summary = ipywidgets.HTML()
        self.plot = ipywidgets.Image(format="png")
        self.widget = ipywidgets.VBox(
            [self.slider, ipywidgets.HBox([self.summary, self.plot])],
            layout=ipywidgets.Layout(border="1px solid #ddd", padding="6px"))
        self.widget.add_class("rlbook-gamma")
        self.slider.observe(lambda change: self.update(), names="value")
        self.update()

    # -- computing ---------------------------------------------------------
    def solve(self, gamma):
        q_values = self.solver(self.transition_probabilities, self.rewards,
                               self.possible_actions, float(gamma), self.n_iterations)
        return np.asarray(q_values, dtype=np.float64)

    def _check_solver_output(self, q_values):
        n_states = len(self.transition_probabilities)
        if q_values.ndim != 2 or q_values.shape[0] != n_states:
            raise ValueError(f"the solver should return a Q-table of shape [{n_states}, "
                             f"n_actions], got shape {q_values.shape}")

    @property
    def gamma(self):
        return float(self.slider.value)

    @property
    def q_values(self):
        return self._q_values

    @property
    def policy(self):
        return greedy_policy(self._q_values)

    # -- drawing -----------------------------------------------------------
    def update(self):
        self._q_values = self.solve(self.gamma)
        self.summary.value = self.summary_html()
        self.plot.value = figure_png(self.figure())

    def flip_text(self, flip):
        text = (f"s{flip.state} switches from a{flip.before} to a{flip.after} "
                f"at gamma ≈ {flip.gamma:.4f}")
        if self._is_book_mdp() and (flip.state, flip.after) == _FIRE:
            text = (f"s1 goes through the fire from gamma ≈ {flip.gamma:.4f} "
                    f"(a{flip.before} → a{flip.after})")
        return text

    def summary_html(self):
        q_values, policy = self._q_values, self.policy
        header = "".join(f"<th>a{a}</th>" for a in range(q_values.shape[1]))
        rows = []
        for state, row in enumerate(q_values):
            cells = []
            for action, value in enumerate(row):
                if not np.isfinite(value):
                    cells.append(f"<td style='{_CELL};color:#999'>impossible</td>")
                else:
                    # Four decimals to read; hovering shows eight.
                    greedy = _GREEDY if action == policy[state] else ""
                    cells.append(f"<td style='{_CELL}{greedy}' title='{value:.8f}'>"
                                 f"{value:.4f}</td>")
            rows.append(f"<tr><th>s{state}</th>{''.join(cells)}</tr>")
        policy_text = ", ".join(f"s{s}: a{a}" for s, a in enumerate(policy))
        flips = "".join(
            f"<li>{'➜ ' if self.gamma >= flip.gamma else ''}"
            f"{html.escape(self.flip_text(flip))}</li>"
            for flip in self.flips) or "<li>no change of policy in this range</li>"
        return (
            f"<div class='rlbook-gamma-summary' style='font-family:monospace;padding-right:12px'>"
            f"<b>gamma = {self.gamma:.3f}</b>, {self.n_iterations} sweeps<br>"
            f"<span class='rlbook-policy'>greedy policy: [{policy_text}]</span>"
            f"<table style='border-collapse:collapse;margin:6px 0'>"
            f"<tr><th></th>{header}</tr>{''.join(rows)}</table>"
            f"policy changes (➜ = already crossed):<ul style='margin:2px 0'>{flips}</ul></div>")

    def figure(self):
        """Q(s, a) of the watched state against gamma, a line at the slider's gamma."""
        # A bare Figure, not pyplot's: the inline backend never shows it twice.
        from matplotlib.figure import Figure

        figure = Figure(figsize=(5.2, 3.2))
        ax = figure.subplots()
        state = self.watched_state
        for action in range(self._curves.shape[1]):
            if np.isfinite(self._curves[:, action]).all():
                label = f"Q(s{state}, a{action})"
                if self._is_book_mdp() and (state, action) == _FIRE:
                    label += ": through the fire"
                ax.plot(self._gammas, self._curves[:, action], label=label)
        for flip in self.flips:
            if flip.state == state:
                ax.axvline(flip.gamma, color="tab:red", linestyle=":", linewidth=1.5)
                ax.text(flip.gamma, 0.04, f" a{flip.after} from {flip.gamma:.4f} ",
                        transform=ax.get_xaxis_transform(), ha="right", va="bottom",
                        fontsize=8, color="tab:red")
        ax.axvline(self.gamma, color="black", linewidth=1.2, label=f"gamma = {self.gamma:.3f}")
        ax.set_xlabel("discount factor gamma")
        ax.set_ylabel(f"Q-value in s{state} ({self.n_iterations} sweeps)")
        best = greedy_policy(self._q_values)[state]
        ax.set_title(f"gamma {self.gamma:.3f}: best in s{state} is a{best}", fontsize=10)
        ax.legend(fontsize=8, loc="upper left")
        ax.grid(alpha=0.3)
        figure.tight_layout()
        return figure

    def _is_book_mdp(self):
        return (self.possible_actions == _POSSIBLE_ACTIONS
                and np.array_equal(np.asarray(self.rewards, dtype=float),
                                   np.asarray(_REWARDS, dtype=float))
                and all(_same_row(a, b) for s_a, s_b in zip(self.transition_probabilities,
                                                            _TRANSITION_PROBABILITIES, strict=False)
                        for a, b in zip(s_a, s_b, strict=False)))

    def text(self):
        return (f"gamma = {self.gamma:.3f}: greedy policy {self.policy}; "
                + "; ".join(self.flip_text(flip) for flip in self.flips))

    def _ipython_display_(self):
        show(self.widget, static=self.figure(), text=self.text())


def _same_row(a, b):
    if a is None or b is None:
        return a is None and b is None
    return np.allclose(a, b)


def _check_range(gamma_range):
    try:
        low, high = (float(g) for g in gamma_range)
    except (TypeError, ValueError):
        raise ValueError(
            f"gamma_range must be two numbers (low, high), got {gamma_range!r}") from None
    if not 0 < low < high < 1:
        raise ValueError(f"gamma_range must satisfy 0 < low < high < 1 (a discount factor), "
                         f"got ({low}, {high})")
    return low, high


def explore_gamma(solver=None, transition_probabilities=None, rewards=None,
                  possible_actions=None, **options):
    """Build a ``GammaExplorer`` (same arguments); a notebook cell displays it."""
    return GammaExplorer(solver, transition_probabilities, rewards, possible_actions, **options)
