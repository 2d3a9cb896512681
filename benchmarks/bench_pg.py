"""How much faster is rlbook.pg.train_reinforce than chapter 02's loop?

Anchor: the chapter's REINFORCE loop as the book writes it, one eager Keras
call and one GradientTape per step. Both train the book's CartPole policy
(10 episodes per update, at most 200 steps, gamma 0.95, Adam 0.01) for the
same number of updates from an untrained network; speed is measured in
environment steps per second of training, so different episode lengths do
not skew the ratio.

    .venv/bin/python benchmarks/bench_pg.py [--iterations N]
"""

import argparse
import time

import rlbook
from rlbook import envs, pg

import numpy as np


def chapter_loop(n_iterations, seed=42):
    """The chapter's algorithm, step by step. Returns (steps, seconds)."""
    import tensorflow as tf

    rlbook.set_seed(seed)
    model = pg.build_policy_network(4, 2)
    optimizer = tf.keras.optimizers.Adam(learning_rate=0.01)
    loss_fn = tf.keras.losses.binary_crossentropy
    env = envs.make_env("CartPole-v1", seed=seed)
    rng = np.random.default_rng(seed)
    steps = 0
    started = time.perf_counter()
    for _ in range(n_iterations):
        all_grads, all_rewards = [], []
        for _ in range(10):
            obs, grads_log, rewards = env.reset(), [], []
            for _ in range(200):
                with tf.GradientTape() as tape:
                    left_proba = model(obs[np.newaxis].astype(np.float32))
                    action = int(rng.random() > float(left_proba[0, 0]))
                    loss = tf.reduce_mean(loss_fn(tf.constant([[1.0 - action]]), left_proba))
                grads_log.append(tape.gradient(loss, model.trainable_variables))
                obs, reward, done, _ = env.step(action)
                rewards.append(reward)
                if done:
                    break
            all_grads.append(grads_log)
            all_rewards.append(rewards)
            steps += len(rewards)
        advantages = pg._advantages(all_rewards, 0.95)
        flat = [g for episode in all_grads for g in episode]
        mean_grads = [tf.reduce_mean([a * g[i] for a, g in zip(advantages, flat, strict=True)],
                                     axis=0)
                      for i in range(len(model.trainable_variables))]
        optimizer.apply_gradients(zip(mean_grads, model.trainable_variables, strict=True))
    return steps, time.perf_counter() - started


def main(n_iterations=10):
    chapter_steps, chapter_seconds = chapter_loop(n_iterations)
    history = pg.train_reinforce("CartPole-v1", num_iterations=n_iterations, seed=42,
                                 progress=False)
    fast_steps = int(history.episode_returns.sum())  # CartPole pays 1 per step
    anchor = chapter_steps / chapter_seconds
    fast = fast_steps / history.seconds
    print(f"anchor: chapter 02 loop (eager, per step)  {chapter_steps:6d} steps in "
          f"{chapter_seconds:6.1f} s = {anchor:8.0f} steps/s")
    print(f"rlbook.pg.train_reinforce                  {fast_steps:6d} steps in "
          f"{history.seconds:6.1f} s = {fast:8.0f} steps/s")
    print(f"ratio: {fast / anchor:.1f}x the anchor's steps per second "
          f"({n_iterations} updates each)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=10,
                        help="policy updates each trainer runs (default 10)")
    main(parser.parse_args().iterations)
