"""Agent steps per second of the whole Atari training loop (collect + train).

rlbook.tfagents_train.train_eval on BreakoutNoFrameskip-v4 with the book's
hyperparameters (Nature Q-network, batch 64, train every 4 agent steps,
frame-once replay). Two runs of different lengths; their difference removes
each run's set-up, warm-up collection and graph tracing, leaving the steady
loop's rate. A first, discarded run pays the process's one-time costs
(TensorFlow start-up, loading the replay op), which would otherwise land on
the short run alone.

    nice -n 10 .venv/bin/python benchmarks/atari_steps_per_second.py
"""

import argparse
import time

import rlbook  # noqa: F401


def timed(n_iterations, args):
    from rlbook.tfagents_train import ATARI_HYPERPARAMETERS, train_eval

    settings = {**ATARI_HYPERPARAMETERS, **dict(
        initial_collect_steps=1_000, replay_buffer_capacity=10_000, eval_interval=10**9,
        num_eval_episodes=1, log_interval=50, iterations_per_call=50, export_policy=False,
        progress=False)}
    started = time.perf_counter()
    result = train_eval(None, "BreakoutNoFrameskip-v4", num_iterations=n_iterations, **settings)
    return time.perf_counter() - started, result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", type=int, default=50)
    parser.add_argument("--long", type=int, default=550)
    args = parser.parse_args()
    timed(10, args)  # discarded: the one-time costs
    t_short, _ = timed(args.short, args)
    t_long, result = timed(args.long, args)
    steps = (args.long - args.short) * 4
    print(f"device: {result.device}")
    print(f"{args.short} iterations: {t_short:.1f} s; {args.long} iterations: {t_long:.1f} s")
    print(f"steady training loop: {steps / (t_long - t_short):.0f} agent steps/s "
          f"({(args.long - args.short) / (t_long - t_short):.1f} train steps/s of batch 64)")


if __name__ == "__main__":
    main()
