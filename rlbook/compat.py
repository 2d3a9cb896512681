"""Corrections that let tf-agents 0.19 and gym 0.23 run under NumPy 2.

tf-agents 0.19 (its last release) and gym 0.23 (the old API it needs) were
written against NumPy 1. NumPy 2 changed two things they rely on:

* NEP 50: ``np.uint8(255) + 1`` now stays uint8 and wraps to 0, where NumPy 1
  promoted it to a wider integer. tf-agents samples a random observation from
  the observation spec to build every network's variables, adding 1 to the
  inclusive upper bound, so any network over uint8 frames (every Atari
  Q-network) fails with "Need minval < maxval". Fixed upstream after 0.19.
* NumPy 2.4 refuses ``int()`` of a one-element array that is not 0-d. The
  categorical head of ``ActorDistributionNetwork`` does exactly that with
  the number of actions. Fixed upstream after 0.19.
* NumPy 2.4 removed ``np.reshape``'s ``newshape=`` keyword, which
  ``ActionDiscretizeWrapper`` passes (deprecated, with a warning, from 2.1).
* NumPy 2.0 removed the ``np.float_`` alias, which gym 0.23's Acrobot uses.

tf-agents 0.19 is never imported by ``import rlbook`` (that must stay light),
so each correction waits for its module: a finder on ``sys.meta_path`` runs
the correction right after Python executes the module, and at once if the
module is already loaded. ``import rlbook`` installs the finder; ``status()``
says what was applied, for ``rlbook doctor``.

Each correction is small, replaces one function with one of our own that
behaves the same on NumPy 1, and is tested by a test that fails without it.
"""

import importlib.abc
import os
import sys
import types
from dataclasses import dataclass, field
from importlib import metadata
from typing import Callable

import numpy as np

# RLBOOK_COMPAT=0 leaves the libraries as released: only to show a defect.
DISABLE_ENV_VAR = "RLBOOK_COMPAT"
NUMPY = tuple(int(part) for part in np.__version__.split(".")[:2])


def _version(distribution):
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def _tf_agents_0_19():
    version = _version("tf-agents") or _version("tf-agents-nightly") or ""
    return version.startswith("0.19.") or version.startswith("0.20.0.dev")


# --- the corrections -----------------------------------------------------------

def _widen_uint8_bounds(tensor_spec):
    """Sample uint8 specs with their bounds held as int64, so maximum + 1 fits."""
    sample_bounded_spec = tensor_spec.sample_bounded_spec

    class _WideBounds:
        # Just what sample_bounded_spec reads from a spec.
        def __init__(self, spec):
            self.shape, self.dtype, self.name = spec.shape, spec.dtype, spec.name
            self.minimum = np.asarray(spec.minimum, dtype=np.int64)
            self.maximum = np.asarray(spec.maximum, dtype=np.int64)

    def sample_bounded_spec_wide(spec, seed=None, outer_dims=None):
        # uint8 is the one narrow integer type tf-agents samples (via int32).
        if np.dtype(spec.dtype.as_numpy_dtype) == np.uint8:
            spec = _WideBounds(spec)
        return sample_bounded_spec(spec, seed=seed, outer_dims=outer_dims)

    sample_bounded_spec_wide.__wrapped__ = sample_bounded_spec
    tensor_spec.sample_bounded_spec = sample_bounded_spec_wide


def _scalar_action_count(module):
    """CategoricalProjectionNetwork's constructor, taking the count with .item().

    The layers and attributes are the ones tf-agents 0.19 builds; only the
    conversion of the action count differs.
    """
    network_class = module.CategoricalProjectionNetwork
    tf, tensor_spec = module.tf, module.tensor_spec

    def __init__(self, sample_spec, logits_init_output_factor=0.1,
                 name="CategoricalProjectionNetwork"):
        counts = np.unique(np.asarray(sample_spec.maximum) - np.asarray(sample_spec.minimum) + 1)
        if counts.size != 1 or counts.item() <= 0:
            raise ValueError(
                "a categorical projection needs the same number (at least 1) of discrete "
                f"actions in every action dimension; the spec gives {counts.tolist()}")
        output_shape = sample_spec.shape.concatenate([int(counts.item())])
        module.network.DistributionNetwork.__init__(
            self, input_tensor_spec=None, state_spec=(),
            output_spec=self._output_distribution_spec(output_shape, sample_spec, name),
            name=name)
        if not tensor_spec.is_bounded(sample_spec):
            raise ValueError(f"sample_spec must be bounded, got {type(sample_spec)}")
        if not tensor_spec.is_discrete(sample_spec):
            raise ValueError(f"sample_spec must be discrete, got {sample_spec}")
        self._sample_spec = sample_spec
        self._output_shape = output_shape
        self._projection_layer = tf.keras.layers.Dense(
            output_shape.num_elements(),
            kernel_initializer=tf.compat.v1.keras.initializers.VarianceScaling(
                scale=logits_init_output_factor),
            bias_initializer=tf.keras.initializers.Zeros(),
            name="logits")

    __init__.__wrapped__ = network_class.__init__
    network_class.__init__ = __init__


def _private_numpy(module, **names):
    """Give one module a NumPy namespace of its own with ``names`` added.

    NumPy itself is not changed: only that module's global ``np`` sees them.
    """
    shim = types.ModuleType("numpy")
    shim.__dict__.update(np.__dict__)
    shim.__dict__.update(names)
    module.np = shim


def _float_alias_for(module):
    _private_numpy(module, float_=np.float64)


def _reshape_with_newshape(module):
    def reshape(a, shape=None, order="C", *, newshape=None, **kwargs):
        # NumPy 2.4 removed the `newshape=` keyword (renamed `shape=`).
        return np.reshape(a, newshape if shape is None else shape, order=order, **kwargs)

    _private_numpy(module, reshape=reshape)


@dataclass
class Correction:
    name: str
    module: str           # applied right after this module is imported
    reason: str
    needed: Callable[[], bool]
    apply: Callable[[types.ModuleType], None]
    state: str = field(default="waiting")  # waiting / applied / not needed / off / failed: ...


CORRECTIONS = [
    Correction(
        "uint8 spec sampling", "tf_agents.specs.tensor_spec",
        "NumPy 2 keeps uint8(255) + 1 in uint8 (0): networks over uint8 frames fail to build",
        lambda: NUMPY >= (2, 0) and _tf_agents_0_19(), _widen_uint8_bounds),
    Correction(
        "categorical action count", "tf_agents.networks.categorical_projection_network",
        "NumPy 2.4 refuses int() of a 1-element array: ActorDistributionNetwork fails",
        lambda: NUMPY >= (2, 4) and _tf_agents_0_19(), _scalar_action_count),
    Correction(
        "reshape(newshape=)", "tf_agents.environments.wrappers",
        "NumPy 2.4 removed np.reshape's newshape= keyword: ActionDiscretizeWrapper fails",
        lambda: NUMPY >= (2, 1) and _tf_agents_0_19(), _reshape_with_newshape),
    Correction(
        "gym Acrobot np.float_", "gym.envs.classic_control.acrobot",
        "NumPy 2 removed np.float_, used by gym 0.23's Acrobot integrator",
        lambda: NUMPY >= (2, 0) and not hasattr(np, "float_"), _float_alias_for),
]


def _run(correction, module):
    try:
        correction.apply(module)
        correction.state = "applied"
    except Exception as exc:  # reported by `rlbook doctor`, never fatal on import
        correction.state = f"failed: {type(exc).__name__}: {exc}"


class _AfterImport(importlib.abc.MetaPathFinder):
    """Runs a correction right after its module is executed."""

    def __init__(self, pending):
        self.pending = pending  # {module name: Correction}

    def find_spec(self, fullname, path, target=None):
        correction = self.pending.get(fullname)
        if correction is None:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        loader = spec.loader
        if loader is None or not hasattr(loader, "exec_module"):
            return None
        pending = self.pending

        class _Loader(importlib.abc.Loader):
            def create_module(self, spec):
                return loader.create_module(spec)

            def exec_module(self, module):
                loader.exec_module(module)
                if pending.pop(fullname, None) is not None:
                    _run(correction, module)

        spec.loader = _Loader()
        return spec


_finder = None


def install():
    """Apply what is needed now and arm the rest; safe to call twice."""
    global _finder
    if _finder is not None:
        return
    disabled = os.environ.get(DISABLE_ENV_VAR) == "0"
    pending = {}
    for correction in CORRECTIONS:
        if not correction.needed():
            correction.state = "not needed"
        elif disabled:
            correction.state = f"off ({DISABLE_ENV_VAR}=0)"
        elif correction.module in sys.modules:
            _run(correction, sys.modules[correction.module])
        else:
            pending[correction.module] = correction
    _finder = _AfterImport(pending)
    sys.meta_path.insert(0, _finder)


def status():
    """``[(name, state, reason)]`` for every correction, for `rlbook doctor`."""
    return [(c.name, c.state, c.reason) for c in CORRECTIONS]
