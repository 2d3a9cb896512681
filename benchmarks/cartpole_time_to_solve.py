"""CartPole-v0 time to solve: rlbook's trainer against the TF-Agents tutorial.

Solved: the greedy policy averages at least 195 over 10 evaluation episodes.
The anchor is the tutorial's own loop and configuration (20,000 iterations,
1 collect step per iteration, batch 64, Adam 1e-3, evaluation every 1,000
iterations, Python-side collection and evaluation, common.function on
agent.train). Both stop at their first solving evaluation; wall time counts
everything from building the environments (TensorFlow already imported).

    nice -n 10 .venv/bin/python benchmarks/cartpole_time_to_solve.py --seeds 0 1 2
"""

import argparse
import statistics
import time

import rlbook  # noqa: F401  (legacy Keras before TensorFlow)

import numpy as np
import tensorflow as tf

SOLVED = 195.0

# rlbook's configuration: the same network, optimizer and batch as the
# tutorial; many iterations per tf.function call; evaluation as a graph.
RLBOOK_CONFIG = dict(num_iterations=20_000, collect_steps_per_iteration=1, batch_size=64,
                     learning_rate=1e-3, initial_collect_steps=1_000, iterations_per_call=500,
                     eval_interval=500, num_eval_episodes=10, log_interval=500,
                     stop_return=SOLVED, export_policy=False, progress=False)


def rlbook_run(seed):
    from rlbook.tfagents_train import train_eval

    started = time.perf_counter()
    result = train_eval(None, "CartPole-v0", seed=seed, **RLBOOK_CONFIG)
    return time.perf_counter() - started, result.solved_at


def tutorial_run(seed, num_iterations=20_000, eval_interval=1_000):
    """The tutorial's loop, as it is written there (int64 counter fix only)."""
    from tf_agents.agents.dqn import dqn_agent
    from tf_agents.environments import suite_gym, tf_py_environment
    from tf_agents.networks import q_network
    from tf_agents.policies import random_tf_policy
    from tf_agents.replay_buffers import tf_uniform_replay_buffer
    from tf_agents.trajectories import trajectory
    from tf_agents.utils import common

    started = time.perf_counter()
    tf.random.set_seed(seed)
    np.random.seed(seed)
    train_py, eval_py = suite_gym.load("CartPole-v0"), suite_gym.load("CartPole-v0")
    train_py.seed(seed)
    eval_py.seed(seed + 1)
    train_env = tf_py_environment.TFPyEnvironment(train_py)
    eval_env = tf_py_environment.TFPyEnvironment(eval_py)
    q_net = q_network.QNetwork(train_env.observation_spec(), train_env.action_spec(),
                               fc_layer_params=(100,))
    agent = dqn_agent.DqnAgent(train_env.time_step_spec(), train_env.action_spec(),
                               q_network=q_net, optimizer=tf.keras.optimizers.Adam(1e-3),
                               td_errors_loss_fn=common.element_wise_squared_loss,
                               train_step_counter=tf.Variable(0, dtype=tf.int64))
    agent.initialize()
    buffer = tf_uniform_replay_buffer.TFUniformReplayBuffer(
        data_spec=agent.collect_data_spec, batch_size=train_env.batch_size, max_length=100_000)

    def collect_step(env, policy):
        time_step = env.current_time_step()
        action_step = policy.action(time_step)
        next_time_step = env.step(action_step.action)
        buffer.add_batch(trajectory.from_transition(time_step, action_step, next_time_step))

    def compute_avg_return(env, policy, n=10):
        total = 0.0
        for _ in range(n):
            time_step, episode_return = env.reset(), 0.0
            while not time_step.is_last():
                time_step = env.step(policy.action(time_step).action)
                episode_return += time_step.reward
            total += episode_return
        return float(total / n)

    random_policy = random_tf_policy.RandomTFPolicy(train_env.time_step_spec(),
                                                    train_env.action_spec())
    for _ in range(1_000):
        collect_step(train_env, random_policy)
    iterator = iter(buffer.as_dataset(num_parallel_calls=3, sample_batch_size=64,
                                      num_steps=2).prefetch(3))
    agent.train = common.function(agent.train)
    for _ in range(num_iterations):
        collect_step(train_env, agent.collect_policy)
        experience, _ = next(iterator)
        agent.train(experience)
        step = int(agent.train_step_counter.numpy())
        if step % eval_interval == 0 and compute_avg_return(eval_env, agent.policy) >= SOLVED:
            return time.perf_counter() - started, step
    return time.perf_counter() - started, None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--which", choices=["both", "rlbook", "tutorial"], default="both")
    args = parser.parse_args()
    runs = {"rlbook": rlbook_run, "tutorial": tutorial_run}
    names = list(runs) if args.which == "both" else [args.which]
    times = {}
    for name in names:
        for seed in args.seeds:
            seconds, solved_at = runs[name](seed)
            print(f"{name:9s} seed {seed}: {seconds:7.1f} s, "
                  + (f"solved at iteration {solved_at}" if solved_at else "NOT solved"),
                  flush=True)
            times.setdefault(name, []).append(seconds if solved_at else float("inf"))
    for name, values in times.items():
        print(f"{name:9s} median {statistics.median(values):.1f} s over seeds {args.seeds}")
    if len(times) == 2:
        ratio = statistics.median(times["tutorial"]) / statistics.median(times["rlbook"])
        print(f"speed-up (tutorial median / rlbook median): {ratio:.2f}x; "
              f"every rlbook seed solved: {all(np.isfinite(times['rlbook']))}")


if __name__ == "__main__":
    main()
