"""The frame-once Atari replay buffer rebuilds exactly the stacks FrameStack4 made."""


from rlbook.frame_replay import FrameStackReplayBuffer

import numpy as np
import pytest


@pytest.fixture(scope="module")
def breakout_run():
    """Real Breakout frames through AtariPreprocessing + FrameStack4, random actions.

    Short episodes (40 agent steps) put several episode starts in the buffer,
    and a capacity smaller than the run makes the ring wrap around.
    """
    import tensorflow as tf
    from tf_agents.drivers import dynamic_step_driver
    from tf_agents.environments import suite_atari, tf_py_environment
    from tf_agents.environments.atari_preprocessing import AtariPreprocessing
    from tf_agents.environments.atari_wrappers import FrameStack4
    from tf_agents.policies import random_tf_policy
    from tf_agents.specs import tensor_spec
    from tf_agents.trajectories import policy_step, trajectory

    tf.random.set_seed(0)
    py_env = suite_atari.load("BreakoutNoFrameskip-v4", max_episode_steps=40,
                              gym_env_wrappers=[AtariPreprocessing, FrameStack4])
    py_env.seed(0)
    env = tf_py_environment.TFPyEnvironment(py_env)
    policy = random_tf_policy.RandomTFPolicy(env.time_step_spec(), env.action_spec())
    spec = trajectory.from_transition(env.time_step_spec(), policy_step.PolicyStep(
        env.action_spec(), (), ()), env.time_step_spec())
    spec = tensor_spec.from_spec(spec)
    buffer = FrameStackReplayBuffer(spec, batch_size=1, max_length=150)
    seen = []

    def record(traj):
        seen.append(tf.nest.map_structure(lambda t: t.numpy()[0], traj))

    driver = dynamic_step_driver.DynamicStepDriver(env, policy, [buffer.add_batch, record],
                                                   num_steps=230)
    driver.run()
    return buffer, seen


def test_sampled_stacks_equal_what_framestack4_produced(breakout_run):
    buffer, seen = breakout_run
    assert int(buffer.num_frames()) == 150 < len(seen)
    starts = [i for i, item in enumerate(seen) if item.step_type == 0]
    assert len(starts) >= 4, "the run should hold several episodes"
    items, info = buffer.get_next(sample_batch_size=256, num_steps=2)
    assert items.observation.shape == (256, 2, 84, 84, 4)
    assert items.observation.dtype == np.uint8
    ids = info.ids.numpy()
    assert ids.min() >= len(seen) - 150 + 3 and ids.max() < len(seen)
    for id_ in np.unique(ids):
        where = np.argwhere(ids == id_)[0]
        got = items.observation.numpy()[tuple(where)]
        np.testing.assert_array_equal(got, seen[id_].observation, err_msg=f"item {id_}")
        assert items.action.numpy()[tuple(where)] == seen[id_].action
        assert items.step_type.numpy()[tuple(where)] == seen[id_].step_type


def test_every_stack_at_an_episode_start_stays_in_its_episode(breakout_run):
    import tensorflow as tf

    buffer, seen = breakout_run
    lowest = len(seen) - 150 + 3
    ids = tf.constant([[i] for i in range(lowest, len(seen))], tf.int64)
    rebuilt = buffer._stacks(ids).numpy()[:, 0]
    for i, stack in zip(range(lowest, len(seen)), rebuilt, strict=True):
        np.testing.assert_array_equal(stack, seen[i].observation, err_msg=f"item {i}")
        if seen[i].step_type == 0:  # a reset stack: four copies of one frame
            assert all(np.array_equal(stack[..., 0], stack[..., k]) for k in range(4))


def test_dataset_shapes_match_the_uniform_buffer(breakout_run):
    buffer, _ = breakout_run
    experience, _ = next(iter(buffer.as_dataset(sample_batch_size=2, num_steps=3)))
    assert experience.observation.shape == (2, 3, 84, 84, 4)
    assert experience.reward.shape == (2, 3)
    single, _ = buffer.get_next()
    assert single.observation.shape == (84, 84, 4)


def test_stores_under_7_2_kb_per_transition(breakout_run):
    buffer, _ = breakout_run
    assert buffer.bytes_per_item <= 7_200
    assert buffer.bytes_per_item >= 84 * 84


def test_bad_input_is_refused(breakout_run):
    buffer, _ = breakout_run
    with pytest.raises(ValueError, match="batch_size must be 1"):
        FrameStackReplayBuffer(buffer.data_spec, batch_size=2)


def test_building_a_buffer_larger_than_free_memory_warns(breakout_run, monkeypatch):
    import psutil

    buffer, _ = breakout_run
    # Pretend 1 MB is free: 1,000 transitions (about 7 MB) no longer fit.
    real = psutil.virtual_memory()
    monkeypatch.setattr(psutil, "virtual_memory", lambda: real._replace(available=2**20))
    with pytest.warns(RuntimeWarning, match=r"the frame replay buffer needs 0\.01 GiB but only "
                                            r"0\.00 GiB of RAM is free; lower its capacity"):
        FrameStackReplayBuffer(buffer.data_spec, max_length=1_000)


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_packed_stacks_match_numpy_moveaxis(dtype):
    """The uint32 packing (uint8) and the transpose (other dtypes) both put frame k at index k."""
    from rlbook.frame_replay import _pack_bytes

    import tensorflow as tf

    frames = np.random.default_rng(1).integers(0, 256, (3, 2, 4, 5, 6)).astype(dtype)
    want = np.moveaxis(frames, -3, -1)
    if dtype == np.uint8:
        got = _pack_bytes(tf.constant(frames)).numpy()
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got, want)
    spec = tf.TensorSpec([5, 6, 4], dtype)
    buffer = FrameStackReplayBuffer.__new__(FrameStackReplayBuffer)
    buffer._stack_size, buffer._frames = 4, tf.Variable(frames.reshape(-1, 5, 6))
    buffer._max_length, buffer._episode_start = 24, tf.Variable(np.zeros(24, np.int64))
    ids = tf.constant([[3, 7], [12, 23]], tf.int64)
    rebuilt = buffer._stacks(ids).numpy()
    flat = frames.reshape(-1, 5, 6)
    for (i, j), item in np.ndenumerate(ids.numpy()):
        np.testing.assert_array_equal(rebuilt[i, j], np.stack(flat[item - 3:item + 1], -1))
    assert spec.shape == rebuilt.shape[2:]


def test_add_batch_never_reads_the_whole_frames_variable(breakout_run):
    """A slice-assign reads the variable, and each such read copies all frames."""
    import tensorflow as tf

    buffer, seen = breakout_run
    item = tf.nest.map_structure(lambda x: tf.constant(x)[None], seen[-1])
    graph = tf.function(buffer.add_batch).get_concrete_function(item).graph
    handle = next(inner for outer, inner in graph.captures if outer is buffer._frames.handle)
    assert {op.type for op in handle.consumers()} == {"ResourceScatterUpdate"}
