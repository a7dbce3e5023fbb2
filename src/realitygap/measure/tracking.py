"""Object tracks from RGB alone: one colour model per object, seeded on the first frame, and
sub-pixel centroids with their uncertainty.

Input: frames (T, H, W, 3) uint8 RGB with timestamps `t_s` (T,) seconds, and one `ObjectSeed` per
object: its first-frame mask (from ground-truth segmentation, or supplied by a user) and/or its
declared colour. Output: one `ObjectTrack` per seed with, per frame, a state (present / lost /
gone), the centroid (u, v) px of the visible silhouette (pixel (col, row) is centred at
(u, v) = (col, row), as in `realitygap.core.camera`), area, box, equivalent radius and a standard
uncertainty of the centroid. Objects that appear later are `realitygap.measure.spontaneous`'s.

Segmenter: the colour model of `realitygap.measure.colour_model`, chosen on merit for our scenes
(plain light background, mid-grey floor, dark grey occluders, saturated object colours) and for
H.264, blur, noise, real and generated video. Rejected: background subtraction (it needs a clean
plate, which a temporal median gives only for pixels the object leaves more than half the time: a
puck at rest, a pendulum bob near its turning points are absorbed; it finds shadows and compression
noise as foreground and cannot say which object a blob is) and dense optical flow (it smears motion
boundaries by its window, biasing centroids by pixels, is blind to objects at rest and drifts; it
would only help to follow textured objects, which ours are not).

Sub-pixel centroid. The binary mask P >= 0.5 is refined at its boundary by two-colour matting:
for a pixel within one pixel of the mask edge, its coverage is

      alpha = clip(((c - B) . (F - B)) / |F - B|^2, 0, 1),

with F (B) the mean colour of the mask's interior (the outside) in the 5x5 neighbourhood.
Centroid = sum(w x) / sum(w), area = sum(w), w = 1 inside, alpha on the edge band. An
anti-aliased pixel is a blend of the two colours, so this is the area-weighted centroid of the
silhouette; where the band has no interior or outside neighbour, or F and B are closer than
`min_matting_contrast`, the binary mask is used. Matting removes most of the bias that
compression leaves in a binary mask's centroid, so it is on (errors with and without it:
tests/measure/test_tracking.py).

Uncertainty. Each edge-band pixel's coverage is treated as an independent error of variance
v_i = max(w_i (1 - w_i), 1/24) + sigma_n^2 / |F - B|^2 (at least the rounding of a binary edge,
1/12 over two rings; plus image noise sigma_n, the robust spread of the outside pixels about their
local mean, carried through the matting formula):

      sigma_stat^2 = (1/2) sum_i v_i |x_i - c|^2 / A^2      (per image axis),

(a disc of radius R gives sigma_stat ~ 1 / sqrt(12 pi R) ~ 0.05 px at R = 10 px). The centroid of
a truncated (occluded, cut by the image border) silhouette is not the object's centre: with
f = min(1, A / A_ref), A_ref the largest area of the last `reference_window_s` seconds of
present frames, sigma_trunc = r_ref max(0, 1 - f / (1 - `truncation_dead_zone`)) (a half-disc's
centroid is 0.42 r from the centre; shortfalls under 10 % are shading, blur or compression).
sigma_px = sqrt(sigma_stat^2 + sigma_trunc^2): the standard uncertainty of `centroid_px` as a
measurement of the projected object centre, for weighting law fits. Objects whose projected area
changes by > 10 % within the window (a door turning, a motion-blurred smear) get a conservative
sigma_trunc.

States. PRESENT: a connected component of the object's colour with a 3x3 core (at least 3 px
thick somewhere), nearest to the predicted position; LOST: pixels of the object's colour exist
(a component of >= `min_evidence_px`) but none is thick enough (slivers at an occluder's edge,
smudges); GONE: no pixel of the colour model anywhere in the frame (outside other objects).
Only PRESENT frames have a centroid; LOST frames keep the box of the evidence (so that the
spontaneous-object search does not take a re-emerging sliver for a new object).

Search. Constant-velocity prediction from the last two present frames; the search window is the
last box grown by the predicted displacement and a margin of max(`search_margin_px`, r / 2). If
the object is not found there, or its component touches the window border, the whole frame is
searched (and always after a frame without the object). Connected components of the colour
mask near the main one (within max(2 px, r / 2) of its box) are merged: a thin occluder splits a
silhouette. Each frame's objects claim their pixels in seed order, so two objects of one colour
do not both take one blob.

Seeds. A given mask is used unless it does not fit the frames or, when a colour is declared too,
less than half of its interior has that colour (a source whose first frame differs from the
ground truth's): then the mask is bootstrapped from the declared colour.

Limits: objects of one colour that touch merge into one blob and may swap identities when they
part; an object whose colour is close to the scene's (grey on grey) is not separable by colour and
needs another seed; the ground-truth mask centroid of boxes with pixel-aligned edges is itself off
by up to ~0.5 px (a half-covered row counts fully), so slide and braking read 0.5 px there.
Robustness to compression, motion blur and noise, and speed: tests/measure/test_tracking.py and
benchmarks/measure.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from realitygap.measure.colour_model import (
    ColourModel,
    ColourModelConfig,
    colour_agreement,
    object_colour_models,
    seed_mask_from_colour,
)
from realitygap.scenarios.world import COLOURS_RGBA

GONE, LOST, PRESENT = 0, 1, 2
STATE_NAMES = ("gone", "lost", "present")


class TrackerConfig(ColourModelConfig):
    """Settings of the colour-model tracker: the colour models' (`ColourModelConfig`) and the search's
    (pixel sizes are absolute, for ~100-1000 px images)."""

    search_margin_px: float = 6.0
    """Least margin around the predicted box."""
    min_evidence_px: int = 3
    """Least connected pixels of the object's colour that make a frame LOST rather than GONE."""
    min_matting_contrast: float = 25.0
    """Least |F - B| (8-bit levels) for two-colour matting of edge pixels."""
    matting: bool = True
    """False: centroid of the binary mask P >= 0.5."""
    matting_band_px: int = 1
    """Half-width of the edge band that is matted."""
    reference_window_s: float = 1.0
    """The reference area (for the visible fraction) is the largest of the last this many seconds."""
    min_seed_agreement: float = 0.5
    """A given mask is used only if this fraction of its interior has the declared colour (if any)."""
    truncation_dead_zone: float = 0.1
    """Area shortfalls below this fraction (shading, blur, compression) are not read as truncation."""


@dataclass(frozen=True)
class ObjectSeed:
    """What is known of an object before tracking: a first-frame mask and/or a declared colour.

    `mask` (H, W) bool on frame 0; `rgb` (3,) declared colour in [0, 1] (e.g. COLOURS_RGBA[...][:3]),
    used to bootstrap a mask when there is none or the given one does not show that colour
    (rendered colours differ from declared ones, so the colour model is always learnt from pixels).
    """

    name: str
    mask: np.ndarray | None = None
    rgb: np.ndarray | tuple[float, float, float] | None = None


@dataclass
class ObjectTrack:
    """Per-frame measurements of one object; arrays have length T (frames).

    state: GONE 0 / LOST 1 / PRESENT 2; centroid_px (T, 2) (u, v), NaN unless present; area_px
    (matting-weighted pixel count, 0 unless present); bbox_px (T, 4) x_min, y_min, x_max, y_max
    inclusive, -1 when gone (the evidence's box when lost); radius_px = sqrt(area / pi), NaN unless
    present; sigma_px standard uncertainty of the centroid per axis (px), NaN unless present;
    visible_fraction = area / the largest area of the last `reference_window_s` of present frames
    (~1 when whole; < 1 when occluded or cut by the border), NaN unless present. Times t_s (T,) s.
    masks (with `keep_masks`): per frame the derived silhouette (matting weight >= 0.5) as (row0, col0,
    (h, w) bool crop) in frame pixels, None unless present; None when not kept.
    """

    name: str
    t_s: np.ndarray
    state: np.ndarray
    centroid_px: np.ndarray
    area_px: np.ndarray
    bbox_px: np.ndarray
    radius_px: np.ndarray
    sigma_px: np.ndarray
    visible_fraction: np.ndarray
    masks: list[tuple[int, int, np.ndarray] | None] | None = None

    @property
    def present(self) -> np.ndarray:
        return self.state == PRESENT

    @property
    def gone(self) -> np.ndarray:
        return self.state == GONE


def seeds_from_episode(episode) -> list[ObjectSeed]:
    """One seed per instance in `episode.meta.instances`: its segmentation mask on frame 0, and
    its declared colour where the parameters name it (`colour` for a single instance,
    `colour_<suffix>` for an instance named `<...>_<suffix>`, e.g. colour_a for puck_a)."""
    seg = episode.videos["segmentation"][0]
    params = episode.meta.context.params
    instances = episode.meta.instances
    seeds = []
    for inst in instances:
        key = "colour" if len(instances) == 1 else f"colour_{inst.name.rsplit('_', 1)[-1]}"
        colour = params.get(key)
        rgb = np.array(COLOURS_RGBA[colour][:3]) if colour in COLOURS_RGBA else None
        seeds.append(ObjectSeed(name=inst.name, mask=seg == inst.id, rgb=rgb))
    return seeds


def track_objects(frames: np.ndarray, t_s: np.ndarray, seeds: list[ObjectSeed],
                  config: TrackerConfig = TrackerConfig(), keep_masks: bool = False) -> list[ObjectTrack]:
    """Segment every seeded object in every frame (see the module docstring); one track per seed, with its
    per-frame silhouettes when `keep_masks` (derived labels: measure/coherence.py)."""
    frames = check_frames(frames)
    t_s = np.asarray(t_s, float)
    if len(t_s) != len(frames):
        raise ValueError(f"{len(t_s)} timestamps for {len(frames)} frames")
    masks = _seed_masks(frames[0], seeds, config)
    models = object_colour_models(frames[0], masks, config)
    n, T = len(seeds), len(frames)
    states = [_TrackState(m, config) for m in masks]
    out = {k: [] for k in ("state", "centroid", "area", "bbox", "sigma", "fraction", "mask")}
    for t in range(T):
        claimed = np.zeros(frames.shape[1:3], bool)
        for k in range(n):
            meas = _measure(frames[t], t_s[t], models[k], states[k], claimed, config)
            states[k].update(meas, t_s[t])
            for key in out:
                out[key].append(getattr(meas, key))
    tracks = []
    for k, seed in enumerate(seeds):
        sl = slice(k, None, n)
        area = np.array(out["area"][sl], float)
        state = np.array(out["state"][sl], np.int8)
        radius = np.where(state == PRESENT, np.sqrt(area / np.pi), np.nan)
        tracks.append(ObjectTrack(
            name=seed.name, t_s=t_s.copy(), state=state,
            centroid_px=np.array(out["centroid"][sl], float).reshape(T, 2), area_px=area,
            bbox_px=np.array(out["bbox"][sl], np.int32).reshape(T, 4), radius_px=radius,
            sigma_px=np.array(out["sigma"][sl], float), visible_fraction=np.array(out["fraction"][sl], float),
            masks=list(out["mask"][sl]) if keep_masks else None))
    return tracks


def check_frames(frames: np.ndarray) -> np.ndarray:
    """`frames` as an array, or ValueError unless it is (T, H, W, 3) uint8."""
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[3] != 3 or frames.dtype != np.uint8:
        raise ValueError(f"frames must be (T, H, W, 3) uint8, got {frames.shape} {frames.dtype}")
    return frames


def _seed_masks(frame0: np.ndarray, seeds: list[ObjectSeed], config: TrackerConfig) -> list[np.ndarray]:
    """First-frame mask per seed: the given mask, unless it does not fit the frames or (with a declared
    colour) less than `min_seed_agreement` of it has that colour (a source whose first frame differs
    from the ground truth's); then the mask bootstrapped from the declared colour."""
    masks = []
    for k, seed in enumerate(seeds):
        others = [s.rgb for j, s in enumerate(seeds) if j != k and s.rgb is not None]
        mask = None
        if seed.mask is not None:
            given = np.asarray(seed.mask, bool)
            fits = given.shape == frame0.shape[:2] and given.any()
            if not fits and seed.rgb is None:
                raise ValueError(f"seed {seed.name}: mask {given.shape} is empty or does not match frames "
                                 f"{frame0.shape[:2]}, and no colour is declared")
            if fits and (seed.rgb is None or colour_agreement(frame0, given, seed.rgb, others, config)
                         >= config.min_seed_agreement):
                mask = given
        if mask is None:
            if seed.rgb is None:
                raise ValueError(f"seed {seed.name} has neither a mask nor a colour")
            mask = seed_mask_from_colour(frame0, seed.rgb, others, config.hue_tolerance_deg, config.min_chroma)
        if not mask.any():
            raise ValueError(f"seed {seed.name}: the object is not visible in frame 0")
        masks.append(mask)
    return masks


# --------------------------------------------------------------------------------------------------
# Per-frame measurement


@dataclass
class _Measurement:
    state: int
    centroid: tuple[float, float] = (np.nan, np.nan)
    area: float = 0.0
    bbox: tuple[int, int, int, int] = (-1, -1, -1, -1)
    sigma: float = np.nan
    fraction: float = np.nan
    mask: tuple[int, int, np.ndarray] | None = None


class _TrackState:
    """What the tracker remembers of one object between frames."""

    def __init__(self, mask: np.ndarray, config: TrackerConfig):
        ys, xs = np.nonzero(mask)
        self.centroid = np.array([xs.mean(), ys.mean()])
        self.bbox = np.array([xs.min(), ys.min(), xs.max(), ys.max()], float)
        self.areas: list[tuple[float, float]] = []  # (t_s, area_px) of recent present frames
        self.seed_area = float(mask.sum())
        self.window_s = config.reference_window_s
        self.velocity = np.zeros(2)
        self.t_s = None
        self.found_last = True

    @property
    def area_ref(self) -> float:
        """Largest area over the last `reference_window_s` of present frames (the seed's before any)."""
        return max((a for _, a in self.areas), default=self.seed_area)

    @property
    def radius_ref(self) -> float:
        return float(np.sqrt(self.area_ref / np.pi))

    def predict(self, t_s: float) -> tuple[np.ndarray, np.ndarray]:
        dt = 0.0 if self.t_s is None else t_s - self.t_s
        shift = self.velocity * dt
        return self.centroid + shift, self.bbox + np.r_[shift, shift]

    def update(self, meas: _Measurement, t_s: float) -> None:
        if meas.state != PRESENT:
            self.found_last = False
            return
        c = np.array(meas.centroid)
        if self.t_s is not None and self.found_last and t_s > self.t_s:
            self.velocity = (c - self.centroid) / (t_s - self.t_s)
        elif not self.found_last:
            self.velocity = np.zeros(2)
        self.centroid, self.bbox, self.t_s, self.found_last = c, np.array(meas.bbox, float), t_s, True
        self.areas = [(t, a) for t, a in self.areas if t >= t_s - self.window_s] + [(t_s, meas.area)]


def _measure(frame: np.ndarray, t_s: float, model: ColourModel, track: _TrackState, claimed: np.ndarray,
             config: TrackerConfig) -> _Measurement:
    H, W = frame.shape[:2]
    centre, box = track.predict(t_s)
    r = track.radius_ref
    full = (0, 0, W, H)
    if track.found_last:
        margin = max(config.search_margin_px, 0.5 * r)
        x0 = int(np.floor(min(box[0], track.bbox[0]) - margin))
        y0 = int(np.floor(min(box[1], track.bbox[1]) - margin))
        x1 = int(np.ceil(max(box[2], track.bbox[2]) + margin)) + 1
        y1 = int(np.ceil(max(box[3], track.bbox[3]) + margin)) + 1
        window = (max(x0, 0), max(y0, 0), min(x1, W), min(y1, H))
        if window[0] >= window[2] or window[1] >= window[3]:
            window = full
    else:
        window = full
    result = _segment_window(frame, window, centre, r, model, claimed, config)
    if result is None and window != full:
        result = _segment_window(frame, full, centre, r, model, claimed, config)
    if result is None:
        return _Measurement(state=GONE)
    mask, offset, state, evidence_box = result
    if state == LOST:
        return _Measurement(state=LOST, bbox=evidence_box)
    return _centroid(frame, mask, offset, track, claimed, config)


def _segment_window(frame, window, centre, r, model, claimed, config):
    """Colour mask in `window` = (x0, y0, x1, y1); None when nothing of the colour is there or the
    object's component touches the window border (then search wider)."""
    x0, y0, x1, y1 = window
    H, W = frame.shape[:2]
    roi = frame[y0:y1, x0:x1]
    mask = (model.probability(roi) >= 128) & ~claimed[y0:y1, x0:x1]
    if not mask.any():
        return None
    m8 = mask.view(np.uint8)
    n, labels, stats, cents = cv2.connectedComponentsWithStats(m8, connectivity=8)
    core = cv2.erode(m8, np.ones((3, 3), np.uint8)).astype(bool)
    with_core = np.unique(labels[core])
    with_core = with_core[with_core > 0]
    is_full = window == (0, 0, W, H)
    if len(with_core) == 0:
        big = np.flatnonzero(stats[1:, cv2.CC_STAT_AREA] >= config.min_evidence_px) + 1
        if len(big) == 0:
            return None
        if not is_full:
            return None  # look at the whole frame before calling it lost
        best = big[np.argmin(np.hypot(*(cents[big] + [x0, y0] - centre).T))]
        s = stats[best]
        box = (x0 + s[0], y0 + s[1], x0 + s[0] + s[2] - 1, y0 + s[1] + s[3] - 1)
        return None, None, LOST, box
    dist = np.hypot(*(cents[with_core] + [x0, y0] - centre).T)
    main = with_core[np.argmin(dist)]
    s = stats[main]
    if not is_full and (s[0] == 0 or s[1] == 0 or s[0] + s[2] == x1 - x0 or s[1] + s[3] == y1 - y0):
        return None
    # merge fragments near the main component (a thin occluder splits a silhouette)
    gap = max(2.0, 0.5 * np.sqrt(s[4] / np.pi))
    bx0, by0, bx1, by1 = s[0] - gap, s[1] - gap, s[0] + s[2] - 1 + gap, s[1] + s[3] - 1 + gap
    st = stats[1:]
    near = np.flatnonzero((st[:, 0] <= bx1) & (st[:, 0] + st[:, 2] - 1 >= bx0) &
                          (st[:, 1] <= by1) & (st[:, 1] + st[:, 3] - 1 >= by0)) + 1
    if len(near) == 1:
        obj = labels == main
    else:
        obj = np.isin(labels, near)
    return obj, (x0, y0), PRESENT, None


def _centroid(frame, mask, offset, track: _TrackState, claimed, config: TrackerConfig) -> _Measurement:
    """Sub-pixel centroid, area, box and uncertainty of the object mask (see the module docstring)."""
    x0, y0 = offset
    h, w = mask.shape
    # crop to the mask's box plus 3 px so the 5x5 neighbourhoods stay inside
    ys, xs = np.nonzero(mask)
    pad = 2 * config.matting_band_px + 1
    cy0, cy1 = max(ys.min() - pad, 0), min(ys.max() + pad + 1, h)
    cx0, cx1 = max(xs.min() - pad, 0), min(xs.max() + pad + 1, w)
    m = mask[cy0:cy1, cx0:cx1]
    gx0, gy0 = x0 + cx0, y0 + cy0
    img = frame[gy0 : gy0 + m.shape[0], gx0 : gx0 + m.shape[1]].astype(np.float32)
    m8 = m.view(np.uint8)
    k3 = np.ones((3, 3), np.uint8)
    nb = config.matting_band_px
    inner = cv2.erode(m8, k3, borderType=cv2.BORDER_REPLICATE, iterations=nb)
    outer = 1 - cv2.dilate(m8, k3, borderType=cv2.BORDER_REPLICATE, iterations=nb)
    win = (2 * nb + 3, 2 * nb + 3)
    weight = m.astype(np.float32)
    band = (inner == 0) & (outer == 0)
    if config.matting and inner.any() and outer.any():
        f_sum = cv2.boxFilter(img * inner[..., None], -1, win, normalize=False, borderType=cv2.BORDER_CONSTANT)
        f_n = cv2.boxFilter(inner.astype(np.float32), -1, win, normalize=False, borderType=cv2.BORDER_CONSTANT)
        b_sum = cv2.boxFilter(img * outer[..., None], -1, win, normalize=False, borderType=cv2.BORDER_CONSTANT)
        b_n = cv2.boxFilter(outer.astype(np.float32), -1, win, normalize=False, borderType=cv2.BORDER_CONSTANT)
        sel = band & (f_n > 0) & (b_n > 0)
        F = f_sum[sel] / f_n[sel][:, None]
        B = b_sum[sel] / b_n[sel][:, None]
        d = F - B
        d2 = (d * d).sum(axis=1)
        ok = d2 >= config.min_matting_contrast**2
        alpha = np.clip(((img[sel] - B) * d).sum(axis=1) / np.maximum(d2, 1e-6), 0.0, 1.0)
        weight[sel] = np.where(ok, alpha, weight[sel])
        # image noise (robust spread of the outside pixels about their local mean), mapped to alpha
        out_sel = (outer > 0) & (b_n > 0)
        resid = img[out_sel] - b_sum[out_sel] / b_n[out_sel][:, None]
        noise_var = (1.4826 * float(np.median(np.abs(resid)))) ** 2 if len(resid) else 0.0
        alpha_var = np.zeros(m.shape, np.float32)
        alpha_var[sel] = np.where(ok, noise_var / np.maximum(d2, 1e-6), 0.0)
    else:
        alpha_var = np.zeros(m.shape, np.float32)
    area = float(weight.sum())
    if area <= 0:
        return _Measurement(state=LOST)
    u = np.arange(gx0, gx0 + m.shape[1], dtype=np.float64)
    v = np.arange(gy0, gy0 + m.shape[0], dtype=np.float64)
    cu = float(weight.sum(axis=0) @ u / area)
    cv = float(weight.sum(axis=1) @ v / area)
    # uncertainty: Bernoulli coverage errors of the edge band, floor 1/24 (see module docstring)
    rows, cols = np.nonzero(band)
    wb = weight[rows, cols]
    var_i = np.maximum(wb * (1 - wb), 1.0 / 24.0) + alpha_var[rows, cols]
    r2 = (u[cols] - cu) ** 2 + (v[rows] - cv) ** 2
    sigma_stat = float(np.sqrt(0.5 * (var_i * r2).sum()) / area)
    fraction = min(1.0, area / track.area_ref)
    sigma_trunc = track.radius_ref * max(0.0, 1.0 - fraction / (1.0 - config.truncation_dead_zone))
    sel_px = weight >= 0.5
    claimed[gy0 : gy0 + m.shape[0], gx0 : gx0 + m.shape[1]] |= m
    yy, xx = np.nonzero(sel_px if sel_px.any() else m)
    bbox = (gx0 + int(xx.min()), gy0 + int(yy.min()), gx0 + int(xx.max()), gy0 + int(yy.max()))
    return _Measurement(state=PRESENT, centroid=(cu, cv), area=area, bbox=bbox,
                        sigma=float(np.hypot(sigma_stat, sigma_trunc)), fraction=area / track.area_ref,
                        mask=(gy0, gx0, sel_px if sel_px.any() else m))
