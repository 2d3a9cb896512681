"""Record CartPole DQN learning curves over replay-buffer sizes and learning rates.

Writes rlbook/widgets/data/dqn_sweep.json, the data behind chapter 04's
``rlbook.widgets.sweeps.sweep_explorer``: the return of every training
episode of ``rlbook.dqn.train_dqn`` for each (buffer_capacity,
learning_rate, seed), with the exact trainer configuration, the rlbook
version, the date, the machine and the wall time of each run.

Everything except the swept values is the book's schedule, train_dqn's
defaults: 600 episodes of at most 200 steps, Dense(32, elu) x2, batch 32,
gamma 0.95, MSE, epsilon = max(1 - episode / 500, 0.01), one gradient step
after each episode from episode 50 on, no target network.

    nice -n 10 .venv/bin/python scripts/record_dqn_sweep.py
    nice -n 10 .venv/bin/python scripts/record_dqn_sweep.py --seeds 0 \\
        --buffers 2000 --learning-rates 1e-2 --episodes 100 --out /tmp/sweep.json
"""

import argparse
import datetime
import json
import os
import platform
import sys
import time
from pathlib import Path

import rlbook
from rlbook.dqn import train_dqn

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "rlbook" / "widgets" / "data" / "dqn_sweep.json"


def machine():
    return {"node": platform.node(), "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(), "python": platform.python_version()}


def jsonable(config):
    # Tuples become lists; everything else in train_dqn's config is plain.
    return {k: list(v) if isinstance(v, tuple) else v for k, v in config.items()}


def write(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n")
    os.replace(tmp, path)  # a kill mid-sweep leaves the last complete file


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--buffers", type=int, nargs="+", default=[500, 2_000, 10_000])
    parser.add_argument("--learning-rates", type=float, nargs="+", default=[1e-3, 1e-2])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--episodes", type=int, default=600)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()

    import tensorflow as tf

    started = time.perf_counter()
    data = {
        "description": "CartPole-v1 DQN episode returns (with exploration) from "
                       "rlbook.dqn.train_dqn, one run per (buffer_capacity, "
                       "learning_rate, seed); every other argument as in 'config'.",
        "rlbook_version": rlbook.__version__,
        "tensorflow_version": tf.__version__,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(),
        "command": " ".join(["scripts/record_dqn_sweep.py", *sys.argv[1:]]),
        "buffer_capacities": args.buffers,
        "learning_rates": args.learning_rates,
        "seeds": args.seeds,
        "config": None,
        "runs": [],
        "seconds": None,
    }
    for seed in args.seeds:
        for capacity in args.buffers:
            for lr in args.learning_rates:
                t0 = time.perf_counter()
                result = train_dqn("CartPole-v1", num_episodes=args.episodes, seed=seed,
                                   replay_buffer_capacity=capacity, learning_rate=lr,
                                   progress=False)
                wall = time.perf_counter() - t0
                config = jsonable(result.config)
                shared = {k: v for k, v in config.items()
                          if k not in ("replay_buffer_capacity", "learning_rate", "seed",
                                       "desc")}
                if data["config"] is None:
                    data["config"] = shared
                data["runs"].append({"buffer_capacity": capacity, "learning_rate": lr,
                                     "seed": seed, "seconds": round(wall, 1),
                                     "returns": [int(r) for r in result.returns]})
                data["seconds"] = round(time.perf_counter() - started, 1)
                write(args.out, data)
                last = result.returns[-50:].mean()
                print(f"seed {seed} buffer {capacity:>6} lr {lr:g}: mean of the last 50 "
                      f"episodes {last:6.1f}, {wall:5.1f} s", flush=True)
    print(f"wrote {args.out} ({len(data['runs'])} runs) in {data['seconds']:.0f} s")


if __name__ == "__main__":
    main()
