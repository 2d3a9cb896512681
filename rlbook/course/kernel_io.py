"""Around a kernel started from this process: its environment in, plain text out."""

import os
import re
from contextlib import contextmanager

# Terminal control sequences (IPython colours its tracebacks with them).
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def plain(text):
    """``text`` without terminal colour and control sequences."""
    return ANSI.sub("", text)


@contextmanager
def environment(**values):
    """Set environment variables for the block and restore them after it.

    A kernel started inside the block inherits them. (nbgrader's
    ``utils.setenv`` saves the wrong values and restores nothing on an error.)
    """
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
