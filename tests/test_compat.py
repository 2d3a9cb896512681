"""rlbook.compat: each NumPy-2 correction works, and each one is needed.

The "needed" tests run the same code in a fresh interpreter with the
corrections off (RLBOOK_COMPAT=0) and expect the released libraries' failure,
so a correction that stops mattering (or stops being applied) shows up here.
"""

import os
import subprocess
import sys
import textwrap

from rlbook import compat

import numpy as np
import pytest

NUMPY_2 = compat.NUMPY >= (2, 0)
NUMPY_2_4 = compat.NUMPY >= (2, 4)

UINT8_NETWORK = """
    import rlbook, numpy as np, tensorflow as tf
    from tf_agents.networks import q_network
    from tf_agents.specs import tensor_spec
    spec = tensor_spec.BoundedTensorSpec((84, 84, 4), tf.uint8, 0, 255)
    actions = tensor_spec.BoundedTensorSpec((), tf.int64, 0, 3)
    net = q_network.QNetwork(
        spec, actions,
        preprocessing_layers=tf.keras.layers.Lambda(lambda o: tf.cast(o, tf.float32) / 255.0),
        conv_layer_params=[(32, (8, 8), 4), (64, (4, 4), 2), (64, (3, 3), 1)],
        fc_layer_params=[512])
    net.create_variables()
    print("BUILT", net.count_params())
"""

CATEGORICAL = """
    import rlbook, numpy as np, tensorflow as tf
    from tf_agents.networks import actor_distribution_network
    from tf_agents.specs import tensor_spec
    obs = tensor_spec.TensorSpec((4,), tf.float32)
    actions = tensor_spec.BoundedTensorSpec((), tf.int64, 0, 1)
    net = actor_distribution_network.ActorDistributionNetwork(obs, actions, fc_layer_params=(8,))
    dist, _ = net(tf.zeros((3, 4)), step_type=None, network_state=())
    print("BUILT", dist.logits_parameter().shape)
"""

DISCRETIZE = """
    import rlbook, numpy as np
    from tf_agents.environments import suite_gym, wrappers
    car = wrappers.ActionDiscretizeWrapper(suite_gym.load("MountainCarContinuous-v0"),
                                           num_actions=5)
    car.reset()
    print("BUILT", car.step(np.array(4, dtype=np.int32)).observation.shape)
"""

ACROBOT = """
    import rlbook, gym
    env = gym.make("Acrobot-v1")
    env.reset(seed=0)
    print("BUILT", env.step(1)[0].shape)
"""


def run_fresh(code, **env):
    environment = {**os.environ, **env}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=environment,
                          capture_output=True, text=True, timeout=300)


def test_import_rlbook_arms_the_corrections_without_loading_tensorflow():
    code = ("import sys, rlbook; from rlbook import compat; "
            "print(dict((n, s) for n, s, _ in compat.status())); "
            "print('TF' if 'tensorflow' in sys.modules else 'no TF')")
    out = run_fresh(code)
    assert out.returncode == 0, out.stderr
    assert "no TF" in out.stdout
    expected = "waiting" if NUMPY_2 else "not needed"
    assert f"'uint8 spec sampling': '{expected}'" in out.stdout, out.stdout


@pytest.mark.skipif(not NUMPY_2, reason="NumPy 1 needs no uint8 correction")
def test_nature_q_network_on_a_frame_of_255s_matches_the_float_computation():
    import tensorflow as tf
    from tf_agents.networks import q_network
    from tf_agents.specs import tensor_spec

    actions = tensor_spec.BoundedTensorSpec((), tf.int64, 0, 3)
    layers = dict(conv_layer_params=[(32, (8, 8), 4), (64, (4, 4), 2), (64, (3, 3), 1)],
                  fc_layer_params=[512])
    on_bytes = q_network.QNetwork(
        tensor_spec.BoundedTensorSpec((84, 84, 4), tf.uint8, 0, 255), actions,
        preprocessing_layers=tf.keras.layers.Lambda(lambda o: tf.cast(o, tf.float32) / 255.0),
        **layers)
    on_floats = q_network.QNetwork(
        tensor_spec.BoundedTensorSpec((84, 84, 4), tf.float32, 0.0, 1.0), actions, **layers)
    on_bytes.create_variables()
    on_floats.create_variables()
    on_floats.set_weights(on_bytes.get_weights())

    frame = np.full((1, 84, 84, 4), 255, np.uint8)
    q_bytes, _ = on_bytes(frame)
    q_floats, _ = on_floats(frame.astype(np.float32) / 255.0)
    np.testing.assert_allclose(q_bytes.numpy(), q_floats.numpy(), rtol=1e-6)
    # The float computation itself: 255 really is 1.0, not a wrapped 0.
    q_zeros, _ = on_floats(np.zeros((1, 84, 84, 4), np.float32))
    assert not np.allclose(q_bytes.numpy(), q_zeros.numpy())
    assert dict((n, s) for n, s, _ in compat.status())["uint8 spec sampling"] == "applied"


@pytest.mark.skipif(not NUMPY_2, reason="NumPy 1 needs no uint8 correction")
def test_uint8_sampling_covers_the_whole_range():
    import tensorflow as tf
    from tf_agents.specs import tensor_spec

    spec = tensor_spec.BoundedTensorSpec((50_000,), tf.uint8, 0, 255)
    sample = tensor_spec.sample_spec_nest(spec, seed=0).numpy()
    assert sample.dtype == np.uint8
    assert sample.min() == 0 and sample.max() == 255  # 255 is inclusive, as documented
    narrow = tensor_spec.BoundedTensorSpec((1_000,), tf.uint8, 3, 7)
    values = set(tensor_spec.sample_spec_nest(narrow, seed=1).numpy().tolist())
    assert values == set(range(3, 8))


@pytest.mark.skipif(not NUMPY_2_4, reason="only NumPy >= 2.4 refuses int() of a 1-d array")
def test_actor_distribution_network_builds_a_categorical_head():
    out = run_fresh(CATEGORICAL)
    assert "BUILT (3, 2)" in out.stdout, out.stderr[-2000:]


def test_categorical_head_still_refuses_uneven_action_counts():
    import tensorflow as tf
    from tf_agents.networks import categorical_projection_network
    from tf_agents.specs import tensor_spec

    uneven = tensor_spec.BoundedTensorSpec((2,), tf.int64, [0, 0], [1, 2])
    with pytest.raises(ValueError, match="same number"):
        categorical_projection_network.CategoricalProjectionNetwork(uneven)


def test_discretized_actions_map_onto_the_continuous_range():
    from tf_agents.environments import suite_gym, wrappers

    car = wrappers.ActionDiscretizeWrapper(suite_gym.load("MountainCarContinuous-v0"),
                                           num_actions=5)
    car.reset()
    before = car.reset().observation
    after = car.step(np.array(4, dtype=np.int32)).observation  # 4 of 0..4: full push right
    assert after.shape == (2,) and after[1] > before[1], "velocity rises under a push right"
    car.reset()
    left = car.step(np.array(0, dtype=np.int32)).observation
    assert left[1] < after[1]


@pytest.mark.skipif(not NUMPY_2, reason="np.float_ exists in NumPy 1")
def test_acrobot_steps_under_numpy_2():
    import gym

    env = gym.make("Acrobot-v1")
    env.reset(seed=0)
    observation, reward, done, _ = env.step(1)
    assert observation.shape == (6,) and reward == -1.0
    assert not hasattr(np, "float_"), "the correction must not put float_ back into numpy"


@pytest.mark.slow
@pytest.mark.parametrize("code, needs, released_failure", [
    (UINT8_NETWORK, NUMPY_2, "Need minval < maxval"),
    (CATEGORICAL, NUMPY_2_4, "TypeError"),
    (DISCRETIZE, NUMPY_2_4, "newshape"),
    (ACROBOT, NUMPY_2, "float_"),
], ids=["uint8", "categorical", "discretize", "acrobot"])
def test_each_correction_is_needed(code, needs, released_failure):
    if not needs:
        pytest.skip("this NumPy does not have the defect")
    corrected = run_fresh(code)
    assert corrected.returncode == 0 and "BUILT" in corrected.stdout, corrected.stderr[-2000:]
    released = run_fresh(code, RLBOOK_COMPAT="0")
    assert released.returncode != 0, "the released library worked: is the correction obsolete?"
    assert released_failure in released.stderr, released.stderr[-2000:]
