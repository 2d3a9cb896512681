"""The Colab set-up cell, run for real in a fresh virtual environment.

Colab is a Python with TensorFlow already installed, and a kernel in which
`google.colab` is importable. Here: a new venv with tensorflow 2.21.0
installed first, Colab detection forced with RLBOOK_COLAB=1, and rlbook taken
from this checkout (RLBOOK_SOURCE) instead of the repository address. The
code run is the launch block of the first chapter's student notebook, as a
student's Colab would run it. (Colab has Python 3.12; this machine only 3.11,
which takes the same path: tf-agents without its pygame 2.1.3 pin.)
"""

import os
import subprocess
import sys
import textwrap

import nbformat
import pytest

from conftest import source_notebooks, student_notebook
from rlbook import launch

TENSORFLOW = "tensorflow==2.21.0"

SMOKE = textwrap.dedent("""
    import rlbook
    import numpy as np
    from rlbook import envs
    env = envs.make_env("CartPole-v1", seed=0)
    obs = env.reset(seed=0)
    obs, reward, done, info = env.step(1)
    assert obs.shape == (4,) and reward == 1.0, (obs, reward)
    from tf_agents.environments import suite_gym, tf_py_environment
    from tf_agents.agents.dqn import dqn_agent  # pulls in TF-Probability
    py_env = suite_gym.load("CartPole-v1")
    tf_env = tf_py_environment.TFPyEnvironment(py_env)
    time_step = tf_env.reset()
    time_step = tf_env.step(np.array([1], dtype=np.int64))
    assert float(time_step.reward[0]) == 1.0, time_step
    assert rlbook.legacy_keras_active()
    import tensorflow as tf, tf_keras
    assert tf_keras.__version__.split(".")[:2] == tf.__version__.split(".")[:2]
    print("SMOKE OK", tf.__version__, np.__version__)
""")


def launch_code():
    notebook = nbformat.read(str(student_notebook(source_notebooks()[0])), as_version=4)
    first = next(cell for cell in notebook.cells if cell.cell_type == "code")
    start, end = first.source.index(launch.BLOCK_START), first.source.index(launch.BLOCK_END)
    return first.source[start:end]


def run(python, code, env, timeout=1500):
    return subprocess.run([str(python), "-c", code], env=env, capture_output=True, text=True,
                          timeout=timeout)


def freeze(python):
    return subprocess.run([str(python), "-m", "pip", "freeze"], capture_output=True,
                          text=True, check=True).stdout


@pytest.mark.slow
def test_colab_setup_cell_installs_the_stack_once(root, tmp_path):
    venv = tmp_path / "colab"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", TENSORFLOW], check=True,
                   timeout=1200)
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("VIRTUAL_ENV", "PYTHON", "TF_", "RLBOOK"))}
    env.update(RLBOOK_COLAB="1", RLBOOK_SOURCE=str(root), PATH=f"{venv / 'bin'}:{env['PATH']}")
    code = launch_code()

    first = run(python, code, env)
    log = first.stdout + first.stderr
    assert "Colab set-up: installed" in log, log[-4000:]
    # Installing numpy < 2 over TensorFlow's numpy 2 asks for a restart, as on
    # Colab; otherwise the cell goes on to the doctor's line.
    assert first.returncode == 0 or "restart the kernel" in log, log[-4000:]

    # The restarted kernel runs the cell again: nothing is installed twice.
    before = freeze(python)
    second = run(python, code, env, timeout=300)
    log = second.stdout + second.stderr
    assert second.returncode == 0, log[-4000:]
    assert "already installed" in log and "$ pip" not in log, log[-4000:]
    assert "rlbook doctor (quick)" in log, log[-4000:]
    assert freeze(python) == before

    smoke = run(python, SMOKE, env, timeout=600)
    assert "SMOKE OK" in smoke.stdout, (smoke.stdout + smoke.stderr)[-4000:]
    installed = freeze(python)
    assert "tf-agents==0.19.0" in installed and "gym==0.23.0" in installed
    assert "pygame==2.1.3" not in installed  # the pin that breaks Colab's Python 3.12
