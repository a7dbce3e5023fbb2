"""The world model's machinery on a tiny budget: training writes and resumes a checkpoint and is
reproducible for a number of steps, sampling is seeded, the source writes valid episodes through
`predict_dataset`, bad input is one clear error. Training is bounded by steps, never by the wall clock.

The physics of the shipped checkpoint is checked in test_shipped.py.
"""

import numpy as np
import pytest
import torch

from realitygap.core.rig import CameraConfig, RigConfig
from realitygap.episode.dataset import episode_dir, open_dataset, read_index, rebuild_index
from realitygap.episode.io import read_episode, verify_episode
from realitygap.pipeline import plan_contexts, predict_dataset, simulate_dataset
from realitygap.runtime.errors import InputError
from realitygap.sources.base import Conditioning, Source
from realitygap.sources.registry import get_source
from realitygap.worldmodel.data import TrainingData, sample_batch
from realitygap.worldmodel.model import FrameDenoiser, ModelConfig
from realitygap.worldmodel.sample import sample_frames
from realitygap.worldmodel.source import CHECKPOINT_ENV, make_source
from realitygap.worldmodel.train import TrainConfig, export_checkpoint, load_checkpoint, train
from tests.helpers import run_cli

TINY = ModelConfig(size_px=32, channels=(8, 16), blocks_per_level=(1, 1), embedding_dim=16)
RIG = RigConfig(sensors=("rgb",), camera=CameraConfig(width=64, height=64, fps=30))


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """Two short drops at 64 x 64."""
    root = tmp_path_factory.mktemp("wm_data")
    simulate_dataset(plan_contexts("drop", 2, 7, {"height_m": 0.4}, RIG), root)
    return root


@pytest.fixture(scope="module")
def trained(dataset, tmp_path_factory):
    """A tiny model trained for 12 steps, then resumed for 8; returns (checkpoint path, metadata of both runs)."""
    path = tmp_path_factory.mktemp("wm_ckpt") / "tiny.pt"
    first = train(dataset, path, TrainConfig(max_steps=12, checkpoint_every=5), TINY)
    second = train(dataset, path, TrainConfig(max_steps=8, checkpoint_every=5), TINY)
    return path, first, second


def test_training_writes_a_checkpoint_and_resumes(trained, dataset):
    path, first, second = trained
    assert first["steps"] > 0 and len(first["runs"]) == 1
    assert first["steps"] == 12 and second["steps"] == 20
    assert [run["stopped_by"] for run in second["runs"]] == ["max_steps", "max_steps"]
    assert second["steps"] > first["steps"], "the resumed run continues the step count"
    assert len(second["runs"]) == 2 and second["runs"][0]["steps"] == first["steps"]
    assert second["runs"][1]["steps"] == second["steps"] - first["steps"]
    stored = load_checkpoint(path)
    assert stored["steps"] == second["steps"] and "optimizer" in stored
    assert stored["data"]["episodes"] == 2 and stored["data"]["episodes_per_scenario"] == {"drop": 2}
    assert stored["data"]["frames"] == sum(int(n) for n in read_index(dataset)["n_frames"])
    assert stored["cpu_s"] > 0 and stored["threads"] == 1 and np.isfinite(stored["final_loss"])
    assert ModelConfig.model_validate(stored["model_config"]) == TINY


def test_the_same_steps_give_the_same_model(dataset, tmp_path):
    a = train(dataset, tmp_path / "a.pt", TrainConfig(max_steps=3), TINY)
    b = train(dataset, tmp_path / "b.pt", TrainConfig(max_steps=3, minutes=60.0), TINY)  # steps end it first
    assert a["steps"] == b["steps"] == 3 and a["loss_history"] == b["loss_history"] and a["final_loss"] == b["final_loss"]
    weights_a, weights_b = load_checkpoint(tmp_path / "a.pt")["ema"], load_checkpoint(tmp_path / "b.pt")["ema"]
    assert all(torch.equal(weights_a[name], weights_b[name]) for name in weights_a)


def test_fine_tuning_starts_from_a_checkpoint_on_the_episodes_given(trained, dataset, tmp_path):
    """`init_from`: the parent's EMA weights are the starting point (0 steps would reproduce it: 1 step moves a
    little from it, far less than from fresh weights); `episodes`: only those (source, id) pairs are read."""
    parent, _, _ = trained
    one = str(read_index(dataset)["episode_id"][0])
    meta = train(dataset, tmp_path / "child.pt", TrainConfig(max_steps=1, learning_rate=1e-6, warmup_steps=0), TINY,
                 episodes=[("sim", one)], init_from=parent)
    assert meta["initialised_from"]["checkpoint"] == parent.name and meta["initialised_from"]["steps"] == 20
    assert meta["data"]["episodes"] == 1 and meta["data"]["episodes_per_source"] == {"sim": 1}
    before, after = load_checkpoint(parent)["ema"], load_checkpoint(tmp_path / "child.pt")["weights"]
    fresh = train(dataset, tmp_path / "fresh.pt", TrainConfig(max_steps=1, learning_rate=1e-6, warmup_steps=0), TINY)
    fresh_weights = load_checkpoint(tmp_path / "fresh.pt")["weights"]
    drift = max(float((after[k] - before[k]).abs().max()) for k in before if before[k].is_floating_point())
    apart = max(float((fresh_weights[k] - before[k]).abs().max()) for k in before if before[k].is_floating_point())
    assert drift < 1e-3 < apart and fresh["initialised_from"] is None
    assert (np.array([5e-324]) * 1.0)[0] != 0, "training left the CPU flushing subnormal floats to zero (FTZ/DAZ)"
    with pytest.raises(InputError):
        train(dataset, tmp_path / "other.pt", TrainConfig(max_steps=1), TINY, episodes=[("sim", "0000000000000000")])


def test_sampling_is_seeded():
    model = FrameDenoiser(TINY)
    generator = torch.Generator().manual_seed(3)
    with torch.no_grad():  # a random, not a zero-initialised, output layer, so that noise reaches the frames
        for parameter in model.parameters():
            parameter.normal_(0.0, 0.2, generator=generator)
    cond = np.random.default_rng(0).integers(0, 256, (2, 32, 32, 3), dtype=np.uint8)
    prompt = np.ones(384, np.float32) / np.sqrt(384)
    t_s = np.arange(2, 6) / 30
    a = sample_frames(model, cond, t_s, prompt, seed=11, steps=3)
    b = sample_frames(model, cond, t_s, prompt, seed=11, steps=3)
    c = sample_frames(model, cond, t_s, prompt, seed=12, steps=3)
    assert a.shape == (4, 32, 32, 3) and a.dtype == np.uint8
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_source_writes_valid_episodes_through_predict_dataset(trained, dataset, tmp_path, monkeypatch):
    path, _, second = trained
    exported = tmp_path / "exported.pt"
    export_checkpoint(path, exported)
    assert exported.stat().st_size < path.stat().st_size
    assert "optimizer" not in load_checkpoint(exported)
    monkeypatch.setenv(CHECKPOINT_ENV, str(exported))
    get_source.cache_clear()
    try:
        source = get_source("worldmodel")
        assert isinstance(source, Source) and source.capabilities == frozenset({"rgb"})
        assert source.conditioning_frames == TINY.conditioning_frames
        assert source.setup().training_data_episodes == 2
        out = tmp_path / "predicted"
        outcomes = predict_dataset("worldmodel", dataset, out)
    finally:
        get_source.cache_clear()
    assert len(outcomes) == 2 and not any(o.skipped for o in outcomes)
    for outcome in outcomes:
        predicted = episode_dir(out, "worldmodel", outcome.episode_id)
        assert verify_episode(predicted)
        episode = read_episode(predicted, streams=("rgb",))
        truth = read_episode(episode_dir(dataset, "sim", outcome.episode_id), streams=("rgb",))
        assert episode.videos["rgb"].shape == truth.videos["rgb"].shape
        assert np.array_equal(episode.videos["rgb"][:2], truth.videos["rgb"][:2]), "frames 0..k-1 are the conditioning frames"
        cost = episode.meta.cost
        n = truth.videos["rgb"].shape[0]
        assert cost.prediction["network_evaluations"] == (n - 2) * cost.prediction["sampling_steps"]
        assert cost.setup["training_steps"] == second["steps"]
    again = make_source(exported).predict(  # same context, same seed: the same clip, byte for byte
        read_episode(episode_dir(dataset, "sim", outcomes[0].episode_id)).context, tmp_path / "again",
        _conditioning(dataset, outcomes[0].episode_id))
    assert again.files["rgb.mkv"].sha256 == read_episode(episode_dir(out, "worldmodel", outcomes[0].episode_id)).meta.files[
        "rgb.mkv"].sha256


def test_bad_inputs_are_one_clear_error(dataset, tmp_path, capsys):
    empty = tmp_path / "empty"
    open_dataset(empty)
    rebuild_index(empty)
    with pytest.raises(InputError, match="no sim episodes"):
        train(empty, tmp_path / "a.pt", TrainConfig(max_steps=1), TINY)
    with pytest.raises(InputError, match="positive"):
        train(dataset, tmp_path / "a.pt", TrainConfig.model_construct(minutes=0.0), TINY)
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a checkpoint")
    with pytest.raises(InputError, match="not a readable"):
        train(dataset, garbage, TrainConfig(max_steps=1), TINY)
    with pytest.raises(InputError, match="not a readable"):
        make_source(garbage)
    with pytest.raises(InputError, match="does not exist"):
        make_source(tmp_path / "missing.pt")
    for args, message in ((["--minutes", "0"], "--minutes must be positive"), (["--minutes", "inf"], "at most"),
                          (["--minutes", "1", "--threads", "0"], "--threads"),
                          (["--max-steps", "0"], "--max-steps must be at least 1"), ([], "give a training budget")):
        code, _, err = run_cli(["worldmodel", "train", "--data", dataset, "--out", tmp_path / "b.pt", *args], capsys)
        assert code == 2 and message in err
    assert not (tmp_path / "b.pt").exists()


def test_cli_train_and_info(dataset, tmp_path, capsys):
    out = tmp_path / "cli.pt"
    code, text, _ = run_cli(["worldmodel", "train", "--data", dataset, "--max-steps", "5", "--minutes", "60", "--out", out,
                             "--export", tmp_path / "small.pt", "--batch-size", "2"], capsys)
    assert code == 0 and out.is_file() and (tmp_path / "small.pt").is_file()
    assert "steps" in text and "2 episodes" in text and "max_steps" in text
    code, text, _ = run_cli(["worldmodel", "info", tmp_path / "small.pt"], capsys)
    assert code == 0 and '"exported_from_sha256"' in text


def _conditioning(root, episode_id):
    truth = read_episode(episode_dir(root, "sim", episode_id), streams=("rgb",))
    return Conditioning(rgb=truth.videos["rgb"][:TINY.conditioning_frames], meta=truth.meta)


def test_training_batches_pair_frames_with_their_history_and_time():
    """Frame j of episode e is filled with 10 e + j: every slot of a batch names the frame it came from."""
    lengths = [5, 8, 6, 7]
    frames = np.concatenate([np.stack([np.full((4, 4, 3), 10 * e + j, np.uint8) for j in range(n)]) for e, n in enumerate(lengths)])
    data = TrainingData(frames=frames, start=np.cumsum([0] + lengths[:-1]), length=np.array(lengths), fps=np.full(4, 30.0),
                        prompts=np.eye(4, 384, dtype=np.float32), scenarios=np.array(["a", "b", "b", "b"]), summary={})
    batch = sample_batch(data, np.random.default_rng(0), 400, conditioning_frames=2, history_frames=2)
    value = np.rint((batch["cond"][:, ::3, 0, 0] + 1) * 127.5).astype(int)  # (B, 4): frames 0, 1, i-2, i-1
    episode = value[:, 0] // 10
    frame = np.rint(batch["t_s"] * 30).astype(int)
    assert np.array_equal(value[:, 0] % 10, np.zeros(400)) and np.array_equal(value[:, 1] % 10, np.ones(400))
    assert np.array_equal(value[:, 2] % 10, frame - 2) and np.array_equal(value[:, 3] % 10, frame - 1)
    assert np.all(frame >= 2) and np.all(frame < np.array(lengths)[episode])
    assert np.allclose(batch["target"][:, 0, 0, 0] * 127.5, frame, atol=1e-3), "target = frame i - frame 0"
    assert np.array_equal(batch["prompt"].argmax(axis=1), episode)
    assert 0.4 < np.mean(episode == 0) < 0.6, "scenario-balanced: the one episode of 'a' is half the batch"
