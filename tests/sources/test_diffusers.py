"""The diffusers source runs a real StableVideoDiffusionPipeline code path on the CPU: a tiny randomly
initialised pipeline (seeded, as in diffusers' own fast tests) is saved to a folder and loaded through the
adapter's local-folder path, then `predict_dataset("diffusers", ...)` writes an episode that verifies and
measures. Random weights: the pixels are meaningless, so the checks are on format, timing, seeding and
errors, not on physics.
"""

import json
import math

import numpy as np
import pyarrow.parquet as pq
import pytest

pytest.importorskip("diffusers")

import torch  # noqa: E402

from realitygap.core.rig import CameraConfig, RigConfig  # noqa: E402
from realitygap.episode.dataset import episode_dir, read_index  # noqa: E402
from realitygap.episode.io import read_episode, read_meta, verify_episode  # noqa: E402
from realitygap.measure.pipeline import measure_dataset  # noqa: E402
from realitygap.pipeline import plan_contexts, predict_dataset, simulate_dataset  # noqa: E402
from realitygap.runtime.errors import InputError  # noqa: E402
from realitygap.sources.base import Conditioning  # noqa: E402
from realitygap.sources.diffusers_i2v import (  # noqa: E402
    MODEL_ENV,
    OPTIONS_ENV,
    DiffusersConfig,
    generation_frames,
    generation_seed,
    make_source,
    options_from_env,
    round_to_multiple,
    size_multiple,
    to_uint8,
)
from realitygap.sources.registry import get_source  # noqa: E402

RIG = RigConfig(sensors=("rgb", "segmentation"), camera=CameraConfig(width=64, height=64, fps=30))
NATIVE_FRAMES = 4
OPTIONS = json.dumps({"num_inference_steps": 2})


def tiny_pipeline():
    """A randomly initialised StableVideoDiffusionPipeline small enough for the CPU (seeded)."""
    from diffusers import (
        AutoencoderKLTemporalDecoder,
        EulerDiscreteScheduler,
        StableVideoDiffusionPipeline,
        UNetSpatioTemporalConditionModel,
    )
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModelWithProjection

    torch.manual_seed(0)
    unet = UNetSpatioTemporalConditionModel(
        block_out_channels=(32, 64), layers_per_block=2, sample_size=32, in_channels=8, out_channels=4,
        down_block_types=("CrossAttnDownBlockSpatioTemporal", "DownBlockSpatioTemporal"),
        up_block_types=("UpBlockSpatioTemporal", "CrossAttnUpBlockSpatioTemporal"), cross_attention_dim=32,
        num_attention_heads=8, projection_class_embeddings_input_dim=96, addition_time_embed_dim=32, num_frames=NATIVE_FRAMES)
    scheduler = EulerDiscreteScheduler(
        beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", interpolation_type="linear", num_train_timesteps=1000,
        prediction_type="v_prediction", sigma_max=700.0, sigma_min=0.002, steps_offset=1, timestep_spacing="leading",
        timestep_type="continuous", use_karras_sigmas=True)
    torch.manual_seed(0)
    vae = AutoencoderKLTemporalDecoder(block_out_channels=[32, 64], in_channels=3, out_channels=3,
                                       down_block_types=["DownEncoderBlock2D", "DownEncoderBlock2D"], latent_channels=4)
    torch.manual_seed(0)
    # the pipeline resizes a PIL image to 224 px for CLIP: 32 px patches keep the encoder at 49 tokens
    image_encoder = CLIPVisionModelWithProjection(CLIPVisionConfig(
        hidden_size=32, projection_dim=32, num_hidden_layers=2, num_attention_heads=4, image_size=224, intermediate_size=37,
        patch_size=32))
    return StableVideoDiffusionPipeline(unet=unet, image_encoder=image_encoder, scheduler=scheduler, vae=vae,
                                        feature_extractor=CLIPImageProcessor(crop_size=224, size=224))


@pytest.fixture(scope="module")
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory, one_thread):
    folder = tmp_path_factory.mktemp("tiny_svd")
    tiny_pipeline().save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def predicted(tmp_path_factory, tiny_model):
    """A one-episode drop dataset predicted by the diffusers source (loaded through the registry)."""
    root = tmp_path_factory.mktemp("diffusers_dataset")
    context = plan_contexts("drop", 1, 3, {}, RIG)[0]
    simulate_dataset([context], root)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(MODEL_ENV, str(tiny_model))
        patch.setenv(OPTIONS_ENV, OPTIONS)
        get_source.cache_clear()
        try:
            outcomes = predict_dataset("diffusers", root)
            source = get_source("diffusers")
        finally:
            get_source.cache_clear()
    return root, context, source, outcomes, tiny_model


def conditioning_of(root, context):
    sim_dir = episode_dir(root, "sim", context.episode_id)
    return Conditioning(rgb=read_episode(sim_dir, streams=("rgb",)).videos["rgb"][:1], meta=read_meta(sim_dir))


def test_predicted_episode_is_valid_and_on_the_context_clock(predicted):
    root, context, source, outcomes, folder = predicted
    assert [o.skipped for o in outcomes] == [False]
    sim_meta = read_meta(episode_dir(root, "sim", context.episode_id))
    out = episode_dir(root, "diffusers", context.episode_id)
    assert verify_episode(out)
    episode = read_episode(out)
    rgb = episode.videos["rgb"]
    n_context = sim_meta.n_frames
    assert rgb.shape == (n_context, 64, 64, 3) and rgb.dtype == np.uint8
    assert episode.meta.rates_hz["camera"] == 30 and episode.meta.n_frames == n_context
    np.testing.assert_allclose(episode.video_t_s["rgb"], np.arange(n_context) / 30, atol=1e-3)  # ms timestamps
    assert episode.meta.calibration.camera == sim_meta.calibration.camera
    assert ("diffusers", context.episode_id) in set(zip(read_index(root)["source"], read_index(root)["episode_id"]))

    cost = episode.meta.cost.prediction
    assert cost["frames"] == n_context and cost["pipeline_frames"] == NATIVE_FRAMES and cost["num_inference_steps"] == 2
    assert cost["device"] == "cpu" and cost["model"] == str(folder.resolve()) and cost["wall_s"] > 0
    generator = episode.meta.generator
    assert generator["prompt_used"] is False and context.prompt == episode.meta.context.prompt != ""
    assert generator["seed"] == generation_seed(context.seed)
    assert source.setup().setup_wall_s > 0

    # time: the 4 generated frames span the context; context frame k shows generated frame round(k * 3 / (n - 1)),
    # ties to the earlier frame. Random weights make consecutive generated frames differ, so runs are visible.
    x = np.arange(n_context) * (NATIVE_FRAMES - 1) / (n_context - 1)
    expected = np.ceil(x - 0.5 - 1e-9).astype(int)
    time_block = generator["resampling"]["time"]
    assert time_block["source_frame_index"] == expected.tolist()
    np.testing.assert_allclose(time_block["capture_t_s"], expected / 30 * (n_context - 1) / (NATIVE_FRAMES - 1))
    changes = np.flatnonzero(np.any(rgb[1:] != rgb[:-1], axis=(1, 2, 3))) + 1
    assert changes.tolist() == (np.flatnonzero(np.diff(expected)) + 1).tolist()


def test_same_seed_same_frames_other_seed_other_frames(predicted):
    root, context, source, _, _ = predicted
    first = read_episode(episode_dir(root, "diffusers", context.episode_id)).videos["rgb"]
    conditioning = conditioning_of(root, context)
    again = source.predict(context, root / "again", conditioning)
    assert again.cost.prediction["frames"] == len(first)
    np.testing.assert_array_equal(read_episode(root / "again").videos["rgb"], first)
    other_context = context.model_copy(update={"seed": context.seed + 1})
    source.predict(other_context, root / "other", conditioning)
    other = read_episode(root / "other").videos["rgb"]
    assert other.shape == first.shape
    assert np.mean(np.abs(other.astype(int) - first.astype(int))) > 1.0


def test_measure_runs_on_the_predicted_dataset(predicted):
    """Random weights draw no ball: the measurement says so (NaN, untracked object) instead of failing."""
    root, context, _, _, _ = predicted
    rows = pq.read_table(measure_dataset(root)).to_pylist()
    by = {(row["source"], row["quantity"]): row for row in rows if row["episode_id"] == context.episode_id}
    assert np.isfinite(by[("sim", "g_m_s2")]["measured"]) and by[("sim", "untracked_objects")]["measured"] == 0
    generated = by[("diffusers", "g_m_s2")]
    if by[("diffusers", "untracked_objects")]["measured"] == 1:
        assert np.isnan(generated["measured"]) and "not tracked" in generated["note"]
    assert ("diffusers", "physics_iq_score") in by


def test_missing_or_wrong_model_is_one_clear_error(tmp_path, monkeypatch, tiny_model):
    monkeypatch.delenv(MODEL_ENV, raising=False)
    with pytest.raises(InputError, match=MODEL_ENV):
        make_source()
    with pytest.raises(InputError, match="does not exist"):
        make_source(model=tmp_path / "nowhere")
    with pytest.raises(InputError, match="model_index.json"):
        make_source(model=tmp_path)
    (tmp_path / "model_index.json").write_text(json.dumps({"_class_name": "StableDiffusionPipeline"}))
    with pytest.raises(InputError, match="StableVideoDiffusionPipeline"):
        make_source(model=tmp_path)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "model_index.json").write_text((tiny_model / "model_index.json").read_text())  # no component folders
    with pytest.raises(InputError, match="cannot load"):
        make_source(model=broken)
    with pytest.raises(InputError, match="multiples of 8"):
        make_source(model=tiny_model, config=DiffusersConfig(width_px=60))
    with pytest.raises(InputError, match="num_inference_steps"):
        options_from_env('{"num_inference_steps": 0}')
    with pytest.raises(InputError, match="bad"):
        options_from_env('{"steps": 3}')

    # through the registry and predict_dataset: the error, and nothing written
    root = tmp_path / "dataset"
    context = plan_contexts("drop", 1, 3, {}, RIG)[0]
    simulate_dataset([context], root)
    monkeypatch.setenv(MODEL_ENV, str(tmp_path / "nowhere"))
    get_source.cache_clear()
    try:
        with pytest.raises(InputError, match="does not exist"):
            predict_dataset("diffusers", root)
    finally:
        get_source.cache_clear()
    assert not episode_dir(root, "diffusers", context.episode_id).exists()


@pytest.mark.parametrize("n_context, fps, native, expected_n", [(34, 30.0, 14, 14), (34, 30.0, 25, 25), (10, 30.0, 25, 10),
                                                                (91, 60.0, 14, 14), (1, 30.0, 14, 1)])
def test_generated_clip_spans_the_context(n_context, fps, native, expected_n):
    n, fps_generated = generation_frames(n_context, fps, native)
    assert n == expected_n
    if n > 1:
        assert math.isclose((n - 1) / fps_generated, (n_context - 1) / fps)  # same first and last frame times
    if n == n_context:
        assert fps_generated == fps
    assert generation_frames(n_context, fps, native, num_frames=7, fps=7.0) == (7, 7.0)


def test_sizes_seeds_and_pixel_conversion():
    assert size_multiple(8, 4) == 64 and size_multiple(2, 2) == 8
    assert [round_to_multiple(s, 64) for s in (256, 250, 300, 20)] == [256, 256, 320, 64]
    seeds = {generation_seed(s) for s in range(100)}
    assert len(seeds) == 100 and all(0 <= s < 2**63 for s in seeds) and generation_seed(5) == generation_seed(5)
    frames, n_bad = to_uint8(np.array([[[[0.0, 0.5, 1.0], [np.nan, 2.0, -1.0]]]]))
    assert frames.tolist() == [[[[0, 128, 255], [0, 255, 0]]]] and n_bad == 1
