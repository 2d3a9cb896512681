"""Replay buffers for deep Q-learning: a ring buffer, a sum tree, and PER.

* ``ReplayBuffer``: a fixed-size ring over preallocated NumPy arrays. Adding
  overwrites the oldest experience once full; sampling is one fancy-index per
  field, so it costs the same whether the buffer holds 2,000 or 1,000,000
  experiences (a ``deque`` walks its linked blocks to reach item ``i``).
* ``SumTree``: the data structure that makes prioritized sampling O(log n).
* ``PrioritizedReplayBuffer``: prioritized experience replay (Schaul et al.,
  2015) on top of the two.
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

from rlbook.checks import check_int, check_number

import numpy as np


class Batch(NamedTuple):
    """A batch of experiences; each field has the batch size as first axis."""

    states: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    next_states: np.ndarray
    dones: np.ndarray


def check_fits_in_memory(nbytes, what="replay buffer"):
    """Warn when ``nbytes`` is more than the RAM free right now.

    Returns True when it fits. Binder gives a notebook about 2 GB, and a
    NumPy allocation that does not fit either fails late or swaps.
    """
    import psutil

    available = psutil.virtual_memory().available
    if nbytes > available:
        warnings.warn(
            f"the {what} needs {nbytes / 2**30:.2f} GiB but only "
            f"{available / 2**30:.2f} GiB of RAM is free; lower its capacity "
            "or store smaller observations (for example uint8 frames)",
            RuntimeWarning,
            stacklevel=3,
        )
        return False
    return True


class ReplayBuffer:
    """A ring buffer of ``(state, action, reward, next_state, done)``.

    Args:
        capacity: how many experiences it keeps; the oldest is overwritten.
        state_shape: shape of one observation, e.g. ``(4,)`` for CartPole.
        state_dtype: dtype the observations are stored in (``np.uint8``
            keeps Atari frames four times smaller than float32).

    ``pos`` is where the next experience goes and ``full`` says whether the
    ring has wrapped around at least once.

    >>> buffer = ReplayBuffer(2_000, state_shape=(4,))
    >>> buffer.add(state, action, reward, next_state, done)
    >>> batch = buffer.sample(32)      # batch.states.shape == (32, 4)
    """

    def __init__(self, capacity, state_shape, state_dtype=np.float32):
        self.capacity = check_int("capacity", capacity)
        if isinstance(state_shape, (int, np.integer)):
            state_shape = (state_shape,)
        self.state_shape = tuple(int(d) for d in state_shape)
        self.state_dtype = np.dtype(state_dtype)
        state_bytes = int(np.prod(self.state_shape, dtype=np.int64)) * self.state_dtype.itemsize
        # two states + int64 action + float32 reward + bool done per experience
        check_fits_in_memory(self.capacity * (2 * state_bytes + 8 + 4 + 1))
        shape = (self.capacity, *self.state_shape)
        try:
            self.states = np.zeros(shape, dtype=self.state_dtype)
            self.next_states = np.zeros(shape, dtype=self.state_dtype)
        except MemoryError as exc:
            raise MemoryError(
                f"cannot allocate a replay buffer of capacity {self.capacity} for "
                f"states of shape {self.state_shape}: lower the capacity") from exc
        self.actions = np.zeros(self.capacity, dtype=np.int64)
        self.rewards = np.zeros(self.capacity, dtype=np.float32)
        self.dones = np.zeros(self.capacity, dtype=bool)
        self.pos = 0
        self.full = False

    def __len__(self):
        return self.capacity if self.full else self.pos

    def size(self):
        """Number of experiences stored (same as ``len(buffer)``)."""
        return len(self)

    def add(self, state, action, reward, next_state, done):
        """Store one experience, overwriting the oldest when full.

        Returns the slot it was written to.
        """
        state = np.asarray(state)
        if state.shape != self.state_shape:
            raise ValueError(
                f"state should have shape {self.state_shape}, got: {state.shape}")
        index = self.pos
        self.states[index] = state
        self.next_states[index] = next_state
        self.actions[index] = action
        self.rewards[index] = reward
        self.dones[index] = done
        self.pos = (self.pos + 1) % self.capacity
        self.full = self.full or self.pos == 0
        return index

    def _check_batch_size(self, batch_size):
        batch_size = check_int("batch_size", batch_size)
        if batch_size > len(self):
            raise ValueError(
                f"cannot sample {batch_size} experiences: the buffer holds only "
                f"{len(self)}; add more first or sample a smaller batch")
        return batch_size

    def gather(self, indices):
        """The experiences stored at ``indices`` as a :class:`Batch`."""
        return Batch(self.states[indices], self.actions[indices], self.rewards[indices],
                     self.next_states[indices], self.dones[indices])

    def sample(self, batch_size, rng=None):
        """Draw ``batch_size`` experiences uniformly (with replacement).

        ``rng`` is a ``np.random.Generator`` (default: a fresh unseeded one).
        """
        batch_size = self._check_batch_size(batch_size)
        rng = np.random.default_rng() if rng is None else rng
        return self.gather(rng.integers(len(self), size=batch_size))


class SumTree:
    """A binary tree whose every node holds the sum of its two children.

    The leaves hold the priorities; the root holds their total. With
    capacity 4 and priorities 3, 1, 2, 4::

                   10            <- total, node 1
                /      \\
              4          6       <- nodes 2 and 3
             / \\        / \\
            3   1      2   4     <- leaves 0..3 (nodes 4..7)

    ``get(prefix_sum)`` walks from the root down: go left if the prefix sum
    is smaller than the left child, else subtract the left child and go
    right. ``get(5.5)`` goes right (5.5 >= 4, leaving 1.5), then left
    (1.5 < 2), and lands on leaf 2. Drawing ``prefix_sum`` uniformly in
    ``[0, total)`` thus picks leaf ``i`` with probability
    ``priority_i / total``.

    Costs, for n leaves: ``update`` O(log n), ``get`` O(log n), ``total``
    O(1), memory O(n). Capacities that are not a power of two are padded
    with zero leaves, which are never picked.
    """

    def __init__(self, capacity):
        self.capacity = check_int("capacity", capacity)
        self._n_leaves = 1 << max(0, (self.capacity - 1).bit_length())
        self.depth = self._n_leaves.bit_length() - 1
        # 1-indexed heap layout: node k has children 2k and 2k + 1; node 0 unused.
        self.nodes = np.zeros(2 * self._n_leaves, dtype=np.float64)

    @property
    def total(self):
        """The sum of all priorities."""
        return float(self.nodes[1])

    @property
    def priorities(self):
        """A read-only view of the ``capacity`` leaf priorities."""
        view = self.nodes[self._n_leaves:self._n_leaves + self.capacity]
        view.flags.writeable = False
        return view

    def _check_indices(self, indices):
        indices = np.asarray(indices)
        if indices.dtype.kind not in "iu":
            raise TypeError(f"index should be an integer, got: {indices!r}")
        bad = (indices < 0) | (indices >= self.capacity)
        if bad.any():
            raise IndexError(
                f"index should be in [0, {self.capacity}), got: {indices[bad].ravel()[0]}")
        return indices

    def update(self, index, priority):
        """Set the priority of leaf ``index`` (or of several leaves at once).

        Priorities must be finite and non-negative.
        """
        index = self._check_indices(index)
        priority = np.broadcast_to(np.asarray(priority, dtype=np.float64), index.shape)
        bad = ~np.isfinite(priority) | (priority < 0)
        if bad.any():
            raise ValueError(
                f"priority should be finite and non-negative, got: {priority[bad].ravel()[0]}")
        nodes = np.atleast_1d(index).ravel() + self._n_leaves
        self.nodes[nodes] = np.atleast_1d(priority).ravel()
        # Re-add each changed path bottom-up; one pass per level, not per leaf.
        for _ in range(self.depth):
            nodes = np.unique(nodes // 2)
            self.nodes[nodes] = self.nodes[2 * nodes] + self.nodes[2 * nodes + 1]

    def find(self, prefix_sums):
        """Vectorized ``get``: the leaf indices for an array of prefix sums."""
        prefix = np.array(prefix_sums, dtype=np.float64, ndmin=1)
        total = self.total
        if total <= 0:
            raise ValueError("cannot sample from a sum tree whose total priority is 0")
        bad = ~np.isfinite(prefix) | (prefix < 0) | (prefix > total)
        if bad.any():
            raise ValueError(
                f"prefix_sum should be in [0, total={total}], got: {prefix[bad][0]}")
        nodes = np.ones(prefix.shape, dtype=np.int64)
        for _ in range(self.depth):
            left = 2 * nodes
            left_sum = self.nodes[left]
            # Rounding can push a prefix past a subtree's sum: never step into
            # an empty right subtree.
            go_left = (prefix < left_sum) | (self.nodes[left + 1] <= 0)
            prefix = np.where(go_left, prefix, prefix - left_sum)
            nodes = np.where(go_left, left, left + 1)
        return nodes - self._n_leaves

    def get(self, prefix_sum):
        """The leaf ``(index, priority)`` whose cumulative range holds ``prefix_sum``."""
        index = int(self.find([prefix_sum])[0])
        return index, float(self.nodes[index + self._n_leaves])

    def __len__(self):
        return self.capacity


class PrioritizedReplayBuffer(ReplayBuffer):
    """Prioritized experience replay (Schaul et al., 2015).

    Experience ``i`` has priority ``p_i = |TD error_i| + epsilon`` and is drawn
    with probability ``P(i) = p_i**zeta / sum_k p_k**zeta``. A new experience
    gets the largest priority seen so far, so it is replayed at least once
    soon. Sampling by priority biases the updates; each sampled experience
    carries an importance weight ``w_i = (n P(i))**-beta``, divided by the
    batch's largest weight so weights only ever scale the loss down. ``beta``
    rises linearly from ``beta_start`` to ``beta_end`` over
    ``beta_steps`` calls to :meth:`sample` (full correction at the end of
    training, when the estimates matter most).

    Args:
        capacity, state_shape, state_dtype: as for :class:`ReplayBuffer`.
        zeta: how much prioritization is used (0: uniform, 1: fully).
        beta_start, beta_end, beta_steps: the importance-sampling schedule.
        epsilon: added to ``|TD error|`` so no experience becomes unreachable.

    >>> batch, indices, weights = buffer.sample(32, rng)
    >>> buffer.update_priorities(indices, td_errors)
    """

    def __init__(self, capacity, state_shape, state_dtype=np.float32, zeta=0.6,
                 beta_start=0.4, beta_end=1.0, beta_steps=100_000, epsilon=1e-6):
        super().__init__(capacity, state_shape, state_dtype)
        self.zeta = check_number("zeta", zeta, 0, 1)
        self.beta_start = check_number("beta_start", beta_start, 0, 1)
        self.beta_end = check_number("beta_end", beta_end, 0, 1)
        check_number("epsilon", epsilon, 0, low_open=True)
        self.beta_steps = check_int("beta_steps", beta_steps)
        self.epsilon = float(epsilon)
        self.tree = SumTree(self.capacity)
        self.max_priority = 1.0
        self.n_samples = 0

    @property
    def beta(self):
        """The importance-sampling exponent for the next call to ``sample``."""
        fraction = min(1.0, self.n_samples / self.beta_steps)
        return self.beta_start + fraction * (self.beta_end - self.beta_start)

    def add(self, state, action, reward, next_state, done):
        index = super().add(state, action, reward, next_state, done)
        self.tree.update(index, self.max_priority ** self.zeta)
        return index

    def probabilities(self, indices=None):
        """``P(i)`` for the given slots (default: every stored experience)."""
        indices = np.arange(len(self)) if indices is None else np.asarray(indices)
        return self.tree.nodes[indices + self.tree._n_leaves] / self.tree.total

    def sample(self, batch_size, rng=None, beta=None):
        """Draw a batch by priority; return ``(batch, indices, weights)``.

        The total priority is cut into ``batch_size`` equal segments and one
        prefix sum is drawn in each (stratified sampling, as in the paper),
        which spreads a batch over the buffer. ``beta`` overrides the
        schedule for this call.
        """
        batch_size = self._check_batch_size(batch_size)
        rng = np.random.default_rng() if rng is None else rng
        if beta is None:
            beta = self.beta
        else:
            beta = check_number("beta", beta, 0, 1)
        segment = self.tree.total / batch_size
        prefix = (np.arange(batch_size) + rng.random(batch_size)) * segment
        indices = self.tree.find(np.minimum(prefix, self.tree.total))
        weights = (len(self) * self.probabilities(indices)) ** -beta
        weights = (weights / weights.max()).astype(np.float32)
        self.n_samples += 1
        return self.gather(indices), indices, weights

    def update_priorities(self, indices, td_errors):
        """Set ``p = |TD error| + epsilon`` for the experiences just trained on."""
        indices = np.asarray(indices)
        td_errors = np.asarray(td_errors, dtype=np.float64)
        if td_errors.shape != indices.shape:
            raise ValueError(
                f"need one TD error per index: got {td_errors.shape} errors for "
                f"{indices.shape} indices")
        if not np.all(np.isfinite(td_errors)):
            raise ValueError(
                "td_errors should be finite, got a NaN or an infinity: the "
                "network has probably diverged (lower the learning rate)")
        if (indices >= len(self)).any():
            raise IndexError(f"index should be below {len(self)} (experiences stored), "
                             f"got: {indices.max()}")
        priorities = np.abs(td_errors) + self.epsilon
        self.max_priority = max(self.max_priority, float(priorities.max()))
        self.tree.update(indices, priorities ** self.zeta)
