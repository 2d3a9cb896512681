"""The epsilon-greedy schedule, in one place and without TensorFlow.

The book decays epsilon linearly for its CartPole DQN::

    epsilon = max(1 - episode / 500, 0.01)

``epsilon_schedule`` computes that (and an exponential variant) for a
Python number, a NumPy array of steps, or, with ``xp=tf.math``, a
TensorFlow tensor: TF-Agents evaluates epsilon inside a compiled graph
from the train-step counter. ``rlbook.dqn``, ``rlbook.tfagents_train`` and
the explorer widget (``rlbook.widgets.epsilon``) all call it.
"""

from rlbook.checks import check_choice, check_int, check_number

import numpy as np

KINDS = ("linear", "exponential")


def epsilon_schedule(step, decay_steps, epsilon_min=0.01, kind="linear", xp=np):
    """Epsilon after ``step`` steps (episodes or train steps), starting from 1.0.

    Args:
        step: a number, an array of numbers, or a tensor (with ``xp=tf.math``).
        decay_steps: linear: epsilon falls by ``1 / decay_steps`` a step, so
            it would reach 0 at ``decay_steps``; exponential: epsilon is
            ``epsilon_min ** (step / decay_steps)``, which reaches the floor
            at ``decay_steps`` too, falling fast early and slowly late.
        epsilon_min: the floor epsilon never goes below (0.01 in the book).
        kind: ``"linear"`` (the book's) or ``"exponential"``.
        xp: the module providing ``maximum``: NumPy, or ``tf.math``.

    Returns:
        ``max(decayed, epsilon_min)``: a float for a scalar step, else an
        array or tensor shaped like ``step``.
    """
    check_number("decay_steps", decay_steps, 0, low_open=True)
    check_number("epsilon_min", epsilon_min, 0, 1, low_open=True)
    check_choice("kind", kind, KINDS)
    fraction = step / decay_steps
    decayed = 1.0 - fraction if kind == "linear" else epsilon_min ** fraction
    epsilon = xp.maximum(decayed, epsilon_min)
    return float(epsilon) if np.ndim(step) == 0 and xp is np else epsilon


def epsilon_curve(num_steps, decay_steps, epsilon_min=0.01, kind="linear"):
    """Epsilon for steps ``0 .. num_steps - 1``, as a float array (for plots)."""
    check_int("num_steps", num_steps)
    return epsilon_schedule(np.arange(num_steps), decay_steps, epsilon_min, kind)


def random_action_fraction(epsilons):
    """Expected share of actions drawn at random: the mean epsilon.

    Exact when every episode lasts as long; in CartPole later episodes are
    longer (and more greedy), so the real share of steps is a bit lower.
    """
    epsilons = np.asarray(epsilons, dtype=np.float64)
    if epsilons.ndim != 1 or len(epsilons) == 0:
        raise ValueError(f"epsilons should be a non-empty 1-D array, got: shape {epsilons.shape}")
    return float(epsilons.mean())
