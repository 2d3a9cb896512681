"""Chapter 01: play CartPole yourself, one push per button press.

Each press of "◀ left" or "right ▶" calls ``env.step`` once with that action
and redraws the frame, so the learner feels how quickly the pole falls and
why a policy has to react to the angle *and* its velocity.
"""

import html
import io

from rlbook.widgets.display import show

import numpy as np

LEFT, RIGHT = 0, 1
OBSERVATION_NAMES = ("x", "v", "angle", "angular velocity")


def frame_png(frame):
    """An RGB frame [height, width, 3] as PNG bytes."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.asarray(frame, dtype=np.uint8)).save(buffer, format="png")
    return buffer.getvalue()


class CartPolePlay:
    """CartPole driven by buttons: "◀ left", "right ▶" and "reset".

    env_id: a CartPole id ("CartPole-v1": 500-step limit, "CartPole-v0": 200).
    seed: seeds the first reset (later resets continue the environment's
        generator, so every episode starts differently but reproducibly).

    Parts, for tests and for embedding: ``left``, ``right``, ``reset_button``,
    ``image`` (the current frame), ``status`` (HTML: step, return,
    observation, "episode over") and ``widget`` (the whole box). The state is
    in ``steps``, ``total_return``, ``observation`` and ``done``.
    """

    def __init__(self, env_id="CartPole-v1", seed=42):
        from rlbook import envs

        import ipywidgets

        if not isinstance(env_id, str) or not env_id.startswith("CartPole"):
            raise ValueError(f"CartPolePlay plays CartPole only ('CartPole-v1' or "
                             f"'CartPole-v0'), got {env_id!r}")
        if seed is not None and not isinstance(seed, (int, np.integer)):
            raise TypeError(f"seed must be an int or None, got {type(seed).__name__}")
        self.env_id, self.seed = env_id, seed
        self.env = envs.make_env(env_id)  # a mistyped id gets envs' "did you mean"
        if getattr(self.env.action_space, "n", None) != 2:
            raise ValueError(f"{env_id} should have 2 actions (left, right), "
                             f"has {self.env.action_space}")
        self.left = ipywidgets.Button(description="◀ left", tooltip="action 0: push left")
        self.right = ipywidgets.Button(description="right ▶", tooltip="action 1: push right")
        self.reset_button = ipywidgets.Button(description="reset", button_style="warning",
                                              tooltip="start a new episode")
        self.image = ipywidgets.Image(format="png", layout=ipywidgets.Layout(width="450px"))
        self.status = ipywidgets.HTML()
        self.left.on_click(lambda _: self.step(LEFT))
        self.right.on_click(lambda _: self.step(RIGHT))
        self.reset_button.on_click(lambda _: self.reset())
        self.widget = ipywidgets.VBox(
            [ipywidgets.HBox([self.left, self.right, self.reset_button]), self.image,
             self.status],
            layout=ipywidgets.Layout(border="1px solid #ddd", padding="6px"))
        self.widget.add_class("rlbook-cartpole-play")
        self._first_reset = True
        self.reset()

    def reset(self):
        """Start a new episode and enable the buttons again."""
        if self._first_reset and self.seed is not None:
            self.observation = self.env.reset(seed=int(self.seed))
        else:
            self.observation = self.env.reset()
        self._first_reset = False
        self.steps, self.total_return, self.done = 0, 0.0, False
        self._redraw()

    def step(self, action):
        """Push the cart once (0 = left, 1 = right) and redraw."""
        if action not in (LEFT, RIGHT):
            raise ValueError(f"action must be 0 (left) or 1 (right), got {action!r}")
        if self.done:
            raise RuntimeError("the episode is over: press reset (or call reset()) first")
        self.observation, reward, self.done, _ = self.env.step(action)
        self.steps += 1
        self.total_return += float(reward)
        self._redraw()

    def frame(self):
        return self.env.render(mode="rgb_array")

    def progress_text(self):
        values = ", ".join(f"{name} {value:+.3f}"
                           for name, value in zip(OBSERVATION_NAMES, self.observation, strict=True))
        return f"step {self.steps} · return {self.total_return:g} · {values}"

    def status_text(self):
        return self.progress_text() + (" · episode over" if self.done else "")

    def _redraw(self):
        self.image.value = frame_png(self.frame())
        over = " <b style='color:#b00'>· episode over: press reset</b>" if self.done else ""
        self.status.value = (f"<span class='rlbook-cartpole-status' style='font-family:monospace'>"
                             f"{html.escape(self.progress_text())}"
                             f"{over}</span>")
        for button in (self.left, self.right):
            button.disabled = self.done

    def figure(self):
        """The current frame with a caption: the picture shown where widgets are not."""
        from matplotlib.figure import Figure

        figure = Figure(figsize=(5, 3.6))
        ax = figure.subplots()
        ax.imshow(self.frame())
        ax.set_axis_off()
        seed = f"reset(seed={self.seed})" if self.seed is not None else "reset()"
        ax.set_title(f"{self.env_id} after {seed}\n"
                     "open in JupyterLab and press ◀ left / right ▶ to play", fontsize=9)
        figure.tight_layout()
        return figure

    def text(self):
        return f"{self.env_id} played by hand: {self.status_text()}"

    def _ipython_display_(self):
        show(self.widget, static=self.figure(), text=self.text())


def play_cartpole(env_id="CartPole-v1", seed=42):
    """Build a ``CartPolePlay``; a notebook cell displays it."""
    return CartPolePlay(env_id, seed)
