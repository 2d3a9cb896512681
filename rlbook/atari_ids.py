"""The book's Atari ids (``BreakoutNoFrameskip-v4``, ...) in gym's registry.

With them, ::

    suite_atari.load("BreakoutNoFrameskip-v4",
                     gym_env_wrappers=[AtariPreprocessing, FrameStack4])

runs exactly as the book writes it, with no ROM download. gym calls
``register_atari_envs`` itself while it is being imported (an entry point in
pyproject.toml), so this module must not import gym at the top.
"""

# ROM name in ale-py -> CamelCase game name in the gym ids.
GAMES = {
    "breakout": "Breakout",
    "space_invaders": "SpaceInvaders",
    "pong": "Pong",
    "ms_pacman": "MsPacman",
    "seaquest": "Seaquest",
    "qbert": "Qbert",
    "enduro": "Enduro",
    "beam_rider": "BeamRider",
    "asteroids": "Asteroids",
}


def _silence_gym_notice():
    # gym prints its "unmaintained" notice right after running plugins like
    # this one; the workbook pins gym 0.23 deliberately (TF-Agents needs it).
    try:
        import gym_notices.notices as notices
        from gym import version

        notices.notices.pop(version.VERSION, None)
    except Exception:  # the notice is cosmetic; never fail an import over it
        pass


def register_atari_envs():
    """Register ``<Game>NoFrameskip-v4`` and ``<Game>-v4`` for each game in GAMES."""
    _silence_gym_notice()
    from gym.envs.registration import register, registry

    for rom, name in GAMES.items():
        # NoFrameskip: one emulator frame per step, the variant the book
        # wraps with AtariPreprocessing (which skips frames itself).
        # Plain v4: a fixed skip of 4 frames, handy for watching a game.
        for suffix, frameskip in (("NoFrameskip-v4", 1), ("-v4", 4)):
            env_id = f"{name}{suffix}"
            if env_id in registry.env_specs:
                continue
            register(
                id=env_id,
                entry_point="rlbook.atari:AtariEnv",
                kwargs={"game": rom, "frameskip": frameskip},
                max_episode_steps=100_000 * frameskip if frameskip > 1 else 400_000,
            )
