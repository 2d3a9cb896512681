"""A learning curve that redraws while training runs.

``LiveCurve`` is fed one value at a time (an episode's return, an
iteration's mean return, an evaluation) and redraws a PNG of the curve at
most once every ``min_interval`` seconds, plus once more on ``flush()``.
Each PNG replaces the last in the same notebook output through a display
handle (``display_id``): JupyterLab updates the picture in place during the
run, and nbclient/nbconvert apply the same updates to the saved notebook, so
an executed notebook (CI, the grader, the gallery) keeps the final curve as
a plain image. No widget frontend is needed for either.

>>> with LiveCurve(title="REINFORCE", xlabel="Iteration") as live:
...     for iteration in range(150):
...         live.add(mean_return)        # cheap: draws at most once a second

Outside IPython (a plain script) nothing is shown; the PNG is still kept in
``png``.
"""

import base64
import io
import math
import numbers
import time

from rlbook.checks import check_int, check_number

import numpy as np


class LiveCurve:
    """A throttled, self-updating plot of one or more series of values.

    title, xlabel, ylabel: the axes' labels.
    target: a dashed horizontal line (for example 200 for CartPole).
    window: also draw each series' moving average over ``window`` values
        (None: about a twentieth of the points, at least 1; 1: no average).
    min_interval: seconds between two redraws (1.0); 0 redraws on every value.
    max_share: the most of the run's time drawing may take (0.1). Drawing a
        PNG costs 0.05-0.5 s on a busy laptop, so after a slow drawing the
        next one waits longer than ``min_interval``: ``cost * (1 - max_share)
        / max_share`` seconds, so drawing slows training by at most ~10%
        (apart from the first and the final drawing).
    clock: the time source, ``time.monotonic`` by default (tests pass their own).
    """

    def __init__(self, title=None, xlabel="Episode", ylabel="Return", target=None,
                 window=None, min_interval=1.0, max_share=0.1, clock=time.monotonic, dpi=72):
        check_number("min_interval", min_interval, 0)
        check_number("max_share", max_share, 0, 1, low_open=True)
        check_int("window", window, none_ok=True)
        if not callable(clock):
            raise TypeError(f"clock should be a function returning seconds, got: {clock!r}")
        self.title, self.xlabel, self.ylabel = title, xlabel, ylabel
        self.target, self.window, self.min_interval = target, window, float(min_interval)
        self.max_share = float(max_share)
        self.clock, self.dpi = clock, dpi
        self.series = {}          # name -> (xs, values)
        self.n_draws = 0
        self.png = None
        self._next_draw = -math.inf
        self._dirty = False
        self._handle = None

    def add(self, value, x=None, series=None):
        """Append ``value`` (at ``x``, default: the series' next index from 1).

        ``series`` names the curve (several runs can share one plot). Redraws
        if ``min_interval`` seconds passed since the last drawing; returns
        True when it drew.
        """
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            try:
                value = float(np.asarray(value).item())
            except (TypeError, ValueError):
                raise TypeError(f"LiveCurve.add expects one number, got {value!r}") from None
        name = "" if series is None else str(series)
        xs, values = self.series.setdefault(name, ([], []))
        xs.append(len(xs) + 1 if x is None else float(x))
        values.append(float(value))
        self._dirty = True
        if self.clock() >= self._next_draw:
            self.draw()
            return True
        return False

    def flush(self):
        """Draw now if values arrived since the last drawing (call at the end)."""
        if self._dirty:
            self.draw()

    close = flush

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.flush()
        return False

    def draw(self):
        """Render every series to a PNG and show it (in place after the first time)."""
        started = self.clock()
        self.png = self._render()
        self.n_draws += 1
        self._dirty = False
        self._publish()
        finished = self.clock()
        cost = max(0.0, finished - started)
        self._next_draw = finished + max(self.min_interval,
                                         cost * (1 - self.max_share) / self.max_share)

    def _render(self):
        from rlbook.plots import moving_average

        from matplotlib.figure import Figure

        figure = Figure(figsize=(7, 3.2))
        axes = figure.add_subplot()
        several = len(self.series) > 1
        for name, (xs, values) in self.series.items():
            window = self.window or max(1, len(values) // 20)
            # Several runs on one plot: their raw values would hide each other.
            label = f"{name}: last {values[-1]:.1f}" if name else None
            if window > 1:
                smooth = moving_average(values, window)
                if several:
                    axes.plot(xs, smooth, label=f"{label} ({window}-point mean)")
                else:
                    line, = axes.plot(xs, values, alpha=0.25)
                    axes.plot(xs, smooth, color=line.get_color(),
                              label=f"{window}-point moving average")
            else:
                axes.plot(xs, values, marker="o" if len(values) < 30 else None, label=label)
        if self.target is not None:
            axes.axhline(self.target, color="gray", linestyle="--", linewidth=1)
        title = self.title or ""
        if not several and self.series:
            [(_, values)] = self.series.values()
            title = (title + " · " if title else "") + f"last: {values[-1]:.1f}"
        axes.set(xlabel=self.xlabel, ylabel=self.ylabel, title=title)
        axes.grid(alpha=0.3)
        if any(line.get_label() and not line.get_label().startswith("_")
               for line in axes.get_lines()):
            axes.legend(loc="best", fontsize="small")
        # Fixed margins: tight_layout would cost a third of every drawing.
        figure.subplots_adjust(left=0.11, right=0.98, bottom=0.15, top=0.9)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=self.dpi)
        return buffer.getvalue()

    def _bundle(self):
        n = sum(len(values) for _, values in self.series.values())
        return {"image/png": base64.b64encode(self.png).decode("ascii"),
                "text/plain": f"<LiveCurve: {n} values in {len(self.series)} series>"}

    def _publish(self):
        from IPython import get_ipython

        if get_ipython() is None:  # a plain script: nowhere to show it
            return
        from IPython.display import DisplayHandle

        if self._handle is None:
            self._handle = DisplayHandle()
            self._handle.display(self._bundle(), raw=True)
        else:
            self._handle.update(self._bundle(), raw=True)


def live_curve(live_plot, **defaults):
    """What a trainer's ``live_plot`` argument asks for: a LiveCurve or None.

    False/None: no live plot. True: a new ``LiveCurve(**defaults)``.
    A LiveCurve: that one (several runs then share one plot).
    """
    if live_plot is None or live_plot is False:
        return None
    if live_plot is True:
        return LiveCurve(**defaults)
    if isinstance(live_plot, LiveCurve):
        return live_plot
    raise TypeError("live_plot should be True, False or a rlbook.live.LiveCurve, "
                    f"got {type(live_plot).__name__}")
