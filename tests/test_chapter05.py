"""Chapter 05's visible checks catch the plausible mistakes, with a useful message.

The chapter's setup cells and reference answers run once, in quick mode, in
this process; then each check cell (without its hidden part) runs against a
wrong answer a learner might write, over a copy of that state: it must fail
and say why.
"""

import json
import os

import pytest

SOURCE = "solutions/05_tf_agents_cartpole/05_tf_agents_cartpole.ipynb"
# The cells that build what the checks use: environments, the agent, the random
# policy, the replay buffer filled by the reference collector, the dataset.
SETUP = ["code-01", "code-03", "code-05", "code-07", "build_agent", "code-09", "code-11",
         "compute_avg_return", "code-17", "make_collector", "code-19", "code-21",
         "train_iteration"]


@pytest.fixture(scope="module")
def cells(root):
    notebook = json.loads((root / SOURCE).read_text())
    return {cell["id"]: "".join(cell["source"]) for cell in notebook["cells"]}


@pytest.fixture(scope="module")
def chapter(cells):
    os.environ["RLBOOK_QUICK"] = "1"
    try:
        namespace = {}
        for cell_id in SETUP:
            exec(cells[cell_id], namespace)
        return namespace
    finally:
        del os.environ["RLBOOK_QUICK"]


def run_visible_check(cells, chapter, test_id, answer):
    namespace = dict(chapter)
    exec(answer, namespace)
    exec(cells[test_id].split("### BEGIN HIDDEN TESTS")[0], namespace)


BUILD_AGENT = """
def build_agent(tf_env, fc_layer_params=(100,), learning_rate=1e-3):
    network = q_network.QNetwork(tf_env.observation_spec(), tf_env.action_spec(),
                                 fc_layer_params={layers})
    agent = dqn_agent.DqnAgent(
        tf_env.time_step_spec(), tf_env.action_spec(), q_network=network,
        optimizer=tf.keras.optimizers.Adam(learning_rate={lr}),
        td_errors_loss_fn={loss}, train_step_counter=tf.Variable(0, dtype=tf.{dtype}))
    {init}
    return agent
"""


def build_agent(layers="fc_layer_params", lr="learning_rate", dtype="int64",
                loss="common.element_wise_squared_loss", init="agent.initialize()"):
    return BUILD_AGENT.format(layers=layers, lr=lr, dtype=dtype, loss=loss, init=init)


COLLECTOR = """
def make_collector(environment, policy, observers, num_steps):
    driver = dynamic_step_driver.DynamicStepDriver(environment, policy, observers=observers,
                                                   num_steps={steps})
    return {run}
"""

AVG_RETURN = """
def compute_avg_return(environment, policy, num_episodes=10):
    total = 0.0
    {reset_outside}
    for _ in range(num_episodes):
        {reset_inside}
        while not time_step.is_last():
            {before}
            time_step = environment.step(policy.action(time_step).action)
            {after}
    return total{divide}
"""


def avg_return(reset_outside="", reset_inside="time_step = environment.reset()",
               before="", after="total += float(time_step.reward[0])", divide=" / num_episodes"):
    return AVG_RETURN.format(reset_outside=reset_outside, reset_inside=reset_inside,
                             before=before, after=after, divide=divide)


TRAIN_ITERATION = """
def train_iteration(collect, iterator, agent):
    {collect}
    experience, _ = next(iterator)
    return {result}
"""

WRONG = {
    # build_agent
    "an int32 step counter": ("test_build_agent", build_agent(dtype="int32"), "int64"),
    "no initialize()": ("test_build_agent", build_agent(init="pass"), "agent.initialize()"),
    "the layers ignored": ("test_build_agent", build_agent(layers="(100,)"),
                           "pass fc_layer_params to QNetwork"),
    "the learning rate ignored": ("test_build_agent", build_agent(lr="1e-3"),
                                  "at the learning_rate given"),
    "Huber's loss": ("test_build_agent",
                     build_agent(loss="tf.keras.losses.Huber(reduction='none')"),
                     "element_wise_squared_loss"),
    # compute_avg_return
    "the total, not the average": ("test_compute_avg_return", avg_return(divide=""),
                                   "then divide"),
    "one reset for all episodes": ("test_compute_avg_return",
                                   avg_return(reset_outside="time_step = environment.reset()",
                                              reset_inside="pass"),
                                   "reset once per episode"),
    "each reward added before its step": ("test_compute_avg_return",
                                          avg_return(before="total += float(time_step.reward[0])",
                                                     after="pass"),
                                          "add up every reward"),
    # make_collector
    "not compiled": ("test_make_collector", COLLECTOR.format(steps="num_steps", run="driver.run"),
                     "compile the driver's run with common.function"),
    "num_steps left out": ("test_make_collector",
                           COLLECTOR.format(steps="1", run="common.function(driver.run)"),
                           "and num_steps too"),
    "a reset on every call": ("test_make_collector",
                              COLLECTOR.format(steps="num_steps", run=(
                                  "common.function(lambda: driver.run(environment.reset()))")),
                              "carry on with the same episode"),
    "whole episodes": ("test_make_collector",
                       "def make_collector(environment, policy, observers, num_steps):\n"
                       "    driver = dynamic_episode_driver.DynamicEpisodeDriver(\n"
                       "        environment, policy, observers=observers, num_episodes=num_steps)\n"
                       "    return common.function(driver.run)\n"
                       "from tf_agents.drivers import dynamic_episode_driver\n",
                       "should give the buffer 3 trajectories"),
    # train_iteration
    "the LossInfo returned": ("test_train_iteration",
                              TRAIN_ITERATION.format(collect="collect()",
                                                     result="agent.train(experience)"),
                              "return the loss as a Python float"),
    "no collection": ("test_train_iteration",
                      TRAIN_ITERATION.format(collect="pass",
                                             result="float(agent.train(experience).loss)"),
                      "it was called 0 times"),
    "collected twice": ("test_train_iteration",
                        TRAIN_ITERATION.format(collect="collect(); collect()",
                                               result="float(agent.train(experience).loss)"),
                        "it was called 2 times"),
    "two batches": ("test_train_iteration",
                    TRAIN_ITERATION.format(collect="collect(); next(iterator)",
                                           result="float(agent.train(experience).loss)"),
                    "take exactly one batch"),
}


@pytest.mark.parametrize("mistake", list(WRONG))
def test_a_plausible_mistake_fails_a_visible_check_with_a_hint(cells, chapter, mistake):
    test_id, answer, hint = WRONG[mistake]
    with pytest.raises(AssertionError, match=hint.replace("(", r"\(").replace(")", r"\)")):
        run_visible_check(cells, chapter, test_id, answer)


@pytest.mark.parametrize("grade_id", ["build_agent", "compute_avg_return", "make_collector",
                                      "train_iteration", "line_world"])
def test_the_reference_solution_passes_the_visible_checks(cells, chapter, grade_id):
    run_visible_check(cells, chapter, f"test_{grade_id}", cells[grade_id])
