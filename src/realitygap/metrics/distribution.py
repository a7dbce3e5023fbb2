"""Distribution metrics: how far apart two sets of feature vectors are, as sets.

Every function takes two arrays of shape (N, D) and (M, D), one feature vector per row (an episode's
resampled trajectory and fitted constants, a clip embedding...), and returns plain floats. Which
features are compared is the caller's choice; the names here say what is computed, not which network
produced the features: `frechet_distance` is FID only on Inception-v3 pool features, and
`kernel_distance` is KID only on those.

    frechet_distance         ||mu_x - mu_y||^2 + Tr(S_x + S_y - 2 (S_x S_y)^(1/2))          (Heusel et al. 2017)
    kernel_distance          unbiased MMD^2, kernel (a.b / D + 1)^3, mean and std over random subsets
                                                                                              (Binkowski et al. 2018)
    precision_recall_density_coverage   k-nearest-neighbour balls around samples           (Naeem et al. 2020)
    classifier_two_sample_test          held-out accuracy of classifiers told to separate x from y
                                                                                              (Lopez-Paz & Oquab 2017)

Scale matters: the Fréchet distance is in feature units squared, the polynomial kernel and the
nearest-neighbour balls are not invariant to rescaling one feature, so standardise features that mix
units (e.g. with the reference set's mean and standard deviation) before calling these. The
two-sample test standardises by itself. Every random draw comes from the `seed` argument (an int or
a `np.random.SeedSequence`; 0 is a seed like any other, None is refused). Bad input raises ValueError;
no function returns NaN. Properties of every returned statistic are in `METRIC_INFO`.

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x, y = rng.normal(size=(400, 3)), rng.normal(size=(400, 3)) + [3.0, 0.0, 0.0]
    >>> round(frechet_distance(x, y), 1)  # closed form 3^2 = 9, plus sampling error and the estimator's upward bias
    9.6
    >>> round(kernel_distance(x, y, n_subsets=10, subset_size=200, seed=0)[0])
    81
    >>> precision_recall_density_coverage(x, y, k=5)["coverage"] < 0.5
    True
    >>> round(classifier_two_sample_test(x, y, seed=0)["accuracy"], 2)  # the Bayes classifier's: Phi(1.5) = 0.93
    0.94
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.linalg
import scipy.spatial.distance
import scipy.stats
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import StandardScaler

from realitygap.metrics.info import MetricInfo

FRECHET_EPS = 1e-6
"""Added to both covariances' diagonals (feature units^2) when the square root of S_x S_y comes out
non-finite or clearly complex, as pytorch-fid does; its effect on the distance is at most about
2 D sqrt(eps * largest variance)."""
FRECHET_MAX_IMAGINARY = 1e-3
"""Largest imaginary part on the diagonal of sqrtm(S_x S_y) taken as rounding and dropped (pytorch-fid's atol)."""
DISTANCE_CHUNK_ELEMENTS = 1 << 22
"""Pairwise distances are computed in blocks of about this many entries (32 MiB of float64)."""

_INF = float("inf")
METRIC_INFO: dict[str, MetricInfo] = {info.name: info for info in (
    MetricInfo("frechet_distance", False, (0.0, _INF), "feature unit^2",
               "squared Fréchet (2-Wasserstein) distance of Gaussians fitted to the two sets", 0.0),
    MetricInfo("kernel_distance", False, (-_INF, _INF), "kernel unit",
               "unbiased MMD^2 (cubic polynomial kernel), mean over random subsets; noise can make it negative", 0.0),
    MetricInfo("kernel_distance_std", False, (0.0, _INF), "kernel unit",
               "standard deviation of the kernel distance over its random subsets", None),
    MetricInfo("precision", True, (0.0, 1.0), "1",
               "share of source samples inside some reference sample's k-NN ball: fidelity", 1.0),
    MetricInfo("recall", True, (0.0, 1.0), "1",
               "share of reference samples inside some source sample's k-NN ball: diversity", 1.0),
    MetricInfo("density", True, (0.0, _INF), "1",
               "mean number of reference k-NN balls holding a source sample, over k: fidelity, 1 when alike", 1.0),
    MetricInfo("coverage", True, (0.0, 1.0), "1",
               "share of reference samples whose k-NN ball holds a source sample: diversity", 1.0),
    MetricInfo("accuracy", False, (0.0, 1.0), "1",
               "held-out accuracy of the better of two classifiers separating source from reference; 0.5 = alike", 0.5),
    MetricInfo("accuracy_logistic", False, (0.0, 1.0), "1",
               "held-out accuracy of a logistic regression separating source from reference", 0.5),
    MetricInfo("accuracy_knn", False, (0.0, 1.0), "1",
               "held-out accuracy of a k-nearest-neighbour classifier separating source from reference", 0.5),
    MetricInfo("p_value", True, (0.0, 1.0), "1",
               "one-sided binomial p-value of the better accuracy against 0.5, Bonferroni over the two classifiers", None),
    MetricInfo("n_test", True, (0.0, _INF), "samples",
               "held-out samples (both sets together) the two-sample test's accuracies are measured on", None),
)}
"""Properties of every statistic the functions below return, keyed by the name they return it under."""
STATISTICS: dict[str, tuple[str, ...]] = {
    "frechet_distance": ("frechet_distance",),
    "kernel_distance": ("kernel_distance", "kernel_distance_std"),
    "precision_recall_density_coverage": ("precision", "recall", "density", "coverage"),
    "classifier_two_sample_test": ("accuracy", "accuracy_logistic", "accuracy_knn", "p_value", "n_test"),
}
"""The statistics each function returns (keys of METRIC_INFO), in order."""


def frechet_distance(x: np.ndarray, y: np.ndarray, *, eps: float = FRECHET_EPS) -> float:
    """Squared Fréchet distance between Gaussians fitted to (N, D) and (M, D) feature sets, feature units^2.

        d^2 = ||mu_x - mu_y||^2 + Tr(S_x + S_y - 2 (S_x S_y)^(1/2))

    mu: sample means; S: sample covariances (ddof = 1, as pytorch-fid). Needs N, M >= 2; N < D is
    allowed (singular covariances, see `frechet_distance_from_moments`). The plug-in estimate is
    biased upwards, by about Tr(S_x)/N + Tr(S_y)/M from the means alone.

        >>> frechet_distance(np.array([[0.0], [2.0]]), np.array([[3.0], [5.0]]))  # means 1, 4; equal spread
        9.0
    """
    x, y = _check_pair(x, y, min_samples=2, names=("x", "y"), why="for a covariance")
    return frechet_distance_from_moments(x.mean(axis=0), np.atleast_2d(np.cov(x, rowvar=False)),
                                         y.mean(axis=0), np.atleast_2d(np.cov(y, rowvar=False)), eps=eps)


def frechet_distance_from_moments(mean_x: np.ndarray, cov_x: np.ndarray, mean_y: np.ndarray, cov_y: np.ndarray,
                                  *, eps: float = FRECHET_EPS) -> float:
    """Squared Fréchet distance of N(mean_x, cov_x) and N(mean_y, cov_y): the closed form, feature units^2.

    The matrix square root is scipy.linalg.sqrtm of S_x S_y (whose eigenvalues are real and >= 0:
    it is similar to S_x^(1/2) S_y S_x^(1/2)). As in pytorch-fid: if the root is not finite, or its
    diagonal has an imaginary part above FRECHET_MAX_IMAGINARY, it is recomputed with `eps` added to
    both diagonals; remaining imaginary rounding is dropped. A root still unusable raises ValueError.
    Rounding can leave -1e-15 where the answer is 0: the result is max(d^2, 0).

        >>> frechet_distance_from_moments(np.zeros(2), np.eye(2), np.ones(2), 4 * np.eye(2))  # 2 + 2 (2 - 1)^2
        4.0
    """
    mean_x, mean_y = _as_vector(mean_x, "mean_x"), _as_vector(mean_y, "mean_y")
    d = mean_x.shape[0]
    cov_x, cov_y = _as_covariance(cov_x, d, "cov_x"), _as_covariance(cov_y, d, "cov_y")
    if mean_y.shape[0] != d:
        raise ValueError(f"mean_x has {d} features, mean_y {mean_y.shape[0]}")
    difference = mean_x - mean_y
    trace_root = _trace_sqrt_product(cov_x, cov_y, eps)
    value = difference @ difference + np.trace(cov_x) + np.trace(cov_y) - 2.0 * trace_root
    return max(float(value), 0.0)


def kernel_distance(x: np.ndarray, y: np.ndarray, *, n_subsets: int = 100, subset_size: int = 1000,
                    seed: int | np.random.SeedSequence) -> tuple[float, float]:
    """KID's estimator on the given features: (mean, std) of the unbiased MMD^2 over random subsets.

        k(a, b) = (a.b / D + 1)^3
        MMD^2_u = sum_(i != j) k(x_i, x_j) / (m (m-1)) + sum_(i != j) k(y_i, y_j) / (m (m-1)) - 2 sum_(i,j) k(x_i, y_j) / m^2

    Each of `n_subsets` rounds draws m = min(subset_size, N, M) rows of x and then of y, without
    replacement, from np.random.default_rng(seed) (as Binkowski et al. 2018 and clean-fid, whose
    subsets come from the global generator). std is the population standard deviation of the
    n_subsets values (as torchmetrics and torch-fidelity report it): the spread of one subset's
    estimate, not the standard error of the mean. The estimate is unbiased, so it can be negative
    when the two sets are alike. Needs N, M >= 2.

        >>> x = np.array([[0.0], [1.0], [2.0]])  # m = 3: every subset is all of x and all of x + 1
        >>> mean, std = kernel_distance(x, x + 1.0, n_subsets=2, subset_size=3, seed=0)
        >>> round(mean, 4), round(std, 4)  # (58 / 6) + (868 / 6) - 2 (597 / 9)
        (21.6667, 0.0)
    """
    x, y = _check_pair(x, y, min_samples=2, names=("x", "y"), why="for the unbiased estimator")
    rng = np.random.default_rng(_check_seed(seed))
    if n_subsets < 1 or subset_size < 2:
        raise ValueError(f"need n_subsets >= 1 and subset_size >= 2, got {n_subsets} and {subset_size}")
    m = min(subset_size, len(x), len(y))
    values = np.empty(n_subsets)
    for i in range(n_subsets):
        x_subset = x[rng.choice(len(x), m, replace=False)]
        y_subset = y[rng.choice(len(y), m, replace=False)]
        values[i] = _polynomial_mmd2(x_subset, y_subset)
    return float(values.mean()), float(values.std())


def polynomial_mmd2_unbiased(x: np.ndarray, y: np.ndarray) -> float:
    """The unbiased MMD^2 of all of (N, D) x against all of (M, D) y, kernel k(a, b) = (a.b / D + 1)^3.

        sum_(i != j) k(x_i, x_j) / (N (N-1)) + sum_(i != j) k(y_i, y_j) / (M (M-1)) - 2 sum_(i,j) k(x_i, y_j) / (N M)

    One subset's term of `kernel_distance` (which draws N = M = m). Needs N, M >= 2.

        >>> polynomial_mmd2_unbiased(np.array([[0.0], [1.0]]), np.array([[0.0], [1.0]]))  # (1 + 1 - 2 (1 + 1 + 1 + 8) / 4)
        -3.5
    """
    x, y = _check_pair(x, y, min_samples=2, names=("x", "y"), why="for the unbiased estimator")
    return _polynomial_mmd2(x, y)


def precision_recall_density_coverage(real: np.ndarray, fake: np.ndarray, *, k: int = 5) -> dict[str, float]:
    """Precision, recall, density and coverage of `fake` (M, D) against `real` (N, D) (Naeem et al. 2020).

    `real` is the reference (ground truth), `fake` the source under test; swapping them swaps
    precision with recall but not density with coverage.

    B(a, r) is the open ball of radius r around a; r_k(a) is the distance from a to its k-th nearest
    neighbour within its own set (itself not counted); Euclidean distances; 1[.] is 1 where true.

        precision = (1/M) sum_j 1[exists i: Y_j in B(X_i, r_k(X_i))]
        recall    = (1/N) sum_i 1[exists j: X_i in B(Y_j, r_k(Y_j))]
        density   = (1/(k M)) sum_j sum_i 1[Y_j in B(X_i, r_k(X_i))]
        coverage  = (1/N) sum_i 1[exists j: Y_j in B(X_i, r_k(X_i))]

    Equal to `prdc.compute_prdc(real, fake, nearest_k=k)` (the authors' package); distances come from
    scipy in blocks, so memory stays bounded. Needs N, M >= k + 1. Precision, recall and coverage lie
    in [0, 1]; density has expectation 1 for two samples of one distribution and can exceed 1.

        >>> real = np.arange(10.0)[:, None]
        >>> precision_recall_density_coverage(real, real + 100.0, k=2)  # far away: in no ball
        {'precision': 0.0, 'recall': 0.0, 'density': 0.0, 'coverage': 0.0}
        >>> precision_recall_density_coverage(real, real[:5], k=2)  # half the reference: faithful, not diverse
        {'precision': 1.0, 'recall': 0.6, 'density': 0.6, 'coverage': 0.5}
    """
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive int, got {k!r}")
    real, fake = _check_pair(real, fake, min_samples=k + 1, names=("real", "fake"), why=f"for k = {k} neighbours")
    real_radii, fake_radii = _kth_neighbour_distances(real, k), _kth_neighbour_distances(fake, k)
    balls_holding = np.zeros(len(fake), np.int64)  # per fake sample: how many real balls hold it
    recalled, covered = np.zeros(len(real), bool), np.zeros(len(real), bool)
    for rows in _row_blocks(len(real), len(fake)):
        distances = scipy.spatial.distance.cdist(real[rows], fake)
        inside_real_balls = distances < real_radii[rows, None]
        balls_holding += inside_real_balls.sum(axis=0)
        covered[rows] = inside_real_balls.any(axis=1)
        recalled[rows] = (distances < fake_radii[None, :]).any(axis=1)
    return {"precision": float(np.mean(balls_holding > 0)), "recall": float(recalled.mean()),
            "density": float(balls_holding.sum() / (k * len(fake))), "coverage": float(covered.mean())}


def classifier_two_sample_test(x: np.ndarray, y: np.ndarray, *, seed: int | np.random.SeedSequence,
                               test_fraction: float = 0.5, n_neighbors: int | None = None) -> dict[str, float]:
    """Classifier two-sample test (Lopez-Paz & Oquab 2017): can classifiers tell x (label 0) from y (label 1)?

    With rng = np.random.default_rng(seed): n = min(N, M) rows of each set are drawn without
    replacement (the larger set is subsampled); of each, round(n * test_fraction) are held out
    (stratified: both classes equally often in either split). Features are standardised with the
    training split's mean and standard deviation; a logistic regression (L2, C = 1) and a k-nearest-
    neighbour classifier (k = `n_neighbors`, default floor(sqrt(n_train)) raised to odd, n_train
    counting both classes) are fitted and scored on the held-out rows:

        accuracy_c = (correct held-out predictions of c) / n_test,   accuracy = max over c
        p_value    = min(1, 2 P[Binomial(n_test, 1/2) >= correct of the better classifier])

    0.5 = indistinguishable, 1 = perfectly separable. Taking the better of two classifiers makes
    `accuracy` optimistic under the null by about 0.3 / sqrt(n_test), hence the Bonferroni factor 2
    in the p-value. The logistic regression sees shifted means; the k-NN classifier also sees
    differences of spread and shape. Needs n >= 2 and both splits non-empty.

        >>> x = np.array([[0.0], [0.1], [0.2], [0.3]]); y = x + 10.0
        >>> classifier_two_sample_test(x, y, seed=0)["accuracy"]
        1.0
    """
    x, y = _check_pair(x, y, min_samples=2, names=("x", "y"), why="for a training and a test split")
    rng = np.random.default_rng(_check_seed(seed))
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must lie in (0, 1), got {test_fraction}")
    n = min(len(x), len(y))
    n_test = int(round(n * test_fraction))
    if not 1 <= n_test <= n - 1:
        raise ValueError(f"test_fraction {test_fraction} of {n} samples per set leaves an empty training or test split")
    x, y = x[rng.permutation(len(x))[:n]], y[rng.permutation(len(y))[:n]]
    features_train, features_test = np.vstack([x[n_test:], y[n_test:]]), np.vstack([x[:n_test], y[:n_test]])
    labels_train = np.repeat([0, 1], n - n_test)
    labels_test = np.repeat([0, 1], n_test)
    scaler = StandardScaler().fit(features_train)
    features_train, features_test = scaler.transform(features_train), scaler.transform(features_test)
    k = _default_neighbours(len(features_train)) if n_neighbors is None else n_neighbors
    if not 1 <= k <= len(features_train):
        raise ValueError(f"n_neighbors must lie in [1, {len(features_train)}] (training samples), got {k}")
    classifiers = {"logistic": LogisticRegression(C=1.0, max_iter=1000), "knn": KNeighborsClassifier(n_neighbors=k)}
    correct = {name: int(np.sum(clf.fit(features_train, labels_train).predict(features_test) == labels_test))
               for name, clf in classifiers.items()}
    best = max(correct.values())
    p_value = scipy.stats.binomtest(best, len(labels_test), 0.5, alternative="greater").pvalue
    return {"accuracy": best / len(labels_test),
            "accuracy_logistic": correct["logistic"] / len(labels_test),
            "accuracy_knn": correct["knn"] / len(labels_test),
            "p_value": float(min(1.0, 2.0 * p_value)),
            "n_test": len(labels_test)}


def _polynomial_mmd2(x: np.ndarray, y: np.ndarray) -> float:
    d = x.shape[1]
    k_xx, k_yy, k_xy = _cubic_kernel(x, x, d), _cubic_kernel(y, y, d), _cubic_kernel(x, y, d)
    n, m = len(x), len(y)
    within_x = (k_xx.sum() - np.trace(k_xx)) / (n * (n - 1))
    within_y = (k_yy.sum() - np.trace(k_yy)) / (m * (m - 1))
    return float(within_x + within_y - 2.0 * k_xy.sum() / (n * m))


def _cubic_kernel(a: np.ndarray, b: np.ndarray, d: int) -> np.ndarray:
    k = a @ b.T / d + 1.0
    return k * k * k  # ten times faster than k ** 3


def _trace_sqrt_product(cov_x: np.ndarray, cov_y: np.ndarray, eps: float) -> float:
    """Tr((cov_x cov_y)^(1/2)) with pytorch-fid's fallbacks (see frechet_distance_from_moments)."""
    root = _sqrtm(cov_x @ cov_y)
    if not _usable_root(root):
        offset = eps * np.eye(len(cov_x))
        root = _sqrtm((cov_x + offset) @ (cov_y + offset))
        if not _usable_root(root):
            imaginary = float(np.max(np.abs(np.imag(root)))) if np.all(np.isfinite(root)) else float("nan")
            raise ValueError(f"the square root of S_x S_y is unusable even with {eps} on the diagonals "
                             f"(largest imaginary part {imaginary}); check the covariances")
    return float(np.trace(root).real)


def _sqrtm(a: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():  # singular products are expected (N < D); the result is checked instead
        warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        return scipy.linalg.sqrtm(a)


def _usable_root(root: np.ndarray) -> bool:
    return bool(np.all(np.isfinite(root)) and np.allclose(np.diagonal(root).imag, 0.0, atol=FRECHET_MAX_IMAGINARY))


def _kth_neighbour_distances(a: np.ndarray, k: int) -> np.ndarray:
    """(N,) distance from each row to its k-th nearest other row: the (k+1)-th smallest, self included (as prdc)."""
    radii = np.empty(len(a))
    for rows in _row_blocks(len(a), len(a)):
        radii[rows] = np.partition(scipy.spatial.distance.cdist(a[rows], a), k, axis=1)[:, k]
    return radii


def _row_blocks(n_rows: int, n_columns: int) -> list[slice]:
    step = max(1, DISTANCE_CHUNK_ELEMENTS // max(n_columns, 1))
    return [slice(start, min(start + step, n_rows)) for start in range(0, n_rows, step)]


def _default_neighbours(n_train: int) -> int:
    k = max(1, int(np.floor(np.sqrt(n_train))))
    return min(k | 1, n_train)  # odd: no tied votes between the two classes


def _check_seed(seed: int | np.random.SeedSequence) -> int | np.random.SeedSequence:
    if isinstance(seed, np.random.SeedSequence) or (isinstance(seed, (int, np.integer)) and not isinstance(seed, bool)):
        return seed
    raise ValueError(f"seed must be an int or a np.random.SeedSequence (None would draw fresh entropy), got {seed!r}")


def _check_pair(a: np.ndarray, b: np.ndarray, *, min_samples: int, names: tuple[str, str], why: str) -> tuple[np.ndarray, np.ndarray]:
    """Both as float64 (N, D) arrays with the same D, at least `min_samples` rows, every value finite."""
    a, b = _check_features(a, names[0], min_samples, why), _check_features(b, names[1], min_samples, why)
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"{names[0]} has {a.shape[1]} features per sample, {names[1]} has {b.shape[1]}")
    return a, b


def _check_features(a: np.ndarray, name: str, min_samples: int, why: str) -> np.ndarray:
    array = np.asarray(a)
    if array.dtype.kind not in "biuf":
        raise ValueError(f"{name} must hold real numbers, got dtype {array.dtype}")
    if array.ndim != 2 or array.shape[1] < 1:
        raise ValueError(f"{name} must be (N samples, D features) with D >= 1, got shape {array.shape}"
                         + ("; one feature per sample: use a.reshape(-1, 1)" if array.ndim == 1 else ""))
    if array.shape[0] < min_samples:
        raise ValueError(f"{name} has {array.shape[0]} samples; at least {min_samples} are needed {why}")
    array = array.astype(np.float64, copy=False)
    bad_rows = np.flatnonzero(~np.all(np.isfinite(array), axis=1))
    if bad_rows.size:
        shown = ", ".join(str(i) for i in bad_rows[:10]) + (", ..." if bad_rows.size > 10 else "")
        raise ValueError(f"{name} has NaN or inf in {bad_rows.size} row(s): {shown}")
    return array


def _as_vector(mean: np.ndarray, name: str) -> np.ndarray:
    mean = np.asarray(mean, np.float64)
    if mean.ndim != 1 or not np.all(np.isfinite(mean)):
        raise ValueError(f"{name} must be a finite (D,) vector, got shape {mean.shape}")
    return mean


def _as_covariance(cov: np.ndarray, d: int, name: str) -> np.ndarray:
    cov = np.asarray(cov, np.float64)
    if cov.shape != (d, d) or not np.all(np.isfinite(cov)):
        raise ValueError(f"{name} must be a finite ({d}, {d}) matrix, got shape {cov.shape}")
    return cov
