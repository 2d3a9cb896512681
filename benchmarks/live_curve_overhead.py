"""What a live learning curve costs a training run: live_plot=True against off.

Anchor: ``rlbook.pg.train_reinforce`` with ``live_plot=False``. Contender:
the same run (same seed, so the same episodes) with ``live_plot=True``,
inside a real IPython shell so every drawing is rendered and published (the
outputs are captured, not shown). Runs alternate, off first, and the
medians are compared. Also prints how many drawings the curve made.

    nice -n 10 .venv/bin/python benchmarks/live_curve_overhead.py
    nice -n 10 .venv/bin/python benchmarks/live_curve_overhead.py --iterations 15 --repeats 3
"""

import argparse
import statistics
import time

import rlbook  # noqa: F401
from rlbook import pg

from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output


def timed(n_iterations, live):
    started = time.perf_counter()
    with capture_output() as captured:
        pg.train_reinforce("CartPole-v1", num_iterations=n_iterations, seed=42, progress=False,
                           live_plot=live)
    return time.perf_counter() - started, len(captured.outputs)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--iterations", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    InteractiveShell.instance()
    timed(2, False)  # warm-up: TensorFlow's first traces
    off, on, draws = [], [], []
    for _ in range(args.repeats):
        off.append(timed(args.iterations, False)[0])
        seconds, n_outputs = timed(args.iterations, True)
        on.append(seconds)
        draws.append(n_outputs)
    off_s, on_s = statistics.median(off), statistics.median(on)
    print(f"train_reinforce, {args.iterations} iterations, median of {args.repeats}:")
    print(f"  live_plot=False (anchor): {off_s:6.2f} s")
    print(f"  live_plot=True          : {on_s:6.2f} s  ({draws} drawings per run)")
    print(f"  ratio live/anchor: {on_s / off_s:.3f}")


if __name__ == "__main__":
    main()
