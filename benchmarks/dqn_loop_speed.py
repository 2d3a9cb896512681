"""Environment steps per second: rlbook's DQN loop against the book's.

Anchor: the book's loop (Hands-On ML, 2nd ed., chapter 18), re-implemented
here operation for operation: every exploiting action calls
``model.predict`` on one observation, the replay memory is a
``deque(maxlen=2000)`` sampled by indexing, and each training step calls
``model.predict`` on the next states before an eager ``GradientTape``
update. The contender is ``rlbook.dqn.train_dqn`` itself.

Both run in this one process on the same machine, with the same network
(Dense(32, elu) x2 + Dense(2)), Adam 1e-2, MSE, batch 32, gamma 0.95, a
2,000-experience buffer, the same exploration (epsilon 1 for the first
episode, then 0.05, so nearly every step asks the network) and the same
training schedule (one gradient step after every episode once the buffer
holds a batch), for the same number of environment steps. The timing of
each covers everything: building the model, tracing, acting and training.

    .venv/bin/python benchmarks/dqn_loop_speed.py            # 2,000 steps
    .venv/bin/python benchmarks/dqn_loop_speed.py --steps 5000
"""

import argparse
import time
from collections import deque

import rlbook
from rlbook.dqn import keras_q_network, train_dqn
from rlbook.envs import make_env

import numpy as np
import tensorflow as tf

EPSILON_AFTER_FIRST_EPISODE = 0.05
BATCH_SIZE, GAMMA, CAPACITY, LEARNING_RATE = 32, 0.95, 2_000, 1e-2


def books_loop(n_steps, seed=0, max_steps=200):
    """The book's per-step ``model.predict`` loop, for ``n_steps`` env steps."""
    rlbook.set_seed(seed)
    env = make_env("CartPole-v1")
    model = keras_q_network()  # the same Sequential-equivalent stack
    optimizer = tf.keras.optimizers.Adam(learning_rate=LEARNING_RATE)
    loss_fn = tf.keras.losses.mean_squared_error
    memory = deque(maxlen=CAPACITY)

    def choose(state, epsilon):
        if np.random.rand() < epsilon:
            return np.random.randint(2)
        q_values = model.predict(state[np.newaxis], verbose=0)
        return int(np.argmax(q_values[0]))

    def sample():
        picks = np.random.randint(len(memory), size=BATCH_SIZE)
        rows = [memory[i] for i in picks]
        return [np.array([row[field] for row in rows]) for field in range(5)]

    def train_once():
        states, actions, rewards, next_states, dones = sample()
        next_q = model.predict(next_states, verbose=0)
        targets = rewards + (1 - dones) * GAMMA * next_q.max(axis=1)
        targets = targets.reshape(-1, 1)
        mask = tf.one_hot(actions, 2)
        with tf.GradientTape() as tape:
            q = tf.reduce_sum(model(states) * mask, axis=1, keepdims=True)
            loss = tf.reduce_mean(loss_fn(targets, q))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))

    total, episode = 0, 0
    while total < n_steps:
        state = env.reset(seed=seed) if episode == 0 else env.reset()
        epsilon = 1.0 if episode == 0 else EPSILON_AFTER_FIRST_EPISODE
        for _ in range(max_steps):
            action = choose(state, epsilon)
            next_state, reward, done, _ = env.step(action)
            memory.append((state, action, reward, next_state, done))
            state, total = next_state, total + 1
            if done or total >= n_steps:
                break
        if len(memory) >= BATCH_SIZE:
            train_once()
        episode += 1
    return total


def rlbook_loop(n_steps, seed=0):
    result = train_dqn(
        "CartPole-v1", num_episodes=10**6, max_total_steps=n_steps, seed=seed, progress=False,
        warmup_episodes=0, epsilon_decay_episodes=1, epsilon_min=EPSILON_AFTER_FIRST_EPISODE,
        learning_rate=LEARNING_RATE, batch_size=BATCH_SIZE, gamma=GAMMA,
        replay_buffer_capacity=CAPACITY)
    return int(result.returns.sum())


def timed(loop, n_steps):
    start = time.perf_counter()
    steps = loop(n_steps)
    return steps, time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=2_000,
                        help="environment steps each loop runs (default 2000)")
    args = parser.parse_args()
    print(f"device: {rlbook.device.describe()}; TensorFlow {tf.__version__}")
    book_steps, book_s = timed(books_loop, args.steps)
    ours_steps, ours_s = timed(rlbook_loop, args.steps)
    assert book_steps == ours_steps == args.steps, (book_steps, ours_steps)
    book_rate, ours_rate = book_steps / book_s, ours_steps / ours_s
    print(f"anchor  book loop (model.predict per step): {book_steps} steps in "
          f"{book_s:7.2f} s = {book_rate:8.1f} steps/s")
    print(f"rlbook  train_dqn (tf.function):            {ours_steps} steps in "
          f"{ours_s:7.2f} s = {ours_rate:8.1f} steps/s")
    print(f"speed-up: {ours_rate / book_rate:.1f}x (goal: at least 20x)")


if __name__ == "__main__":
    main()
