"""Videos are decoded back and counted: the mp4 must be playable, not just present."""

from rlbook import envs, video

import imageio
import numpy as np
import pytest


def decode(path):
    with imageio.get_reader(path) as reader:
        return [frame for frame in reader]


def basic_policy(obs):
    return 0 if obs[2] < 0 else 1


def test_play_writes_a_playable_mp4(tmp_path):
    env = envs.make_env("CartPole-v1")
    clip = video.play(env, basic_policy, n_episodes=2, seed=0, path=tmp_path / "cp.mp4", fps=30)
    frames = decode(clip.path)
    # One frame after each reset plus one per step: returns + 1 per episode.
    assert clip.returns == [41.0, 51.0]
    assert len(frames) == clip.num_frames == sum(clip.returns) + 2
    assert frames[0].shape == (400, 600, 3)
    html = clip._repr_html_()
    assert html.startswith("<video") and "data:video/mp4;base64," in html
    # H.264 at crf 28: a CartPole clip should stay far below 100 KB per second.
    assert clip.bytes_per_second < 100_000, clip


def test_gif_fallback(tmp_path):
    env = envs.make_env("CartPole-v1")
    clip = video.play(env, lambda obs: 1, seed=0, path=tmp_path / "cp.gif", fps=20)
    assert clip.num_frames == 9
    # GIF encoders merge identical neighbours, so compare with the distinct frames.
    env.reset(seed=0)
    frames = [env.render(mode="rgb_array")]
    for _ in range(8):
        env.step(1)
        frames.append(env.render(mode="rgb_array"))
    distinct = 1 + sum(not np.array_equal(a, b) for a, b in zip(frames, frames[1:], strict=False))
    assert len(decode(clip.path)) == distinct
    assert clip._repr_html_().startswith('<img src="data:image/gif;base64,')


def test_odd_sized_frames_are_padded_not_rejected(tmp_path):
    frames = [np.full((21, 33, 3), 40 * i, np.uint8) for i in range(5)]
    path = video.save_video(frames, tmp_path / "odd.mp4", fps=5)
    decoded = decode(path)
    assert len(decoded) == 5 and decoded[0].shape == (22, 34, 3)


def test_keras_model_policy(tmp_path):
    import tensorflow as tf

    model = tf.keras.Sequential([tf.keras.layers.Dense(2, input_shape=[4])])
    env = envs.make_env("CartPole-v1")
    clip = video.play(env, model, seed=1, path=tmp_path / "q.mp4")
    assert clip.num_frames == len(decode(clip.path)) == clip.returns[0] + 1


def test_tf_agents_policy(tmp_path):
    from tf_agents.environments import suite_gym, tf_py_environment
    from tf_agents.policies import random_tf_policy

    tf_env = tf_py_environment.TFPyEnvironment(suite_gym.load("CartPole-v0"))
    policy = random_tf_policy.RandomTFPolicy(tf_env.time_step_spec(), tf_env.action_spec())
    clip = video.play(tf_env, policy, n_episodes=2, path=tmp_path / "random.mp4")
    assert len(clip.returns) == 2 and all(r >= 1 for r in clip.returns)
    assert len(decode(clip.path)) == clip.num_frames == sum(clip.returns) + 2


def test_show_reads_an_existing_file(tmp_path):
    path = video.save_video([np.zeros((16, 16, 3), np.uint8)] * 12, tmp_path / "s.mp4", fps=12)
    shown = video.show(path)
    assert shown.num_frames == 12 and shown.seconds == pytest.approx(1.0)


def test_bad_input():
    env = envs.make_env("CartPole-v1")
    with pytest.raises(TypeError, match="policy must be"):
        video.play(env, "left")
    with pytest.raises(ValueError, match="n_episodes"):
        video.play(env, basic_policy, n_episodes=0)
    with pytest.raises(ValueError, match=".mp4 or .gif"):
        video.save_video([np.zeros((4, 4, 3), np.uint8)], "clip.avi")
    with pytest.raises(FileNotFoundError):
        video.show("no/such/clip.mp4")


def test_a_long_clip_streams_to_the_encoder_in_flat_memory(tmp_path):
    # Every CartPole frame is 400x600x3 bytes (0.7 MB). Held in a list, 230
    # frames would take 166 MB; streamed, the peak of Python and NumPy
    # allocations while the clip is made stays at a few frames.
    import tracemalloc

    env = envs.make_env("CartPole-v1")
    env.reset(seed=0)
    frame_bytes = env.render(mode="rgb_array").nbytes
    tracemalloc.start()
    try:
        clip = video.play(env, basic_policy, n_episodes=6, seed=0, path=tmp_path / "long.mp4")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert clip.num_frames == sum(clip.returns) + 6 > 200
    assert len(decode(clip.path)) == clip.num_frames
    assert peak < 8 * frame_bytes, (
        f"making a {clip.num_frames}-frame clip peaked at {peak / 1e6:.0f} MB of Python "
        f"and NumPy memory, {peak / frame_bytes:.0f} frames' worth")


def test_streamed_frames_encode_exactly_as_a_list_of_them(tmp_path):
    # The same frames, from a list and from a generator, give the same video.
    env = envs.make_env("CartPole-v1")
    env.reset(seed=3)
    frames = [env.render(mode="rgb_array")]
    done = False
    while not done and len(frames) < 31:
        _, _, done, _ = env.step(len(frames) % 2)
        frames.append(env.render(mode="rgb_array"))
    from_list = video.save_video(frames, tmp_path / "list.mp4")
    from_generator = video.save_video((f for f in frames), tmp_path / "gen.mp4")
    decoded_list, decoded_generator = decode(from_list), decode(from_generator)
    assert len(decoded_list) == len(decoded_generator) == len(frames) > 10
    for a, b in zip(decoded_list, decoded_generator, strict=True):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="no frames"):
        video.save_video(iter([]), tmp_path / "empty.mp4")
