"""Find and track the measured object in a clip without a mask from a twin.

`track_clip_object(frames, t_s, object_spec, motion)`:

- finding (`find_object`): the candidate blobs of every frame, on a grid of at most `AUTO_GRID_PX` px:
  |frame - temporal median| >= max(`silhouette.MIN_CONTRAST`, 6 x the robust noise) for `object_spec` 'auto', the
  pixels of that colour by hue (`colour_match`) for a colour (a realitygap colour name, `#rrggbb`,
  `r,g,b`); chained frame to frame by an optimal assignment on a constant-velocity prediction
  (`link_tracklets`); the chain that best shows the law's motion wins (`motion_score`: parabolic arcs
  falling down the image for a free flight, turning points for a swing, else frames x excursion); the
  seed is its blob where that motion starts, at its typical size, without thin parts (`compact_part`)
  and shadows (`shadow_pixels`);
- tracking, forward and backward from the seed: by colour (`realitygap.measure.tracking`) when a colour
  model learnt on the seed separates it from the rest of the frame (`colour_separable`), otherwise by its
  silhouette against the background (`track_by_contrast`);
- frames whose silhouette is partly hidden, cut or merged: `silhouette.partial_frames`.

Frames where the object leaves the image are reported by `left_frame` (last present frame whose box
touches the border, with the object gone afterwards).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import cv2
import numpy as np

from realitygap.clip.silhouette import (
    clip_background,
    compact_part,
    fill_holes,
    foreground,
    foreground_threshold,
    shadow_pixels,
    track_by_contrast,
)
from realitygap.measure.colour_model import hue_deg, hue_distance, learn_colour_model
from realitygap.measure.tracking import GONE, ObjectSeed, ObjectTrack, TrackerConfig, track_objects
from realitygap.runtime.errors import InputError
from realitygap.scenarios.world import COLOURS_RGBA

AUTO_GRID_PX = 160
"""Automatic finding works on frames subsampled to at most this many pixels on the long side."""
MIN_EXCURSION_RADII = 1.0
"""A moving object's track must leave its start by at least this many of its radii."""
BORDER_PX = 1
LINK_GATE_DIAGONALS = 0.08
"""A blob continues a chain when it is within this fraction of the image diagonal (or 3 radii) of the
chain's constant-velocity prediction."""
MAX_GAP_FRAMES = 3
"""A chain survives this many frames without a blob (an occlusion, a missed detection)."""
MIN_ARC_POINTS = 5
MIN_OBJECT_FRAMES = 5
ARC_TOLERANCE_RADII = 0.25
ARC_DOWN_DEG = 45.0
"""Selection only (the fit checks gravity's direction against 30 deg): an arc bending more than this from
the image's down is not a free flight seen by a roughly upright camera."""
MIN_ARC_DROP_RADII = 1.5
HUE_TOLERANCE_DEG = 30.0
MIN_CLIP_CHROMA = 12.0
GREY_LUMA_TOLERANCE = 40.0


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


def track_clip_object(frames: np.ndarray, t_s: np.ndarray, object_spec: str, motion: str = "",
                      config: TrackerConfig = TrackerConfig(), background: np.ndarray | None = None
                      ) -> tuple[ObjectTrack, str, int, float, int]:
    """The measured object's track, how it was found (one line), the frame it was found on, its area there
    (px, the seed mask's) and the number of things that move in the clip (`find_object`). `motion` is the
    law's `ScenarioSpec.clip_motion` ('free_flight', 'oscillation' or '': any coherent motion); `background`:
    the whole clip's (`clip_background`) when `frames` are part of it."""
    rgb = None if object_spec.strip().lower() == "auto" else parse_colour(object_spec)
    background = clip_background(frames) if background is None else background
    tracklet, seed_frame, mask, moving = find_object(frames, t_s, background, motion, rgb)
    what = f"colour {object_spec}" if rgb is not None else "auto"
    why = {"free_flight": "the moving object whose path is a free flight",
           "oscillation": "the moving object that swings back and forth"}.get(motion, "the most coherently moving object")
    by_colour = colour_separable(frames[seed_frame], mask, config)
    forward = _track_from(frames[seed_frame:], t_s[seed_frame:], mask, background, by_colour, config)
    if seed_frame == 0:
        track = dataclasses.replace(forward, t_s=np.asarray(t_s, float))
    else:  # back in time from the seed too: the held or entering phase before the motion
        backward = _track_from(frames[seed_frame::-1], t_s[seed_frame::-1], mask, background, by_colour, config)
        track = _join_tracks(backward, forward, t_s)
    first = np.flatnonzero(track.present)
    start = f"found at frame {seed_frame}, seen from frame {int(first[0])}" if len(first) and first[0] else "from the first frame"
    how = "tracked by its colour" if by_colour else "tracked by its silhouette against the background (colour not separable)"
    return track, f"{what}: {why}, {how} {start}", seed_frame, float(mask.sum()), moving


def _track_from(frames: np.ndarray, t_s: np.ndarray, mask: np.ndarray, background: np.ndarray, by_colour: bool,
                config: TrackerConfig) -> ObjectTrack:
    """The object seeded by `mask` on frames[0] tracked through `frames` (forward, or reversed with
    decreasing t_s: the constant-velocity predictions work either way)."""
    if by_colour:
        return track_objects(frames, np.abs(t_s - t_s[0]), [ObjectSeed(name="object", mask=mask)], config)[0]
    return track_by_contrast(frames, np.abs(t_s - t_s[0]), mask, background)


@dataclass(frozen=True)
class Tracklet:
    """A chain of foreground blobs over frames: frame indices, centroids (n, 2) in full-resolution px,
    areas (n,) in grid cells, and the blobs' labels in the grid's label images."""

    frame: np.ndarray
    centroid_px: np.ndarray
    area: np.ndarray
    label: np.ndarray

    @property
    def radius_cells(self) -> float:
        return float(np.sqrt(np.median(self.area) / np.pi))


def find_object(frames: np.ndarray, t_s: np.ndarray, background: np.ndarray, motion: str = "",
                rgb: np.ndarray | None = None) -> tuple[Tracklet, int, np.ndarray, int]:
    """(tracklet, seed frame, seed mask (H, W) on that frame) of the measured object: the foreground
    blobs of every frame (of colour `rgb` by hue where given) are chained frame to frame
    (`link_tracklets`) and the chain that best shows `motion` wins (`motion_score`): hands, people
    and rolling balls do not fall along a parabola. The seed frame is where its motion starts (the
    first frame of its first free-flight arc: after a release, after an entry) or the first after it where
    the blob has its typical size (not a fragment split off, not merged with another). Also returned: how
    many chains of at least `MIN_OBJECT_FRAMES` frames move by more than their own size (objects that
    move: the measured one, hands, people, other balls; a thing split into pieces counts each). InputError when nothing
    moves (or nothing of that colour)."""
    T, H, W = frames.shape[:3]
    stride = max(1, int(np.ceil(max(H, W) / AUTO_GRID_PX)))
    threshold = foreground_threshold(frames, background)
    small_bg = background[::stride, ::stride].astype(np.int16)
    min_area = max(3, int(12 / stride**2))
    blobs, label_images = [], []
    for t in range(T):
        small = frames[t, ::stride, ::stride]
        if rgb is None:
            candidates = foreground(small, small_bg, threshold)
        else:  # the named colour alone: no background needed (a moving camera, an object present throughout)
            candidates = cv2.morphologyEx(colour_match(small, rgb).view(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
        n, labels, stats, cents = cv2.connectedComponentsWithStats(candidates.view(np.uint8), connectivity=8)
        keep = [i for i in range(1, n) if stats[i, cv2.CC_STAT_AREA] >= min_area]
        blobs.append([(cents[i] * stride + (stride - 1) / 2, float(stats[i, cv2.CC_STAT_AREA]), i) for i in keep])
        label_images.append(labels)
    if not any(blobs):
        raise InputError("no moving object found: nothing in the clip differs from its background" if rgb is None else
                         "no object of that colour (by hue) is visible in the clip")
    diag = float(np.hypot(H, W))
    tracklets = link_tracklets(blobs, diag, stride)
    moves = [motion_score(tr, t_s, "", stride, diag) for tr in tracklets]  # any coherent motion
    lawful = [motion_score(tr, t_s, motion, stride, diag) for tr in tracklets] if motion else moves
    scored = [(s, tr) for s, tr in zip(lawful, tracklets) if s[0] > 0]
    if not scored and motion:  # none shows the law: the most coherent mover, for the fit to judge
        scored = [(s, tr) for s, tr in zip(moves, tracklets) if s[0] > 0]
    if not scored:
        raise InputError("no moving object found: nothing in the clip moves by more than its own size"
                         + ("" if rgb is None else " with that colour (by hue)")
                         + ": choose it with --object COLOUR or --roi, or the frames with --frames a:b")
    (score, start), best = max(scored, key=lambda st: st[0][0])
    typical = np.abs(np.log(best.area / np.median(best.area))) < math.log(1.3)  # not a fragment, not a merge
    later = np.flatnonzero(typical[start:])
    seed = int(best.frame[start + (int(later[0]) if len(later) else 0)])
    start = int(np.searchsorted(best.frame, seed))
    coarse = cv2.resize((label_images[seed] == best.label[start]).view(np.uint8), (W, H), interpolation=cv2.INTER_NEAREST)
    grown = cv2.dilate(coarse, np.ones((2 * stride + 3, 2 * stride + 3), np.uint8)).astype(bool)
    fine = foreground(frames[seed], background.astype(np.int16), threshold) & grown & ~shadow_pixels(frames[seed], background)
    n, labels_f, stats, _ = cv2.connectedComponentsWithStats(fine.view(np.uint8), connectivity=8)
    mask = coarse.astype(bool) if n < 2 else labels_f == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    moving = sum(len(tr.frame) >= MIN_OBJECT_FRAMES and m[0] > 0 for tr, m in zip(tracklets, moves))
    return best, seed, compact_part(fill_holes(mask)), int(moving)


def link_tracklets(blobs: list[list[tuple[np.ndarray, float, int]]], diag_px: float, stride: int = 1) -> list[Tracklet]:
    """Chain blobs (per frame: (centroid px, area in grid cells of `stride` px, label)) into tracklets by a constant-velocity
    prediction and an optimal assignment (scipy's linear_sum_assignment) gated at
    max(3 radii, `LINK_GATE_DIAGONALS` of the image diagonal); a chain unmatched for more than
    `MAX_GAP_FRAMES` frames ends."""
    from scipy.optimize import linear_sum_assignment

    active: list[dict] = []
    done: list[dict] = []
    for t, comps in enumerate(blobs):
        matched_tracks, matched_comps = set(), set()
        if active and comps:
            cost = np.full((len(active), len(comps)), 1e9)
            for a, tr in enumerate(active):
                gap = t - tr["frame"][-1]
                predicted = tr["centroid"][-1] + tr["velocity"] * gap
                radius = np.sqrt(tr["area"][-1] / np.pi)
                gate = max(3 * radius * stride, LINK_GATE_DIAGONALS * diag_px)
                for c, (centre, _, _) in enumerate(comps):
                    d = float(np.hypot(*(centre - predicted)))
                    if d <= gate:
                        cost[a, c] = d
            rows, cols = linear_sum_assignment(cost)
            for a, c in zip(rows, cols):
                if cost[a, c] >= 1e9:
                    continue
                tr, (centre, area, label) = active[a], comps[c]
                gap = t - tr["frame"][-1]
                tr["velocity"] = (centre - tr["centroid"][-1]) / gap
                for key, value in (("frame", t), ("centroid", centre), ("area", area), ("label", label)):
                    tr[key].append(value)
                matched_tracks.add(a)
                matched_comps.add(c)
        still = []
        for a, tr in enumerate(active):
            (still if a in matched_tracks or t - tr["frame"][-1] <= MAX_GAP_FRAMES else done).append(tr)
        active = still
        for c, (centre, area, label) in enumerate(comps):
            if c not in matched_comps:
                active.append({"frame": [t], "centroid": [centre], "area": [area], "label": [label],
                               "velocity": np.zeros(2)})
    return [Tracklet(np.array(tr["frame"]), np.array(tr["centroid"], float), np.array(tr["area"], float),
                     np.array(tr["label"])) for tr in done + active if len(tr["frame"]) >= 3]


def motion_score(tracklet: Tracklet, t_s: np.ndarray, motion: str, stride: int, diag_px: float) -> tuple[float, int]:
    """(score, index of the frame where the motion starts) of a tracklet for `motion` (0: not that motion).

    free_flight: frames in parabolic arcs (`free_flight_arcs`); oscillation: frames times the number
    of turning points (at least two) of the motion along its main axis, each a swing larger than the
    object's radius; otherwise frames times the largest excursion from the start (at least one radius)."""
    centre = tracklet.centroid_px
    radius = max(tracklet.radius_cells * stride, 1.0)
    excursion = float(np.max(np.hypot(*(centre - centre[0]).T)))
    if excursion < max(MIN_EXCURSION_RADII * radius, 2.0 * stride):
        return 0.0, 0
    if motion == "free_flight":
        arcs = free_flight_arcs(np.asarray(t_s, float)[tracklet.frame], centre, radius, stride)
        return (float(sum(b - a for a, b in arcs)), arcs[0][0]) if arcs else (0.0, 0)
    if motion == "oscillation":
        axis = np.linalg.svd(centre - centre.mean(axis=0), full_matrices=False)[2][0]
        s = (centre - centre.mean(axis=0)) @ axis
        turns = _turning_points(s, radius)
        return (float(len(s) * min(turns, 6)), 0) if turns >= 2 else (0.0, 0)
    return float(len(centre) * min(excursion, 0.5 * diag_px)), 0


def free_flight_arcs(t_s: np.ndarray, centre_px: np.ndarray, radius_px: float, stride: int) -> list[tuple[int, int]]:
    """Index windows [a, b) of at least `MIN_ARC_POINTS` points on one parabola per image axis (rms
    residual at most max(`ARC_TOLERANCE_RADII` radii, one grid cell)) whose acceleration points
    within `ARC_DOWN_DEG` of the image's down, bends the path by at least a quarter radius and rises or falls
    by at least `MIN_ARC_DROP_RADII` radii (a thing held, carried or rolling does not; a walking person's
    centroid bobs by a fraction of their size)."""
    n = len(t_s)
    tolerance = max(ARC_TOLERANCE_RADII * radius_px, float(stride))
    arcs, a = [], 0
    while a <= n - MIN_ARC_POINTS:
        b = a + MIN_ARC_POINTS
        if _arc_rms(t_s[a:b], centre_px[a:b]) > tolerance:
            a += 1
            continue
        while b < n and _arc_rms(t_s[a:b + 1], centre_px[a:b + 1]) <= tolerance:
            b += 1
        coeff = _arc_coefficients(t_s[a:b], centre_px[a:b])
        acc = 2 * coeff[2]
        duration = t_s[b - 1] - t_s[a]
        bend = float(np.hypot(*acc)) * duration**2 / 8
        down = math.degrees(math.atan2(abs(acc[0]), acc[1])) if acc[1] > 0 else 180.0
        drop = float(np.ptp(centre_px[a:b, 1]))
        if down <= ARC_DOWN_DEG and bend >= 0.25 * radius_px and drop >= MIN_ARC_DROP_RADII * radius_px:
            arcs.append((a, b))
            a = b
        else:
            a += 1
    return arcs


def colour_match(frame: np.ndarray, rgb: np.ndarray) -> np.ndarray:
    """Pixels (H, W) that a user would call colour `rgb` ((3,) in [0, 1]) in real footage: hue within
    `HUE_TOLERANCE_DEG` and chroma at least `MIN_CLIP_CHROMA` levels for a chromatic colour (real
    colours are desaturated and white-balanced away from the name, their hue survives); for a grey
    one, luma within `GREY_LUMA_TOLERANCE` levels and little chroma."""
    f = frame.astype(np.float32)
    chroma = f.max(axis=2) - f.min(axis=2)
    target = np.asarray(rgb, np.float32) * 255
    if float(target.max() - target.min()) >= 0.15 * 255:
        return (hue_distance(hue_deg(f), hue_deg(target)) <= HUE_TOLERANCE_DEG) & (chroma >= MIN_CLIP_CHROMA)
    luma = f @ np.array([0.299, 0.587, 0.114], np.float32)
    return (np.abs(luma - float(target @ np.array([0.299, 0.587, 0.114]))) <= GREY_LUMA_TOLERANCE) & (chroma < 40)


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


def _arc_coefficients(t: np.ndarray, xy: np.ndarray) -> np.ndarray:
    tau = t - t.mean()
    return np.linalg.lstsq(np.stack([np.ones_like(tau), tau, tau**2], axis=1), xy, rcond=None)[0]


def _arc_rms(t: np.ndarray, xy: np.ndarray) -> float:
    tau = t - t.mean()
    A = np.stack([np.ones_like(tau), tau, tau**2], axis=1)
    resid = xy - A @ np.linalg.lstsq(A, xy, rcond=None)[0]
    return float(np.sqrt(np.mean(resid**2) * len(t) / max(len(t) - 3, 1)))


def _turning_points(s: np.ndarray, min_swing: float) -> int:
    """Number of reversals of `s` by more than `min_swing` (hysteresis)."""
    turns, direction, extreme = 0, 0, float(s[0])
    for v in s[1:]:
        if direction >= 0 and v > extreme or direction <= 0 and v < extreme:
            extreme = float(v)
        elif abs(v - extreme) > min_swing:
            turns += direction != 0
            direction = 1 if v > extreme else -1
            extreme = float(v)
        if direction == 0 and abs(v - s[0]) > min_swing:
            direction = 1 if v > s[0] else -1
    return turns


def clip_long(track: ObjectTrack, t_s: np.ndarray, first: int) -> ObjectTrack:
    """A track of frames first..first+n-1 as a track of the whole clip (times `t_s`), GONE elsewhere."""
    T, n = len(t_s), len(track.state)
    if first == 0 and n == T:
        return track

    def place(a, fill):
        out = np.full((T, *a.shape[1:]), fill, dtype=a.dtype)
        out[first:first + n] = a
        return out

    return ObjectTrack(name=track.name, t_s=np.asarray(t_s, float), state=place(track.state, GONE),
                       centroid_px=place(track.centroid_px, np.nan), area_px=place(track.area_px, 0),
                       bbox_px=place(track.bbox_px, -1), radius_px=place(track.radius_px, np.nan),
                       sigma_px=place(track.sigma_px, np.nan), visible_fraction=place(track.visible_fraction, np.nan))


def _join_tracks(backward: ObjectTrack, forward: ObjectTrack, t_s: np.ndarray) -> ObjectTrack:
    """One clip-long track (times `t_s`) from a track of frames seed..0 (reversed) and one of frames
    seed..T-1; the seed frame is the forward one's."""
    def join(a, b):
        return np.concatenate([a[:0:-1], b])

    return ObjectTrack(name=forward.name, t_s=np.asarray(t_s, float), state=join(backward.state, forward.state),
                       centroid_px=join(backward.centroid_px, forward.centroid_px),
                       area_px=join(backward.area_px, forward.area_px), bbox_px=join(backward.bbox_px, forward.bbox_px),
                       radius_px=join(backward.radius_px, forward.radius_px), sigma_px=join(backward.sigma_px, forward.sigma_px),
                       visible_fraction=join(backward.visible_fraction, forward.visible_fraction))
