"""Colour models of objects: P(object | colour) learnt from the pixels of a seed frame.

Our scenes' objects are the only saturated things (plain light background, mid-grey floor, dark
grey occluders), and an object's colour does not depend on whether it moves: a model of its colour
finds it at rest and at any speed, in any frame without a history, and says "not here" with
evidence (no pixel of that colour anywhere), which tells a vanished object from a lost track. The
model is a Bayes ratio of two smoothed colour histograms learnt on the seed frame (Swain & Ballard
1991 back-projection, in the two-class form of Bradski's CamShift "colour likelihood ratio"):

      P(object | c) = d_obj(c) / (d_obj(c) + d_rest(c) + eps),

d = normalised 32^3-bin RGB histograms, Gaussian-smoothed by `smooth_bins` bins, d_obj from the
seed mask eroded by one pixel (pure object colours, rim shading included) and brightness-scaled
copies of it (x0.8 .. x1.25: shading changes as the object moves), d_rest from the rest of the frame
outside the mask dilated by two pixels (and the other objects, when their colours differ). Rendered
colours differ from the declared RGBA (lighting, shading, specular highlights, dark limbs), so the
model is learnt from pixels, not from the declaration: a declared colour only bootstraps a seed mask
(`seed_mask_from_colour`: pixels within `hue_tolerance_deg` of its hue with chroma >= `min_chroma`).
The look-up table (32 768 entries, uint8) makes segmentation one integer index and one gather per pixel.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from pydantic import BaseModel, ConfigDict
from scipy.ndimage import gaussian_filter

SAME_COLOUR_CHROMATICITY = 0.08
"""Objects whose mean chromaticities (r, g, b) / (r + g + b) are closer than this share a colour."""


class ColourModelConfig(BaseModel):
    """Settings of the colour models and of declared-colour seeds."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    colour_bits: int = 5
    """Bits per channel of the colour histogram (5: 32^3 bins of 8 levels)."""
    smooth_bins: float = 1.0
    """Gaussian smoothing of the histograms, in bins."""
    shading_gains: tuple[float, ...] = (0.8, 0.9, 1.0, 1.12, 1.25)
    """Brightness gains applied to the object's seed colours (shading changes as it moves)."""
    hue_tolerance_deg: float = 15.0
    """Declared-colour seeds: largest hue difference of an object pixel (renders keep the hue)."""
    min_chroma: float = 50.0
    """Declared-colour seeds: least chroma max(R,G,B) - min(R,G,B) of an object pixel, 8-bit levels."""


@dataclass(frozen=True)
class ColourModel:
    """P(object | colour) as a uint8 look-up table (255 = 1) over (2^bits)^3 RGB bins."""

    lut: np.ndarray
    bits: int

    def probability(self, rgb: np.ndarray) -> np.ndarray:
        """(..., 3) uint8 -> (...) uint8 probability (0..255)."""
        return self.lut[colour_index(rgb, self.bits)]


def object_colour_models(frame0: np.ndarray, masks: list[np.ndarray],
                         config: ColourModelConfig = ColourModelConfig()) -> list[ColourModel]:
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
            if j != k and np.linalg.norm(hues[j] - hues[k]) < SAME_COLOUR_CHROMATICITY:
                negative &= ~grown[j]
        models.append(learn_colour_model(frame0, cores[k], negative, config))
    return models


def learn_colour_model(frame: np.ndarray, positive: np.ndarray, negative: np.ndarray,
                       config: ColourModelConfig = ColourModelConfig()) -> ColourModel:
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


def colour_agreement(frame: np.ndarray, mask: np.ndarray, rgb, other_rgbs=(),
                     config: ColourModelConfig = ColourModelConfig()) -> float:
    """Fraction of the mask's interior (eroded by 1 px) whose colour matches the declared `rgb`
    (hue within `hue_tolerance_deg`, nearer than to `other_rgbs`, chroma >= `min_chroma`)."""
    core = cv2.erode(mask.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    core = core if core.any() else mask
    ok = _colour_candidates(frame, rgb, other_rgbs, config.hue_tolerance_deg, config.min_chroma)
    return float(ok[core].mean())


def _colour_candidates(frame: np.ndarray, rgb, other_rgbs, hue_tolerance_deg: float, min_chroma: float) -> np.ndarray:
    hue = hue_deg(frame.astype(np.float32))
    chroma = frame.max(axis=2).astype(np.int16) - frame.min(axis=2)
    target = hue_deg(np.asarray(rgb, np.float32) * 255)
    dist = hue_distance(hue, target)
    ok = (dist <= hue_tolerance_deg) & (chroma >= min_chroma)
    for other in other_rgbs:
        ok &= dist <= hue_distance(hue, hue_deg(np.asarray(other, np.float32) * 255))
    return ok


def _mean_chromaticity(pixels: np.ndarray) -> np.ndarray:
    p = pixels.astype(np.float64)
    return (p / np.maximum(p.sum(axis=1, keepdims=True), 1.0)).mean(axis=0)


def hue_deg(rgb: np.ndarray) -> np.ndarray:
    """Hue in degrees [0, 360) of (..., 3) RGB (HSV hexcone)."""
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    return np.degrees(np.arctan2(np.sqrt(3.0) * (g - b), 2 * r - g - b)) % 360.0


def hue_distance(a, b):
    d = np.abs(a - b) % 360.0
    return np.minimum(d, 360.0 - d)
