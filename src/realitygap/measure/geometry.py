"""Geometric (epipolar) consistency of the static scene: SIFT matches verified by a fundamental matrix.

After Li, Zhou, Zhang, Wei, Hou and Cheng, "Sora Generates Videos with Stunning Geometrical
Consistency", arXiv:2402.17403 (2024). Their premise: frames of a video that films a rigid scene
are views of one 3-D world through a pinhole camera, so every correct match (x_i, x_j) between
frames i and j obeys the epipolar constraint x_j^T F_ij x_i = 0 for one 3x3 fundamental matrix
F_ij (rank 2, 7 degrees of freedom). A generated video whose static scene bends, breathes or
shimmers from frame to frame yields matches that no single F explains.

Protocol of the authors' evaluation code (github.com/meteorshowers/Sora-Generates-Videos-with-
Stunning-Geometrical-Consistency: `core_function.EvaluateErrBetweenTwoImage`,
`PatchAutoEvaluate.PatchAutoEvaluate`):

- frames resized to 1280 x 720; SIFT keypoints (`cv2.SIFT_create(40000)`);
- FLANN 2-nearest-neighbour matching and Lowe's ratio test d1 < 0.85 d2;
- `cv2.findFundamentalMat(..., cv2.RANSAC, 3)`: a match is an inlier when its point in frame j
  lies within 3 px of the epipolar line F x_i;
- per pair: keep rate = inliers / ratio-test matches, and the point-to-epipolar-line distance of
  the inliers, d = |x_j^T F x_i| / sqrt((F x_i)_1^2 + (F x_i)_2^2), summarised as mean, median,
  RMSE and MAE;
- frame pairs (i, i + interval) for interval in {10, 20, ..., 60} frames within the first 71
  frames, i stepping by (70 - interval) / 10; per video, the mean over pairs of each value.

This module computes the same per-pair quantities, with these deliberate changes:

- native resolution (no resize to 1280 x 720: upsampling adds no information and costs ~14x time at
  256 x 256) and a threshold in native pixels, `ransac_threshold_px` = 1.0 by default. Their 3 px at
  1280 px width is 0.6 px at 256 px. On the synthetic scenes of tests/measure/test_geometry.py a
  valid camera motion scores 0.980 / 0.984 / 0.990 at 0.6 / 1 / 3 px, the 2 px rms non-rigid warp
  0.44 / 0.58 / 0.91: the threshold must scale with resolution (3 px at 256 px hides the warp);
  1 px keeps the ordering and leaves room for localisation noise on compressed, generated frames;
- at most `max_keypoints` = 500 SIFT keypoints per frame and one pair interval per call (default
  15 frames, pairs starting every 15 frames, so consecutive pairs share frames and SIFT runs on
  T / 15 + 1 frames); call again with another `frame_gap` for the paper's longer intervals;
- exact brute-force nearest neighbours (FLANN's randomised kd-trees are approximate and seeded
  from a global generator);
- USAC (OpenCV's RANSAC framework with local optimisation) seeded per pair through
  `cv2.UsacParams.randomGeneratorState`, so the result is a pure function of the inputs and
  `seed` (classic `cv2.RANSAC` draws from cv2's process-wide generator);
- a homography fitted beside F, and the larger consensus kept (see `epipolar_inliers`): every
  H-inlier is an inlier of the fundamental matrices F = [e']_x H, and F alone is degenerate for a
  static camera (all of our ground-truth episodes; the 7-point solver then fails outright on a mix
  of zero-displacement matches and a few wrong ones), a purely rotating camera or a planar scene;
- a `static_mask`: only keypoints whose descriptor disc (radius kp.size / 2) lies entirely in the
  static scene are used, so moving objects neither add nor remove inliers;
- a pair counts as measured ("success") only with >= `min_matches` = 50 ratio-test matches: F has
  7 degrees of freedom, so with n matches RANSAC explains at least 7 of them whatever the images;
  with few matches the keep rate is uninformative (>= 7 / n), not a sign of consistency. Unrelated
  textured 256 x 256 frames (500 keypoints each) give 14-22 chance matches at ratio 0.85, which an
  F fit "explains" at a keep rate of ~0.3; related frames give hundreds.

Outputs (P frame pairs):

- `inlier_ratio[p]` = n_inliers / n_matches (the paper's keep rate), NaN where the pair failed;
- `mean_inlier_ratio` = mean over successful pairs (NaN when none succeeded);
- `pooled_inlier_ratio` = sum(n_inliers over successful pairs) / sum(n_matches over all pairs):
  matches of failed pairs count as unverified, so unrelated frames score ~0 even though a lone
  8-point fit "explains" a handful of chance matches; NaN when no pair has a match at all;
- `success_fraction` = successful pairs / P;
- `epipolar_rmse_px[p]`: RMSE of the inliers' point-to-epipolar-line distance (paper's RMSE;
  for pairs where the homography won, `planar[p]`, of the transfer distance, an upper bound).

A steady camera filming a rigid scene scores ~1; a geometrically valid camera motion (translation,
rotation, per-frame rotational shake: all are pinhole views of one world) also scores ~1; what is
penalised is non-rigid deformation of the static scene and content that changes between frames.
Needs texture: on a scene without texture (flat floor, plain background) SIFT finds too few
keypoints and every pair fails (success_fraction = 0, mean NaN): unmeasured, not inconsistent.
The rendered scenarios as of this writing give 0-11 SIFT keypoints per 256 x 256 frame in the
static scene (the horizon and the edges of objects): unmeasurable until floor/background get a
non-repetitive texture (a checkerboard is repetitive: the ratio test rejects its look-alike corners).

Cost: one SIFT per frame used plus one matching and USAC fit per pair (4 frames, 3 pairs at the
defaults); benchmarks/measure.py times it.

Example:
    >>> rng = np.random.default_rng(0)
    >>> texture = cv2.GaussianBlur(rng.uniform(0, 255, (128, 128)).astype(np.uint8), (0, 0), 1.5)
    >>> frames = np.repeat(np.stack([texture] * 3, axis=-1)[None], 12, axis=0)
    >>> result = geometric_consistency(frames, frame_gap=10, pair_stride=1)
    >>> bool(result["mean_inlier_ratio"] > 0.95), result["success_fraction"]
    (True, 1.0)
"""

from __future__ import annotations

import cv2
import numpy as np

RATIO_TEST = 0.85
"""Lowe's ratio d1 / d2 below which a nearest-neighbour match is kept (authors' evaluation code)."""
RANSAC_THRESHOLD_PX = 1.0
"""Largest point-to-epipolar-line distance of an inlier, native pixels."""
MIN_MATCHES = 50
"""Fewest ratio-test matches for which a pair's inlier ratio is reported (chance level: ~20)."""
MAX_KEYPOINTS = 500
"""Strongest SIFT keypoints kept per frame (bounds the time per frame)."""
RANSAC_CONFIDENCE = 0.999
RANSAC_MAX_ITERATIONS = 2000


def geometric_consistency(frames: np.ndarray, static_mask: np.ndarray | None = None, *,
                          frame_gap: int = 15, pair_stride: int = 15,
                          ratio: float = RATIO_TEST, ransac_threshold_px: float = RANSAC_THRESHOLD_PX,
                          min_matches: int = MIN_MATCHES, max_keypoints: int = MAX_KEYPOINTS,
                          seed: int = 0) -> dict:
    """Epipolar consistency of the static scene over frame pairs (i, i + frame_gap).

    frames: (T, H, W, 3) uint8 RGB (or (T, H, W) grey). static_mask: (T, H, W) bool, True where
    the pixel shows the static scene (e.g. `segmentation == 0`), or None to use every pixel.
    Pairs start at i = 0, pair_stride, 2 pair_stride, ... while i + frame_gap < T; a gap of T or more
    is clipped to T - 1 (one pair: first and last frame). SIFT runs once per frame used.

    Returns a dict (P pairs):
        pairs (P, 2) int frame indices; n_keypoints (P, 2) int static keypoints in each frame;
        n_matches (P,) int ratio-test matches; n_inliers (P,) int matches within
        `ransac_threshold_px` of their epipolar line; success (P,) bool (n_matches >= min_matches
        and a fit found); planar (P,) bool (the homography explained more matches than F);
        inlier_ratio (P,) float (NaN where not success); epipolar_rmse_px (P,) float;
        mean_inlier_ratio, pooled_inlier_ratio, success_fraction, mean_epipolar_rmse_px: float.
    """
    frames = np.asarray(frames)
    if frames.dtype != np.uint8 or frames.ndim not in (3, 4) or (frames.ndim == 4 and frames.shape[-1] != 3):
        raise ValueError(f"frames must be (T, H, W, 3) or (T, H, W) uint8, got {frames.shape} {frames.dtype}")
    n_frames = frames.shape[0]
    if static_mask is not None:
        static_mask = np.asarray(static_mask, bool)
        if static_mask.shape != frames.shape[:3]:
            raise ValueError(f"static_mask must be {frames.shape[:3]}, got {static_mask.shape}")
    if not 0.0 < ratio <= 1.0 or ransac_threshold_px <= 0 or min_matches < 8:
        raise ValueError("need 0 < ratio <= 1, ransac_threshold_px > 0 and min_matches >= 8")

    pairs = frame_pairs(n_frames, frame_gap, pair_stride)
    features = {int(t): sift_features(frames[t], None if static_mask is None else static_mask[t], max_keypoints)
                for t in np.unique(pairs)}
    pair_seeds = np.random.SeedSequence(seed).generate_state(len(pairs)) % np.uint32(2**31 - 1)

    n_pairs = len(pairs)
    n_keypoints = np.zeros((n_pairs, 2), int)
    n_matches = np.zeros(n_pairs, int)
    n_inliers = np.zeros(n_pairs, int)
    success = np.zeros(n_pairs, bool)
    planar = np.zeros(n_pairs, bool)
    epipolar_rmse_px = np.full(n_pairs, np.nan)
    for p, (i, j) in enumerate(pairs):
        (points_i, desc_i), (points_j, desc_j) = features[int(i)], features[int(j)]
        n_keypoints[p] = len(points_i), len(points_j)
        matches = ratio_test_matches(desc_i, desc_j, ratio)
        n_matches[p] = len(matches)
        if len(matches) < min_matches:
            continue
        x_i, x_j = points_i[matches[:, 0]], points_j[matches[:, 1]]
        inliers, distance_px, planar[p] = epipolar_inliers(x_i, x_j, ransac_threshold_px, int(pair_seeds[p]))
        if not inliers.any():
            continue
        success[p] = True
        n_inliers[p] = int(inliers.sum())
        epipolar_rmse_px[p] = float(np.sqrt(np.mean(distance_px[inliers] ** 2)))

    with np.errstate(invalid="ignore", divide="ignore"):
        inlier_ratio = np.where(success, n_inliers / np.maximum(n_matches, 1), np.nan)
    total_matches = int(n_matches.sum())
    return {
        "pairs": pairs,
        "n_keypoints": n_keypoints,
        "n_matches": n_matches,
        "n_inliers": n_inliers,
        "success": success,
        "planar": planar,
        "inlier_ratio": inlier_ratio,
        "epipolar_rmse_px": epipolar_rmse_px,
        "mean_inlier_ratio": float(np.mean(inlier_ratio[success])) if success.any() else float("nan"),
        "pooled_inlier_ratio": float(n_inliers[success].sum() / total_matches) if total_matches else float("nan"),
        "success_fraction": float(success.mean()) if n_pairs else float("nan"),
        "mean_epipolar_rmse_px": float(np.nanmean(epipolar_rmse_px)) if success.any() else float("nan"),
    }


def frame_pairs(n_frames: int, frame_gap: int, pair_stride: int) -> np.ndarray:
    """(P, 2) int frame pairs (i, i + gap) for i = 0, stride, 2 stride, ... with i + gap <= n_frames - 1.

    gap = min(frame_gap, n_frames - 1), so a clip shorter than the gap still gives one pair.
    """
    if n_frames < 2:
        raise ValueError(f"need at least 2 frames, got {n_frames}")
    if frame_gap < 1 or pair_stride < 1:
        raise ValueError("frame_gap and pair_stride must be >= 1")
    gap = min(frame_gap, n_frames - 1)
    starts = np.arange(0, n_frames - gap, pair_stride)
    return np.stack([starts, starts + gap], axis=1)


def sift_features(frame: np.ndarray, static_mask: np.ndarray | None, max_keypoints: int = MAX_KEYPOINTS
                  ) -> tuple[np.ndarray, np.ndarray]:
    """SIFT keypoints of one frame: (N, 2) float32 pixel positions (u, v) and (N, 128) float32 descriptors.

    With a mask, a keypoint is kept only if its disc of radius kp.size / 2 (OpenCV's diameter of the
    meaningful neighbourhood) lies in the static scene: distance to the nearest non-static pixel
    >= kp.size / 2. Positions follow OpenCV: the centre of pixel (col, row) is (u, v) = (col, row).
    """
    grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY) if frame.ndim == 3 else frame
    sift = cv2.SIFT_create(nfeatures=max_keypoints)
    mask_u8 = None if static_mask is None else static_mask.astype(np.uint8) * 255
    keypoints, descriptors = sift.detectAndCompute(grey, mask_u8)
    if not keypoints:
        return np.zeros((0, 2), np.float32), np.zeros((0, 128), np.float32)
    points = np.array([kp.pt for kp in keypoints], np.float32)
    if static_mask is not None:
        radius_px = np.array([kp.size for kp in keypoints], np.float32) / 2
        distance_px = cv2.distanceTransform(mask_u8, cv2.DIST_L2, 5)
        rows = np.clip(np.rint(points[:, 1]).astype(int), 0, grey.shape[0] - 1)
        cols = np.clip(np.rint(points[:, 0]).astype(int), 0, grey.shape[1] - 1)
        keep = distance_px[rows, cols] >= radius_px
        points, descriptors = points[keep], descriptors[keep]
    return points, descriptors


def ratio_test_matches(desc_i: np.ndarray, desc_j: np.ndarray, ratio: float = RATIO_TEST) -> np.ndarray:
    """(M, 2) int index pairs (a, b): desc_j[b] is desc_i[a]'s nearest neighbour (L2) and
    d1 < ratio * d2, d2 the distance to the second nearest (Lowe 2004). Exact brute force:
    d^2(a, b) = |a|^2 + |b|^2 - 2 a.b for all pairs at once."""
    if len(desc_i) == 0 or len(desc_j) < 2:
        return np.zeros((0, 2), int)
    a, b = np.asarray(desc_i, np.float32), np.asarray(desc_j, np.float32)
    d2 = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * (a @ b.T)
    rows = np.arange(len(a))
    nearest = np.argmin(d2, axis=1)
    d1_sq = d2[rows, nearest].copy()
    d2[rows, nearest] = np.inf
    second_sq = d2.min(axis=1)
    kept = np.sqrt(np.maximum(d1_sq, 0.0)) < ratio * np.sqrt(np.maximum(second_sq, 0.0))
    return np.stack([rows[kept], nearest[kept]], axis=1)


def epipolar_inliers(x_i: np.ndarray, x_j: np.ndarray, threshold_px: float, seed: int
                     ) -> tuple[np.ndarray, np.ndarray, bool]:
    """Largest set of matches consistent with one epipolar geometry, by seeded USAC.

    Returns ((M,) bool inliers, (M,) float distance_px of each match, planar: bool). Two robust fits:
    a fundamental matrix F (x_j^T F x_i = 0; distance = point-to-epipolar-line distance in frame j)
    and a homography H (distance = transfer error |x_j - H x_i|). H-inliers are F-inliers too: every
    F = [e']_x H puts the epipolar line of x_i through H x_i, so the distance of x_j to that line is
    at most |x_j - H x_i|. The homography rescues the configurations in which F is degenerate and
    the 7-point solver fails: static camera (H = I, all of our ground-truth cameras), pure rotation,
    a planar scene. `planar` is True when the homography explained more matches than F.
    Inliers are empty when neither fit succeeds.
    """
    x_i = np.ascontiguousarray(x_i, np.float32)
    x_j = np.ascontiguousarray(x_j, np.float32)
    params = cv2.UsacParams()
    params.threshold = float(threshold_px)
    params.confidence = RANSAC_CONFIDENCE
    params.maxIterations = RANSAC_MAX_ITERATIONS
    params.randomGeneratorState = int(seed)
    params.isParallel = False
    F, inliers_F = _robust_fit(cv2.findFundamentalMat, x_i, x_j, params)
    H, inliers_H = _robust_fit(cv2.findHomography, x_i, x_j, params)
    if H is not None and (F is None or inliers_H.sum() > inliers_F.sum()):
        return inliers_H, transfer_distance_px(H, x_i, x_j), True
    if F is not None:
        return inliers_F, epipolar_distance_px(F, x_i, x_j), False
    return np.zeros(len(x_i), bool), np.full(len(x_i), np.inf), False


def _robust_fit(estimator, x_i: np.ndarray, x_j: np.ndarray, params) -> tuple[np.ndarray | None, np.ndarray]:
    """(3x3 model or None, (M,) bool inlier mask) from cv2.findFundamentalMat / cv2.findHomography."""
    try:
        model, mask = estimator(x_i, x_j, params)
    except cv2.error:  # OpenCV asserts on some degenerate samples instead of returning None
        return None, np.zeros(len(x_i), bool)
    if model is None or mask is None or model.shape != (3, 3):
        return None, np.zeros(len(x_i), bool)
    return model, mask.ravel().astype(bool)


def transfer_distance_px(H: np.ndarray, x_i: np.ndarray, x_j: np.ndarray) -> np.ndarray:
    """(M,) distance in pixels |x_j - H x_i| (homography transfer error in frame j)."""
    mapped = cv2.perspectiveTransform(np.asarray(x_i, np.float64).reshape(-1, 1, 2), H).reshape(-1, 2)
    return np.linalg.norm(np.asarray(x_j, np.float64) - mapped, axis=1)


def epipolar_distance_px(F: np.ndarray, x_i: np.ndarray, x_j: np.ndarray) -> np.ndarray:
    """(M,) distance in pixels from x_j to the epipolar line l = F [x_i; 1] in frame j:
    |[x_j; 1] . l| / sqrt(l_1^2 + l_2^2) (the authors' `compute_fundamental_error`)."""
    x_i_h = np.column_stack([x_i, np.ones(len(x_i))])
    x_j_h = np.column_stack([x_j, np.ones(len(x_j))])
    lines = x_i_h @ F.T
    return np.abs(np.sum(lines * x_j_h, axis=1)) / np.maximum(np.hypot(lines[:, 0], lines[:, 1]), 1e-12)
