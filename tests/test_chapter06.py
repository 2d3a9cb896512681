"""Chapter 06's visible checks catch the plausible mistakes, with a useful message.

As in test_chapter05: the setup cells and reference answers run once in this
process (quick mode), then each check cell, without its hidden part, runs
against a wrong answer a learner might write and must fail saying why.
"""

import json
import os

import pytest

SOURCE = "solutions/06_tf_agents_atari/06_tf_agents_atari.ipynb"
SETUP = ["code-01", "make_atari_env", "code-10", "code-12", "build_nature_q_network",
         "build_atari_agent", "transition_mask"]


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


ATARI_ENV = """
def make_atari_env(env_name, max_episode_steps=27_000):
    return suite_atari.load({name}, max_episode_steps={cap}, gym_env_wrappers={wrappers})
"""


def atari_env(name="env_name", cap="max_episode_steps",
              wrappers="[AtariPreprocessing, FrameStack4]"):
    return ATARI_ENV.format(name=name, cap=cap, wrappers=wrappers)


NATURE = """
def build_nature_q_network(observation_spec, action_spec):
    return q_network.QNetwork(observation_spec, action_spec, {preprocessing}
                              conv_layer_params={conv}, fc_layer_params=[{dense}])
"""
SCALE = "preprocessing_layers=tf.keras.layers.Lambda(lambda o: tf.cast(o, tf.float32) / 255.0),"
NATURE_CONV = "[(32, (8, 8), 4), (64, (4, 4), 2), (64, (3, 3), 1)]"


def nature(preprocessing=SCALE, conv=NATURE_CONV, dense=512):
    return NATURE.format(preprocessing=preprocessing, conv=conv, dense=dense)


AGENT = """
def build_atari_agent(tf_env, q_net, train_step):
    schedule = tf.keras.optimizers.schedules.PolynomialDecay(1.0, {decay}, 0.01)
    agent = dqn_agent.DqnAgent(
        tf_env.time_step_spec(), tf_env.action_spec(), q_network=q_net,
        optimizer={optimizer}, target_update_period=2_000, td_errors_loss_fn={loss},
        gamma=0.99, train_step_counter=train_step, epsilon_greedy={epsilon})
    agent.initialize()
    return agent
"""
RMSPROP = ("tf.keras.optimizers.RMSprop(learning_rate=2.5e-4, rho=0.95, momentum=0.0, "
           "epsilon=1e-5, centered=True)")


def agent(decay="62_500", optimizer=RMSPROP, loss="tf.keras.losses.Huber(reduction='none')",
          epsilon="lambda: schedule(train_step)"):
    return AGENT.format(decay=decay, optimizer=optimizer, loss=loss, epsilon=epsilon)


MASK = """
def transition_mask(experience):
    time_steps, _, next_time_steps = trajectory.to_transition(experience)
    return {mask}
"""

WRONG = {
    # make_atari_env
    "no frame stack": ("test_make_atari_env", atari_env(wrappers="[AtariPreprocessing]"),
                       "FrameStack4 \\(after it\\) stacks the last 4"),
    "no preprocessing at all": ("test_make_atari_env", atari_env(wrappers="[]"),
                                "AtariPreprocessing makes one 84x84 grayscale frame"),
    "the game hard-coded": ("test_make_atari_env", atari_env(name="'BreakoutNoFrameskip-v4'"),
                            "Space Invaders has 6 actions"),
    "the cap ignored": ("test_make_atari_env", atari_env(cap="27_000"),
                        "pass max_episode_steps to suite_atari.load"),
    # build_nature_q_network
    "bytes straight into the convolutions": ("test_build_nature_q_network",
                                             nature(preprocessing=""),
                                             "cast them to float32"),
    "cast but not scaled": ("test_build_nature_q_network", nature(preprocessing=(
        "preprocessing_layers=tf.keras.layers.Lambda(lambda o: tf.cast(o, tf.float32)),")),
        "divide by 255"),
    "every stride 1": ("test_build_nature_q_network",
                       nature(conv="[(32, (8, 8), 1), (64, (4, 4), 1), (64, (3, 3), 1)]"),
                       "check filters, kernel sizes, strides"),
    "a dense layer of 256": ("test_build_nature_q_network", nature(dense=256),
                             "the 512-unit dense layer"),
    # build_atari_agent
    "a constant epsilon": ("test_build_atari_agent", agent(epsilon="0.01"),
                           "pass a function of no arguments"),
    "epsilon evaluated once": ("test_build_atari_agent", agent(epsilon="schedule(train_step)"),
                               "pass a function of no arguments"),
    "decay over agent steps": ("test_build_atari_agent", agent(decay="250_000"),
                               "62,500 train steps"),
    "Huber averaged over the batch": ("test_build_atari_agent",
                                      agent(loss="tf.keras.losses.Huber()"),
                                      "reduction='none'"),
    "RMSprop's defaults": ("test_build_atari_agent",
                           agent(optimizer="tf.keras.optimizers.RMSprop()"),
                           "RMSprop's learning_rate should be 0.00025"),
    # transition_mask
    "the trajectories' own boundaries": ("test_transition_mask", MASK.format(
        mask="tf.logical_not(experience.is_boundary())"), "use trajectory.to_transition"),
    "the episode's end dropped": ("test_transition_mask", MASK.format(
        mask="tf.logical_not(next_time_steps.is_last())"), "keep the transition that ends"),
    "the mask inverted": ("test_transition_mask", MASK.format(mask="time_steps.is_last()"),
                          "inside an episode are all kept"),
    "a float mask": ("test_transition_mask", MASK.format(
        mask="tf.cast(tf.logical_not(time_steps.is_last()), tf.float32)"), "return booleans"),
}


@pytest.mark.parametrize("mistake", list(WRONG))
def test_a_plausible_mistake_fails_a_visible_check_with_a_hint(cells, chapter, mistake):
    test_id, answer, hint = WRONG[mistake]
    with pytest.raises(AssertionError, match=hint):
        run_visible_check(cells, chapter, test_id, answer)


@pytest.mark.parametrize("grade_id", ["make_atari_env", "build_nature_q_network",
                                      "build_atari_agent", "transition_mask"])
def test_the_reference_solution_passes_the_visible_checks(cells, chapter, grade_id):
    run_visible_check(cells, chapter, f"test_{grade_id}", cells[grade_id])
