"""Object masks and tracks from RGB alone: colour models seeded on the first frame, sub-pixel centroids.

Input: frames (T, H, W, 3) uint8 RGB with timestamps `t_s` (T,) seconds, and one `ObjectSeed` per
object: its first-frame mask (from ground-truth segmentation, or supplied by a user) and/or its
declared colour. Output: one `ObjectTrack` per seed with, per frame, a state (present / lost /
gone), the centroid (u, v) px of the visible silhouette (pixel (col, row) is centred at
(u, v) = (col, row), as in `realitygap.core.camera`), area, box, equivalent radius and a standard
uncertainty of the centroid. `find_spontaneous_objects` reports objects that appear after frame 0
and match no track.

Method choice (on merit, for our scenes: plain light background, mid-grey floor, dark grey
occluders, saturated object colours, anti-aliased edges; later H.264, blur, noise, real and
generated video):

- Colour model (chosen as the segmenter). Objects are the only saturated things in the scene,
  and the colour of an object does not depend on whether it moves: a model of its colour finds
  it at rest (collision target, a pendulum at its turning point), at any speed, in any frame
  without a history, and it says "not here" with evidence (no pixel of that colour anywhere),
  which is what tells a vanished object from a lost track. The model is a Bayes ratio of two
  smoothed colour histograms learnt on the seed frame (Swain & Ballard 1991 back-projection,
  in the two-class form of Bradski's CamShift/"colour likelihood ratio"):

      P(object | c) = d_obj(c) / (d_obj(c) + d_rest(c) + eps),

  d = normalised 32^3-bin RGB histograms, Gaussian-smoothed by `smooth_bins` bins, d_obj from
  the seed mask eroded by one pixel (pure object colours, rim shading included) and brightness
  scaled copies of it (x0.8 .. x1.25: shading changes as the object moves), d_rest from the
  rest of the frame outside the mask dilated by two pixels (and the other objects, when their
  colours differ). Rendered colours differ from the declared RGBA (lighting, shading, specular
  highlights, dark limbs), so the model is learnt from pixels, not from the declaration: a
  declared colour only bootstraps the seed mask (pixels within `hue_tolerance_deg` of its hue
  and chroma >= `min_chroma`). The look-up table (32 768 entries, uint8) makes segmentation one
  integer index and one gather per pixel.
- Background subtraction (rejected as the segmenter, kept for unknown objects): it needs a
  clean plate, which a temporal median gives only for pixels the object leaves for more than
  half the time (a puck at rest, a pendulum bob near its turning points are absorbed), it
  finds shadows and compression noise as foreground, and it cannot say which object a blob is.
  It is used, against frame 0, only to find non-saturated spontaneous objects.
- Optical flow (rejected): dense flow costs ~10 ms/frame at 256^2 (Farneback), smears motion
  boundaries by the window size (biasing centroids by pixels), is blind to objects at rest,
  and drifts; it would only help to follow textured objects, which ours are not.

Sub-pixel centroid. The binary mask P >= 0.5 is refined at its boundary by two-colour matting:
for a pixel within one pixel of the mask edge, its coverage is

      alpha = clip(((c - B) . (F - B)) / |F - B|^2, 0, 1),

with F (B) the mean colour of the mask's interior (the outside) in the 5x5 neighbourhood.
Centroid = sum(w x) / sum(w), area = sum(w), w = 1 inside, alpha on the edge band. An
anti-aliased pixel is a blend of the two colours, so this is the area-weighted centroid of the
silhouette; where the band has no interior or outside neighbour, or F and B are closer than
`min_matting_contrast`, the binary mask is used. Measured against the ground-truth mask centroid
on whole objects (256x256, drop, bounce, pendulum, collision, occlusion): max error 0.14-0.41 px
with matting, 0.16-0.50 px without on clean frames; after H.264 (crf 23) 0.14-0.65 px with
matting, 0.26-0.80 px without: matting removes most of the compression's bias, so it is on.
(A wider band did not help: tested 1-3 px.)

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
measurement of the projected object centre, for weighting law fits. On whole clean frames the
per-axis rms of error / sigma_px against the mask centroid (itself pixel-quantised) is 0.6-1.3,
0.8-1.8 after H.264. Objects whose projected area changes by > 10 % within the window (a door
turning, a motion-blurred smear) get a conservative sigma_trunc.

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

Robustness (tests/measure/test_tracking.py): H.264 crf 23, < 1 px on all five scenarios; motion
blur of a 1/60 s exposure at 30 fps (mean of 2 of 4 sub-frames rendered at 120 fps) plus noise
sigma 3, < 0.4 px; all three together, < 1.4 px (worst: the drop's smear crossing the horizon,
where red differs from the grey floor mostly in chroma, which yuv420p halves). A full 1/30 s
exposure of the drop at impact speed (a 20 px smear, longer than the ball's radius) gives up to
1.6 px: the threshold P >= 0.5 cuts the smear's faint end over the light background more than
over the dark floor.

Speed (one core, 60 frames of 256x256, tracking + spontaneous search): ~1100 frames/s with one
object, ~850 frames/s with two (tracking alone ~1500 frames/s with two; test_speed).

Limits: the motion branch of spontaneous detection assumes a static camera and steady lighting,
and reads a neutral grey object darker than the background as a shadow (`ignore_shadows`);
objects of one colour that touch merge into one blob and may swap identities when they part;
an object whose colour is close to the scene's (grey on grey) is not separable by colour and
needs another seed; the ground-truth mask centroid of boxes with pixel-aligned edges is itself
off by up to ~0.5 px (a half-covered row counts fully), so slide and braking read 0.5 px there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import cv2
import numpy as np
from pydantic import BaseModel, ConfigDict
from scipy.ndimage import gaussian_filter

from realitygap.scenarios.world import COLOURS_RGBA

GONE, LOST, PRESENT = 0, 1, 2
STATE_NAMES = ("gone", "lost", "present")


class TrackerConfig(BaseModel):
    """Settings of the colour-model tracker (pixel sizes are absolute, for ~100-1000 px images)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    colour_bits: int = 5
    """Bits per channel of the colour histogram (5: 32^3 bins of 8 levels)."""
    smooth_bins: float = 1.0
    """Gaussian smoothing of the histograms, in bins."""
    shading_gains: tuple[float, ...] = (0.8, 0.9, 1.0, 1.12, 1.25)
    """Brightness gains applied to the object's seed colours (shading changes as it moves)."""
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
    hue_tolerance_deg: float = 15.0
    """Declared-colour seeds: largest hue difference of an object pixel (renders keep the hue)."""
    min_chroma: float = 50.0
    """Declared-colour seeds: least chroma max(R,G,B) - min(R,G,B) of an object pixel, 8-bit levels."""
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

    @property
    def present(self) -> np.ndarray:
        return self.state == PRESENT

    @property
    def gone(self) -> np.ndarray:
        return self.state == GONE


@dataclass(frozen=True)
class ColourModel:
    """P(object | colour) as a uint8 look-up table (255 = 1) over (2^bits)^3 RGB bins."""

    lut: np.ndarray
    bits: int

    def probability(self, rgb: np.ndarray) -> np.ndarray:
        """(..., 3) uint8 -> (...) uint8 probability (0..255)."""
        return self.lut[colour_index(rgb, self.bits)]


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


# --------------------------------------------------------------------------------------------------
# Public API


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
                  config: TrackerConfig = TrackerConfig()) -> list[ObjectTrack]:
    """Segment every seeded object in every frame (see the module docstring); one track per seed."""
    frames = _check_frames(frames)
    t_s = np.asarray(t_s, float)
    if len(t_s) != len(frames):
        raise ValueError(f"{len(t_s)} timestamps for {len(frames)} frames")
    masks = _seed_masks(frames[0], seeds, config)
    models = _colour_models(frames[0], masks, config)
    n, T = len(seeds), len(frames)
    states = [_TrackState(m, config) for m in masks]
    out = {k: [] for k in ("state", "centroid", "area", "bbox", "sigma", "fraction")}
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
            sigma_px=np.array(out["sigma"][sl], float), visible_fraction=np.array(out["fraction"][sl], float)))
    return tracks


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
    frames = _check_frames(frames)
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
        gain = small[t_i, y_i, x_i].astype(np.float32) / np.maximum(small[0, y_i, x_i], 1).astype(np.float32)
        g_hi, g_lo = gain.max(axis=1), gain.min(axis=1)
        shadow = (g_lo >= 0.3) & (g_hi < 0.95) & (g_hi - g_lo < 0.12) & ignore_shadows
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


def learn_colour_model(frame: np.ndarray, positive: np.ndarray, negative: np.ndarray,
                       config: TrackerConfig = TrackerConfig()) -> ColourModel:
    """P(object | colour) from pixels of `frame` under `positive` (object) and `negative` (rest) masks."""
    bits = config.colour_bits
    n_bins = 1 << bits
    pos = frame[positive].astype(np.float32)
    pos_idx = np.concatenate([colour_index(np.clip(pos * g + 0.5, 0, 255).astype(np.uint8), bits)
                              for g in config.shading_gains])
    h_pos = np.bincount(pos_idx, minlength=n_bins**3).reshape(n_bins, n_bins, n_bins).astype(np.float64)
    h_neg = np.bincount(colour_index(frame[negative], bits), minlength=n_bins**3).reshape(
        n_bins, n_bins, n_bins).astype(np.float64)
    d_pos = gaussian_filter(h_pos, config.smooth_bins, mode="constant")
    d_neg = gaussian_filter(h_neg, config.smooth_bins, mode="constant")
    d_pos /= max(d_pos.sum(), 1e-12)
    d_neg /= max(d_neg.sum(), 1e-12)
    eps = 1e-3 / n_bins**3
    p = d_pos / (d_pos + d_neg + eps)
    return ColourModel(lut=np.round(p.ravel() * 255).astype(np.uint8), bits=bits)


def colour_index(rgb: np.ndarray, bits: int) -> np.ndarray:
    """(..., 3) uint8 -> (...) int index of the RGB bin, (r >> s) << 2b | (g >> s) << b | (b >> s), s = 8 - bits."""
    q = (rgb >> (8 - bits)).astype(np.intp)
    return (q[..., 0] << (2 * bits)) | (q[..., 1] << bits) | q[..., 2]


def seed_mask_from_colour(frame: np.ndarray, rgb, other_rgbs=(), hue_tolerance_deg: float = 15.0,
                          min_chroma: float = 50.0) -> np.ndarray:
    """First-frame mask of an object known only by its declared colour `rgb` (3,) in [0, 1].

    Pixels whose hue is within `hue_tolerance_deg` of the declared hue, nearer to it than to any of
    `other_rgbs` (the other objects' declared colours), with chroma max - min >= `min_chroma` (8-bit
    levels); the largest connected component with a 3x3 core; empty if none. Dark limbs and
    highlights fail the test, so the mask is an interior core: the colour model learnt from it
    decides the edges.
    """
    ok = _colour_candidates(frame, rgb, other_rgbs, hue_tolerance_deg, min_chroma)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(ok.view(np.uint8), connectivity=8)
    core = cv2.erode(ok.view(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    with_core = np.unique(labels[core])
    with_core = with_core[with_core > 0]
    if len(with_core) == 0:
        return np.zeros(ok.shape, bool)
    best = with_core[np.argmax(stats[with_core, cv2.CC_STAT_AREA])]
    return labels == best


def _colour_candidates(frame: np.ndarray, rgb, other_rgbs, hue_tolerance_deg: float, min_chroma: float) -> np.ndarray:
    hue = _hue_deg(frame.astype(np.float32))
    chroma = frame.max(axis=2).astype(np.int16) - frame.min(axis=2)
    target = _hue_deg(np.asarray(rgb, np.float32) * 255)
    dist = _hue_distance(hue, target)
    ok = (dist <= hue_tolerance_deg) & (chroma >= min_chroma)
    for other in other_rgbs:
        ok &= dist <= _hue_distance(hue, _hue_deg(np.asarray(other, np.float32) * 255))
    return ok


def reencode_h264(frames: np.ndarray, fps: float = 30.0, crf: int = 23, preset: str = "medium") -> np.ndarray:
    """Frames through libx264 (yuv420p, constant rate factor `crf`) and back, in memory, via PyAV.

    Width and height must be even (yuv420p). Used to test robustness to compression.
    """
    import io

    import av

    frames = _check_frames(frames)
    buffer = io.BytesIO()
    rate = Fraction(fps).limit_denominator(1000)
    with av.open(buffer, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=rate)
        stream.width, stream.height, stream.pix_fmt = frames.shape[2], frames.shape[1], "yuv420p"
        stream.options = {"crf": str(crf), "preset": preset}
        for frame in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode(None))
    buffer.seek(0)
    with av.open(buffer, "r") as container:
        return np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])


# --------------------------------------------------------------------------------------------------
# Seeds and colour models


def _check_frames(frames: np.ndarray) -> np.ndarray:
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


def colour_agreement(frame: np.ndarray, mask: np.ndarray, rgb, other_rgbs=(),
                     config: TrackerConfig = TrackerConfig()) -> float:
    """Fraction of the mask's interior (eroded by 1 px) whose colour matches the declared `rgb`
    (hue within `hue_tolerance_deg`, nearer than to `other_rgbs`, chroma >= `min_chroma`)."""
    core = cv2.erode(mask.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    core = core if core.any() else mask
    ok = _colour_candidates(frame, rgb, other_rgbs, config.hue_tolerance_deg, config.min_chroma)
    return float(ok[core].mean())


def _colour_models(frame0: np.ndarray, masks: list[np.ndarray], config: TrackerConfig) -> list[ColourModel]:
    """One model per object; other objects count as 'rest' unless their colours overlap."""
    k3 = np.ones((3, 3), np.uint8)
    grown = [cv2.dilate(m.astype(np.uint8), k3, iterations=2).astype(bool) for m in masks]
    cores = []
    for m in masks:
        core = cv2.erode(m.astype(np.uint8), k3).astype(bool)
        cores.append(core if core.sum() >= 4 else m)
    hues = [_mean_chromaticity(frame0[c]) for c in cores]
    models = []
    for k in range(len(masks)):
        negative = ~grown[k]
        for j in range(len(masks)):
            if j != k and np.linalg.norm(hues[j] - hues[k]) < 0.08:
                negative &= ~grown[j]
        models.append(learn_colour_model(frame0, cores[k], negative, config))
    return models


def _mean_chromaticity(pixels: np.ndarray) -> np.ndarray:
    p = pixels.astype(np.float64)
    return (p / np.maximum(p.sum(axis=1, keepdims=True), 1.0)).mean(axis=0)


def _hue_deg(rgb: np.ndarray) -> np.ndarray:
    """Hue in degrees [0, 360) of (..., 3) RGB (HSV hexcone)."""
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    return np.degrees(np.arctan2(np.sqrt(3.0) * (g - b), 2 * r - g - b)) % 360.0


def _hue_distance(a, b):
    d = np.abs(a - b) % 360.0
    return np.minimum(d, 360.0 - d)


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
                        sigma=float(np.hypot(sigma_stat, sigma_trunc)), fraction=area / track.area_ref)


# --------------------------------------------------------------------------------------------------
# Spontaneous-object helpers


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
