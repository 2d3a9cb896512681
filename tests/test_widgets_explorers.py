"""Chapter 04's explorers, driven through their real ipywidgets controls."""

import json
import subprocess
import sys

from rlbook.exploration import epsilon_curve, epsilon_schedule
from rlbook.widgets.display import WIDGET_MIME
from rlbook.widgets.epsilon import EpsilonExplorer, epsilon_explorer
from rlbook.widgets.sweeps import DATA_PATH, SweepExplorer, load_sweep

import numpy as np
import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.display import display
from IPython.utils.capture import capture_output

from conftest import ROOT

SHELL = InteractiveShell.instance()


def displayed(obj):
    """The mime bundles ``display(obj)`` publishes in a real IPython shell."""
    with capture_output() as captured:
        display(obj)
    return [output.data for output in captured.outputs]


# --- epsilon schedule -------------------------------------------------------------------

def test_the_default_explorer_draws_the_trainers_schedule():
    explorer = epsilon_explorer()
    expected = [epsilon_schedule(e, 500, 0.01) for e in range(600)]
    assert np.allclose(explorer.line.get_ydata(), expected)
    assert np.isclose(explorer.fraction, np.mean(expected))


def test_moving_the_sliders_redraws_the_linear_schedule_and_the_fraction():
    explorer = EpsilonExplorer()
    first_png = explorer.image.value
    explorer.controls["decay_episodes"].value = 300
    explorer.controls["epsilon_min"].value = 0.05
    explorer.controls["n_episodes"].value = 800
    expected = [max(1 - e / 300, 0.05) for e in range(800)]
    assert np.allclose(explorer.line.get_xdata(), np.arange(800))
    assert np.allclose(explorer.line.get_ydata(), expected)
    fraction = sum(expected) / len(expected)
    assert np.isclose(explorer.fraction, fraction)
    assert f"{fraction:.3f}" in explorer.summary.value
    assert explorer.image.value != first_png, "the picture should follow the sliders"


def test_the_exponential_choice_reaches_the_floor_at_the_same_episode():
    explorer = EpsilonExplorer(n_episodes=400, decay_episodes=200, epsilon_min=0.02)
    explorer.controls["kind"].value = "exponential"
    expected = [max(0.02 ** (e / 200), 0.02) for e in range(400)]
    assert np.allclose(explorer.line.get_ydata(), expected)
    assert f"{np.mean(expected):.3f}" in explorer.summary.value
    assert explorer.line.get_ydata()[200] == pytest.approx(0.02)


def test_the_explorer_displays_its_widget_with_a_picture_fallback():
    explorer = EpsilonExplorer()
    [bundle] = displayed(explorer)
    assert bundle[WIDGET_MIME]["model_id"] == explorer.widget.model_id
    assert "image/png" in bundle and f"{explorer.fraction:.3f}" in bundle["text/plain"]


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(kind="cosine"), ValueError, "kind should be one of 'linear', 'exponential'"),
    (dict(epsilon_min=0.0), ValueError, r"epsilon_min should be in \(0, 1\], got: 0.0"),
    (dict(decay_episodes=0), ValueError, "decay_episodes should be a positive integer, got: 0"),
    (dict(n_episodes=2.5), TypeError, "n_episodes should be a positive integer, got: 2.5"),
])
def test_bad_schedule_arguments_say_what_is_wrong(kwargs, error, message):
    with pytest.raises(error, match=message):
        EpsilonExplorer(**kwargs)


def test_the_shared_schedule_checks_its_own_arguments():
    with pytest.raises(ValueError, match="decay_steps should be positive, got: 0"):
        epsilon_curve(10, 0)
    with pytest.raises(TypeError, match="num_steps should be a positive integer, got: 2.5"):
        epsilon_curve(2.5, 100)


# --- recorded buffer-size / learning-rate sweep ------------------------------------------

def test_the_shipped_sweep_covers_its_grid_with_its_config():
    data = json.loads(DATA_PATH.read_text())
    n_settings = len(data["buffer_capacities"]) * len(data["learning_rates"])
    assert len(data["runs"]) == n_settings * len(data["seeds"])
    assert data["config"]["num_episodes"] == len(data["runs"][0]["returns"])
    for key in ("rlbook_version", "date", "machine", "seconds"):
        assert data[key], f"the sweep should record its {key}"


def test_picking_a_setting_highlights_its_recorded_returns():
    data = json.loads(DATA_PATH.read_text())
    explorer = SweepExplorer()
    buffer, rate, seed = (max(data["buffer_capacities"]), min(data["learning_rates"]),
                          data["seeds"][-1])
    explorer.controls["buffer_capacity"].value = buffer
    explorer.controls["learning_rate"].value = rate
    explorer.controls["seed"].value = seed
    [run] = [r for r in data["runs"] if r["buffer_capacity"] == buffer
             and r["learning_rate"] == rate and r["seed"] == seed]
    assert list(explorer.raw_line.get_ydata()) == run["returns"]
    n_settings = len(data["buffer_capacities"]) * len(data["learning_rates"])
    assert len(explorer.grey_lines) == n_settings - 1
    assert f"{np.mean(run['returns'][-50:]):.1f}" in explorer.caption.value
    assert f"seed {seed}" in explorer.caption.value
    assert "one recorded run per setting" in explorer.caption.value
    [bundle] = displayed(explorer)
    assert bundle[WIDGET_MIME]["model_id"] == explorer.widget.model_id
    assert "image/png" in bundle


def test_a_missing_sweep_file_says_how_to_record_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="record_dqn_sweep.py"):
        SweepExplorer(tmp_path / "nothing.json")
    broken = tmp_path / "broken.json"
    broken.write_text('{"runs": []}')
    with pytest.raises(ValueError, match="record it again"):
        load_sweep(broken)


def test_the_recorder_writes_what_the_explorer_reads(tmp_path):
    out = tmp_path / "sweep.json"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "record_dqn_sweep.py"),
                    "--seeds", "3", "--buffers", "100", "--learning-rates", "0.01",
                    "--episodes", "52", "--out", str(out)],
                   check=True, capture_output=True, timeout=300)
    data = load_sweep(out)
    assert data["config"]["num_episodes"] == 52 and data["seeds"] == [3]
    # The recorded config is train_dqn's own: every key is one of its arguments.
    import inspect

    from rlbook.dqn import train_dqn
    assert set(data["config"]) <= set(inspect.signature(train_dqn).parameters)
    explorer = SweepExplorer(out)
    assert len(explorer.raw_line.get_ydata()) == 52
    assert explorer.grey_lines == []
