"""Full-mode check: does the improved DQN solve CartPole for several seeds?

Trains ``rlbook.dqn.train_dqn`` with the book's settings (600 episodes of at
most 200 steps, Dense(32, elu) x2, buffer 2,000, batch 32, gamma 0.95) plus
fixed Q-value targets and Double DQN, then plays 20 greedy episodes
(200-step cap, starting states seeded 1000..1019) per seed. The goal: an
average return of at least 195. ``--eval-interval 10`` keeps the best
weights of periodic evaluations on other starting states (10,000 + i).

``--tuned`` switches to the chapter's "tuned Double DQN": one gradient step
every 4 environment steps, learning rate 1e-3, Huber loss, target copied
every 100 gradient steps, best weights of evaluations every 10 episodes
(the network, buffer, batch, gamma and epsilon schedule stay the book's).

    nice -n 10 .venv/bin/python benchmarks/dqn_cartpole_check.py --seeds 0 1 2
    nice -n 10 .venv/bin/python benchmarks/dqn_cartpole_check.py --eval-interval 10
    nice -n 10 .venv/bin/python benchmarks/dqn_cartpole_check.py --tuned
"""

import argparse
import json
import time

import rlbook  # noqa: F401
from rlbook.dqn import evaluate, train_dqn

# The notebook's "tuned Double DQN" (chapter 04, section 8).
TUNED = dict(train_every_n_steps=4, learning_rate=1e-3, td_errors_loss_fn="huber",
             target_update_unit="steps", target_update_period=100, eval_interval=10)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--train-steps-per-episode", type=int, default=1)
    parser.add_argument("--target-update-period", type=int, default=50)
    parser.add_argument("--learning-rate", type=float, default=1e-2)
    parser.add_argument("--target-update-unit", choices=["episodes", "steps"],
                        default="episodes")
    parser.add_argument("--train-every-n-steps", type=int, default=None)
    parser.add_argument("--td-errors-loss-fn", choices=["mse", "huber"], default="mse")
    parser.add_argument("--dueling", action="store_true")
    parser.add_argument("--eval-interval", type=int, default=None,
                        help="evaluate every N episodes and keep the best weights")
    parser.add_argument("--num-eval-episodes", type=int, default=10,
                        help="greedy episodes per periodic evaluation (default 10)")
    parser.add_argument("--tuned", action="store_true",
                        help="the chapter's tuned Double DQN (overrides the options above)")
    args = parser.parse_args()
    if args.tuned:
        for name, value in TUNED.items():
            setattr(args, name, value)
    config = dict(target_update_period=args.target_update_period,
                  target_update_unit=args.target_update_unit, double=True,
                  dueling=args.dueling, learning_rate=args.learning_rate,
                  train_steps_per_episode=args.train_steps_per_episode,
                  train_every_n_steps=args.train_every_n_steps,
                  td_errors_loss_fn=args.td_errors_loss_fn, eval_interval=args.eval_interval,
                  num_eval_episodes=args.num_eval_episodes)
    print("config:", json.dumps(config))
    means = []
    for seed in args.seeds:
        start = time.perf_counter()
        result = train_dqn("CartPole-v1", seed=seed, progress=False, **config)
        mean, returns = evaluate(result.model, num_episodes=20, max_episode_steps=200,
                                 seed=1000)
        means.append(mean)
        print(f"seed {seed}: greedy mean over 20 episodes {mean:6.1f} (min {returns.min():.0f}), "
              f"last 50 training episodes {result.returns[-50:].mean():6.1f}, "
              f"{time.perf_counter() - start:5.0f} s", flush=True)
    solved = sum(m >= 195 for m in means)
    print(f"{solved}/{len(means)} seeds reach an average of at least 195")


if __name__ == "__main__":
    main()
