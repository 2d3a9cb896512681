"""Making gym environments: headless, seeded, with errors that help."""

import contextlib
import difflib
import io

import rlbook  # noqa: F401  (sets the SDL and Keras variables first)


def import_gym():
    """Import gym without its "unmaintained" banner.

    The workbook pins gym 0.23 on purpose (TF-Agents 0.19 requires it), so
    the banner would only alarm learners.
    """
    with contextlib.redirect_stderr(io.StringIO()):
        import gym
    return gym


def registered_ids():
    """All environment ids gym knows, sorted."""
    gym = import_gym()
    return sorted(gym.envs.registry.env_specs)


def make_env(env_id: str, seed=None, **kwargs):
    """Create a gym environment that renders without a screen.

    ``seed`` (optional) seeds the first ``reset`` and the action space, so a
    run can be repeated exactly. Other keyword arguments go to ``gym.make``.
    """
    gym = import_gym()
    if not isinstance(env_id, str):
        raise TypeError(f"env_id should be a string such as 'CartPole-v1', got: {env_id!r}")
    if env_id not in gym.envs.registry.env_specs:
        close = difflib.get_close_matches(env_id, registered_ids(), n=3, cutoff=0.6)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise ValueError(
            f"Unknown environment id {env_id!r}.{hint} "
            "rlbook.envs.registered_ids() lists every id."
        )
    env = gym.make(env_id, **kwargs)
    if seed is not None:
        env.reset(seed=int(seed))
        env.action_space.seed(int(seed))
    return env
