"""Spontaneous objects: compact blobs that appear after frame 0 and match no track.

The negative control of object permanence (a source that makes things from nothing). Candidates are
'colour' pixels (saturated: our scenes' backgrounds and occluders are neutral) and 'motion' pixels (a
change against frame 0 that is not a shadow), the latter for objects of no saturated colour. Motion is
background subtraction against frame 0: rejected as the tracker's segmenter (it needs a clean plate,
finds shadows and compression noise as foreground, and cannot say which object a blob is), it is what
finds an object nobody seeded. It assumes a static camera and steady lighting, and reads a neutral grey
object darker than the background as a shadow (`ignore_shadows`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from realitygap.measure.tracking import GONE, ObjectTrack, check_frames


@dataclass
class SpontaneousEvent:
    """An object that appears after frame 0 and matches no track: frames [start, end] inclusive."""

    start_frame: int
    end_frame: int
    centroid_px: tuple[float, float]
    area_px: float
    kind: str
    """'colour' (a saturated blob) or 'motion' (a change against frame 0 that no track explains)."""
    rgb: tuple[float, float, float] = field(default=(np.nan, np.nan, np.nan))


def find_spontaneous_objects(frames: np.ndarray, tracks: list[ObjectTrack], *, min_area_px: float = 30.0,
                             min_frames: int = 2, min_chroma: float = 60.0, motion: bool = True,
                             motion_threshold: float = 45.0, exclusion_margin_px: float = 4.0,
                             stride: int = 2, ignore_shadows: bool = True) -> list[SpontaneousEvent]:
    """Compact blobs that appear after frame 0 and match no track.

    Works on the `stride`-subsampled grid (areas are reported in full-resolution px). Candidate
    pixels: 'colour', chroma max(R, G, B) - min(R, G, B) >= `min_chroma` (8-bit levels: our scenes'
    backgrounds and occluders are neutral, chroma < 20); 'motion', max over channels of
    |I_t - I_0| >= `motion_threshold` and not a shadow (a shadow darkens frame 0's colour by one
    gain 0.3 <= g < 0.95 in all channels, the gains within 0.12 of each other). A blob is a
    connected component of candidates (8-connected) with area >= `min_area_px` and compact: its
    3x3-eroded core (on the grid) holds >= 20 % of it. A blob matches a track, and is dropped, when
    it touches that track's box in that frame (present or lost) grown by max(`exclusion_margin_px`,
    r / 2); motion blobs also when they touch a track's frame-0 box (where frame 0 shows the
    object, not the background). Touching, not inside: what moves with an object (a pendulum rod,
    the background it uncovers) belongs to it. Blobs are chained frame to frame when their grid
    boxes overlap (grown by 2 cells); a chain that starts after frame 0 and lasts >= `min_frames`
    frames is an event: frames start..end inclusive, the first frame's centroid and mean colour,
    the largest area. Chains alive at frame 0 are unseeded objects, not spontaneous ones.
    The motion branch assumes a static camera and constant lighting.
    """
    frames = check_frames(frames)
    T = len(frames)
    small = np.ascontiguousarray(frames[:, ::stride, ::stride])
    r, g, b = small[..., 0], small[..., 1], small[..., 2]
    chroma = np.maximum(np.maximum(r, g), b) - np.minimum(np.minimum(r, g), b)
    cand = {"colour": chroma >= min_chroma}
    grid = small.shape[1:3]
    excl0 = np.zeros(grid, bool)
    if motion:
        diff = np.zeros(small.shape[:3], bool)
        for c in range(3):
            ch = small[..., c].astype(np.int16)
            diff |= np.abs(ch - ch[0]) >= motion_threshold
        # shadows: frame 0's colour darkened by one gain in all channels (tested where it changed)
        t_i, y_i, x_i = np.nonzero(diff)
        shadow = is_shadow(small[t_i, y_i, x_i], small[0, y_i, x_i]) & ignore_shadows
        diff[t_i[shadow], y_i[shadow], x_i[shadow]] = False
        cand["motion"] = diff
        for tr in tracks:
            _mark_box(excl0, tr.bbox_px[0], tr.radius_px[0], exclusion_margin_px, stride)
    k3 = np.ones((3, 3), np.uint8)
    chains: list[dict] = []
    active: list[dict] = []
    for t in range(T):
        excl = np.zeros(grid, bool)
        for tr in tracks:
            if tr.state[t] != GONE:
                _mark_box(excl, tr.bbox_px[t], tr.radius_px[t], exclusion_margin_px, stride)
        blobs = []
        for kind, c in cand.items():
            if c[t].any():
                blobs += _blobs(c[t], excl | excl0 if kind == "motion" else excl, kind, k3,
                                min_area_px / stride**2, frames[t], stride)
        blobs = _dedupe(blobs)
        new_active = []
        for b in blobs:
            parent = next((c for c in active if _boxes_touch(c["box"], b["box"], 2)), None)
            if parent is None:
                parent = {"start": t, "centroid": b["centroid"], "area": b["area"], "kind": b["kind"], "rgb": b["rgb"]}
                chains.append(parent)
            parent["end"], parent["box"] = t, b["box"]
            parent["area"] = max(parent["area"], b["area"])
            if all(parent is not a for a in new_active):
                new_active.append(parent)
        active = new_active
    return [SpontaneousEvent(c["start"], c["end"], c["centroid"], c["area"], c["kind"], c["rgb"])
            for c in chains if c["start"] > 0 and c["end"] - c["start"] + 1 >= min_frames]


def is_shadow(rgb: np.ndarray, plate_rgb: np.ndarray) -> np.ndarray:
    """(...) bool of (..., 3) colours: the plate's colour darkened by one gain in all channels (0.3 <= gain < 0.95,
    the channels' gains within 0.12 of each other): a shadow (a neutral grey object darker than a neutral
    background reads as one too)."""
    gain = rgb.astype(np.float32) / np.maximum(plate_rgb, 1).astype(np.float32)
    high, low = gain.max(axis=-1), gain.min(axis=-1)
    return (low >= 0.3) & (high < 0.95) & (high - low < 0.12)


def _mark_box(excl: np.ndarray, bbox, radius, margin_px: float, stride: int) -> None:
    if bbox[0] < 0:
        return
    grow = max(margin_px, 0.5 * radius) if np.isfinite(radius) else margin_px
    x0 = int(np.floor((bbox[0] - grow) / stride))
    y0 = int(np.floor((bbox[1] - grow) / stride))
    x1 = int(np.ceil((bbox[2] + grow) / stride)) + 1
    y1 = int(np.ceil((bbox[3] + grow) / stride)) + 1
    excl[max(y0, 0) : max(y1, 0), max(x0, 0) : max(x1, 0)] = True


def _blobs(mask: np.ndarray, excluded: np.ndarray, kind: str, kernel, min_area: float, frame: np.ndarray,
           stride: int) -> list[dict]:
    """Compact components of `mask` (grid cells) that do not touch `excluded`."""
    m8 = mask.view(np.uint8)
    n, labels, stats, cents = cv2.connectedComponentsWithStats(m8, connectivity=8)
    keep = stats[:, cv2.CC_STAT_AREA] >= min_area
    keep[0] = False
    if not keep.any():
        return []
    keep[np.unique(labels[excluded])] = False
    core = cv2.erode(m8, kernel, borderType=cv2.BORDER_CONSTANT, borderValue=0).astype(bool)
    core_n = np.bincount(labels[core], minlength=n)
    keep &= core_n >= 0.2 * stats[:, cv2.CC_STAT_AREA]
    out = []
    for i in np.flatnonzero(keep):
        s = stats[i]
        ys, xs = np.nonzero(labels[s[1] : s[1] + s[3], s[0] : s[0] + s[2]] == i)
        rgb = frame[(ys + s[1]) * stride, (xs + s[0]) * stride].mean(axis=0) / 255.0
        out.append({"kind": kind, "box": (s[0], s[1], s[0] + s[2] - 1, s[1] + s[3] - 1),
                    "centroid": (float(cents[i, 0] * stride), float(cents[i, 1] * stride)),
                    "area": float(s[4] * stride**2), "rgb": tuple(float(v) for v in rgb)})
    return out


def _boxes_touch(a, b, gap: float) -> bool:
    return a[0] <= b[2] + gap and b[0] <= a[2] + gap and a[1] <= b[3] + gap and b[1] <= a[3] + gap


def _dedupe(blobs: list[dict]) -> list[dict]:
    colour = [b for b in blobs if b["kind"] == "colour"]
    motion = [b for b in blobs if b["kind"] == "motion" and not any(_boxes_touch(b["box"], c["box"], 1) for c in colour)]
    return colour + motion
