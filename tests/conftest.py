"""Shared fixtures. Tests use the real stack: gym, ALE, TensorFlow, nbgrader."""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Like a notebook: rlbook first, so TensorFlow starts in legacy-Keras mode.
import rlbook  # noqa: E402,F401


@pytest.fixture(scope="session")
def root():
    return ROOT


@pytest.fixture(scope="session")
def venv_bin():
    return Path(sys.executable).parent


def source_notebooks():
    return sorted(ROOT.glob("solutions/*/*.ipynb"))


def student_notebook(source):
    return ROOT / "notebooks" / source.parent.name / source.name
