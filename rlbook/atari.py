"""Atari 2600 games over the ROMs that ship inside the ale-py wheel.

ale-py 0.12 registers its games with gymnasium only, while TF-Agents 0.19
speaks the old gym API and expects an environment exposing ``.ale``,
``get_action_meanings()`` and lives. ``AtariEnv`` is that environment;
``rlbook.atari_ids`` publishes it under the ids the book uses.
"""

from rlbook.atari_ids import GAMES, register_atari_envs  # noqa: F401  (re-exported)

import gym
import numpy as np
from gym import spaces


class AtariEnv(gym.Env):
    """An Atari 2600 game as an old-API gym environment (obs, reward, done, info)."""

    metadata = {"render.modes": ["rgb_array"], "render_modes": ["rgb_array"]}

    def __init__(self, game="breakout", frameskip=1, repeat_action_probability=0.0,
                 full_action_space=False, seed=None):
        import ale_py
        from ale_py import roms

        if int(frameskip) < 1:
            raise ValueError(f"frameskip must be at least 1, got {frameskip!r}")
        try:
            self._rom_path = roms.get_rom_path(game)
        except Exception as exc:
            raise ValueError(
                f"ale-py ships no ROM named {game!r}; try one of "
                f"{sorted(roms.get_all_rom_ids())[:12]}..."
            ) from exc
        if self._rom_path is None:
            raise ValueError(f"ale-py ships no ROM named {game!r}")
        self.game = game
        self.frameskip = int(frameskip)
        # The banner "A.L.E: Arcade Learning Environment" goes to stderr,
        # which nbgrader counts against a test cell.
        ale_py.ALEInterface.setLoggerMode(ale_py.LoggerMode.Error)
        self.ale = ale_py.ALEInterface()
        self.ale.setFloat("repeat_action_probability", float(repeat_action_probability))
        self._load(seed)
        self._action_set = (self.ale.getLegalActionSet() if full_action_space
                            else self.ale.getMinimalActionSet())
        height, width = self.ale.getScreenDims()
        self.action_space = spaces.Discrete(len(self._action_set))
        self.observation_space = spaces.Box(0, 255, (height, width, 3), np.uint8)

    def _load(self, seed):
        if seed is not None:
            self.ale.setInt("random_seed", int(seed) % (2**31))
        self.ale.loadROM(self._rom_path)  # ALE applies a new seed only on load

    def seed(self, seed=None):
        self._load(0 if seed is None else seed)
        return [seed]

    def reset(self, *, seed=None, return_info=False, options=None):
        if seed is not None:
            self._load(seed)
        self.ale.reset_game()
        obs = self.ale.getScreenRGB()
        return (obs, {"lives": self.ale.lives()}) if return_info else obs

    def step(self, action):
        if not self.action_space.contains(int(action)):
            raise ValueError(
                f"action must be an integer in [0, {self.action_space.n}), got {action!r}"
            )
        ale_action = self._action_set[int(action)]
        reward = 0.0
        for _ in range(self.frameskip):
            reward += self.ale.act(ale_action)
            if self.ale.game_over():
                break
        obs = self.ale.getScreenRGB()
        return obs, reward, self.ale.game_over(), {"lives": self.ale.lives()}

    def get_action_meanings(self):
        return [action.name for action in self._action_set]

    def lives(self):
        return self.ale.lives()

    def render(self, mode="rgb_array"):
        if mode != "rgb_array":
            raise ValueError(
                f"AtariEnv renders only mode='rgb_array' (headless), got {mode!r}"
            )
        return self.ale.getScreenRGB()
