import rlbook
from rlbook import config

import numpy as np
import pytest


@pytest.mark.parametrize("value, expected", [("1", True), ("true", True), ("ON", True),
                                             ("0", False), ("no", False)])
def test_quick_mode_reads_the_variable(monkeypatch, value, expected):
    monkeypatch.setenv("RLBOOK_QUICK", value)
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    assert config.quick_mode() is expected


def test_quick_mode_follows_nbgrader_unless_forced_off(monkeypatch):
    monkeypatch.delenv("RLBOOK_QUICK", raising=False)
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    assert not config.quick_mode()
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert config.quick_mode()
    monkeypatch.setenv("RLBOOK_QUICK", "0")
    assert not config.quick_mode()


def test_quick_mode_rejects_a_typo(monkeypatch):
    monkeypatch.setenv("RLBOOK_QUICK", "quick")
    with pytest.raises(ValueError, match="RLBOOK_QUICK must be"):
        config.quick_mode()


def test_pick(monkeypatch):
    monkeypatch.setenv("RLBOOK_QUICK", "1")
    assert rlbook.pick(full=20_000, quick=200) == 200
    monkeypatch.setenv("RLBOOK_QUICK", "0")
    assert rlbook.pick(full=20_000, quick=200) == 20_000


def test_set_seed_repeats_numpy_and_tensorflow():
    import tensorflow as tf

    rlbook.set_seed(7)
    first = (np.random.rand(3), tf.random.uniform([3]).numpy())
    rlbook.set_seed(7)
    second = (np.random.rand(3), tf.random.uniform([3]).numpy())
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    rlbook.set_seed(8)
    other = (np.random.rand(3), tf.random.uniform([3]).numpy())
    assert not np.array_equal(first[0], other[0]) and not np.array_equal(first[1], other[1])
    with pytest.raises(ValueError, match="seed should be a non-negative integer, got: -1"):
        rlbook.set_seed(-1)
    with pytest.raises(TypeError, match="seed should be a non-negative integer, got: 1.5"):
        rlbook.set_seed(1.5)


def test_rlbook_switches_tensorflow_to_legacy_keras():
    import tensorflow as tf
    import tf_agents  # noqa: F401  (it renames tf.keras; the check must not care)

    assert rlbook.legacy_keras_active()
    assert tf.keras.layers.Dense.__module__.startswith("tf_keras")


def test_importing_tensorflow_first_warns_with_the_fix():
    import subprocess
    import sys

    code = "import tensorflow, tensorflow.keras; import rlbook"
    out = subprocess.run([sys.executable, "-W", "always", "-c", code],
                         capture_output=True, text=True, env={"PATH": "/usr/bin"})
    assert "import rlbook` before `import tensorflow`" in out.stderr
