"""Distribution metrics against closed forms, direct computations and the `prdc` reference package."""

from __future__ import annotations

import contextlib
import doctest
import io
import itertools

import numpy as np
import prdc
import pytest
import scipy.linalg
import scipy.stats
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import realitygap.metrics.distribution as distribution_module
from realitygap.metrics.distribution import (
    METRIC_INFO,
    STATISTICS,
    classifier_two_sample_test,
    frechet_distance,
    frechet_distance_from_moments,
    kernel_distance,
    polynomial_mmd2_unbiased,
    precision_recall_density_coverage,
)


def random_covariance(rng: np.random.Generator, d: int, condition: float = 10.0) -> np.ndarray:
    """A random SPD (d, d) matrix with eigenvalues spread log-uniformly over [1, condition], not diagonal."""
    q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    return (q * np.geomspace(1.0, condition, d)) @ q.T


def frechet_by_eigenvalues(mean_x, cov_x, mean_y, cov_y) -> float:
    """Independent route: Tr (S_x S_y)^(1/2) = sum sqrt(eig(S_x^(1/2) S_y S_x^(1/2))), a symmetric PSD matrix."""
    values, vectors = np.linalg.eigh(cov_x)
    root_x = (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T
    inner = np.linalg.eigvalsh(root_x @ cov_y @ root_x)
    difference = np.asarray(mean_x) - np.asarray(mean_y)
    return float(difference @ difference + np.trace(cov_x) + np.trace(cov_y) - 2 * np.sqrt(np.clip(inner, 0.0, None)).sum())


# --- Fréchet distance ---------------------------------------------------------------------------

_A = np.array([[2.0, 0.6], [0.6, 1.0]])
_B = np.array([[1.0, -0.3], [-0.3, 0.5]])
CLOSED_FORMS = [
    # 1-D: (m1 - m2)^2 + (s1 - s2)^2
    ("1-D", [1.0], [[4.0]], [-2.0], [[9.0]], 9.0 + (2.0 - 3.0) ** 2),
    # commuting (diagonal): ||dmu||^2 + sum (sqrt a_i - sqrt b_i)^2
    ("diagonal", [0, 0, 0], np.diag([1.0, 4.0, 9.0]), [1, 2, 2], np.diag([4.0, 1.0, 16.0]), 9.0 + 1.0 + 1.0 + 1.0),
    # 2-D, not commuting: for a 2x2 M with eigenvalues >= 0, Tr M^(1/2) = sqrt(Tr M + 2 sqrt(det M))
    ("2-D general", [0.5, -1.0], _A, [0.0, 0.0], _B,
     1.25 + np.trace(_A) + np.trace(_B) - 2 * np.sqrt(np.trace(_A @ _B) + 2 * np.sqrt(np.linalg.det(_A) * np.linalg.det(_B)))),
    # singular and orthogonal supports: Tr (S_x S_y)^(1/2) = 0 exactly, no epsilon leaks in
    ("disjoint singular", [0, 0], np.diag([1.0, 0.0]), [0, 0], np.diag([0.0, 1.0]), 2.0),
    ("both zero", [1.0, 1.0], np.zeros((2, 2)), [0.0, 0.0], np.zeros((2, 2)), 2.0),
]


@pytest.mark.parametrize("name, mean_x, cov_x, mean_y, cov_y, expected", CLOSED_FORMS, ids=[c[0] for c in CLOSED_FORMS])
def test_frechet_distance_from_moments_equals_the_closed_form(name, mean_x, cov_x, mean_y, cov_y, expected):
    assert frechet_distance_from_moments(mean_x, cov_x, mean_y, cov_y) == pytest.approx(expected, rel=1e-10, abs=1e-12)
    assert frechet_distance_from_moments(mean_y, cov_y, mean_x, cov_x) == pytest.approx(expected, rel=1e-10, abs=1e-12)


@pytest.mark.parametrize("d, condition", [(2, 3.0), (5, 100.0), (20, 1e4), (64, 1e3)])
def test_frechet_distance_from_moments_equals_the_symmetric_eigenvalue_route(d, condition):
    rng = np.random.default_rng(d)
    mean_x, mean_y = rng.normal(size=d), rng.normal(size=d)
    cov_x, cov_y = random_covariance(rng, d, condition), random_covariance(rng, d, condition)
    expected = frechet_by_eigenvalues(mean_x, cov_x, mean_y, cov_y)
    assert frechet_distance_from_moments(mean_x, cov_x, mean_y, cov_y) == pytest.approx(expected, rel=1e-9)


def frechet_sampling_bias_and_std(mean_x, cov_x, mean_y, cov_y, n: int, m: int) -> tuple[float, float]:
    """First-order (delta-method) bias and standard deviation of the plug-in estimate from n and m Gaussian samples.

    Means: E||mx - my||^2 = ||dmu||^2 + Tr S_x / n + Tr S_y / m (exact); Var(2 dmu.(noise)) = 4 dmu' (S_x/n + S_y/m) dmu.
    Covariances: the gradient of Tr(S_x + S_y - 2 (S_x S_y)^(1/2)) in S_x is I - T, T = S_x^(-1/2) (S_x^(1/2) S_y
    S_x^(1/2))^(1/2) S_x^(-1/2) the optimal transport map (in S_y: I - T^(-1)), and Var Tr(G S_hat) = 2 Tr((G S)^2) / (n - 1)
    for a Gaussian sample covariance. Their second-order bias is O(D^2 ||S|| / n); we add D^2 max eig / n per set.
    """
    values, vectors = np.linalg.eigh(cov_x)
    root_x, inv_root_x = (vectors * np.sqrt(values)) @ vectors.T, (vectors / np.sqrt(values)) @ vectors.T
    transport = inv_root_x @ np.real(scipy.linalg.sqrtm(root_x @ cov_y @ root_x)) @ inv_root_x
    d = len(mean_x)
    dmu = np.asarray(mean_x) - np.asarray(mean_y)
    grad_x, grad_y = np.eye(d) - transport, np.eye(d) - np.linalg.inv(transport)
    variance = (4 * dmu @ (cov_x / n + cov_y / m) @ dmu + 2 * np.trace((grad_x @ cov_x) @ (grad_x @ cov_x)) / (n - 1)
                + 2 * np.trace((grad_y @ cov_y) @ (grad_y @ cov_y)) / (m - 1))
    bias = (np.trace(cov_x) / n + np.trace(cov_y) / m
            + d**2 * (np.linalg.eigvalsh(cov_x)[-1] / n + np.linalg.eigvalsh(cov_y)[-1] / m))
    return float(bias), float(np.sqrt(variance))


GAUSSIAN_PAIRS = [  # (name, mean_y, scale of S_y relative to a random covariance); S_x is random, mean_x 0
    ("shift and shape", [1.0, -0.5, 2.0], 1.0),
    ("shape only", [0.0, 0.0, 0.0], 3.0),
    ("shift only", [0.5, 0.5, 0.0], None),
]


@pytest.mark.parametrize("name, mean_y, scale", GAUSSIAN_PAIRS, ids=[c[0] for c in GAUSSIAN_PAIRS])
def test_frechet_distance_of_gaussian_samples_equals_the_closed_form_within_sampling_error(name, mean_y, scale):
    # N = M = 40,000 in D = 3: the delta-method std of the estimate is 0.018-0.076 for these cases and the bias
    # bound below 0.006 (both checked against Monte Carlo in the next test), so a tolerance of bias + 5 std
    # (0.09-0.39, against distances of 0.5-7.6) fails by chance with probability < 1e-6, while a slip in the
    # formula (a lost factor 2, a dropped term, sqrt of the wrong matrix) moves the answer by 0.5 or more.
    rng = np.random.default_rng(11)
    n = m = 40_000
    mean_x, cov_x = np.zeros(3), random_covariance(rng, 3, 5.0)
    cov_y = cov_x if scale is None else scale * random_covariance(rng, 3, 5.0)
    x = rng.multivariate_normal(mean_x, cov_x, size=n)
    y = rng.multivariate_normal(mean_y, cov_y, size=m)
    expected = frechet_distance_from_moments(mean_x, cov_x, mean_y, cov_y)
    bias, std = frechet_sampling_bias_and_std(mean_x, cov_x, mean_y, cov_y, n, m)
    observed = frechet_distance(x, y)
    assert abs(observed - expected) <= bias + 5 * std, (observed, expected, bias, std)
    assert expected > 0.4  # large against the tolerance: a wrong formula cannot pass
    assert abs(frechet_distance(y, x) - observed) <= 1e-9 * observed  # symmetric


def test_the_sampling_error_model_behind_that_tolerance_agrees_with_monte_carlo():
    rng = np.random.default_rng(11)
    mean_x, cov_x = np.zeros(3), random_covariance(rng, 3, 5.0)
    mean_y, cov_y = np.array([1.0, -0.5, 2.0]), random_covariance(rng, 3, 5.0)
    n, replicates = 1000, 200
    values = np.array([frechet_distance(rng.multivariate_normal(mean_x, cov_x, size=n), rng.multivariate_normal(mean_y, cov_y, size=n))
                       for _ in range(replicates)])
    expected = frechet_distance_from_moments(mean_x, cov_x, mean_y, cov_y)
    bias, std = frechet_sampling_bias_and_std(mean_x, cov_x, mean_y, cov_y, n, n)
    assert 0.8 < values.std() / std < 1.2, (values.std(), std)  # a std from 200 replicates is good to 5 %
    assert 0.0 < values.mean() - expected < bias + 4 * std / np.sqrt(replicates), (values.mean() - expected, bias)


def test_frechet_distance_is_zero_for_identical_sets_and_sees_a_translation_in_the_mean_term_only():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(300, 6)) @ rng.normal(size=(6, 6))
    assert frechet_distance(x, x.copy()) == pytest.approx(0.0, abs=1e-10)
    shift = np.array([1.0, -2.0, 0.5, 0.0, 0.0, 3.0])
    assert frechet_distance(x, x + shift) == pytest.approx(shift @ shift, rel=1e-9)


def test_frechet_distance_with_singular_covariances_fewer_samples_than_features():
    rng = np.random.default_rng(8)
    x, y = rng.normal(size=(6, 20)), rng.normal(size=(9, 20)) + 0.3  # ranks 5 and 8 of 20
    expected = frechet_by_eigenvalues(x.mean(0), np.cov(x, rowvar=False), y.mean(0), np.cov(y, rowvar=False))
    assert frechet_distance(x, y) == pytest.approx(expected, rel=1e-6)
    constant = np.ones((10, 3))  # zero covariance
    assert frechet_distance(constant, constant + 1.0) == pytest.approx(3.0, rel=1e-9)


# --- kernel distance ----------------------------------------------------------------------------

def mmd2_by_loops(x: np.ndarray, y: np.ndarray) -> float:
    """The unbiased MMD^2 written out pair by pair in plain Python: the O(N^2) definition."""
    d = len(x[0])

    def kernel(a, b):
        return (sum(ai * bi for ai, bi in zip(a, b)) / d + 1.0) ** 3

    n, m = len(x), len(y)
    xx = sum(kernel(x[i], x[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    yy = sum(kernel(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    xy = sum(kernel(x[i], y[j]) for i in range(n) for j in range(m)) / (n * m)
    return xx + yy - 2 * xy


@pytest.mark.parametrize("n, m, d", [(7, 5, 3), (2, 2, 1), (12, 12, 4)])
def test_unbiased_mmd2_equals_the_pairwise_definition(n, m, d):
    rng = np.random.default_rng(n * 100 + m)
    x, y = rng.normal(size=(n, d)), rng.normal(loc=0.4, size=(m, d))
    assert polynomial_mmd2_unbiased(x, y) == pytest.approx(mmd2_by_loops(x.tolist(), y.tolist()), rel=1e-12, abs=1e-12)


def test_kernel_distance_with_whole_set_subsets_is_the_unbiased_mmd2_of_the_sets():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(12, 4)), rng.normal(loc=0.4, size=(12, 4))
    mean, std = kernel_distance(x, y, n_subsets=4, subset_size=50, seed=3)
    assert mean == pytest.approx(mmd2_by_loops(x.tolist(), y.tolist()), rel=1e-12)
    assert std <= 1e-12 * abs(mean)


def test_kernel_distance_draws_its_subsets_as_documented():
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(40, 3)), rng.normal(size=(30, 3))
    draws = np.random.default_rng(9)
    expected = []
    for _ in range(3):  # per subset: m rows of x, then m rows of y, without replacement
        ix, iy = draws.choice(40, 10, replace=False), draws.choice(30, 10, replace=False)
        expected.append(polynomial_mmd2_unbiased(x[ix], y[iy]))
    mean, std = kernel_distance(x, y, n_subsets=3, subset_size=10, seed=9)
    assert (mean, std) == pytest.approx((np.mean(expected), np.std(expected)), rel=1e-12)


def test_kernel_distance_is_near_zero_for_one_distribution_and_clearly_positive_under_a_shift():
    # std is the spread of one subset's estimate; the mean over 50 subsets of one pair of sets is tighter still.
    rng = np.random.default_rng(6)
    x, y = rng.normal(size=(1000, 8)), rng.normal(size=(1000, 8))
    mean, std = kernel_distance(x, y, n_subsets=50, subset_size=250, seed=0)
    assert abs(mean) < 3 * std, (mean, std)
    shifted_mean, shifted_std = kernel_distance(x, y + 0.5, n_subsets=50, subset_size=250, seed=0)
    assert shifted_mean > 5 * shifted_std and shifted_mean > 100 * abs(mean), (shifted_mean, shifted_std, mean)


def test_kernel_distance_is_determined_by_its_seed():
    rng = np.random.default_rng(7)
    x, y = rng.normal(size=(300, 4)), rng.normal(loc=0.2, size=(300, 4))
    first = kernel_distance(x, y, n_subsets=20, subset_size=100, seed=0)
    assert kernel_distance(x, y, n_subsets=20, subset_size=100, seed=0) == first
    assert kernel_distance(x, y, n_subsets=20, subset_size=100, seed=np.random.SeedSequence(0)) == first
    assert kernel_distance(x, y, n_subsets=20, subset_size=100, seed=1) != first


# --- precision, recall, density, coverage -------------------------------------------------------

PRDC_CASES = [  # (n_real, n_fake, d, k, shift of the fake mean, scale of the fake spread)
    (50, 50, 2, 5, 0.0, 1.0),
    (100, 70, 8, 3, 0.5, 1.0),
    (64, 200, 16, 1, 0.0, 0.6),
    (31, 30, 3, 10, 1.0, 2.0),
    (200, 150, 32, 5, 0.2, 1.3),
]


@pytest.mark.parametrize("n_real, n_fake, d, k, shift, scale", PRDC_CASES)
def test_prdc_equals_the_reference_package(n_real, n_fake, d, k, shift, scale):
    rng = np.random.default_rng(n_real + n_fake + d + k)
    real = rng.normal(size=(n_real, d))
    fake = rng.normal(loc=shift, scale=scale, size=(n_fake, d))
    with contextlib.redirect_stdout(io.StringIO()):  # compute_prdc prints the sample counts
        expected = prdc.compute_prdc(real_features=real, fake_features=fake, nearest_k=k)
    observed = precision_recall_density_coverage(real, fake, k=k)
    assert observed.keys() == expected.keys()
    for name in observed:
        assert observed[name] == pytest.approx(float(expected[name]), abs=1e-12), name


@pytest.mark.parametrize("k", [1, 3, 5])
def test_prdc_equals_the_reference_package_with_ties_and_duplicates(k):
    # Small integer coordinates: many duplicate points and equal distances, computed exactly by both implementations
    # (sqrt of the same integer), so the strict "<" and the self-inclusive k-th neighbour are both exercised.
    rng = np.random.default_rng(k)
    real, fake = rng.integers(0, 4, size=(60, 2)).astype(float), rng.integers(0, 5, size=(50, 2)).astype(float)
    with contextlib.redirect_stdout(io.StringIO()):
        expected = prdc.compute_prdc(real_features=real, fake_features=fake, nearest_k=k)
    observed = precision_recall_density_coverage(real, fake, k=k)
    assert observed == pytest.approx({name: float(value) for name, value in expected.items()}, abs=1e-12)


def test_prdc_is_the_same_when_distances_come_in_small_blocks(monkeypatch):
    rng = np.random.default_rng(1)
    real, fake = rng.normal(size=(90, 4)), rng.normal(loc=0.3, size=(70, 4))
    whole = precision_recall_density_coverage(real, fake, k=4)
    monkeypatch.setattr(distribution_module, "DISTANCE_CHUNK_ELEMENTS", 7 * 90)  # blocks of 7 rows, a ragged last one
    assert precision_recall_density_coverage(real, fake, k=4) == whole


# --- classifier two-sample test -----------------------------------------------------------------

def binomial_interval(n: int, alpha: float) -> tuple[float, float]:
    """Two-sided (1 - alpha) interval of the accuracy of a coin-flipping classifier on n test samples."""
    return scipy.stats.binom.ppf(alpha / 2, n, 0.5) / n, scipy.stats.binom.isf(alpha / 2, n, 0.5) / n


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_two_sample_test_is_near_one_half_for_one_distribution(seed):
    rng = np.random.default_rng(100 + seed)
    x, y = rng.normal(size=(800, 5)), rng.normal(size=(1000, 5))  # the larger set is subsampled to 800
    result = classifier_two_sample_test(x, y, seed=seed)
    assert result["n_test"] == 800
    low, high = binomial_interval(result["n_test"], alpha=1e-3)  # 0.442 .. 0.558
    for name in ("accuracy_logistic", "accuracy_knn"):
        assert low <= result[name] <= high, (name, result)
    assert result["accuracy"] == max(result["accuracy_logistic"], result["accuracy_knn"])
    assert result["p_value"] > 1e-3
    # A 1-nearest-neighbour classifier scores 1.0 on its own training rows: near 0.5 only if scored on held-out rows.
    one_neighbour = classifier_two_sample_test(x, y, seed=seed, n_neighbors=1)
    assert low <= one_neighbour["accuracy_knn"] <= high, one_neighbour


def test_two_sample_test_is_near_one_under_a_large_shift():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(500, 4)), rng.normal(size=(500, 4)) + [10.0, 0.0, 0.0, 0.0]
    result = classifier_two_sample_test(x, y, seed=0)
    assert result["accuracy_logistic"] >= 0.99 and result["accuracy_knn"] >= 0.99 and result["accuracy"] >= 0.99
    correct = round(result["accuracy"] * result["n_test"])
    assert result["p_value"] == pytest.approx(2 * scipy.stats.binomtest(correct, 500, 0.5, alternative="greater").pvalue)
    assert result["p_value"] < 1e-100


def test_two_sample_test_sees_a_change_of_spread_through_the_nearest_neighbour_classifier():
    # Same mean, three times the spread: no linear boundary separates them, nearest neighbours do.
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(600, 2)), 3.0 * rng.normal(size=(600, 2))
    result = classifier_two_sample_test(x, y, seed=0)
    low, high = binomial_interval(result["n_test"], alpha=1e-3)
    assert low <= result["accuracy_logistic"] <= high
    assert result["accuracy_knn"] > 0.75 and result["accuracy"] == result["accuracy_knn"]


def test_two_sample_test_follows_its_documented_procedure():
    # Replays the documented draws, then lets sklearn pipelines (scaler fitted on the training rows) do the rest.
    rng = np.random.default_rng(9)
    x, y = rng.normal(size=(150, 3)), rng.normal(loc=0.2, scale=1.5, size=(120, 3))
    draws = np.random.default_rng(21)
    xs, ys = x[draws.permutation(150)[:120]], y[draws.permutation(120)[:120]]
    n_test = 36  # round(120 * 0.3)
    train, test = np.vstack([xs[n_test:], ys[n_test:]]), np.vstack([xs[:n_test], ys[:n_test]])
    labels_train, labels_test = np.repeat([0, 1], 120 - n_test), np.repeat([0, 1], n_test)
    k = 13  # floor(sqrt(168)) = 12, raised to odd
    expected = {name: float(np.mean(make_pipeline(StandardScaler(), clf).fit(train, labels_train).predict(test) == labels_test))
                for name, clf in (("accuracy_logistic", LogisticRegression(max_iter=1000)), ("accuracy_knn", KNeighborsClassifier(k)))}
    result = classifier_two_sample_test(x, y, seed=21, test_fraction=0.3)
    assert {name: result[name] for name in expected} == expected and result["n_test"] == 2 * n_test


def test_two_sample_test_is_determined_by_its_seed():
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(200, 3)), rng.normal(loc=0.3, size=(260, 3))
    first = classifier_two_sample_test(x, y, seed=0, test_fraction=0.3)
    assert classifier_two_sample_test(x, y, seed=0, test_fraction=0.3) == first
    assert first["n_test"] == 2 * 60
    others = [classifier_two_sample_test(x, y, seed=s, test_fraction=0.3) for s in range(1, 6)]
    assert any(other != first for other in others)


# --- bad input ----------------------------------------------------------------------------------

_GOOD = np.random.default_rng(0).normal(size=(20, 3))
_WITH_NAN = _GOOD.copy()
_WITH_NAN[[4, 11], 1] = np.nan
_WITH_INF = _GOOD.copy()
_WITH_INF[7, 0] = np.inf
CALLS = {
    "frechet": lambda a, b: frechet_distance(a, b),
    "kernel": lambda a, b: kernel_distance(a, b, n_subsets=2, subset_size=5, seed=0),
    "prdc": lambda a, b: precision_recall_density_coverage(a, b, k=5),
    "c2st": lambda a, b: classifier_two_sample_test(a, b, seed=0),
}
BAD_INPUTS = [
    ("nan rows", _WITH_NAN, _GOOD, r"^(x|real) has NaN or inf in 2 row\(s\): 4, 11$"),
    ("inf in the second", _GOOD, _WITH_INF, r"^(y|fake) has NaN or inf in 1 row\(s\): 7$"),
    ("mismatched D", _GOOD, _GOOD[:, :2], r"3 features per sample, .* has 2"),
    ("1-D", _GOOD[:, 0], _GOOD[:, 0], r"reshape\(-1, 1\)"),
    ("no features", np.empty((20, 0)), np.empty((20, 0)), r"D >= 1"),
    ("one sample", _GOOD[:1], _GOOD, r"has 1 samples; at least"),
    ("text", np.array([["a", "b", "c"]] * 20), _GOOD, r"real numbers"),
]


@pytest.mark.parametrize("call", CALLS, ids=list(CALLS))
@pytest.mark.parametrize("name, a, b, message", BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_bad_features_are_refused_with_a_clear_message(call, name, a, b, message):
    with pytest.raises(ValueError, match=message):
        CALLS[call](a, b)


BAD_ARGUMENTS = [
    ("too few for k", lambda: precision_recall_density_coverage(_GOOD, _GOOD[:5], k=5), r"fake has 5 samples; at least 6 .* k = 5"),
    ("k zero", lambda: precision_recall_density_coverage(_GOOD, _GOOD, k=0), r"k must be a positive int"),
    ("kernel seed None", lambda: kernel_distance(_GOOD, _GOOD, seed=None), r"seed must be an int"),
    ("c2st seed None", lambda: classifier_two_sample_test(_GOOD, _GOOD, seed=None), r"seed must be an int"),
    ("no subsets", lambda: kernel_distance(_GOOD, _GOOD, n_subsets=0, seed=0), r"n_subsets >= 1"),
    ("test fraction", lambda: classifier_two_sample_test(_GOOD, _GOOD, seed=0, test_fraction=1.0), r"test_fraction must lie"),
    ("empty split", lambda: classifier_two_sample_test(_GOOD[:3], _GOOD, seed=0, test_fraction=0.1), r"empty training or test"),
    ("neighbours", lambda: classifier_two_sample_test(_GOOD, _GOOD, seed=0, n_neighbors=100), r"n_neighbors must lie"),
    ("moment shapes", lambda: frechet_distance_from_moments(np.zeros(2), np.eye(3), np.zeros(2), np.eye(2)), r"cov_x must be"),
    ("moment NaN", lambda: frechet_distance_from_moments(np.array([0.0, np.nan]), np.eye(2), np.zeros(2), np.eye(2)), r"mean_x"),
]


@pytest.mark.parametrize("name, call, message", BAD_ARGUMENTS, ids=[c[0] for c in BAD_ARGUMENTS])
def test_bad_arguments_are_refused_with_a_clear_message(name, call, message):
    with pytest.raises(ValueError, match=message):
        call()


# --- properties as data, docstrings -------------------------------------------------------------

def test_every_returned_statistic_has_its_properties_and_lies_in_its_range():
    rng = np.random.default_rng(12)
    x, y = rng.normal(size=(120, 4)), rng.normal(loc=0.5, size=(100, 4))
    mean, std = kernel_distance(x, y, n_subsets=10, subset_size=50, seed=0)
    returned = {
        "frechet_distance": {"frechet_distance": frechet_distance(x, y)},
        "kernel_distance": {"kernel_distance": mean, "kernel_distance_std": std},
        "precision_recall_density_coverage": precision_recall_density_coverage(x, y),
        "classifier_two_sample_test": classifier_two_sample_test(x, y, seed=0),
    }
    assert returned.keys() == STATISTICS.keys()
    for function, values in returned.items():
        assert tuple(values) == STATISTICS[function], function
    assert set(itertools.chain.from_iterable(STATISTICS.values())) == METRIC_INFO.keys()
    for name, value in itertools.chain.from_iterable(values.items() for values in returned.values()):
        info = METRIC_INFO[name]
        assert info.name == name and info.range[0] <= value <= info.range[1], (name, value)
        assert info.ideal is None or info.range[0] <= info.ideal <= info.range[1]
    assert not METRIC_INFO["frechet_distance"].higher_is_better and METRIC_INFO["coverage"].higher_is_better
    assert METRIC_INFO["accuracy"].ideal == 0.5 and METRIC_INFO["density"].ideal == 1.0


def test_docstring_examples_run():
    results = doctest.testmod(distribution_module)
    assert results.attempted >= 10 and results.failed == 0
