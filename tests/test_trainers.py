"""The three trainers speak one vocabulary: same names for the same ideas, one result core."""

import inspect
import re

from rlbook.dqn import DQNResult, train_dqn
from rlbook.pg import ReinforceResult, train_reinforce
from rlbook.tfagents_train import TrainEvalResult, train_eval
from rlbook.training import TD_ERRORS_LOSSES, TrainResult

import pytest

TRAINERS = {"train_dqn": train_dqn, "train_reinforce": train_reinforce,
            "train_eval": train_eval}
# Every trainer takes these, under these names.
SHARED = ("env", "gamma", "max_episode_steps", "fc_layer_params", "optimizer",
          "learning_rate", "seed", "progress", "live_plot")
# The two DQN trainers also share these.
DQN_SHARED = ("td_errors_loss_fn", "replay_buffer_capacity", "batch_size",
              "target_update_period", "eval_interval", "num_eval_episodes")
# Names one trainer or another used for an idea above before they were unified.
RETIRED = ("env_id", "env_name", "discount_factor", "max_steps", "n_max_steps",
           "hidden_units", "n_hidden", "loss", "buffer_capacity", "eval_episodes",
           "n_episodes", "n_iterations", "n_episodes_per_update", "epsilon_episodes")


def parameters(trainer):
    return inspect.signature(trainer).parameters


@pytest.mark.parametrize("name", SHARED)
def test_every_trainer_takes_the_shared_argument(name):
    missing = [trainer for trainer, fn in TRAINERS.items() if name not in parameters(fn)]
    assert missing == [], f"{name} is missing from {missing}"


@pytest.mark.parametrize("name", DQN_SHARED)
def test_both_dqn_trainers_take_the_same_argument(name):
    assert name in parameters(train_dqn) and name in parameters(train_eval)


def test_no_trainer_keeps_a_retired_name():
    kept = {trainer: sorted(set(parameters(fn)) & set(RETIRED))
            for trainer, fn in TRAINERS.items()}
    assert kept == {trainer: [] for trainer in TRAINERS}


def test_the_environment_comes_first_and_the_rest_by_keyword():
    # train_eval keeps TF-Agents' root_dir in front of it.
    for trainer, fn in TRAINERS.items():
        names = list(parameters(fn))
        assert names.index("env") == (1 if trainer == "train_eval" else 0), trainer
        for name in SHARED[1:]:
            assert parameters(fn)[name].kind is inspect.Parameter.KEYWORD_ONLY, (trainer, name)


def test_the_dqn_trainers_default_to_the_same_loss_names():
    for fn in (train_dqn, train_eval):
        assert parameters(fn)["td_errors_loss_fn"].default in TD_ERRORS_LOSSES


def test_every_result_shares_the_core():
    core = {"returns", "model", "config", "seconds"}
    for result in (DQNResult, ReinforceResult, TrainEvalResult):
        assert issubclass(result, TrainResult)
        assert core <= set(result.__dataclass_fields__), result
        assert callable(result.plot) and isinstance(result.xlabel, str)
    labels = {DQNResult.xlabel, ReinforceResult.xlabel, TrainEvalResult.xlabel}
    assert labels == {"Episode", "Iteration", "Train step"}


def documented(doc):
    """Argument names of a Google-style ``Args:`` section (``a, b:`` documents both)."""
    args = doc.split("\nArgs:\n", 1)[1].split("\n\n", 1)[0]
    names = re.findall(r"^    ([\w, ]+):", args, re.M)
    return {name.strip() for group in names for name in group.split(",")}


def test_every_trainer_documents_each_argument_in_one_style():
    for trainer, fn in TRAINERS.items():
        doc = inspect.getdoc(fn)
        assert "\nArgs:\n" in doc and "\nReturns:\n" in doc, trainer
        undocumented = [name for name in parameters(fn) if name not in documented(doc)]
        assert undocumented == [], f"{trainer} does not document {undocumented}"


def test_the_core_plots_any_result_the_same_way():
    import matplotlib

    matplotlib.use("Agg")
    import numpy as np

    for result, xlabel in ((DQNResult(returns=np.arange(40.0)), "Episode"),
                           (ReinforceResult(returns=np.arange(5.0)), "Iteration")):
        ax = result.plot(target=200)
        assert ax.get_xlabel() == xlabel
        np.testing.assert_array_equal(ax.lines[0].get_xdata(), np.arange(1, len(result) + 1))
    with pytest.raises(ValueError, match="no returns yet"):
        DQNResult(returns=np.zeros(0)).plot()
