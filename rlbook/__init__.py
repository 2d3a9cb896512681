"""rlbook: the plumbing behind the reinforcement-learning workbook.

Import it first, before TensorFlow or gym: it switches TensorFlow to legacy
Keras (TF-Agents and TF-Probability need Keras 2) and makes pygame render
without a screen or a sound card. Importing it loads nothing heavy; the
submodules (``rlbook.envs``, ``rlbook.video``, ...) load on first use.
"""

import importlib
import os
import sys
import warnings

__version__ = "0.1.0"

# These must be set before TensorFlow or pygame is first imported.
_ENV_DEFAULTS = {
    "TF_USE_LEGACY_KERAS": "1",
    "SDL_VIDEODRIVER": "dummy",
    "SDL_AUDIODRIVER": "dummy",
    "PYGAME_HIDE_SUPPORT_PROMPT": "1",
    # TensorFlow's C++ INFO lines land on stderr, which nbgrader counts as a
    # failing test cell; warnings and errors still show.
    "TF_CPP_MIN_LOG_LEVEL": "1",
}
for _name, _value in _ENV_DEFAULTS.items():
    os.environ.setdefault(_name, _value)

if "tensorflow" in sys.modules and os.environ["TF_USE_LEGACY_KERAS"] == "1":
    # Too late if TensorFlow was imported first: tf.keras is already Keras 3.
    _tf_keras = getattr(sys.modules["tensorflow"], "keras", None)
    _dense = getattr(getattr(_tf_keras, "layers", None), "Dense", None)
    if _dense is not None and not _dense.__module__.startswith("tf_keras"):
        warnings.warn(
            "TensorFlow was imported before rlbook, so tf.keras is Keras 3 and "
            "TF-Agents will fail. Restart the kernel and run `import rlbook` "
            "before `import tensorflow`.",
            RuntimeWarning,
            stacklevel=2,
        )

from . import compat  # noqa: E402
from .config import legacy_keras_active, pick, quick_mode, set_seed  # noqa: E402  (light modules)

# tf-agents 0.19 and gym 0.23 under NumPy 2: corrected as their modules load.
compat.install()

def __getattr__(name):
    # Lazy submodules (rlbook.video, rlbook.dqn, ...) keep `import rlbook`
    # fast and TensorFlow-free.
    if not name.startswith("_"):
        try:
            return importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise  # the submodule exists but one of its imports is missing
    raise AttributeError(f"module 'rlbook' has no attribute {name!r}")


__all__ = ["legacy_keras_active", "pick", "quick_mode", "set_seed", "__version__"]
