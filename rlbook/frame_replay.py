"""Replay memory for Atari: each 84x84 frame stored once.

Also the memory check every replay buffer here goes through.
"""


from rlbook.replay import check_fits_in_memory

import numpy as np


def spec_nbytes(spec):
    """Bytes one item of a (nested) TensorSpec takes."""
    import tensorflow as tf

    return sum(int(np.prod(s.shape)) * s.dtype.size for s in tf.nest.flatten(spec))


def _pack_bytes(frames):
    """Interleave 4 uint8 frames [..., 4, h, w] into [..., h, w, 4].

    Byte-wise interleaving (a transpose with the stack axis last) is slow on
    CPU. Instead each pixel's 4 frames go into one uint32, frame k in byte k,
    and tf.bitcast reads the words back as bytes: a few vectorised passes.
    """
    import sys

    import tensorflow as tf

    packed = None
    for k in range(4):
        word = tf.cast(frames[..., k, :, :], tf.uint32)
        # tf.bitcast follows the machine's byte order (little-endian on x86 and ARM).
        shift = 8 * k if sys.byteorder == "little" else 8 * (3 - k)
        if shift:
            word = word * tf.constant(1 << shift, tf.uint32)  # a multiply beats left_shift
        packed = word if packed is None else packed + word  # the bytes never overlap
    return tf.bitcast(packed, tf.uint8)


def _replay_buffer_base():
    from tf_agents.replay_buffers import replay_buffer

    return replay_buffer.ReplayBuffer


class FrameStackReplayBuffer(_replay_buffer_base()):
    """A replay buffer for stacked Atari frames that stores each frame once.

    FrameStack4 turns frames f0, f1, f2, ... into observations
    [f0 f0 f0 f0], [f0 f0 f0 f1], [f0 f0 f1 f2], [f0 f1 f2 f3], [f1 f2 f3 f4]:
    consecutive observations share three frames, and at the start of an
    episode the first frame repeats. So the buffer keeps only the newest
    frame of each observation plus the id of the item that began its
    episode, and rebuilds item t's stack from frames
    max(t - 3, start), ..., max(t, start): a stack never reaches back into
    the previous episode. An 84x84 frame is 7,056 bytes against 28,224 for
    the stack, about 7.1 KB per transition in all.

    A drop-in for ``TFUniformReplayBuffer`` with one environment:
    ``add_batch``, ``get_next``, ``as_dataset``, ``num_frames``, ``clear``,
    and checkpointable with ``common.Checkpointer``. Sampling is uniform
    over the items whose frames are all still stored.

    Rebuilding the stacks of a sampled batch takes a gather of the frame
    slots and a byte interleave done with uint32 arithmetic (``_pack_bytes``).
    A compiled C++ op once did it in one pass; measured over the whole
    Breakout training loop it made no difference, so it was removed
    (docs/tfagents.md). The frames live in host memory (``/CPU:0``) even on
    a GPU machine, where a GPU is better kept for the network.
    """

    def __init__(self, data_spec, batch_size=1, max_length=100_000,
                 scope="FrameStackReplayBuffer"):
        import tensorflow as tf

        if batch_size != 1:
            raise ValueError("FrameStackReplayBuffer follows one environment's episodes; "
                             f"batch_size must be 1, got {batch_size}")
        obs_spec = data_spec.observation
        if not (hasattr(obs_spec, "shape") and obs_spec.shape.rank == 3):
            raise ValueError("the observation must be one (height, width, stack) tensor of "
                             f"stacked frames (FrameStack4), got spec {obs_spec}")
        if max_length < 8:
            raise ValueError(f"max_length must be at least 8, got {max_length}")
        super().__init__(data_spec, capacity=max_length)
        self._batch_size = 1
        self._max_length = int(max_length)
        self._stack_size = int(obs_spec.shape[-1])
        frame_shape = obs_spec.shape[:-1].as_list()
        other = data_spec._replace(observation=())
        self._other_specs = tf.nest.flatten(other)
        self._other_structure = other
        check_fits_in_memory(self.bytes_per_item * self._max_length, "frame replay buffer")
        with tf.name_scope(scope):
            # Host memory on every machine: a GPU is better kept for the network.
            with tf.device("/CPU:0"):
                self._frames = tf.Variable(tf.zeros([max_length, *frame_shape], obs_spec.dtype),
                                           trainable=False, name="frames")
                self._episode_start = tf.Variable(tf.zeros([max_length], tf.int64),
                                                  trainable=False, name="episode_start")
            self._columns = [tf.Variable(tf.zeros([max_length, *s.shape], s.dtype),
                                         trainable=False, name=f"column_{i}")
                             for i, s in enumerate(self._other_specs)]
            self._last_id = tf.Variable(-1, dtype=tf.int64, trainable=False, name="last_id")
            self._current_start = tf.Variable(0, dtype=tf.int64, trainable=False,
                                              name="current_start")

    @property
    def bytes_per_item(self):
        """Bytes stored per transition: one frame, its episode start, the other fields."""
        obs = self.data_spec.observation
        frame = int(np.prod(obs.shape[:-1])) * obs.dtype.size
        return frame + 8 + sum(spec_nbytes(s) for s in self._other_specs)

    def _num_frames(self):
        import tensorflow as tf

        return tf.minimum(self._last_id + 1, self._max_length)

    def _add_batch(self, items):
        import tensorflow as tf
        from tf_agents.trajectories import time_step as ts

        tf.nest.assert_same_structure(items, self.data_spec)
        item_id = self._last_id + 1
        slot = item_id % self._max_length
        is_first = tf.equal(items.step_type[0], ts.StepType.FIRST)
        start = tf.where(is_first, item_id, self._current_start)
        # scatter_update writes one row in place. ``variable[slot].assign`` would
        # also read the whole variable for its slice, and once a variable has
        # been written row-wise each such read is a full copy (354 MB for
        # 50,000 frames, benchmarks/frame_replay_writes.py).
        at = slot[None]
        updates = [self._current_start.assign(start),
                   self._frames.scatter_update(tf.IndexedSlices(
                       items.observation[..., -1], at)),
                   self._episode_start.scatter_update(tf.IndexedSlices(start[None], at))]
        others = tf.nest.flatten(items._replace(observation=()))
        updates += [column.scatter_update(tf.IndexedSlices(value[:1], at))
                    for column, value in zip(self._columns, others, strict=True)]
        with tf.control_dependencies(updates):
            return self._last_id.assign(item_id)

    def _stacks(self, ids):
        """Rebuild the stacked observations of items ``ids`` (any shape)."""
        import tensorflow as tf

        starts = tf.gather(self._episode_start, ids % self._max_length)
        offsets = tf.range(self._stack_size - 1, -1, -1, dtype=tf.int64)  # 3, 2, 1, 0
        frame_ids = tf.maximum(ids[..., None] - offsets, starts[..., None]) % self._max_length
        frames = tf.gather(self._frames, frame_ids)  # [..., stack, h, w]
        if self._stack_size == 4 and self._frames.dtype == tf.uint8:
            return _pack_bytes(frames)  # about 2.5x faster than the transpose below
        # Other stacks: a 3-D transpose of the flattened pixels, about twice as
        # fast as the 5-D one on uint8.
        pixels = int(np.prod(self._frames.shape[1:]))
        flat = tf.reshape(frames, [-1, self._stack_size, pixels])
        stacked = tf.transpose(flat, [0, 2, 1])
        return tf.reshape(stacked, [*ids.shape.as_list(), *self._frames.shape[1:],
                                    self._stack_size])

    def _get_next(self, sample_batch_size, num_steps, time_stacked):
        import tensorflow as tf
        from tf_agents.replay_buffers.tf_uniform_replay_buffer import BufferInfo

        steps = 1 if num_steps is None else int(num_steps)
        n = 1 if sample_batch_size is None else int(sample_batch_size)
        count = self._last_id + 1
        # Once the ring has wrapped, the oldest items have lost older frames.
        lowest = tf.where(count > self._max_length,
                          count - self._max_length + self._stack_size - 1, 0)
        highest = count - steps  # inclusive: item t needs t + steps - 1
        tf.debugging.assert_greater_equal(
            highest, lowest, message="the replay buffer holds too few items to sample; "
                                     "collect some steps first")
        first = lowest + tf.random.uniform([n], 0, highest - lowest + 1, dtype=tf.int64)
        ids = first[:, None] + tf.range(steps, dtype=tf.int64)  # [n, steps]
        slots = ids % self._max_length
        columns = [tf.gather(column, slots) for column in self._columns]
        others = tf.nest.pack_sequence_as(self._other_structure, columns)
        items = others._replace(observation=self._stacks(ids))
        probability = tf.fill([n, steps], 1.0 / tf.cast(highest - lowest + 1, tf.float32))
        info = BufferInfo(ids=ids, probabilities=probability)
        if num_steps is None:
            items, info = tf.nest.map_structure(lambda t: t[:, 0], (items, info))
        if sample_batch_size is None:
            items, info = tf.nest.map_structure(lambda t: t[0], (items, info))
        if not time_stacked and num_steps is not None:
            time_axis = 0 if sample_batch_size is None else 1
            items = [tf.nest.map_structure(lambda t, i=i: tf.gather(t, i, axis=time_axis), items)
                     for i in range(steps)]
        return items, info

    def _as_dataset(self, sample_batch_size, num_steps, sequence_preprocess_fn,
                    num_parallel_calls):
        import tensorflow as tf

        if sequence_preprocess_fn is not None:
            raise NotImplementedError("FrameStackReplayBuffer has no sequence_preprocess_fn")
        return tf.data.experimental.Counter().map(
            lambda _: self._get_next(sample_batch_size, num_steps, True),
            num_parallel_calls=num_parallel_calls)

    def _single_deterministic_pass_dataset(self, *args, **kwargs):
        raise NotImplementedError("FrameStackReplayBuffer samples only at random; use "
                                  "as_dataset(single_deterministic_pass=False)")

    def _gather_all(self):
        raise NotImplementedError("FrameStackReplayBuffer is for off-policy agents (DQN): "
                                  "use get_next or as_dataset, not gather_all")

    def _clear(self):
        return self._last_id.assign(-1)
