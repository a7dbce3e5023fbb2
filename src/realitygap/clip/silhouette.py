"""The measured object's silhouette in a clip: background, foreground, tracking by contrast, and which
frames show it whole.

- `clip_background`: per-pixel temporal median; `foreground`: |frame - background| >= the clip's threshold;
- `track_by_contrast`: the object seeded by a mask, tracked as the foreground blob nearest its prediction
  and closest to its size, its centroid from `silhouette_weights` (matting against the local background);
- `partial_frames`: frames whose silhouette is partly hidden, cut or merged, against `size_model` (the
  object's whole size, affine in its image position);
- `compact_part`, `shadow_pixels`: a seed mask without rods, strings and shadows.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from realitygap.measure.spontaneous import is_shadow
from realitygap.measure.tracking import GONE, PRESENT, ObjectTrack

ANCHOR_FRAMES = 4
SIZE_COST = 3.0
"""The silhouette tracker picks the blob minimising distance / radius + this x |log(area / the object's area)|."""
THIN_FRACTION = 0.6
"""Parts of a silhouette thinner than this fraction of its radius are not the object (`compact_part`)."""
CONTRAST_BLUR_PX = 1.0
MIN_SMOOTH_CONTRAST = 8.0
"""Least smoothed |frame - background| (8-bit levels, Euclidean over channels) of a silhouette pixel."""
PARTIAL_SHORTFALL = 0.15
MAX_STREAK_RADII = 2.0
"""A blurred streak's equivalent radius is at most this many times the object's (3 radii per frame at most)."""
MIN_CONTRAST = 20.0
"""Least |frame - background| (8-bit levels, max over channels) counted as foreground."""


def track_by_contrast(frames: np.ndarray, t_s: np.ndarray, mask0: np.ndarray, background: np.ndarray) -> ObjectTrack:
    """Track the object seeded by `mask0` by its silhouette against the background.

    Contrast = |frame - background| (Euclidean over the channels) of the difference smoothed by a Gaussian
    of `CONTRAST_BLUR_PX` (a dim object in sensor noise stays one blob); foreground = contrast >=
    max(`MIN_SMOOTH_CONTRAST`, 6 x its robust noise on frame 0). Per frame the component nearest the
    constant-velocity prediction and closest to the object's size (`SIZE_COST`), holes filled, is the
    silhouette; each pixel weighs min(1, contrast /
    the silhouette's median inner contrast) (edges by their coverage; a specular highlight or a bright
    print counts once, not by its brightness); centroid and area (sum of weights) from those weights.
    sigma_px = 1 / sqrt(12 pi r) px."""
    T, H, W = frames.shape[:3]
    bg = background.astype(np.float32)

    def contrast_of(frame):
        diff = cv2.GaussianBlur(frame.astype(np.float32) - bg, (0, 0), CONTRAST_BLUR_PX)
        return np.sqrt((diff**2).sum(axis=2))

    first = cv2.GaussianBlur(frames[0].astype(np.float32) - bg, (0, 0), CONTRAST_BLUR_PX)[::4, ::4]
    noise = 1.4826 * float(np.median(np.abs(first - np.median(first))))
    threshold = max(MIN_SMOOTH_CONTRAST, 6.0 * noise * math.sqrt(3))
    ys, xs = np.nonzero(mask0)
    centre, velocity, last_t = np.array([xs.mean(), ys.mean()]), np.zeros(2), float(t_s[0])
    area_ref = float(mask0.sum())
    state = np.full(T, GONE, np.int8)
    centroid, bbox = np.full((T, 2), np.nan), np.full((T, 4), -1.0)
    area, radius, sigma, fraction = np.zeros(T), np.full(T, np.nan), np.full(T, np.nan), np.full(T, np.nan)
    k3 = np.ones((3, 3), np.uint8)
    thin = _thin_kernel(area_ref)
    thin = k3 if thin is None else thin
    for t in range(T):
        contrast = contrast_of(frames[t])
        fg = cv2.morphologyEx((contrast >= threshold).view(np.uint8), cv2.MORPH_OPEN, thin)  # no rod, no string
        n, labels, stats, cents = cv2.connectedComponentsWithStats(fg, connectivity=8)
        if n < 2:
            continue
        predicted = centre + velocity * (float(t_s[t]) - last_t)
        r_ref = np.sqrt(area_ref / np.pi)
        big = np.flatnonzero(stats[1:, cv2.CC_STAT_AREA] >= 0.2 * area_ref) + 1
        if len(big) == 0:
            continue
        d = np.hypot(*(cents[big] - predicted).T)
        # nearest the prediction, and of the object's size: a hand or a person nearby is much larger
        cost = d / max(r_ref, 1.0) + SIZE_COST * np.abs(np.log(stats[big, cv2.CC_STAT_AREA] / area_ref))
        k = int(np.argmin(cost))
        if d[k] > max(4 * r_ref, 0.25 * np.hypot(H, W)):
            continue
        label = big[k]
        s = stats[label]
        x0, y0 = max(s[0] - 1, 0), max(s[1] - 1, 0)  # one pixel around: the edge's faint anti-aliased pixels
        x1, y1 = min(s[0] + s[2] + 1, W), min(s[1] + s[3] + 1, H)
        sel = fill_holes(labels[y0:y1, x0:x1] == label)
        w = silhouette_weights(frames[t, y0:y1, x0:x1], bg[y0:y1, x0:x1], sel)
        if w.sum() <= 0:
            continue
        yy, xx = np.mgrid[y0:y1, x0:x1]
        c = np.array([(w * xx).sum() / w.sum(), (w * yy).sum() / w.sum()])
        if t > 0 and state[t - 1] == PRESENT and t_s[t] > last_t:
            velocity = (c - centre) / (float(t_s[t]) - last_t)
        centre, last_t = c, float(t_s[t])
        state[t], centroid[t] = PRESENT, c
        bbox[t] = (s[0], s[1], s[0] + s[2] - 1, s[1] + s[3] - 1)
        # the area by contrast (the smoothed contrast's sum is conserved: a size unbiased by noise or blur)
        inside = labels[y0:y1, x0:x1] == label
        full = float(np.median(contrast[y0:y1, x0:x1][cv2.erode(inside.view(np.uint8), k3).astype(bool) | (inside.sum() < 9)]))
        area[t] = float(np.minimum(contrast[y0:y1, x0:x1] / max(full, 1.0), 1.0)[fill_holes(inside)].sum())
        radius[t] = np.sqrt(area[t] / np.pi)
        sigma[t] = 1.0 / np.sqrt(12 * np.pi * max(radius[t], 1.0))
        fraction[t] = area[t] / area_ref
    return ObjectTrack(name="object", t_s=np.asarray(t_s, float), state=state, centroid_px=centroid, area_px=area,
                       bbox_px=bbox, radius_px=radius, sigma_px=sigma, visible_fraction=fraction)


def silhouette_weights(frame: np.ndarray, background: np.ndarray, sel: np.ndarray) -> np.ndarray:
    """(h, w) coverage of a silhouette `sel` in a patch: 1 two pixels and more inside it; on its edge band and
    the ring just outside, two-colour matting against the *local* background, alpha = ((I - B) . (F - B)) /
    |F - B|^2 clipped to [0, 1] with F the silhouette's median colour one to two pixels inside (its limb) and
    B the clip's background at that pixel (a ball crossing from a wall to a floor of other contrast keeps its
    centre; alpha down to -0.5 so that noise cancels); where |F - B| < 10 levels, |I - B| / its median inside."""
    k3 = np.ones((3, 3), np.uint8)
    inner = cv2.erode(sel.view(np.uint8), k3, iterations=2).astype(bool)
    limb = cv2.erode(sel.view(np.uint8), k3).astype(bool) & ~inner
    edge = cv2.dilate(sel.view(np.uint8), k3).astype(bool) & ~inner
    f, b = frame.astype(np.float64), background.astype(np.float64)
    colour = np.median(f[limb if limb.sum() >= 4 else sel], axis=0)
    fb = colour - b
    norm2 = (fb**2).sum(axis=2)
    alpha = np.clip(((f - b) * fb).sum(axis=2) / np.maximum(norm2, 1e-9), -0.5, 1.0)  # noise cancels: unbiased
    raw = np.sqrt(((f - b) ** 2).sum(axis=2))  # unsmoothed: the smoothed contrast reaches a pixel past the edge
    full = float(np.median(raw[inner if inner.sum() >= 4 else sel]))
    fallback = np.minimum(raw / max(full, 1.0), 1.0)
    matted = np.where(norm2 >= 100.0, alpha, fallback)
    return np.where(inner, 1.0, np.where(edge, matted, 0.0))


def partial_frames(track: ObjectTrack, seed_frame: int, seed_area_px: float | None = None) -> np.ndarray:
    """(T,) bool: present frames whose silhouette area is more than `PARTIAL_SHORTFALL` off the object's
    whole size there (`size_model`, started at its size on `seed_frame`, where it was found alone; with
    `seed_area_px`, the size the finder saw there, on the frame of the next `ANCHOR_FRAMES` whose tracked
    size is nearest it, a tracker that took in a hand on the seed frame recovering in the next): below
    it (a hand over it, the image border cutting it) or above it and wider across its motion (merged with
    another object; a motion-blurred streak is longer, not wider): their centroids are pulled off the
    centre."""
    out = np.zeros(len(track.state), bool)
    present = track.present & (np.nan_to_num(track.area_px) > 0)
    if present.sum() < 4:
        return out
    radius = np.sqrt(np.where(present, track.area_px, np.nan) / np.pi)
    start = radius[seed_frame] if present[seed_frame] else float(np.nanmedian(radius))
    anchor = seed_frame
    if seed_area_px:  # the tracked frame near the seed whose size is nearest the one the finder saw alone anchors
        near = np.flatnonzero(present[seed_frame:seed_frame + ANCHOR_FRAMES]) + seed_frame
        if len(near):
            mismatch = np.abs(np.log(radius[near] / math.sqrt(seed_area_px / math.pi)))
            anchor = int(near[np.argmin(mismatch)])
            start = radius[anchor]
    whole = size_model(track.centroid_px, radius, present, start, anchor)
    limit = -0.5 * math.log(1 - PARTIAL_SHORTFALL)
    ratio = np.log(radius / whole)
    out[present] = np.abs(ratio[present]) > limit
    # larger but no wider across its motion than the object, and no larger than the object smeared over a
    # frame's motion: a motion-blurred streak (its centroid is the mid-exposure position), not a merge
    idx = np.flatnonzero(present)
    velocity = np.gradient(track.centroid_px[idx], axis=0) if len(idx) > 1 else np.zeros((len(idx), 2))
    box = track.bbox_px[idx].astype(float)
    across = np.where(np.abs(velocity[:, 1]) >= np.abs(velocity[:, 0]), box[:, 2] - box[:, 0] + 1, box[:, 3] - box[:, 1] + 1)
    step = np.hypot(*velocity.T) / np.maximum(np.gradient(idx), 1) if len(idx) > 1 else np.zeros(len(idx))
    smear = np.pi * whole[idx] ** 2 + 2 * whole[idx] * step  # a disc smeared over one frame's motion
    streak = (ratio[idx] > limit) & (ratio[idx] <= math.log(MAX_STREAK_RADII)) \
        & (across <= (1 + PARTIAL_SHORTFALL) * 2 * whole[idx] + 2) & (track.area_px[idx] <= (1 + 2 * PARTIAL_SHORTFALL) * smear)
    out[idx[streak]] = False
    return out


def size_model(centre_px: np.ndarray, radius_px: np.ndarray, use: np.ndarray, start: float,
               anchor_frame: int | None = None) -> np.ndarray:
    """(T,) the object's whole radius where it is: an affine function of its image position (the inverse depth
    of points on a plane is affine in image coordinates and the apparent radius goes as inverse depth, so an
    object moving in any plane, at rest or not, seen by a still camera, fits it), fitted to `radius_px` over
    the frames `use` by least squares on the radii within 5 % of the previous fit (8 rounds; `_affine_size`)
    from two starts, the constant `start` and the fit to all; the one with
    more radii within 5 % wins, counted around `anchor_frame` (where the object was seen alone) until three
    in a row miss (`_run_about`). A coordinate that spans less than 4 radii is left out."""
    idx = np.flatnonzero(use & np.isfinite(radius_px) & np.isfinite(centre_px).all(axis=1))
    if len(idx) < 4:
        return np.full(len(radius_px), float(start))
    centre = np.nan_to_num(centre_px)
    r = radius_px[idx]
    best, best_score = np.full(len(radius_px), float(start)), -1
    for model in (np.full(len(radius_px), float(start)), _affine_size(centre, radius_px, idx, np.ones(len(idx), bool), start)):
        for _ in range(8):
            model = _affine_size(centre, radius_px, idx, np.abs(r / np.maximum(model[idx], 1e-6) - 1) < 0.05, start)
        inlier = np.abs(r / np.maximum(model[idx], 1e-6) - 1) < 0.05
        score = _run_about(inlier, int(np.searchsorted(idx, anchor_frame))) \
            if anchor_frame is not None and anchor_frame in idx else int(inlier.sum())
        if score > best_score:
            best, best_score = model, score
    return best


def _affine_size(centre_px: np.ndarray, radius_px: np.ndarray, idx: np.ndarray, inlier: np.ndarray, start: float) -> np.ndarray:
    """(T,) least-squares radius a + b (u - u_mean) + c (v - v_mean) over the frames idx[inlier], about their
    mean position, with only the coordinates they span by at least 4 radii (a direction they leave free gets
    no slope from the rest); the constant `start` with no inliers."""
    fit = idx[inlier]
    if len(fit) == 0:
        return np.full(len(radius_px), float(start))
    mean = centre_px[fit].mean(axis=0)
    axes = [k for k in (0, 1) if np.ptp(centre_px[fit, k]) >= 4 * start]
    design = np.stack([np.ones(len(radius_px))] + [centre_px[:, k] - mean[k] for k in axes], axis=1)
    coefficients = np.linalg.lstsq(design[fit], radius_px[fit], rcond=None)[0]
    return np.maximum(design @ coefficients, 1e-6)


def _run_about(inlier: np.ndarray, at: int, max_gap: int = 2) -> int:
    """Inliers met walking out of index `at` both ways until more than `max_gap` outliers in a row (0 when
    `at` itself is an outlier): a size model must hold through the motion around where the object was
    found, not only at both ends of it (a ramp between two levels would)."""
    if not inlier[at]:
        return 0
    count = 1
    for step in (-1, 1):
        gap, k = 0, at + step
        while 0 <= k < len(inlier) and gap <= max_gap:
            gap = 0 if inlier[k] else gap + 1
            count += int(inlier[k])
            k += step
    return count


def shadow_pixels(frame: np.ndarray, background: np.ndarray) -> np.ndarray:
    """(H, W) bool: where `frame` shows the background in shadow (`measure.spontaneous.is_shadow`), not the object."""
    return is_shadow(frame, background)


def compact_part(mask: np.ndarray) -> np.ndarray:
    """The body of a silhouette without what hangs off it thinner than `THIN_FRACTION` of its radius (a
    pendulum's rod or string, a hand's fingers): opened with a disc of that diameter, largest component."""
    kernel = _thin_kernel(mask.sum())
    if kernel is None:
        return mask
    opened = cv2.morphologyEx(mask.view(np.uint8), cv2.MORPH_OPEN, kernel)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(opened, connectivity=8)
    return mask if n < 2 else labels == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))


def _thin_kernel(area_px: float) -> np.ndarray | None:
    size = int(round(THIN_FRACTION * math.sqrt(area_px / math.pi))) | 1
    return None if size < 3 else cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))


def clip_background(frames: np.ndarray) -> np.ndarray:
    """Per-pixel temporal median of up to 31 frames spread over the clip (H, W, 3) uint8."""
    picks = np.unique(np.linspace(0, len(frames) - 1, min(len(frames), 31)).round().astype(int))
    return np.median(frames[picks], axis=0).astype(np.uint8)


def foreground_threshold(frames: np.ndarray, background: np.ndarray) -> float:
    """max(MIN_CONTRAST, 6 x robust noise of frame 0 against the background)."""
    diff = frames[0, ::4, ::4].astype(np.int16) - background[::4, ::4].astype(np.int16)
    noise = 1.4826 * float(np.median(np.abs(diff - np.median(diff))))
    return max(MIN_CONTRAST, 6.0 * noise)


def foreground(frame: np.ndarray, background_i16: np.ndarray, threshold: float) -> np.ndarray:
    fg = np.abs(frame.astype(np.int16) - background_i16).max(axis=2) >= threshold
    return cv2.morphologyEx(fg.view(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)).astype(bool)


def fill_holes(mask: np.ndarray) -> np.ndarray:
    """`mask` with its enclosed holes filled (a specular highlight inside a silhouette)."""
    from scipy.ndimage import binary_fill_holes

    return binary_fill_holes(mask)
