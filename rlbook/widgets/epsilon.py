"""Epsilon-schedule explorer: how much of a DQN run is spent acting at random.

The book's schedule is linear, ``epsilon = max(1 - episode / 500, 0.01)``
(``rlbook.exploration.epsilon_schedule``, which ``rlbook.dqn`` trains with).
The explorer draws it, or an exponential
decay that reaches the same floor at the same episode, and prints the
fraction of actions an epsilon-greedy agent draws at random over the run.

>>> from rlbook.widgets.epsilon import epsilon_explorer
>>> epsilon_explorer()          # in a notebook cell: sliders and the curve
"""

import html

from rlbook.checks import check_int
from rlbook.exploration import KINDS, epsilon_curve, random_action_fraction
from rlbook.widgets.display import show

import numpy as np


def _curve(n_episodes, decay_episodes, epsilon_min, kind):
    # The shared schedule, checked under the names the explorer's sliders use.
    check_int("n_episodes", n_episodes)
    check_int("decay_episodes", decay_episodes)
    return epsilon_curve(n_episodes, decay_episodes, epsilon_min, kind)


class EpsilonExplorer:
    """Sliders for the schedule, a plot of epsilon against episode, the fraction.

    ``widget`` is the ipywidgets box; ``controls`` maps each parameter name
    (``n_episodes``, ``decay_episodes``, ``epsilon_min``, ``kind``) to its
    control; ``line`` is the plotted matplotlib line; ``fraction`` the last
    computed random-action fraction. Displaying the explorer (the last line
    of a cell) draws it through ``rlbook.widgets.display.show``.
    """

    def __init__(self, n_episodes=600, decay_episodes=500, epsilon_min=0.01, kind="linear"):
        import ipywidgets as w
        from matplotlib.figure import Figure

        _curve(n_episodes, decay_episodes, epsilon_min, kind)  # checks the arguments
        style = {"description_width": "150px"}
        layout = w.Layout(width="480px")
        self.controls = {
            "kind": w.ToggleButtons(options=KINDS, value=kind, description="decay",
                                    style=style),
            "decay_episodes": w.IntSlider(value=decay_episodes, min=10,
                                          max=max(2_000, decay_episodes), step=10,
                                          description="decay episodes", style=style,
                                          layout=layout, continuous_update=False),
            "epsilon_min": w.FloatSlider(value=epsilon_min, min=0.001,
                                         max=max(0.5, epsilon_min), step=0.001,
                                         readout_format=".3f", description="epsilon_min",
                                         style=style, layout=layout,
                                         continuous_update=False),
            "n_episodes": w.IntSlider(value=n_episodes, min=50, max=max(2_000, n_episodes),
                                      step=10, description="episodes in the run",
                                      style=style, layout=layout, continuous_update=False),
        }
        self.summary = w.HTML()
        self.image = w.Image(format="png")
        self.figure = Figure(figsize=(6.5, 3))
        self.axes = self.figure.add_subplot()
        self.line, = self.axes.plot([], [], color="tab:blue", linewidth=2)
        self.fill = None
        self.axes.set(xlabel="Episode", ylabel="epsilon", ylim=(0, 1.05))
        self.axes.grid(alpha=0.3)
        self.widget = w.VBox([*self.controls.values(), self.summary, self.image])
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        self.update()

    def params(self):
        """The current parameter values, by name."""
        return {name: control.value for name, control in self.controls.items()}

    def _on_change(self, _change):
        self.update()

    def update(self):
        """Recompute the curve and the fraction from the controls and redraw."""
        params = self.params()
        epsilons = _curve(**params)
        self.fraction = random_action_fraction(epsilons)
        episodes = np.arange(len(epsilons))
        self.line.set_data(episodes, epsilons)
        if self.fill is not None:
            self.fill.remove()
        # The shaded area is the fraction: its mean height over the run.
        self.fill = self.axes.fill_between(episodes, epsilons, color="tab:blue", alpha=0.15)
        self.axes.set_xlim(0, len(epsilons))
        self.axes.set_title(f"{params['kind']} decay to {params['epsilon_min']:.3f} "
                            f"over {params['decay_episodes']} episodes")
        self.figure.tight_layout()  # the title changes length
        self.summary.value = (
            f"<b>Expected fraction of random actions: {self.fraction:.3f}</b> "
            f"({html.escape(str(round(self.fraction * 100, 1)))}% of "
            f"{params['n_episodes']} equally long episodes)")
        self.png = self._render()
        self.image.value = self.png

    def _render(self):
        import io

        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", dpi=80)
        return buffer.getvalue()

    def _ipython_display_(self):
        show(self.widget, static=self.png,
             text=f"epsilon explorer; expected fraction of random actions {self.fraction:.3f}")


def epsilon_explorer(**params):
    """The explorer with the book's schedule (or ``params``); a cell's last line shows it."""
    return EpsilonExplorer(**params)


__all__ = ["EpsilonExplorer", "epsilon_explorer"]
