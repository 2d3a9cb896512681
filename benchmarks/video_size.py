"""Size of the inline CartPole video: bytes per second of mp4.

Anchor: the same frames stored raw (600x400 RGB at 30 frames/s, what an
uncompressed clip would weigh) and as a gif (rlbook's fallback format).
Measured: rlbook.video.play's H.264 mp4.

    .venv/bin/python benchmarks/video_size.py
"""

import argparse
import tempfile
from pathlib import Path

import rlbook  # noqa: F401
from rlbook import envs, video


def basic_policy(obs):
    return 0 if obs[2] < 0 else 1


def main():
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    env = envs.make_env("CartPole-v1")
    with tempfile.TemporaryDirectory() as folder:
        mp4 = video.play(env, basic_policy, n_episodes=10, seed=0, fps=30,
                         path=Path(folder) / "clip.mp4")
        gif = video.play(env, basic_policy, n_episodes=10, seed=0, fps=30,
                         path=Path(folder) / "clip.gif")
        raw_per_second = 400 * 600 * 3 * 30
        print(f"clip: {mp4.num_frames} frames, {mp4.seconds:.1f} s at 30 fps (10 episodes)")
        print(f"anchor  raw RGB frames:  {raw_per_second / 1e3:10.0f} KB/s")
        print(f"        gif fallback:    {gif.bytes_per_second / 1e3:10.1f} KB/s")
        print(f"rlbook  H.264 mp4:       {mp4.bytes_per_second / 1e3:10.1f} KB/s")
        print(f"ratio   raw / mp4: {raw_per_second / mp4.bytes_per_second:.0f}x smaller;"
              f" gif / mp4: {gif.bytes_per_second / mp4.bytes_per_second:.1f}x")


if __name__ == "__main__":
    main()
