"""What the three trainers share: their result, the optimizers, the TD losses.

``rlbook.dqn.train_dqn``, ``rlbook.pg.train_reinforce`` and
``rlbook.tfagents_train.train_eval`` each return a subclass of
:class:`TrainResult`, so a notebook reads and plots any of them the same way::

    result.returns        # the learning curve, one value per point
    result.x              # where each value was measured (episode, iteration, train step)
    result.model          # the trained Keras model, or the TF-Agents agent
    result.config         # the arguments of the run
    result.seconds        # its wall-clock time
    result.plot(target=200)

They also take an optimizer and a TD-error loss by the same names
(``make_optimizer``, ``TD_ERRORS_LOSSES``).
"""

from dataclasses import dataclass, field

from rlbook.checks import check_choice, check_number

import numpy as np

OPTIMIZERS = ("adam", "rmsprop")
# "mse": the squared TD error, the book's CartPole loss; "huber": quadratic
# below 1 and linear above, DeepMind's Atari loss (a surprising reward cannot
# blow up a gradient).
TD_ERRORS_LOSSES = ("mse", "huber")


def make_optimizer(optimizer, learning_rate):
    """A Keras optimizer from a name, or the one given.

    Args:
        optimizer: ``"adam"``, ``"rmsprop"`` (the book's Atari settings: rho
            0.95, no momentum, epsilon 1e-5, centered) or a Keras optimizer,
            which is returned as it is (``learning_rate`` is then ignored).
        learning_rate: the learning rate of a named optimizer.
    """
    import tensorflow as tf

    if isinstance(optimizer, tf.keras.optimizers.Optimizer):
        return optimizer
    if not isinstance(optimizer, str):
        raise TypeError(f"optimizer should be one of {OPTIMIZERS} or a Keras optimizer, "
                        f"got: {optimizer!r}")
    check_choice("optimizer", optimizer, OPTIMIZERS)
    learning_rate = check_number("learning_rate", learning_rate, 0, low_open=True)
    if optimizer == "adam":
        return tf.keras.optimizers.Adam(learning_rate=learning_rate)
    return tf.keras.optimizers.RMSprop(learning_rate=learning_rate, rho=0.95, momentum=0.0,
                                       epsilon=1e-5, centered=True)


@dataclass
class TrainResult:
    """The core every trainer's result shares.

    Attributes:
        returns: the learning curve as a float array: episode returns
            (``train_dqn``), mean returns per iteration (``train_reinforce``)
            or average evaluation returns (``train_eval``).
        model: what was trained: a Keras model, or a TF-Agents agent.
        config: the arguments the run used.
        seconds: wall-clock time of the run.
    """

    returns: np.ndarray
    model: object = None
    config: dict = field(default_factory=dict)
    seconds: float = 0.0

    # How the curve is labelled; subclasses say what their points are.
    xlabel = "Episode"
    ylabel = "Return"

    @property
    def x(self):
        """Where each return was measured: 1, 2, 3, ... unless a subclass knows better."""
        return np.arange(1, len(self.returns) + 1)

    def __len__(self):
        return len(self.returns)

    def plot(self, ax=None, target=None, title=None, label=None, window=None):
        """Draw the learning curve with its moving average (``rlbook.plots``); returns the axes."""
        from rlbook.plots import plot_learning_curve

        if len(self.returns) == 0:
            raise ValueError("the result holds no returns yet: train longer (for train_eval, "
                             "for at least eval_interval train steps)")
        return plot_learning_curve(self.returns, xs=self.x, label=label or self.ylabel.lower(),
                                   window=window,
                                   xlabel=self.xlabel, ylabel=self.ylabel, target=target,
                                   ax=ax, title=title)
