"""Replay-buffer size and learning rate: an explorer over recorded DQN runs.

Training a DQN for every click would take minutes, so the curves were
recorded once by ``scripts/record_dqn_sweep.py`` (``rlbook.dqn.train_dqn``
with the book's schedule, one run per setting and seed) into
``rlbook/widgets/data/dqn_sweep.json``. The explorer picks one setting,
draws its curve in colour and the other settings in grey.

>>> from rlbook.widgets.sweeps import sweep_explorer
>>> sweep_explorer()        # in a notebook cell
"""

import datetime
import html
import io
import json
from pathlib import Path

from rlbook.plots import moving_average
from rlbook.widgets.display import show

import numpy as np

DATA_PATH = Path(__file__).resolve().parent / "data" / "dqn_sweep.json"
RECORD_COMMAND = "nice -n 10 .venv/bin/python scripts/record_dqn_sweep.py"
FINAL_WINDOW = 50  # "final return": the mean of the last 50 episodes


def load_sweep(path=None):
    """The recorded sweep as a dict (see scripts/record_dqn_sweep.py)."""
    path = DATA_PATH if path is None else Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"no recorded DQN sweep at {path}. It ships with rlbook; in a source checkout, "
            f"record it with `{RECORD_COMMAND}` (about 15 minutes on 2 CPU cores)")
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON ({exc}); record it again with "
                         f"`{RECORD_COMMAND}`") from None
    missing = [key for key in ("runs", "config", "buffer_capacities", "learning_rates",
                               "seeds") if key not in data]
    if missing or not data["runs"]:
        raise ValueError(f"{path} lacks {missing or ['runs']}: it was not written by "
                         f"scripts/record_dqn_sweep.py; record it again with "
                         f"`{RECORD_COMMAND}`")
    return data


def find_run(data, buffer_capacity, learning_rate, seed):
    """The recorded run for one setting and seed, or a KeyError naming what exists."""
    for run in data["runs"]:
        if (run["buffer_capacity"] == buffer_capacity and run["seed"] == seed
                and np.isclose(run["learning_rate"], learning_rate)):
            return run
    recorded = sorted({(r["buffer_capacity"], r["learning_rate"], r["seed"])
                       for r in data["runs"]})
    raise KeyError(f"no recorded run for buffer_capacity={buffer_capacity}, "
                   f"learning_rate={learning_rate}, seed={seed}; recorded "
                   f"(buffer, lr, seed): {recorded}")


def final_returns(data, window=FINAL_WINDOW):
    """``{(buffer_capacity, learning_rate, seed): mean return of the last window episodes}``."""
    return {(run["buffer_capacity"], run["learning_rate"], run["seed"]):
            float(np.mean(run["returns"][-window:])) for run in data["runs"]}


class SweepExplorer:
    """Toggle buttons for buffer size, learning rate (and seed); the curves.

    ``controls`` maps ``buffer_capacity``, ``learning_rate`` and ``seed`` to
    their ToggleButtons; ``raw_line`` and ``mean_line`` are the selected run's
    episode returns and moving average; ``grey_lines`` the other settings'
    moving averages (same seed); ``caption`` says what the curves are.
    """

    def __init__(self, path=None, window=20, buffer_capacity=2_000, learning_rate=1e-2):
        import ipywidgets as w
        from matplotlib.figure import Figure

        if isinstance(window, bool) or not isinstance(window, int) or window < 1:
            raise ValueError(f"window should be a positive integer, got: {window!r}")
        self.data = load_sweep(path)
        self.window = window
        buffers = sorted(self.data["buffer_capacities"])
        rates = sorted(self.data["learning_rates"])
        seeds = sorted(self.data["seeds"])
        if buffer_capacity not in buffers:
            buffer_capacity = buffers[len(buffers) // 2]
        if not any(np.isclose(learning_rate, rates)):
            learning_rate = rates[-1]
        self.controls = {
            "buffer_capacity": w.ToggleButtons(
                options=[(f"{b:,}", b) for b in buffers], value=buffer_capacity,
                description="buffer size"),
            "learning_rate": w.ToggleButtons(
                options=[(f"{lr:g}", lr) for lr in rates],
                value=rates[int(np.argmin(np.abs(np.array(rates) - learning_rate)))],
                description="learning rate"),
            "seed": w.ToggleButtons(options=seeds, value=seeds[0], description="seed"),
        }
        self.caption = w.HTML()
        self.image = w.Image(format="png")
        self.figure = Figure(figsize=(7.5, 3.6))
        self.axes = self.figure.add_subplot()
        rows = [self.controls["buffer_capacity"], self.controls["learning_rate"]]
        if len(seeds) > 1:
            rows.append(self.controls["seed"])
        self.widget = w.VBox([*rows, self.image, self.caption])
        for control in self.controls.values():
            control.observe(lambda _change: self.update(), names="value")
        self.update()

    def selection(self):
        return {name: control.value for name, control in self.controls.items()}

    def selected_run(self):
        return find_run(self.data, **self.selection())

    def update(self):
        """Redraw for the current selection."""
        chosen = self.selection()
        run = self.selected_run()
        axes = self.axes
        axes.clear()
        self.grey_lines = []
        for other in self.data["runs"]:
            if other is run or other["seed"] != chosen["seed"]:
                continue
            line, = axes.plot(np.arange(1, len(other["returns"]) + 1),
                              moving_average(other["returns"], self.window),
                              color="0.75", linewidth=1)
            self.grey_lines.append(line)
        returns = np.asarray(run["returns"], dtype=np.float64)
        episodes = np.arange(1, len(returns) + 1)
        self.raw_line, = axes.plot(episodes, returns, color="tab:blue", alpha=0.3,
                                   linewidth=0.8, label="episode return")
        self.mean_line, = axes.plot(episodes, moving_average(returns, self.window),
                                    color="tab:blue", linewidth=2.2,
                                    label=f"{self.window}-episode mean")
        for seed in self.data["seeds"]:
            if seed == chosen["seed"]:
                continue
            twin = find_run(self.data, chosen["buffer_capacity"], chosen["learning_rate"], seed)
            axes.plot(episodes[:len(twin["returns"])],
                      moving_average(twin["returns"], self.window)[:len(episodes)],
                      color="tab:orange", linestyle="--", linewidth=1.2,
                      label=f"same setting, seed {seed}")
        cap = self.data["config"].get("max_episode_steps")
        if cap:
            axes.axhline(cap, color="gray", linestyle=":", linewidth=1)
        axes.set(xlabel="Episode", ylabel="Return (with exploration)",
                 title=f"buffer {chosen['buffer_capacity']:,}, learning rate "
                       f"{chosen['learning_rate']:g}, seed {chosen['seed']} "
                       f"(grey: the other settings)")
        axes.grid(alpha=0.3)
        axes.legend(loc="upper left", fontsize="small")
        self.figure.tight_layout()
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", dpi=80)
        self.png = buffer.getvalue()
        self.image.value = self.png
        self.final = float(np.mean(returns[-FINAL_WINDOW:]))
        self.caption.value = self._caption(run)

    def _caption(self, run):
        data, cfg = self.data, self.data["config"]
        date = data.get("date", "?")
        try:
            date = datetime.datetime.fromisoformat(date).date().isoformat()
        except (TypeError, ValueError):
            pass
        n_seeds = len(data["seeds"])
        seeds_note = ("one recorded run per setting" if n_seeds == 1 else
                      f"one recorded run per setting and seed ({n_seeds} seeds)")
        return (
            f"<b>Mean return of the last {FINAL_WINDOW} episodes: {self.final:.1f}</b>"
            f" (seed {run['seed']}, {run.get('seconds', '?')} s to train).<br>"
            f"These are {seeds_note}, recorded with <code>rlbook.dqn.train_dqn</code> "
            f"(rlbook {html.escape(str(data.get('rlbook_version', '?')))}, {html.escape(date)}):"
            f" {cfg.get('num_episodes')} episodes, batch {cfg.get('batch_size')}, "
            f"gamma {cfg.get('gamma')}, epsilon = max(1 - episode / "
            f"{cfg.get('epsilon_decay_episodes')}, {cfg.get('epsilon_min')}), one gradient step "
            f"per episode after episode {cfg.get('warmup_episodes')}. DQN on CartPole "
            f"changes a lot from seed to seed: read a difference between two curves as an "
            f"anecdote, not a ranking.")

    def _ipython_display_(self):
        chosen = self.selection()
        show(self.widget, static=self.png,
             text=(f"DQN sweep explorer: buffer {chosen['buffer_capacity']}, learning rate "
                   f"{chosen['learning_rate']:g}, seed {chosen['seed']}"))


def sweep_explorer(path=None, **options):
    """The explorer over the recorded sweep; a cell's last line shows it."""
    return SweepExplorer(path, **options)
