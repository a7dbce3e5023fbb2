"""Prediction cost per frame of every source, measured in one run on the same contexts.

Contexts: drop, bounce and pendulum at default parameters, seed 0, 256x256 at 30 fps, sensors rgb +
segmentation (what the measurement layer needs from the ground truth). Every source predicts all of
them through `realitygap.pipeline.predict_dataset` on one worker process (what `realitygap predict`
runs), and is timed from the call to the last episode written: wall seconds / predicted frames.
Setup (model loading) is timed separately, before the predictions, from the source's `setup()`.

- `sim` and the negative controls render the rgb and segmentation streams and step the physics;
- `video` is the import of H.264 MP4 files made from the sim episodes (decode, validate, resample,
  re-encode losslessly): the cost realitygap adds to a video made elsewhere (the generator's own cost
  is whatever the manifest records);
- `worldmodel` samples every frame with the shipped checkpoint on the CPU;
- `diffusers` runs only where the extra is installed and REALITYGAP_DIFFUSERS_MODEL points at a local
  pipeline (skipped otherwise, with the reason).

Prints a table and saves benchmarks/results/predict.json. No target: the numbers are the ledger.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from realitygap.core.rig import CameraConfig, RigConfig
from realitygap.episode.dataset import episode_dir, read_index
from realitygap.episode.io import read_episode
from realitygap.pipeline import plan_contexts, predict_dataset, simulate_dataset
from realitygap.sources.registry import get_source, source_descriptions

SCENARIOS = ("drop", "bounce", "pendulum")
RIG = RigConfig(sensors=("rgb", "segmentation"), camera=CameraConfig(width=256, height=256, fps=30))


def frames_of(root: Path, source: str) -> int:
    index = read_index(root)
    return int(sum(int(n) for n, s in zip(index["n_frames"], index["source"]) if s == source))


def export_mp4(root: Path, folder: Path) -> Path:
    """H.264 MP4 (crf 18) of every sim episode, and a manifest importing them."""
    import av

    folder.mkdir(parents=True)
    lines = ["file,episode_id"]
    index = read_index(root)
    for eid, source in zip(index["episode_id"], index["source"]):
        if source != "sim":
            continue
        rgb = read_episode(episode_dir(root, "sim", str(eid)), streams=("rgb",)).videos["rgb"]
        with av.open(str(folder / f"{eid}.mp4"), "w") as container:
            stream = container.add_stream("libx264", rate=30, options={"crf": "18"})
            stream.width, stream.height, stream.pix_fmt = rgb.shape[2], rgb.shape[1], "yuv420p"
            for frame in rgb:
                container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
            container.mux(stream.encode())
        lines.append(f"{eid}.mp4,{eid}")
    (folder / "manifest.csv").write_text("\n".join(lines) + "\n")
    return folder / "manifest.csv"


def main() -> int:
    cv2.setNumThreads(1)
    import torch

    torch.set_num_threads(1)
    folder = Path(tempfile.mkdtemp(prefix="rg-predict-bench-"))
    rows: dict[str, dict] = {}
    try:
        root = folder / "dataset"
        contexts = [c for name in SCENARIOS for c in plan_contexts(name, 1, 0, None, RIG)]
        started = time.perf_counter()
        simulate_dataset(contexts, root)
        sim_s = time.perf_counter() - started
        n_frames = frames_of(root, "sim")
        rows["sim"] = {"setup_s": 0.0, "predict_s": sim_s, "frames": n_frames}
        for name in source_descriptions():
            if name == "sim":
                continue
            try:
                started = time.perf_counter()
                source = get_source(name)
                setup = source.setup()
                setup_s = time.perf_counter() - started
                started = time.perf_counter()
                predict_dataset(name, root)
                rows[name] = {"setup_s": setup_s, "predict_s": time.perf_counter() - started,
                              "frames": frames_of(root, name), "setup_note": setup.note}
            except Exception as error:  # noqa: BLE001 - a benchmark reports what it could not run
                rows[name] = {"skipped": f"{type(error).__name__}: {error}".splitlines()[0][:160]}
        from realitygap.sources.video import import_videos

        manifest = export_mp4(root, folder / "mp4")
        started = time.perf_counter()
        import_videos(manifest, root, source_name="video")
        rows["video"] = {"setup_s": 0.0, "predict_s": time.perf_counter() - started, "frames": frames_of(root, "video"),
                         "setup_note": "import of H.264 MP4 (crf 18) files through a manifest"}
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    sim_per_frame = rows["sim"]["predict_s"] / rows["sim"]["frames"]
    print(f"{'source':>20} {'setup s':>9} {'ms/frame':>9} {'x sim':>7} frames")
    for name, row in rows.items():
        if "skipped" in row:
            print(f"{name:>20}   skipped: {row['skipped']}")
            continue
        row["per_frame_s"] = row["predict_s"] / max(row["frames"], 1)
        row["relative_to_sim"] = row["per_frame_s"] / sim_per_frame
        print(f"{name:>20} {row['setup_s']:9.2f} {1000 * row['per_frame_s']:9.2f} {row['relative_to_sim']:7.2f} {row['frames']}")
    result = {
        "benchmark": "predict", "contexts": [c.model_dump(mode="json") for c in contexts],
        "size_px": 256, "fps": 30, "workers": 1, "torch_threads": 1, "sources": rows,
        "machine": {"python": sys.version.split()[0], "platform": platform.platform(), "cpus": os.cpu_count()},
    }
    out = Path(__file__).parent / "results" / "predict.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2, default=float) + "\n")
    print(f"saved {out}")
    return 0 if all("skipped" not in row for name, row in rows.items() if name != "diffusers") else 1


if __name__ == "__main__":
    np.seterr(all="ignore")
    sys.exit(main())
