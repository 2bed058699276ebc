"""General statistics (mamgd_paper.core.stats): win scores, the exact sign-flip
test and TOST, Holm and Benjamini-Hochberg, the median's order-statistic
interval.

Reference values come from SciPy computed independently
(``scipy.stats.permutation_test``, ``false_discovery_control``, ``binom``),
from hand arithmetic, and from a seeded simulation of the test's level.
"""

import ast
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats as sps

import mamgd_paper
from mamgd_paper.core import stats

INF = np.inf


# --------------------------------------------------------------------------
# win scores


@pytest.mark.parametrize("a, b, expected", [
    (1.0, 2.0, 1.0),     # a lower: a better
    (2.0, 1.0, -1.0),
    (3.0, 3.0, 0.0),
    (INF, 5.0, -1.0),    # a failed, b did not
    (5.0, INF, 1.0),
    (INF, INF, 0.0),     # two failures tie
    (0.0, -0.0, 0.0),
])
def test_win_scores_primary_only(a, b, expected):
    assert stats.win_scores([a], [b]).tolist() == [expected]


def test_win_scores_with_tie_breaks():
    #        primary            tie-break          expected
    cases = [((3, 3), (0.1, 0.2), 1.0),      # primary tie, a's gap smaller
             ((3, 3), (0.2, 0.1), -1.0),
             ((3, 3), (0.5, 0.5), 0.0),      # tie on both
             ((INF, INF), (1e-3, 1e-2), 1.0),  # both failed: the final gaps decide
             ((INF, INF), (INF, 0.5), -1.0),
             ((INF, INF), (INF, INF), 0.0),
             ((1, 2), (9.0, 0.0), 1.0),      # the primary decides, the tie-break is ignored
             ((2, 1), (np.nan, 0.0), -1.0),  # a NaN tie-break not consulted is fine
             ((INF, 7), (0.0, 9.0), -1.0)]
    a = [c[0][0] for c in cases]
    b = [c[0][1] for c in cases]
    ta = [c[1][0] for c in cases]
    tb = [c[1][1] for c in cases]
    scores = stats.win_scores(a, b, ta, tb)
    assert scores.dtype == np.float64
    assert scores.tolist() == [c[2] for c in cases]
    # antisymmetric
    assert stats.win_scores(b, a, tb, ta).tolist() == [-c[2] + 0.0 for c in cases]


def test_win_scores_keeps_the_shape():
    a = np.array([[1.0, INF], [2.0, 2.0]])
    b = np.array([[2.0, 1.0], [2.0, INF]])
    assert stats.win_scores(a, b).tolist() == [[1.0, -1.0], [0.0, 1.0]]
    assert stats.win_scores(3.0, 3.0, 1.0, 2.0) == 1.0  # scalars
    assert stats.win_scores([], []).size == 0


def test_win_scores_rejects_nan_and_mismatches():
    with pytest.raises(ValueError, match="primary values hold NaN"):
        stats.win_scores([1.0, np.nan], [1.0, 2.0])
    with pytest.raises(ValueError, match="primary values hold NaN"):
        stats.win_scores([1.0], [np.nan])
    with pytest.raises(ValueError, match="tie-break value is NaN"):
        stats.win_scores([3.0], [3.0], [np.nan], [1.0])
    with pytest.raises(ValueError, match="both tie-break arrays"):
        stats.win_scores([3.0], [3.0], [1.0])
    with pytest.raises(ValueError, match="differ in shape"):
        stats.win_scores([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="tie-breaks' shapes"):
        stats.win_scores([1.0, 2.0], [1.0, 2.0], [1.0], [1.0])


# --------------------------------------------------------------------------
# the sign-flip test


@pytest.mark.parametrize("d, alternative, expected", [
    ([1, 2, 3, 4, 5], "two-sided", 2 / 32),
    ([1, 2, 3, 4, 5], "greater", 1 / 32),
    ([1, 2, 3, 4, 5], "less", 1.0),
    ([-1, -2, -3, -4, -5], "less", 1 / 32),
    # +-1 +-2 +-3: sums 6, 4, 2, 0, 0, -2, -4, -6
    ([1, 2, 3], "greater", 1 / 8),
    ([3, 2, -1], "greater", 2 / 8),     # observed 4: {6, 4}
    ([3, 2, -1], "two-sided", 4 / 8),   # |s| >= 4: {6, 4, -4, -6}
    ([3, 2, -1], "less", 7 / 8),
    ([3, -1, -2], "greater", 5 / 8),    # observed 0: {6, 4, 2, 0, 0}
    ([3, -1, -2], "two-sided", 1.0),
    ([1, -1], "greater", 3 / 4),        # sums 0, 2, -2, 0
    ([0, 0, 0], "two-sided", 1.0),
    ([0, 0, 0], "greater", 1.0),
])
def test_sign_flip_test_hand_checked(d, alternative, expected):
    assert stats.sign_flip_test(d, alternative) == expected


def test_sign_flip_test_counts_rounded_equal_statistics_as_equal():
    # 0.1 + 0.2 - 0.3 is 5.6e-17 in floats, and -0.1 - 0.2 + 0.3 is -2.8e-17:
    # both are 0, so "greater" counts {0.6, 0.4, 0.2, 0, 0}: 5 of 8.
    assert stats.sign_flip_test([0.1, 0.2, -0.3], "greater") == 5 / 8
    assert stats.sign_flip_test([0.1, 0.2, -0.3], "less") == 5 / 8
    assert stats.sign_flip_test([0.1, 0.2, -0.3], "two-sided") == 1.0


def test_sign_flip_test_shift():
    d = np.array([0.3, 0.5, 0.7])
    assert stats.sign_flip_test(d, "greater", shift=0.0) == 1 / 8
    # d - 0.5 = (-0.2, 0, 0.2): observed 0; sums >= 0: 6 of 8 (the zero doubles)
    assert stats.sign_flip_test(d, "greater", shift=0.5) == 6 / 8
    assert stats.sign_flip_test(d, "less", shift=1.0) == 1 / 8


def _paired_statistic(x, y, axis):
    return np.mean(x - y, axis=axis)


@pytest.mark.parametrize("n", [2, 5, 8, 11])
@pytest.mark.parametrize("alternative", ["two-sided", "greater", "less"])
def test_sign_flip_test_matches_scipy_paired_permutation_test(n, alternative):
    rng = np.random.default_rng(100 + n)
    samples = [(rng.normal(0.3, 1, n), rng.normal(0, 1, n)),       # continuous
               (rng.integers(0, 4, n) * 1.0, rng.integers(0, 4, n) * 1.0)]  # many ties
    for x, y in samples:
        reference = sps.permutation_test((x, y), _paired_statistic, vectorized=True,
                                         permutation_type="samples", n_resamples=np.inf,
                                         alternative=alternative)
        assert stats.sign_flip_test(x - y, alternative) == pytest.approx(reference.pvalue,
                                                                          rel=1e-12)


def test_sign_flip_min_p_is_attained_by_all_positive_samples():
    assert stats.sign_flip_min_p(5) == 0.0625
    assert stats.sign_flip_min_p(5, "greater") == stats.sign_flip_min_p(5, "less") == 1 / 32
    assert stats.sign_flip_min_p(1) == 1.0
    for n in range(1, 13):
        d = np.arange(1.0, n + 1)
        assert stats.sign_flip_test(d) == stats.sign_flip_min_p(n)
        assert stats.sign_flip_test(d, "greater") == stats.sign_flip_min_p(n, "greater")
        assert stats.sign_flip_test(-d, "less") == stats.sign_flip_min_p(n, "less")
    with pytest.raises(ValueError):
        stats.sign_flip_min_p(0)
    with pytest.raises(ValueError):
        stats.sign_flip_min_p(3, "both")


def test_sign_flip_test_enumerates_twenty_and_refuses_more():
    rng = np.random.default_rng(0)
    p = stats.sign_flip_test(rng.normal(size=20))
    assert 0 < p <= 1 and (p * 2 ** 20) == round(p * 2 ** 20)
    assert stats.sign_flip_test(np.ones(20)) == 2 / 2 ** 20
    with pytest.raises(ValueError, match="n <= 20"):
        stats.sign_flip_test(np.ones(21))


def test_sign_flip_test_rejects_bad_input():
    for bad in ([], [1.0, np.nan], [1.0, np.inf], [[1.0, 2.0]]):
        with pytest.raises(ValueError):
            stats.sign_flip_test(bad)
    with pytest.raises(ValueError, match="alternative"):
        stats.sign_flip_test([1.0], "bigger")
    with pytest.raises(ValueError, match="shift"):
        stats.sign_flip_test([1.0], shift=np.nan)


def _rejection_rate(draw, trials, alternative, level=0.05):
    return np.mean([stats.sign_flip_test(draw(), alternative) <= level for _ in range(trials)])


@pytest.mark.parametrize("alternative", ["two-sided", "greater"])
def test_sign_flip_test_false_positive_rate_by_simulation(alternative):
    # n = 10 studies under symmetric nulls: normal, heavy-tailed, and the
    # discrete mean of 20 win scores (P(+1) = P(-1) = 0.3, P(0) = 0.4).
    rng = np.random.default_rng(2024)
    trials, n = 3000, 10
    slack = 3 * math.sqrt(0.05 * 0.95 / trials)
    draws = {"normal": lambda: rng.normal(size=n),
             "laplace": lambda: rng.laplace(size=n),
             "win scores": lambda: rng.choice([-1.0, 0.0, 1.0], p=[0.3, 0.4, 0.3],
                                              size=(n, 20)).mean(axis=1)}
    # with continuous data the exact size is the largest attainable p <= 0.05
    exact = (50 if alternative == "two-sided" else 51) / 1024
    for name, draw in draws.items():
        rate = _rejection_rate(draw, trials, alternative)
        assert rate <= 0.05 + slack, (name, rate)
        if name != "win scores":
            assert rate >= exact - slack, (name, rate)


# --------------------------------------------------------------------------
# TOST


def test_tost_sign_flip_known_answers():
    # |d| well inside the margin everywhere: both one-sided tests at their minimum
    assert stats.tost_sign_flip([0.1, 0.2, -0.1, 0.3], margin=1.0) == 1 / 16
    # d - 0.5 = (-0.3, -0.3, -0.3, 0.9), observed sum 0 (up to rounding):
    # sums <= 0 are "+0.9 with all -0.3" (1) and "-0.9 with any" (8): 9/16;
    # d + 0.5 is all positive: 1/16.
    d = [0.2, 0.2, 0.2, 1.4]
    assert stats.sign_flip_test(d, "greater", shift=-0.5) == 1 / 16
    assert stats.sign_flip_test(d, "less", shift=0.5) == 9 / 16
    assert stats.tost_sign_flip(d, margin=0.5) == 9 / 16
    # a clear effect beyond the margin is not equivalent
    assert stats.tost_sign_flip([2.0, 3.0, 2.5, 4.0], margin=1.0) == 1.0


def test_tost_sign_flip_needs_a_positive_margin():
    for margin in (0.0, -1.0, np.nan, np.inf):
        with pytest.raises(ValueError, match="margin"):
            stats.tost_sign_flip([0.1, 0.2], margin)


# --------------------------------------------------------------------------
# multiplicity


def test_holm_hand_computed():
    # sorted 0.005 * 4 = 0.02, 0.01 * 3 = 0.03, 0.03 * 2 = 0.06, 0.04 * 1 -> 0.06
    assert stats.holm([0.01, 0.04, 0.03, 0.005]).tolist() == pytest.approx(
        [0.03, 0.06, 0.06, 0.02])
    assert stats.holm([0.5, 0.9]).tolist() == [1.0, 1.0]
    # NaN passes through and does not count in m (m = 2)
    adjusted = stats.holm([0.01, np.nan, 0.04])
    assert adjusted[0] == pytest.approx(0.02) and np.isnan(adjusted[1])
    assert adjusted[2] == pytest.approx(0.04)
    assert stats.holm([]).size == 0


def test_holm_has_one_definition():
    # read, not imported: importing the audit loads TensorFlow (20 s)
    source = Path(mamgd_paper.__file__).parent / "audit" / "calibration.py"
    tree = ast.parse(source.read_text())
    assert "holm" not in {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
    assert any(isinstance(node, ast.ImportFrom) and node.module == "mamgd_paper.core.stats"
               and "holm" in {alias.name for alias in node.names} for node in ast.walk(tree))


def test_benjamini_hochberg_hand_computed():
    # sorted 0.005 * 4/1 = 0.02, 0.01 * 4/2 = 0.02, 0.03 * 4/3 = 0.04, 0.04 * 4/4 = 0.04
    assert stats.benjamini_hochberg([0.01, 0.04, 0.03, 0.005]).tolist() == pytest.approx(
        [0.02, 0.04, 0.04, 0.02])
    assert stats.benjamini_hochberg([0.6, 0.9]).tolist() == [0.9, 0.9]
    assert stats.benjamini_hochberg([0.8, 0.9, 0.95]).max() <= 1.0


def test_benjamini_hochberg_matches_scipy():
    rng = np.random.default_rng(5)
    for m in (1, 2, 7, 30):
        p = np.concatenate([rng.uniform(size=m), rng.uniform(0, 0.01, size=m)])
        p[::3] = p[0]  # ties
        np.testing.assert_allclose(stats.benjamini_hochberg(p),
                                   sps.false_discovery_control(p, method="bh"), rtol=1e-12)


def test_benjamini_hochberg_passes_nan_through():
    p = np.array([0.01, np.nan, 0.04, 0.03, np.nan])
    adjusted = stats.benjamini_hochberg(p)
    assert np.isnan(adjusted[[1, 4]]).all()
    np.testing.assert_allclose(adjusted[[0, 2, 3]],
                               sps.false_discovery_control(p[[0, 2, 3]], method="bh"))
    assert np.isnan(stats.benjamini_hochberg([np.nan, np.nan])).all()


def test_adjustments_reject_p_values_outside_the_unit_interval():
    for adjust in (stats.holm, stats.benjamini_hochberg):
        with pytest.raises(ValueError, match=r"\[0, 1\]"):
            adjust([0.5, 1.5])
        with pytest.raises(ValueError, match=r"\[0, 1\]"):
            adjust([-0.1])


# --------------------------------------------------------------------------
# the median's interval


def _reference_rank(n, confidence):
    """The order-statistic rank from scipy's binomial, by brute force."""
    best = None
    for rank in range(1, (n + 1) // 2 + 1):
        coverage = sps.binom.cdf(n - rank, n, 0.5) - sps.binom.cdf(rank - 1, n, 0.5)
        if coverage >= confidence:
            best = (rank, coverage)
    return best


def test_median_interval_n10():
    median, low, high, coverage = stats.median_interval(np.arange(10.0, 0.0, -1.0))
    assert (median, low, high) == (5.5, 2.0, 9.0)  # [x_(2), x_(9)]
    assert coverage == pytest.approx(1 - 22 / 1024) == pytest.approx(0.978515625)


@pytest.mark.parametrize("confidence", [0.8, 0.9, 0.95, 0.99])
def test_median_interval_matches_scipy_binom(confidence):
    rng = np.random.default_rng(7)
    for n in range(1, 61):
        values = rng.permutation(np.arange(1.0, n + 1))
        median, low, high, coverage = stats.median_interval(values, confidence)
        assert median == np.median(values)
        reference = _reference_rank(n, confidence)
        if reference is None:  # too small: the full range and its own coverage
            assert (low, high) == (1.0, float(n))
            assert coverage == pytest.approx(1 - 2 * 0.5 ** n)
            assert coverage < confidence
        else:
            rank, expected = reference
            assert (low, high) == (float(rank), float(n + 1 - rank))
            assert coverage == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_median_interval_small_samples_give_the_full_range():
    median, low, high, coverage = stats.median_interval([3.0, 1.0, 2.0, 5.0, 4.0])
    assert (median, low, high) == (3.0, 1.0, 5.0)
    assert coverage == 1 - 2 / 32
    assert stats.median_interval([4.0]) == (4.0, 4.0, 4.0, 0.0)


def test_median_interval_orders_failures():
    values = [3.0, 1.0, INF, 2.0, INF, INF, 5.0, 4.0, INF, 6.0]
    median, low, high, coverage = stats.median_interval(values)
    assert (median, low, high) == (5.5, 2.0, INF)
    assert coverage == pytest.approx(0.978515625)
    assert stats.median_interval([INF] * 4 + [1.0] * 6)[:3] == (1.0, 1.0, INF)
    assert stats.median_interval([INF] * 7 + [1.0] * 3)[:3] == (INF, 1.0, INF)


def test_median_interval_rejects_bad_input():
    with pytest.raises(ValueError, match="NaN"):
        stats.median_interval([1.0, np.nan])
    with pytest.raises(ValueError):
        stats.median_interval([])
    with pytest.raises(ValueError, match="confidence"):
        stats.median_interval([1.0, 2.0], confidence=1.0)
