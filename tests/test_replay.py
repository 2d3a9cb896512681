"""rlbook.replay: the ring buffer, the sum tree and prioritized replay."""

import warnings

from rlbook.replay import (
    Batch,
    PrioritizedReplayBuffer,
    ReplayBuffer,
    SumTree,
    check_fits_in_memory,
)

import numpy as np
import psutil
import pytest


def fill(buffer, n, start=0):
    """Add n experiences whose fields all encode their number."""
    for k in range(start, start + n):
        buffer.add(np.full(buffer.state_shape, k), k % 2, float(k),
                   np.full(buffer.state_shape, k + 0.5), k % 5 == 4)


# ---------------------------------------------------------------- ReplayBuffer

def test_add_stores_each_field_and_counts():
    buffer = ReplayBuffer(10, state_shape=(4,))
    assert len(buffer) == 0 and buffer.pos == 0 and not buffer.full
    fill(buffer, 3)
    assert len(buffer) == 3 and buffer.pos == 3 and buffer.size() == 3
    np.testing.assert_array_equal(buffer.states[2], [2, 2, 2, 2])
    np.testing.assert_array_equal(buffer.next_states[2], [2.5] * 4)
    assert buffer.actions[:3].tolist() == [0, 1, 0]
    assert buffer.rewards[:3].tolist() == [0.0, 1.0, 2.0]
    assert buffer.dones[:3].tolist() == [False, False, False]


def test_ring_wraps_around_and_overwrites_the_oldest():
    buffer = ReplayBuffer(5, state_shape=(2,))
    fill(buffer, 5)
    assert buffer.full and buffer.pos == 0 and len(buffer) == 5
    fill(buffer, 2, start=5)
    assert len(buffer) == 5 and buffer.pos == 2
    # slots 0 and 1 now hold experiences 5 and 6; 2..4 are untouched
    assert buffer.rewards.tolist() == [5.0, 6.0, 2.0, 3.0, 4.0]
    np.testing.assert_array_equal(buffer.states[:, 0], [5, 6, 2, 3, 4])


def test_sample_returns_a_named_tuple_of_consistent_arrays():
    buffer = ReplayBuffer(100, state_shape=(4,))
    fill(buffer, 50)
    batch = buffer.sample(32, rng=np.random.default_rng(0))
    assert isinstance(batch, Batch)
    assert batch.states.shape == (32, 4) and batch.next_states.shape == (32, 4)
    assert batch.actions.shape == batch.rewards.shape == batch.dones.shape == (32,)
    assert batch.states.dtype == np.float32 and batch.dones.dtype == bool
    # every row is one stored experience, fields kept together
    k = batch.rewards.astype(int)
    np.testing.assert_array_equal(batch.states[:, 0], k)
    np.testing.assert_array_equal(batch.next_states[:, 0], k + 0.5)
    np.testing.assert_array_equal(batch.actions, k % 2)
    np.testing.assert_array_equal(batch.dones, k % 5 == 4)
    assert k.max() < 50


def test_sample_is_reproducible_and_uniform():
    buffer = ReplayBuffer(8, state_shape=(1,))
    fill(buffer, 8)
    a = buffer.sample(8, rng=np.random.default_rng(3))
    b = buffer.sample(8, rng=np.random.default_rng(3))
    np.testing.assert_array_equal(a.rewards, b.rewards)
    rng = np.random.default_rng(1)
    drawn = np.concatenate([buffer.sample(8, rng=rng).rewards for _ in range(1000)])
    counts = np.bincount(drawn.astype(int), minlength=8)
    assert np.all(np.abs(counts / 8000 - 1 / 8) < 0.015), counts


def test_sample_only_draws_from_filled_slots():
    buffer = ReplayBuffer(1000, state_shape=(1,))
    fill(buffer, 3, start=1)
    rng = np.random.default_rng(0)
    drawn = {r for _ in range(100) for r in buffer.sample(3, rng=rng).rewards.tolist()}
    assert drawn == {1.0, 2.0, 3.0}


def test_sampling_more_than_stored_says_how_many_are_there():
    buffer = ReplayBuffer(10, state_shape=(4,))
    fill(buffer, 3)
    with pytest.raises(ValueError, match="cannot sample 4 experiences: the buffer holds only 3"):
        buffer.sample(4)
    with pytest.raises(ValueError, match="batch_size should be a positive integer, got: 0"):
        buffer.sample(0)


@pytest.mark.parametrize("capacity, error, message", [
    (0, ValueError, "capacity should be a positive integer, got: 0"),
    (-3, ValueError, "capacity should be a positive integer, got: -3"),
    (2.5, TypeError, "capacity should be a positive integer, got: 2.5"),
])
def test_bad_capacity_is_refused(capacity, error, message):
    with pytest.raises(error, match=message):
        ReplayBuffer(capacity, state_shape=(4,))
    with pytest.raises(error, match=message):
        SumTree(capacity)


def test_a_state_of_the_wrong_shape_is_refused():
    buffer = ReplayBuffer(10, state_shape=(4,))
    with pytest.raises(ValueError, match=r"state should have shape \(4,\), got: \(3,\)"):
        buffer.add(np.zeros(3), 0, 1.0, np.zeros(3), False)


def test_uint8_frames_keep_their_dtype():
    buffer = ReplayBuffer(4, state_shape=(84, 84, 4), state_dtype=np.uint8)
    frame = np.full((84, 84, 4), 255, dtype=np.uint8)
    buffer.add(frame, 3, 1.0, frame, False)
    assert buffer.states.dtype == np.uint8 and buffer.states[0].max() == 255


def test_memory_check_warns_when_the_request_exceeds_free_ram():
    free = psutil.virtual_memory().available
    with pytest.warns(RuntimeWarning, match="GiB of RAM is free; lower its capacity"):
        assert check_fits_in_memory(4 * free) is False
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check_fits_in_memory(1024) is True
        ReplayBuffer(2_000, state_shape=(4,))  # the CartPole buffer: no warning


def test_a_buffer_too_big_for_ram_warns_before_allocating():
    free = psutil.virtual_memory().available
    # float64 states of this size would take about twice the free RAM
    side = int(np.sqrt(free / 8 / 10)) + 1
    with pytest.warns(RuntimeWarning, match="replay buffer needs"):
        try:
            ReplayBuffer(10, state_shape=(side, side), state_dtype=np.float64)
        except MemoryError as exc:
            assert "lower the capacity" in str(exc)


# --------------------------------------------------------------------- SumTree

def test_sum_tree_total_and_get_on_the_docstring_example():
    tree = SumTree(4)
    tree.update(np.arange(4), [3.0, 1.0, 2.0, 4.0])
    assert tree.total == 10.0
    np.testing.assert_array_equal(tree.nodes[1:4], [10.0, 4.0, 6.0])
    assert tree.get(5.5) == (2, 2.0)
    expected = {0.0: 0, 2.99: 0, 3.0: 1, 3.99: 1, 4.0: 2, 5.99: 2, 6.0: 3, 9.99: 3, 10.0: 3}
    for prefix, leaf in expected.items():
        assert tree.get(prefix)[0] == leaf, prefix


def test_sum_tree_matches_cumulative_sums_for_any_capacity():
    rng = np.random.default_rng(7)
    for capacity in (1, 2, 3, 5, 7, 100, 1000):
        tree = SumTree(capacity)
        priorities = rng.random(capacity) * rng.integers(0, 2, capacity)  # some zeros
        priorities[0] += 0.1
        for i, p in enumerate(priorities):
            tree.update(i, p)
        assert np.isclose(tree.total, priorities.sum())
        prefixes = rng.random(500) * priorities.sum()
        expected = np.searchsorted(np.cumsum(priorities), prefixes, side="right")
        np.testing.assert_array_equal(tree.find(prefixes), expected)
        assert np.all(priorities[tree.find(prefixes)] > 0), "a zero leaf was picked"


def test_sum_tree_update_replaces_and_keeps_sums_consistent():
    tree = SumTree(6)
    tree.update([0, 1, 2, 3, 4, 5], [1, 1, 1, 1, 1, 1])
    tree.update(3, 10.0)
    tree.update([0, 0], [0.5, 2.0])  # the last write wins
    assert tree.total == pytest.approx(2 + 1 + 1 + 10 + 1 + 1)
    np.testing.assert_array_equal(tree.priorities, [2, 1, 1, 10, 1, 1])
    # every internal node equals the sum of its children
    n = len(tree.nodes) // 2
    for k in range(1, n):
        assert tree.nodes[k] == tree.nodes[2 * k] + tree.nodes[2 * k + 1]


def test_sum_tree_sampling_frequencies_follow_priorities():
    tree = SumTree(5)
    priorities = np.array([1.0, 2.0, 3.0, 0.0, 4.0])
    tree.update(np.arange(5), priorities)
    rng = np.random.default_rng(0)
    leaves = tree.find(rng.random(20_000) * tree.total)
    freq = np.bincount(leaves, minlength=5) / 20_000
    np.testing.assert_allclose(freq, priorities / priorities.sum(), atol=0.015)


def test_sum_tree_errors_say_the_bad_value():
    tree = SumTree(4)
    with pytest.raises(ValueError, match="total priority is 0"):
        tree.get(0.0)
    with pytest.raises(IndexError, match=r"index should be in \[0, 4\), got: 4"):
        tree.update(4, 1.0)
    with pytest.raises(IndexError, match="got: -1"):
        tree.update(-1, 1.0)
    with pytest.raises(ValueError, match="priority should be finite and non-negative, got: -2.0"):
        tree.update(0, -2.0)
    with pytest.raises(ValueError, match="got: nan"):
        tree.update(0, float("nan"))
    tree.update(0, 1.0)
    with pytest.raises(ValueError, match=r"prefix_sum should be in \[0, total=1.0\], got: 1.5"):
        tree.get(1.5)


# ------------------------------------------------------ PrioritizedReplayBuffer

def test_new_experiences_get_the_max_priority_so_far():
    buffer = PrioritizedReplayBuffer(8, state_shape=(1,), zeta=0.6)
    fill(buffer, 2)
    np.testing.assert_allclose(buffer.tree.priorities[:2], [1.0, 1.0])
    buffer.update_priorities(np.array([0, 1]), np.array([-3.0, 0.5]))
    assert buffer.max_priority == pytest.approx(3.0 + 1e-6)
    fill(buffer, 1, start=2)
    np.testing.assert_allclose(buffer.tree.priorities[:3],
                               np.array([3.0, 0.5, 3.0]) ** 0.6, rtol=1e-5)


def test_probabilities_are_priorities_to_the_power_zeta_normalized():
    buffer = PrioritizedReplayBuffer(4, state_shape=(1,), zeta=0.6, epsilon=0.01)
    fill(buffer, 4)
    td = np.array([0.0, 1.0, -2.0, 4.0])
    buffer.update_priorities(np.arange(4), td)
    p = (np.abs(td) + 0.01) ** 0.6
    np.testing.assert_allclose(buffer.probabilities(), p / p.sum(), rtol=1e-9)


def test_sampling_distribution_matches_priorities_statistically():
    buffer = PrioritizedReplayBuffer(6, state_shape=(1,), zeta=0.6)
    fill(buffer, 6)
    td = np.array([0.1, 0.5, 1.0, 2.0, 4.0, 8.0])
    buffer.update_priorities(np.arange(6), td)
    expected = buffer.probabilities()
    rng = np.random.default_rng(2024)
    n_batches, batch_size = 4_000, 4
    counts = np.zeros(6)
    for _ in range(n_batches):
        _, indices, _ = buffer.sample(batch_size, rng=rng)
        counts += np.bincount(indices, minlength=6)
    freq = counts / (n_batches * batch_size)
    # 16,000 draws: the binomial std is below 0.004 for every slot
    sigma = np.sqrt(expected * (1 - expected) / (n_batches * batch_size))
    assert np.all(np.abs(freq - expected) < 4 * sigma), (freq, expected)
    assert freq[5] > 4 * freq[0], "high TD errors should be replayed far more often"


def test_importance_weights_follow_the_formula_and_are_at_most_one():
    buffer = PrioritizedReplayBuffer(5, state_shape=(1,), zeta=0.6)
    fill(buffer, 5)
    buffer.update_priorities(np.arange(5), [0.2, 0.4, 1.0, 3.0, 6.0])
    batch, indices, weights = buffer.sample(5, rng=np.random.default_rng(0), beta=0.5)
    p_i = buffer.probabilities(indices)
    raw = (5 * p_i) ** -0.5
    np.testing.assert_allclose(weights, raw / raw.max(), rtol=1e-6)
    assert weights.dtype == np.float32 and weights.max() == pytest.approx(1.0)
    # the rarest experience in the batch gets the largest weight
    assert weights[np.argmin(p_i)] == pytest.approx(1.0)
    np.testing.assert_array_equal(batch.rewards, indices.astype(np.float32))


def test_uniform_priorities_give_unit_weights():
    buffer = PrioritizedReplayBuffer(10, state_shape=(2,))
    fill(buffer, 10)
    _, _, weights = buffer.sample(10, rng=np.random.default_rng(0))
    np.testing.assert_allclose(weights, 1.0)


def test_beta_anneals_from_start_to_end():
    buffer = PrioritizedReplayBuffer(10, state_shape=(1,), beta_start=0.4, beta_end=1.0,
                                     beta_steps=10)
    fill(buffer, 10)
    seen = []
    for _ in range(15):
        seen.append(buffer.beta)
        buffer.sample(2, rng=np.random.default_rng(0))
    np.testing.assert_allclose(seen[:11], np.linspace(0.4, 1.0, 11))
    assert seen[-1] == 1.0


def test_prioritized_buffer_wraps_around_and_keeps_tree_in_step():
    buffer = PrioritizedReplayBuffer(4, state_shape=(1,))
    fill(buffer, 4)
    buffer.update_priorities(np.arange(4), [1.0, 1.0, 1.0, 9.0])
    fill(buffer, 1, start=4)  # overwrites slot 0 with the max priority
    assert buffer.pos == 1 and len(buffer) == 4
    assert buffer.rewards[0] == 4.0
    assert buffer.tree.priorities[0] == pytest.approx(buffer.tree.priorities[3])


def test_prioritized_errors_are_clear():
    with pytest.raises(ValueError, match="zeta should be in"):
        PrioritizedReplayBuffer(4, state_shape=(1,), zeta=1.5)
    with pytest.raises(ValueError, match="beta_start should be in"):
        PrioritizedReplayBuffer(4, state_shape=(1,), beta_start=-0.1)
    buffer = PrioritizedReplayBuffer(4, state_shape=(1,))
    fill(buffer, 2)
    with pytest.raises(ValueError, match="holds only 2"):
        buffer.sample(3)
    with pytest.raises(ValueError, match="one TD error per index"):
        buffer.update_priorities(np.array([0, 1]), np.array([1.0]))
    with pytest.raises(ValueError, match="diverged"):
        buffer.update_priorities(np.array([0]), np.array([np.nan]))
    with pytest.raises(IndexError, match="experiences stored"):
        buffer.update_priorities(np.array([3]), np.array([1.0]))
