"""Named feature sets on which distribution metrics compare a source with the ground truth.

`physical-v1` (one vector per episode, 20 values): the measured trajectory of the scenario's sensor body
(the moving object) on a common clock, its displacement (x, z in world metres) from where it was first
seen at 8 times k T / 8, k = 1..8 (T: the context's duration, the same for every source; linear
interpolation between measured frames, the last known position held after it is lost, 0 before it
is seen), the fraction of frames it is seen in, the measured g (the declared g where the scenario
has no g fit or it is not measurable), the median over the law's quantities of
log(|measured| / |law|) clipped to [-2, 2] (0 where nothing is measurable) and the share of law
quantities measurable. Trajectories differ between scenarios, so the set is a mixture over the
dataset's scenarios, compared with the ground truth's mixture on the same contexts.

`pixel-stats-v1` (one vector per sampled frame, 8 frames per episode, 25 values): the frame resized to
4 x 4 grey levels (16), an 8-bin hue histogram of saturated pixels (8, weights summing to 1) and the
mean absolute difference from the previous frame (1), all in [0, 1]. It is a hand-made description of
appearance and motion, not a learned embedding (no network weights are available offline): it sees
colour, layout, brightness and motion energy, and is blind to texture and object identity.
"""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import pyarrow.parquet as pq

from realitygap.episode.dataset import episode_dir
from realitygap.episode.video import read_video
from realitygap.measure.pipeline import MEASUREMENTS_DIR, tracks_path
from realitygap.scenarios import get_scenario
from realitygap.scorecard.data import EpisodeRecord, finite

PHYSICAL = "physical-v1"
VISUAL = "pixel-stats-v1"
TRAJECTORY_SAMPLES = 8
FRAMES_PER_EPISODE = 8
LOG_RATIO_CLIP = 2.0


def physical_features(root: Path, record: EpisodeRecord, reference: EpisodeRecord) -> np.ndarray:
    """The `physical-v1` vector (20,) of one episode (see the module docstring)."""
    scenario = get_scenario(record.scenario)
    body = next((i.name for i in scenario.instances if i.body == scenario.sensor_body), scenario.instances[0].name)
    times = np.arange(1, TRAJECTORY_SAMPLES + 1) / TRAJECTORY_SAMPLES * reference.meta.duration_s
    displacement, seen = _trajectory(root, record, body, times)
    g = record.measured("g_m_s2")
    ratios, measurable = [], 0
    for quantity, law in record.meta.law.items():
        value = record.measured(quantity)
        if finite(value) and law.value:
            measurable += 1
            if value and abs(value) > 0:
                ratios.append(float(np.clip(math.log(abs(value) / abs(law.value)), -LOG_RATIO_CLIP, LOG_RATIO_CLIP)))
    return np.concatenate([displacement.ravel(), [seen, g if finite(g) else scenario.gravity_m_s2,
                                                  float(np.median(ratios)) if ratios else 0.0,
                                                  measurable / max(len(record.meta.law), 1)]])


def visual_features(root: Path, record: EpisodeRecord) -> np.ndarray:
    """The `pixel-stats-v1` vectors (FRAMES_PER_EPISODE, 25) of one episode (see the module docstring)."""
    folder = episode_dir(root, record.source, record.episode_id)
    frames, _ = read_video(folder / record.meta.streams["rgb"].file, "rgb")
    picks = np.unique(np.linspace(1, len(frames) - 1, FRAMES_PER_EPISODE).round().astype(int)) if len(frames) > 1 else [0]
    rows = [frame_stats(frames[i], frames[max(i - 1, 0)]) for i in picks]
    while len(rows) < FRAMES_PER_EPISODE:
        rows.append(rows[-1])
    return np.array(rows)


def frame_stats(frame: np.ndarray, previous: np.ndarray) -> np.ndarray:
    """(25,) in [0, 1]: 4 x 4 grey levels, 8-bin hue histogram of saturated pixels, mean |frame - previous|."""
    grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
    layout = cv2.resize(grey, (4, 4), interpolation=cv2.INTER_AREA).ravel() / 255.0
    hsv = cv2.cvtColor(frame, cv2.COLOR_RGB2HSV)
    saturated = hsv[..., 1] > 80
    hist = np.bincount((hsv[..., 0][saturated].astype(int) * 8) // 180, minlength=8)[:8].astype(float)
    hist = hist / hist.sum() if hist.sum() else hist
    motion = float(np.abs(frame.astype(np.int16) - previous.astype(np.int16)).mean()) / 255.0
    return np.concatenate([layout, hist, [motion]])


def _trajectory(root: Path, record: EpisodeRecord, body: str, times: np.ndarray) -> tuple[np.ndarray, float]:
    """(TRAJECTORY_SAMPLES, 2) displacement (x, z) of `body` from its first seen position at `times`, and the
    fraction of frames it is seen in."""
    path = tracks_path(root / MEASUREMENTS_DIR / record.source / f"{record.episode_id}.parquet")
    out = np.zeros((len(times), 2))
    if not path.is_file():
        return out, 0.0
    table = pq.read_table(path).to_pydict()
    mine = np.array([name == body for name in table["instance"]], bool)
    t = np.asarray(table["t_s"], float)[mine]
    xz = np.stack([np.asarray(table["x_m"], float)[mine], np.asarray(table["z_m"], float)[mine]], axis=1)
    seen = np.asarray(table["present"], bool)[mine] & np.all(np.isfinite(xz), axis=1)
    if not seen.any():
        return out, 0.0
    fraction = float(seen.mean())
    t, xz = t[seen], xz[seen] - xz[seen][0]
    for axis in range(2):
        out[:, axis] = np.interp(times, t, xz[:, axis], left=0.0, right=xz[-1, axis])
    return out, fraction
