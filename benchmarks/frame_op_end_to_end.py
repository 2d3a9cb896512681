"""Does the compiled replay op pay for itself in the whole Breakout training loop?

The anchor is the same loop on the pure-TensorFlow sampling path
(``RLBOOK_FRAME_OP=0``). Each measurement is one fresh process running
``train_eval`` on BreakoutNoFrameskip-v4 with the book's Atari settings
(Nature Q-network, batch 64, a train step every 4 agent steps, frame-once
replay) for a short and a long run; the difference of the two removes set-up,
warm-up collection and graph tracing, leaving the steady loop's rate. The
two settings take turns (on, off, on, off, ...) so that a busy moment on a
shared machine slows both rather than one, and the load average is printed
beside every number. Besides wall-clock steps/s it reports steps per
CPU-second of the training process (all its threads), which other jobs on
a shared machine disturb less.

Within noise means: the median on/off ratio differs from 1 by less than the
spread of the anchor's own repeated runs (max/min - 1).

    nice -n 10 .venv/bin/python benchmarks/frame_op_end_to_end.py --repeats 3
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

SETTINGS = {"on": "1", "off": "0"}


def child(short, long):
    import rlbook  # noqa: F401  (legacy Keras before TensorFlow)
    from rlbook.tfagents_train import ATARI_HYPERPARAMETERS, train_eval

    # train_eval evaluates at step 0 and at the end whatever eval_interval says:
    # the episode cap keeps those two greedy episodes short (a policy that never
    # presses FIRE would otherwise play 27,000 steps), so they cost both runs alike.
    overrides = dict(initial_collect_steps=1_000, replay_buffer_capacity=10_000,
                     max_episode_steps=500, eval_interval=10**9, num_eval_episodes=1,
                     log_interval=50, iterations_per_call=50, export_policy=False,
                     progress=False)
    settings = {**ATARI_HYPERPARAMETERS, **overrides}

    def timed(n_iterations):
        started, cpu_started = time.perf_counter(), time.process_time()
        result = train_eval(None, "BreakoutNoFrameskip-v4", num_iterations=n_iterations,
                            **settings)
        return time.perf_counter() - started, time.process_time() - cpu_started, result

    timed(10)  # discarded: TensorFlow start-up and loading the op land here
    t_short, cpu_short, _ = timed(short)
    t_long, cpu_long, result = timed(long)
    agent_steps = (long - short) * settings["collect_steps_per_iteration"]
    print(json.dumps({"steps_per_s": agent_steps / (t_long - t_short),
                      "steps_per_cpu_s": agent_steps / (cpu_long - cpu_short),
                      "op_loaded": result.replay_buffer._stack_frames_op() is not None,
                      "device": result.device}))


def measure(setting, short, long):
    env = dict(os.environ, RLBOOK_FRAME_OP=SETTINGS[setting])
    load = os.getloadavg()[0]
    done = subprocess.run([sys.executable, __file__, "--child", "--short", str(short),
                           "--long", str(long)], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"the {setting} run failed:\n{done.stderr[-3000:]}")
    found = json.loads(done.stdout.strip().splitlines()[-1])
    if found["op_loaded"] != (setting == "on"):
        sys.exit(f"the {setting} run had op_loaded={found['op_loaded']}: nothing to compare")
    return (found["steps_per_s"], found["steps_per_cpu_s"], (load + os.getloadavg()[0]) / 2,
            found["device"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="pairs of runs (default 3)")
    parser.add_argument("--short", type=int, default=50, help="train steps of the short run")
    parser.add_argument("--long", type=int, default=550, help="train steps of the long run")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.short, args.long)
    rates = {(setting, clock): [] for setting in SETTINGS for clock in ("wall", "cpu")}
    print(f"{os.cpu_count()} CPUs; agent steps of the steady loop "
          f"({args.long - args.short} train steps) per wall-clock second and per CPU-second; "
          f"load = 1-min load average")
    for repeat in range(args.repeats):
        # Alternate which setting goes first, so neither always gets the quieter slot.
        order = ("on", "off") if repeat % 2 == 0 else ("off", "on")
        for setting in order:
            wall, cpu, load, device = measure(setting, args.short, args.long)
            rates[setting, "wall"].append(wall)
            rates[setting, "cpu"].append(cpu)
            print(f"  run {repeat + 1} op {setting:>3}: {wall:6.1f} steps/s, {cpu:6.1f} "
                  f"steps/CPU-s (load {load:.2f}, {device})", flush=True)
    for clock in ("wall", "cpu"):
        on, off = rates["on", clock], rates["off", clock]
        ratios = [a / b for a, b in zip(on, off, strict=True)]
        median = statistics.median(ratios)
        noise = max(off) / min(off) - 1
        verdict = "within noise" if abs(median - 1) <= noise else "beyond noise"
        print(f"{clock:>4}: compiled op median {statistics.median(on):.1f}, anchor (pure TF, "
              f"RLBOOK_FRAME_OP=0) median {statistics.median(off):.1f}; ratio on/off median "
              f"{median:.3f} (pairs {', '.join(f'{r:.3f}' for r in ratios)}); anchor's own "
              f"spread {noise:.1%}: {verdict}")


if __name__ == "__main__":
    main()
