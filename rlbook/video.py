"""Episodes to inline video.

``play(env, policy)`` runs episodes, encodes them to H.264 mp4 with the
ffmpeg binary that ships in the imageio-ffmpeg wheel, and returns a
``Video`` that Jupyter shows as an HTML5 ``<video>`` element. The policy may
be a Python function of the observation, a Keras model, or a TF-Agents
policy (with a TF-Agents environment). Frames go to the encoder one at a
time as the episodes play, so the length of a clip does not cost memory.
"""

import base64
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass
class Video:
    """An encoded clip: shows itself inline and reports its size."""

    path: Path
    num_frames: int
    fps: float
    returns: list = field(default_factory=list)
    width: int = 400

    @property
    def seconds(self):
        return self.num_frames / self.fps

    @property
    def num_bytes(self):
        return Path(self.path).stat().st_size

    @property
    def bytes_per_second(self):
        return self.num_bytes / max(self.seconds, 1e-9)

    def _repr_html_(self):
        data = base64.b64encode(Path(self.path).read_bytes()).decode("ascii")
        if Path(self.path).suffix == ".gif":
            return f'<img src="data:image/gif;base64,{data}"/>'
        return (f'<video controls loop autoplay muted playsinline width="{self.width}">'
                f'<source src="data:video/mp4;base64,{data}" type="video/mp4"></video>')

    def __repr__(self):
        return (f"Video({str(self.path)!r}, {self.num_frames} frames, "
                f"{self.seconds:.1f} s, {self.num_bytes / 1024:.0f} KiB, returns={self.returns})")


def _even(frame):
    # H.264 with yuv420p needs even width and height; pad rather than resize.
    frame = np.asarray(frame)
    if frame.ndim == 2:
        frame = np.repeat(frame[..., None], 3, axis=-1)
    pad_h, pad_w = frame.shape[0] % 2, frame.shape[1] % 2
    if pad_h or pad_w:
        frame = np.pad(frame, ((0, pad_h), (0, pad_w), (0, 0)), mode="edge")
    return frame.astype(np.uint8)


def save_video(frames, path, fps=30):
    """Write frames to ``path``: mp4 (H.264) or, if it ends in .gif, a gif.

    ``frames`` may be any iterable, a generator included. For mp4 each frame
    goes to the encoder as it arrives, so a long clip costs the memory of one
    frame, not of the whole episode (a 600-frame Atari clip held as a list
    took 0.2 GB). Returns the path.
    """
    import imageio

    path = Path(path)
    if path.suffix not in (".mp4", ".gif"):
        raise ValueError(f"video path must end in .mp4 or .gif, got {str(path)!r}")
    frames = iter(frames)
    first = next(frames, None)
    if first is None:
        raise ValueError("no frames to write: did the episode run at least one step?")
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".gif":
        # The gif fallback is for short clips: its encoder wants them all.
        imageio.mimsave(path, [np.asarray(f, dtype=np.uint8) for f in (first, *frames)],
                        duration=1000 / fps, loop=0)
        return path
    # crf 28 keeps a 30 s CartPole clip around a few hundred KiB, small
    # enough to embed in a notebook.
    with imageio.get_writer(path, fps=fps, codec="libx264", macro_block_size=1,
                            pixelformat="yuv420p", quality=None,
                            ffmpeg_params=["-crf", "28", "-preset", "veryfast"],
                            ffmpeg_log_level="error") as writer:
        writer.append_data(_even(first))
        for frame in frames:
            writer.append_data(_even(frame))
    return path


class _Counted:
    """Passes frames through, counting them (the encoder never sees a list)."""

    def __init__(self, frames):
        self._frames, self.count = frames, 0

    def __iter__(self):
        for frame in self._frames:
            self.count += 1
            yield frame


def _is_tf_agents_policy(policy):
    return hasattr(policy, "time_step_spec") and hasattr(policy, "action")


def _is_keras_model(policy):
    return hasattr(policy, "predict") and hasattr(policy, "layers")


def keras_action_fn(model, rng=None):
    """Turn a Keras model into obs -> action.

    One sigmoid output is read as the book's probability of action 0
    (push left) and sampled; several outputs are read as Q-values or
    logits and the argmax is taken.
    """
    rng = rng or np.random.default_rng()

    def act(obs):
        out = np.asarray(model(np.asarray(obs, dtype=np.float32)[None], training=False))[0]
        if out.shape == (1,):
            return int(rng.random() > out[0])
        return int(np.argmax(out))

    return act


def _action_fn(policy):
    act = keras_action_fn(policy) if _is_keras_model(policy) else policy
    if not callable(act):
        raise TypeError(
            "policy must be a function obs -> action, a Keras model, or a TF-Agents "
            f"policy; got {type(policy).__name__}"
        )
    return act


def _gym_episodes(env, act, n_episodes, max_steps, seed, returns):
    # A generator: each frame is rendered when the encoder asks for it, and
    # each episode's return is appended to ``returns`` as it ends.
    for episode in range(n_episodes):
        obs = env.reset(seed=None if seed is None else seed + episode)
        yield env.render(mode="rgb_array")
        total, done, steps = 0.0, False, 0
        while not done and (max_steps is None or steps < max_steps):
            obs, reward, done, _ = env.step(act(obs))
            yield env.render(mode="rgb_array")
            total += reward
            steps += 1
        returns.append(total)


def _tf_agents_episodes(env, policy, n_episodes, max_steps, returns):
    # A generator, like _gym_episodes.
    from tf_agents.environments import tf_py_environment
    from tf_agents.policies import py_tf_eager_policy, tf_policy

    py_env = env.pyenv.envs[0] if isinstance(env, tf_py_environment.TFPyEnvironment) else env
    if isinstance(policy, tf_policy.TFPolicy):
        policy = py_tf_eager_policy.PyTFEagerPolicy(policy, use_tf_function=True,
                                                    batch_time_steps=True)
    for _ in range(n_episodes):
        time_step = py_env.reset()
        state = policy.get_initial_state(None)
        yield py_env.render()
        total, steps = 0.0, 0
        while not time_step.is_last() and (max_steps is None or steps < max_steps):
            step = policy.action(time_step, state)
            state = step.state
            time_step = py_env.step(step.action)
            yield py_env.render()
            total += float(time_step.reward)
            steps += 1
        returns.append(total)


def play(env, policy, n_episodes=1, path=None, fps=30, max_steps=None, seed=None,
         width=400):
    """Run ``n_episodes`` of ``policy`` in ``env`` and return an inline Video.

    env: a gym environment, or a TF-Agents (TF)PyEnvironment for a TF-Agents
    policy. path: where to write the clip (.mp4, or .gif as a fallback for
    viewers without H.264); a temporary file by default. seed: seeds episode
    i with ``seed + i`` so a clip can be reproduced.
    """
    if int(n_episodes) < 1:
        raise ValueError(f"n_episodes must be at least 1, got {n_episodes}")
    returns = []
    if _is_tf_agents_policy(policy):
        frames = _tf_agents_episodes(env, policy, int(n_episodes), max_steps, returns)
    else:
        frames = _gym_episodes(env, _action_fn(policy), int(n_episodes), max_steps, seed,
                               returns)
    if path is None:
        handle, path = tempfile.mkstemp(prefix="rlbook-", suffix=".mp4")
        os.close(handle)
    # Frames stream from the episodes to the encoder, one at a time.
    frames = _Counted(frames)
    path = save_video(frames, path, fps=fps)
    return Video(path=Path(path), num_frames=frames.count, fps=fps, returns=returns,
                 width=width)


def show(path, width=400):
    """Show an existing .mp4 or .gif file inline."""
    import imageio

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no video at {str(path)!r}")
    with imageio.get_reader(path) as reader:
        fps = reader.get_meta_data().get("fps", 30)
        num_frames = sum(1 for _ in reader)
    return Video(path=path, num_frames=num_frames, fps=fps, width=width)
