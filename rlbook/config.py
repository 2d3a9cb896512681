"""Quick mode and seeding: the two switches every chapter uses."""

import os
import random

import numpy as np

QUICK_ENV_VAR = "RLBOOK_QUICK"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def quick_mode() -> bool:
    """True when training loops should shrink to a CI- and grader-sized run.

    ``RLBOOK_QUICK=1`` turns it on and ``RLBOOK_QUICK=0`` forces it off. When
    the variable is unset, quick mode follows nbgrader: it is on while
    nbgrader validates or autogrades (``NBGRADER_EXECUTION`` is set).
    """
    value = os.environ.get(QUICK_ENV_VAR, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    if value:
        raise ValueError(
            f"{QUICK_ENV_VAR} must be 1/true/yes/on or 0/false/no/off, got {value!r}"
        )
    return bool(os.environ.get("NBGRADER_EXECUTION"))


def pick(full, quick):
    """Return ``quick`` in quick mode and ``full`` otherwise.

    >>> n_iterations = pick(full=20_000, quick=200)
    """
    return quick if quick_mode() else full


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and (if it is loaded) TensorFlow in one call."""
    from rlbook.checks import check_int

    seed = check_int("seed", seed, 0)
    random.seed(seed)
    np.random.seed(seed)
    import sys

    if "tensorflow" in sys.modules:
        sys.modules["tensorflow"].random.set_seed(seed)


def legacy_keras_active() -> bool:
    """True when ``tf.keras`` is Keras 2 (tf_keras), as TF-Agents requires."""
    import tensorflow as tf

    return tf.keras.layers.Dense.__module__.startswith("tf_keras")
