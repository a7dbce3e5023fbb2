"""Find and track the measured object in a clip without a mask from a twin.

`track_clip_object(frames, t_s, object_spec)`:

- `object_spec` a colour (a realitygap colour name, `#rrggbb` or `r,g,b` in 0-255): the colour tracker
  of `realitygap.measure.tracking` seeded from that colour on frame 0.
- `object_spec` 'auto': the object that moves most coherently (`find_moving_object`): a temporal
  median is the background; per sampled frame the components of |frame - background| > threshold
  (max over channels, threshold max(`MIN_CONTRAST`, 6 x the robust noise)) are chained frame to
  frame by nearest centroid; the chain that starts on frame 0 and covers the most frames times the
  largest excursion from its start wins. Its frame-0 component is the seed mask. If the object's
  colour separates it from the rest of frame 0 (the colour model learnt on the seed reproduces the
  seed with IoU >= 0.5 and few pixels elsewhere), it is tracked by colour; otherwise (a dark object
  on a dark background, a grey object on grey) by contrast against the background
  (`track_by_contrast`): the component of |frame - background| nearest the constant-velocity
  prediction, its centroid weighted by the contrast (a specular highlight or a dark silhouette both
  count).

Frames where the object leaves the image are reported by `left_frame` (last present frame whose box
touches the border, with the object gone afterwards).
"""

from __future__ import annotations

import cv2
import numpy as np

from realitygap.measure.colour_model import learn_colour_model
from realitygap.measure.tracking import GONE, PRESENT, ObjectSeed, ObjectTrack, TrackerConfig, track_objects
from realitygap.runtime.errors import InputError
from realitygap.scenarios.world import COLOURS_RGBA

MIN_CONTRAST = 20.0
"""Least |frame - background| (8-bit levels, max over channels) counted as foreground."""
AUTO_GRID_PX = 160
"""Automatic finding works on frames subsampled to at most this many pixels on the long side."""
AUTO_FRAMES = 40
"""... and on at most this many frames spread over the clip."""
MIN_EXCURSION_RADII = 1.0
"""A moving object's track must leave its start by at least this many of its radii."""
BORDER_PX = 1


def parse_colour(spec: str) -> np.ndarray:
    """'red' | '#rrggbb' | 'r,g,b' (0-255) -> (3,) RGB in [0, 1]; InputError otherwise."""
    text = spec.strip().lower()
    if text in COLOURS_RGBA:
        return np.array(COLOURS_RGBA[text][:3], float)
    try:
        if text.startswith("#") and len(text) == 7:
            rgb = [int(text[i:i + 2], 16) for i in (1, 3, 5)]
        else:
            rgb = [float(v) for v in text.split(",")]
        if len(rgb) != 3 or not all(0 <= v <= 255 for v in rgb):
            raise ValueError
    except ValueError:
        raise InputError(f"--object {spec!r}: give 'auto', a colour name ({', '.join(COLOURS_RGBA)}), '#rrggbb' or 'r,g,b' "
                         "(0-255)") from None
    return np.asarray(rgb, float) / 255.0


def track_clip_object(frames: np.ndarray, t_s: np.ndarray, object_spec: str,
                      config: TrackerConfig = TrackerConfig()) -> tuple[ObjectTrack, str]:
    """The measured object's track and how it was found (one line)."""
    if object_spec.strip().lower() != "auto":
        rgb = parse_colour(object_spec)
        try:
            track = track_objects(frames, t_s, [ObjectSeed(name="object", rgb=rgb)], config)[0]
        except ValueError:
            raise InputError(f"no object of colour {object_spec!r} is visible in the first frame") from None
        return track, f"colour {object_spec} (colour-model tracker seeded on frame 0)"
    background = _background(frames)
    mask = find_moving_object(frames, background)
    if colour_separable(frames[0], mask, config):
        return track_objects(frames, t_s, [ObjectSeed(name="object", mask=mask)], config)[0], \
            "auto: the most coherently moving object, tracked by its colour"
    return track_by_contrast(frames, t_s, mask, background), \
        "auto: the most coherently moving object, tracked by contrast against the background (colour not separable)"


def find_moving_object(frames: np.ndarray, background: np.ndarray | None = None) -> np.ndarray:
    """Frame-0 mask (H, W) of the most coherently moving object; InputError when nothing moves."""
    background = _background(frames) if background is None else background
    T, H, W = frames.shape[:3]
    stride = max(1, int(np.ceil(max(H, W) / AUTO_GRID_PX)))
    picks = np.unique(np.linspace(0, T - 1, min(T, AUTO_FRAMES)).round().astype(int))
    threshold = _threshold(frames, background)
    small_bg = background[::stride, ::stride].astype(np.int16)
    min_area = max(3, int(12 / stride**2))
    per_frame = []
    for t in picks:
        fg = _foreground(frames[t, ::stride, ::stride], small_bg, threshold)
        n, labels, stats, cents = cv2.connectedComponentsWithStats(fg.view(np.uint8), connectivity=8)
        keep = [i for i in range(1, n) if stats[i, cv2.CC_STAT_AREA] >= min_area]
        per_frame.append([(cents[i], float(stats[i, cv2.CC_STAT_AREA]), i, labels) for i in keep])
    if not per_frame or not per_frame[0]:
        raise InputError("no moving object found: nothing in the first frame differs from the clip's background")
    diag = float(np.hypot(H, W)) / stride
    best, best_score = None, 0.0
    for start in per_frame[0]:
        chain, here = [start[0]], start[0]
        radius = np.sqrt(start[1] / np.pi)
        for comps in per_frame[1:]:
            if not comps:
                continue
            d = [np.hypot(*(c[0] - here)) for c in comps]
            k = int(np.argmin(d))
            if d[k] > 0.25 * diag:
                continue
            here = comps[k][0]
            chain.append(here)
        excursion = float(np.max(np.hypot(*(np.array(chain) - start[0]).T)))
        if excursion < max(MIN_EXCURSION_RADII * radius, 2.0):
            continue
        score = len(chain) * min(excursion, 0.5 * diag)
        if score > best_score:
            best, best_score = start, score
    if best is None:
        raise InputError("no moving object found: nothing in the clip moves by more than its own size")
    _, _, label, labels = best
    coarse = cv2.resize((labels == label).view(np.uint8), (W, H), interpolation=cv2.INTER_NEAREST)
    grown = cv2.dilate(coarse, np.ones((2 * stride + 3, 2 * stride + 3), np.uint8)).astype(bool)
    fine = _foreground(frames[0], background.astype(np.int16), threshold) & grown
    n, labels_f, stats, _ = cv2.connectedComponentsWithStats(fine.view(np.uint8), connectivity=8)
    if n < 2:
        return coarse.astype(bool)
    return labels_f == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))


def colour_separable(frame0: np.ndarray, mask: np.ndarray, config: TrackerConfig = TrackerConfig()) -> bool:
    """Whether a colour model learnt on `mask` finds the object and little else in `frame0`."""
    k3 = np.ones((3, 3), np.uint8)
    core = cv2.erode(mask.view(np.uint8), k3).astype(bool)
    core = core if core.sum() >= 4 else mask
    grown = cv2.dilate(mask.view(np.uint8), k3, iterations=2).astype(bool)
    model = learn_colour_model(frame0, core, ~grown, config)
    found = model.probability(frame0) >= 128
    iou = (found & mask).sum() / max((found | mask).sum(), 1)
    elsewhere = (found & ~grown).sum()
    return bool(iou >= 0.5 and elsewhere <= 0.5 * mask.sum())


def track_by_contrast(frames: np.ndarray, t_s: np.ndarray, mask0: np.ndarray, background: np.ndarray) -> ObjectTrack:
    """Track the object seeded by `mask0` as the foreground component (|frame - background|) nearest its
    constant-velocity prediction; centroid weighted by the contrast. sigma_px = 1 / sqrt(12 pi r) px."""
    T, H, W = frames.shape[:3]
    threshold = _threshold(frames, background)
    bg = background.astype(np.int16)
    ys, xs = np.nonzero(mask0)
    centre, velocity, last_t = np.array([xs.mean(), ys.mean()]), np.zeros(2), float(t_s[0])
    area_ref = float(mask0.sum())
    state = np.full(T, GONE, np.int8)
    centroid, bbox = np.full((T, 2), np.nan), np.full((T, 4), -1.0)
    area, radius, sigma, fraction = np.zeros(T), np.full(T, np.nan), np.full(T, np.nan), np.full(T, np.nan)
    for t in range(T):
        contrast = np.abs(frames[t].astype(np.int16) - bg).max(axis=2)
        fg = (contrast >= threshold).view(np.uint8)
        fg = cv2.morphologyEx(fg, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
        n, labels, stats, cents = cv2.connectedComponentsWithStats(fg, connectivity=8)
        if n < 2:
            continue
        predicted = centre + velocity * (float(t_s[t]) - last_t)
        r_ref = np.sqrt(area_ref / np.pi)
        big = np.flatnonzero(stats[1:, cv2.CC_STAT_AREA] >= 0.2 * area_ref) + 1
        if len(big) == 0:
            continue
        d = np.hypot(*(cents[big] - predicted).T)
        k = int(np.argmin(d))
        if d[k] > max(4 * r_ref, 0.25 * np.hypot(H, W)):
            continue
        label = big[k]
        s = stats[label]
        sel = labels[s[1]:s[1] + s[3], s[0]:s[0] + s[2]] == label
        w = np.where(sel, contrast[s[1]:s[1] + s[3], s[0]:s[0] + s[2]], 0).astype(np.float64)
        yy, xx = np.mgrid[s[1]:s[1] + s[3], s[0]:s[0] + s[2]]
        c = np.array([(w * xx).sum() / w.sum(), (w * yy).sum() / w.sum()])
        if t > 0 and state[t - 1] == PRESENT and t_s[t] > last_t:
            velocity = (c - centre) / (float(t_s[t]) - last_t)
        centre, last_t = c, float(t_s[t])
        state[t], centroid[t] = PRESENT, c
        bbox[t] = (s[0], s[1], s[0] + s[2] - 1, s[1] + s[3] - 1)
        area[t] = float(s[4])
        radius[t] = np.sqrt(area[t] / np.pi)
        sigma[t] = 1.0 / np.sqrt(12 * np.pi * max(radius[t], 1.0))
        fraction[t] = area[t] / area_ref
    return ObjectTrack(name="object", t_s=np.asarray(t_s, float), state=state, centroid_px=centroid, area_px=area,
                       bbox_px=bbox, radius_px=radius, sigma_px=sigma, visible_fraction=fraction)


def left_frame(track: ObjectTrack, size_hw: tuple[int, int]) -> int | None:
    """Index of the last present frame if the object then leaves the image (its box touches the border
    and it is never present again), else None."""
    present = np.flatnonzero(track.present)
    if len(present) == 0 or present[-1] == len(track.state) - 1:
        return None
    last = int(present[-1])
    x0, y0, x1, y1 = track.bbox_px[last]
    H, W = size_hw
    touches = x0 <= BORDER_PX or y0 <= BORDER_PX or x1 >= W - 1 - BORDER_PX or y1 >= H - 1 - BORDER_PX
    return last if touches else None


def _background(frames: np.ndarray) -> np.ndarray:
    """Per-pixel temporal median of up to 31 frames spread over the clip (H, W, 3) uint8."""
    picks = np.unique(np.linspace(0, len(frames) - 1, min(len(frames), 31)).round().astype(int))
    return np.median(frames[picks], axis=0).astype(np.uint8)


def _threshold(frames: np.ndarray, background: np.ndarray) -> float:
    """max(MIN_CONTRAST, 6 x robust noise of frame 0 against the background)."""
    diff = frames[0, ::4, ::4].astype(np.int16) - background[::4, ::4].astype(np.int16)
    noise = 1.4826 * float(np.median(np.abs(diff - np.median(diff))))
    return max(MIN_CONTRAST, 6.0 * noise)


def _foreground(frame: np.ndarray, background_i16: np.ndarray, threshold: float) -> np.ndarray:
    fg = np.abs(frame.astype(np.int16) - background_i16).max(axis=2) >= threshold
    return cv2.morphologyEx(fg.view(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)).astype(bool)
