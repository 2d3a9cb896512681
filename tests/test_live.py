"""rlbook.live: a throttled learning curve updated in place while training runs."""

import base64

from rlbook.live import LiveCurve, live_curve

import nbformat
import numpy as np
import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from nbclient import NotebookClient


class Clock:
    """Time that moves only when told (``now``), plus ``tick`` on every reading."""

    def __init__(self, tick=0.0):
        self.now, self.tick = 0.0, tick

    def __call__(self):
        self.now += self.tick
        return self.now


def test_values_arriving_faster_than_the_interval_are_drawn_once_a_second():
    clock = Clock()
    curve = LiveCurve(min_interval=1.0, clock=clock)
    drew = []
    for i in range(30):          # one value every 0.1 s for 3 s
        clock.now = i * 0.1
        drew.append(curve.add(float(i)))
    assert [i for i, d in enumerate(drew) if d] == [0, 10, 20]
    assert curve.n_draws == 3
    curve.flush()                # values 21..29 are not drawn yet
    assert curve.n_draws == 4
    curve.flush()                # nothing new: no redraw
    assert curve.n_draws == 4


def test_slow_drawings_space_the_next_ones_out():
    # Every reading of this clock takes 1 s, so each drawing "costs" 1 s.
    def draws(n_values, max_share):
        curve = LiveCurve(min_interval=0.0, max_share=max_share, clock=Clock(tick=1.0))
        for i in range(n_values):
            curve.add(i)
        return curve.n_draws

    assert draws(20, max_share=1.0) == 20
    # 1 s drawing, then 9 s of waiting (an add reads the clock once): 1 add in 9 draws.
    assert 9 <= draws(100, max_share=0.1) <= 14


def test_the_final_image_holds_every_value():
    values = np.random.default_rng(0).normal(100, 20, size=80)
    clock = Clock()
    curve = LiveCurve(title="run", min_interval=5.0, clock=clock)
    for value in values:         # all at t=0: only the first value gets drawn
        curve.add(value)
    early = curve.png
    curve.flush()
    assert curve.png != early
    at_once = LiveCurve(title="run", min_interval=5.0, clock=Clock())
    at_once.series[""] = (list(range(1, 81)), [float(v) for v in values])
    at_once.draw()
    assert curve.png == at_once.png, "the final picture should be the curve of all 80 values"
    assert curve.png.startswith(b"\x89PNG")


def test_one_output_is_shown_then_updated_in_place():
    InteractiveShell.instance()  # a real shell and display publisher, as in a kernel
    clock = Clock()
    with capture_output() as captured:
        with LiveCurve(min_interval=1.0, clock=clock) as curve:
            for i in range(25):
                clock.now = i * 0.1
                curve.add(i, series="run A")
    outputs = captured.outputs
    assert len(outputs) == curve.n_draws == 4          # t = 0, 1, 2 and the exit
    assert [o.update for o in outputs] == [False, True, True, True]
    ids = {o.transient["display_id"] for o in outputs}
    assert len(ids) == 1, "every drawing should replace the same output"
    assert base64.b64decode(outputs[-1].data["image/png"]) == curve.png
    assert "25 values" in outputs[-1].data["text/plain"]


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(min_interval=-1), ValueError, "min_interval"),
    (dict(max_share=0), ValueError, "max_share"),
    (dict(window=0), ValueError, "window"),
    (dict(clock="now"), TypeError, "clock"),
])
def test_bad_settings_say_what_is_wrong(kwargs, error, message):
    with pytest.raises(error, match=message):
        LiveCurve(**kwargs)


def test_bad_values_and_live_plot_arguments_are_refused():
    with pytest.raises(TypeError, match="one number"):
        LiveCurve().add("high")
    with pytest.raises(TypeError, match="live_plot should be True, False or"):
        live_curve("yes")
    assert live_curve(False) is None and isinstance(live_curve(True), LiveCurve)


def test_trainers_refuse_a_bad_live_plot():
    from rlbook import pg
    from rlbook.dqn import train_dqn
    from rlbook.tfagents_train import train_eval

    with pytest.raises(TypeError, match="live_plot"):
        pg.train_reinforce("CartPole-v1", num_iterations=1, live_plot="yes", progress=False)
    with pytest.raises(TypeError, match="live_plot"):
        train_dqn(num_episodes=1, live_plot="yes", progress=False)
    with pytest.raises(TypeError, match="live_plot"):
        train_eval(None, live_plot=1, progress=False)


def test_train_dqn_feeds_a_shared_curve_one_series_per_run():
    from rlbook.dqn import train_dqn

    curve = LiveCurve(min_interval=60.0)
    runs = {name: train_dqn(num_episodes=4, warmup_episodes=2, max_episode_steps=30, seed=seed,
                            desc=name, live_plot=curve, progress=False)
            for name, seed in (("A", 0), ("B", 1))}
    for name, result in runs.items():
        assert curve.series[name][1] == list(result.returns)
    assert curve.n_draws == 3 and not curve._dirty  # the first value, then each run's end


def test_train_eval_draws_its_evaluations():
    from rlbook.tfagents_train import train_eval

    curve = LiveCurve(min_interval=0.0)
    result = train_eval(None, "CartPole-v0", num_iterations=200, iterations_per_call=50,
                        initial_collect_steps=100, batch_size=32, eval_interval=100,
                        num_eval_episodes=2, log_interval=50, export_policy=False,
                        progress=False, live_plot=curve)
    xs, values = curve.series[""]
    assert xs == [0, 100, 200] == result.history.eval_steps
    assert values == result.history.average_returns


class RecordingClient(NotebookClient):
    """nbclient's executor, keeping the type of every message the kernel sent."""

    def process_message(self, msg, cell, cell_index):
        self.seen = getattr(self, "seen", []) + [(msg["msg_type"], msg["content"])]
        return super().process_message(msg, cell, cell_index)


def run_in_kernel(*sources):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    client = RecordingClient(notebook, timeout=300, kernel_name="python3")
    client.execute()
    return notebook, client.seen


@pytest.mark.notebook
def test_train_reinforce_draws_live_in_a_kernel_and_leaves_the_final_curve():
    notebook, seen = run_in_kernel(
        "import rlbook\nfrom rlbook import pg\n"
        "history = pg.train_reinforce('CartPole-v1', num_iterations=4, num_episodes_per_update=2,"
        " max_episode_steps=30, seed=1, progress=False, live_plot=True)",
        "print(len(history.returns))")
    kinds = [kind for kind, _ in seen]
    shown = [content for kind, content in seen if kind == "display_data"
             and "image/png" in content["data"]]
    updated = [content for kind, content in seen if kind == "update_display_data"]
    assert len(shown) == 1 and updated, f"expected one display then updates, got {kinds}"
    display_id = shown[0]["transient"]["display_id"]
    assert all(u["transient"]["display_id"] == display_id for u in updated)
    # The saved notebook holds one picture: the last update, with all 4 iterations.
    [output] = [o for o in notebook.cells[0].outputs if o.output_type == "display_data"]
    assert output.data["image/png"] == updated[-1]["data"]["image/png"]
    assert "4 values" in output.data["text/plain"]
    assert base64.b64decode(output.data["image/png"]).startswith(b"\x89PNG")
    assert not [o for o in notebook.cells[0].outputs if o.get("name") == "stderr"]
