"""Statistics shared by the pipeline.

* :func:`bootstrap_interval`: the percentile bootstrap of a mean.
* :func:`win_scores`: paired win / tie / loss scores, lower is better,
  ``np.inf`` a failure.
* :func:`sign_flip_test`, :func:`sign_flip_min_p`, :func:`tost_sign_flip`:
  the exact paired sign-flip (randomisation) test and the equivalence test
  built from two of them.
* :func:`holm`, :func:`benjamini_hochberg`: multiplicity-adjusted p-values.
* :func:`median_interval`: the distribution-free confidence interval of a
  median from order statistics.

:func:`bootstrap_interval` is written out by hand rather than calling
``scipy.stats.bootstrap(..., method="percentile")``. Given the same NumPy
Generator, SciPy 1.17 draws the very same resamples (``rng.integers(0, n,
(samples, n))``) and so the very same resampled means, but it takes the
quantiles with its own ``scipy.stats.quantile``, whose linear interpolation
rounds differently from ``numpy.quantile``: on 100 random samples (sizes 2 to
40, 10000 resamples) a third of the intervals differed in the last bit of a
bound. The committed tables (``figures/tables/equal_budget.csv``) are
bit-identical only with ``numpy.quantile``, so the hand-written version stays.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["BOOTSTRAP_SAMPLES", "CONFIDENCE", "SIGN_FLIP_MAX_N", "ALTERNATIVES",
           "bootstrap_interval", "win_scores", "sign_flip_test", "sign_flip_min_p",
           "tost_sign_flip", "holm", "benjamini_hochberg", "median_interval"]

#: Bootstrap resamples and confidence level of every interval.
BOOTSTRAP_SAMPLES = 10000
CONFIDENCE = 0.95
#: The largest sample :func:`sign_flip_test` enumerates (2^20 sign patterns).
SIGN_FLIP_MAX_N = 20
#: The alternatives of :func:`sign_flip_test`.
ALTERNATIVES = ("two-sided", "greater", "less")
#: Relative tolerance under which two statistics of the sign-flip test count
#: as equal (float rounding of sums taken in different orders).
_RELATIVE_TOLERANCE = 1e-12


def bootstrap_interval(values, rng, samples=BOOTSTRAP_SAMPLES, confidence=CONFIDENCE):
    """Mean of ``values`` and its percentile-bootstrap interval.

    ``samples`` resamples of the values with replacement (``rng``, a NumPy
    Generator: one call ``rng.integers(0, n, (samples, n))``); the interval is
    the (1 - confidence)/2 and (1 + confidence)/2 quantiles of the resampled
    means (NumPy's default linear interpolation). Returns ``(mean, low,
    high)`` as Python floats; a one-element sample gives a zero-width interval.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1 or values.size < 1:
        raise ValueError("bootstrap_interval needs a non-empty 1-D sample.")
    index = rng.integers(0, values.size, size=(int(samples), values.size))
    means = values[index].mean(axis=1)
    tail = (1 - confidence) / 2
    low, high = np.quantile(means, [tail, 1 - tail])
    return float(values.mean()), float(low), float(high)


# --------------------------------------------------------------------------
# paired win scores


def _compare(a, b):
    """+1 where ``a < b``, -1 where ``a > b``, 0 where equal (inf == inf)."""
    return (a < b).astype(np.float64) - (a > b)


def win_scores(a, b, a_tiebreak=None, b_tiebreak=None):
    """Paired win scores of ``a`` against ``b``, element by element.

    Definition (lower is better, ``np.inf`` is a failure)::

        s_i = +1  if a_i < b_i   (a better)
              -1  if a_i > b_i   (b better)
               0  if a_i == b_i  (a tie; inf against inf, two failures, is a tie)

    A finite value beats ``np.inf``. Where the primary values tie and both
    tie-break arrays are given, ``s_i`` is the same comparison of
    ``a_tiebreak_i`` with ``b_tiebreak_i`` (e.g. primary = steps to the
    target, tie-break = the final optimality gap): a lexicographic order.
    The tie-breaks are only consulted where the primary values tie.

    The mean of the scores over a set of paired units is the sign-test
    statistic rescaled to [-1, 1]: (#wins - #losses) / n, the sign of each
    paired difference (Dixon & Mood, "The statistical sign test", J. Amer.
    Statist. Assoc. 41, 1946), which needs only the order of the two values
    and so is defined for failures (``inf``) that cannot be averaged.

    Raises ``ValueError`` if the arrays differ in shape, if only one
    tie-break array is given, if the primary values hold NaN, or if a
    tie-break consulted at a primary tie is NaN. Returns a float array of
    -1.0 / 0.0 / +1.0 of the common shape.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"win_scores: a and b differ in shape: {a.shape} vs {b.shape}.")
    if np.isnan(a).any() or np.isnan(b).any():
        raise ValueError("win_scores: the primary values hold NaN (use np.inf for a failure); "
                         f"NaN at {int(np.isnan(a).sum())} place(s) of a and "
                         f"{int(np.isnan(b).sum())} of b.")
    if (a_tiebreak is None) != (b_tiebreak is None):
        raise ValueError("win_scores: give both tie-break arrays or neither.")
    scores = np.array(_compare(a, b), dtype=np.float64)  # 0-d inputs stay writable
    if a_tiebreak is None:
        return scores
    ta = np.asarray(a_tiebreak, dtype=np.float64)
    tb = np.asarray(b_tiebreak, dtype=np.float64)
    if ta.shape != a.shape or tb.shape != a.shape:
        raise ValueError(f"win_scores: the tie-breaks' shapes {ta.shape}, {tb.shape} "
                         f"differ from the primary values' {a.shape}.")
    tied = scores == 0
    if np.isnan(ta[tied]).any() or np.isnan(tb[tied]).any():
        raise ValueError("win_scores: a tie-break value is NaN where the primary values tie.")
    scores[tied] = _compare(ta[tied], tb[tied])
    return scores


# --------------------------------------------------------------------------
# the exact sign-flip test


def _check_alternative(alternative):
    if alternative not in ALTERNATIVES:
        raise ValueError(f"alternative must be one of {ALTERNATIVES}, not {alternative!r}.")


def sign_flip_test(d, alternative="two-sided", shift=0.0):
    """Exact p-value of the paired sign-flip (randomisation) test.

    ``d``: the paired statistics, one per independent pair (here one per
    tuning study), finite. H0: the distribution of ``d - shift`` is symmetric
    about 0, so that every pattern of signs ``e in {-1, +1}^n`` is equally
    likely. Statistic: ``T(e) = mean(e * (d - shift))``; the observed one is
    ``t = T(+1, ..., +1)``. The p-value is the share of all ``2^n`` patterns
    whose statistic is at least as extreme as the observed one, the observed
    pattern included::

        greater:    #{e : T(e) >= t} / 2^n
        less:       #{e : T(e) <= t} / 2^n
        two-sided:  #{e : |T(e)| >= |t|} / 2^n

    Statistics within ``1e-12 * sum|d - shift|`` of each other count as
    equal, so float rounding cannot drop a pattern whose statistic equals the
    observed one. The p-value is exact at every n: all patterns are
    enumerated (subset sums built by doubling, 2^n floats), for n up to
    :data:`SIGN_FLIP_MAX_N` = 20; a larger sample raises ``ValueError``.
    Zero values of ``d - shift`` are kept (their sign flips change nothing),
    which makes the test conservative, never anti-conservative. The smallest
    attainable p-value is :func:`sign_flip_min_p`.

    References: Fisher, *The Design of Experiments* (1935), section 21
    (Darwin's paired plants); Pitman, "Significance tests which may be applied
    to samples from any populations", J. Roy. Statist. Soc. Suppl. 4, 1937.

    Returns the p-value as a Python float.
    """
    _check_alternative(alternative)
    d = np.asarray(d, dtype=np.float64)
    if d.ndim != 1 or d.size < 1:
        raise ValueError("sign_flip_test needs a non-empty 1-D sample.")
    if not np.isfinite(d).all():
        raise ValueError("sign_flip_test needs finite values (no NaN, no inf).")
    if not np.isfinite(shift):
        raise ValueError(f"sign_flip_test needs a finite shift, not {shift}.")
    n = d.size
    if n > SIGN_FLIP_MAX_N:
        raise ValueError(f"sign_flip_test enumerates 2^n patterns exactly for n <= "
                         f"{SIGN_FLIP_MAX_N}; n = {n} is too large.")
    x = d - float(shift)
    # All 2^n signed sums: sums of the first k values under every sign
    # pattern, doubled once per value. The mean is the sum over n for every
    # pattern, so the sums order the patterns as the means do.
    sums = np.zeros(1)
    for value in x:
        sums = np.concatenate((sums + value, sums - value))
    observed = x.sum()
    tolerance = _RELATIVE_TOLERANCE * np.abs(x).sum()
    if alternative == "greater":
        extreme = sums >= observed - tolerance
    elif alternative == "less":
        extreme = sums <= observed + tolerance
    else:
        extreme = np.abs(sums) >= abs(observed) - tolerance
    return float(np.count_nonzero(extreme) / sums.size)


def sign_flip_min_p(n, alternative="two-sided"):
    """The smallest p-value :func:`sign_flip_test` can return for ``n`` pairs:
    ``1 / 2^n`` one-sided (only the observed pattern as extreme), ``2 / 2^n``
    two-sided (the observed pattern and its mirror image)."""
    _check_alternative(alternative)
    if int(n) != n or n < 1:
        raise ValueError(f"n must be a positive integer, not {n}.")
    return math.ldexp(2.0 if alternative == "two-sided" else 1.0, -int(n))


def tost_sign_flip(d, margin):
    """Equivalence of ``d`` to 0 within ``(-margin, margin)``: two one-sided
    sign-flip tests (Schuirmann, "A comparison of the two one-sided tests
    procedure and the power approach for assessing the equivalence of average
    bioavailability", J. Pharmacokinet. Biopharm. 15, 1987).

    H0: the centre of symmetry is <= -margin or >= +margin; H1: it lies
    inside. ``p_low = sign_flip_test(d, "greater", shift=-margin)`` tests
    ``d + margin`` above 0, ``p_high = sign_flip_test(d, "less",
    shift=margin)`` tests ``d - margin`` below 0; the TOST p-value is
    ``max(p_low, p_high)`` (equivalence is declared at level alpha when both
    one-sided tests reject at alpha). ``margin`` must be > 0.
    """
    if not np.isfinite(margin) or margin <= 0:
        raise ValueError(f"the equivalence margin must be positive and finite, not {margin}.")
    p_low = sign_flip_test(d, "greater", shift=-margin)
    p_high = sign_flip_test(d, "less", shift=margin)
    return max(p_low, p_high)


# --------------------------------------------------------------------------
# multiplicity


def _p_values(p_values, name):
    p = np.asarray(p_values, dtype=np.float64)
    if p.ndim != 1:
        raise ValueError(f"{name} needs a 1-D array of p-values.")
    present = ~np.isnan(p)
    if ((p[present] < 0) | (p[present] > 1)).any():
        raise ValueError(f"{name}: p-values must lie in [0, 1].")
    return p, present


def holm(p_values):
    """Holm's step-down adjusted p-values, in the order of ``p_values``.

    With the m p-values sorted, ``p_(1) <= ... <= p_(m)``, the adjusted value
    of ``p_(i)`` is ``max_{j <= i} min(1, (m - j + 1) p_(j))`` (Holm, "A
    simple sequentially rejective multiple test procedure", Scand. J.
    Statist. 6, 1979); rejecting where it is below alpha controls the
    family-wise error rate at alpha. NaN entries are passed through and not
    counted in m; ties keep their input order (a stable sort).
    """
    p, present = _p_values(p_values, "holm")
    adjusted = p.copy()
    index = np.flatnonzero(present)
    order = index[np.argsort(p[index], kind="stable")]
    m = order.size
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        adjusted[i] = running
    return adjusted


def benjamini_hochberg(p_values):
    """Benjamini-Hochberg step-up adjusted p-values, in the order of ``p_values``.

    With the m p-values sorted, the adjusted value of ``p_(i)`` is
    ``min_{j >= i} min(1, m p_(j) / j)`` (Benjamini & Hochberg, "Controlling
    the false discovery rate", J. Roy. Statist. Soc. B 57, 1995): monotone in
    p, capped at 1; rejecting where it is below q controls the false discovery
    rate at q for independent (or positively dependent) tests. NaN entries are
    passed through and not counted in m.
    """
    p, present = _p_values(p_values, "benjamini_hochberg")
    adjusted = p.copy()
    index = np.flatnonzero(present)
    if index.size == 0:
        return adjusted
    order = index[np.argsort(p[index], kind="stable")]
    m = order.size
    scaled = p[order] * m / np.arange(1, m + 1)
    adjusted[order] = np.minimum(1.0, np.minimum.accumulate(scaled[::-1])[::-1])
    return adjusted


# --------------------------------------------------------------------------
# the median's interval


def _order_statistic_rank(n, confidence):
    """``(l, coverage)``: the largest rank ``l <= (n + 1) / 2`` whose interval
    ``[x_(l), x_(n+1-l)]`` covers the median with probability
    ``P(l <= B <= n - l) >= confidence``, B ~ Binomial(n, 1/2), computed in
    exact integer arithmetic; ``l = 1`` when none reaches it."""
    tail = 1  # sum of comb(n, k) for k < rank + 1, i.e. 2^n P(B <= rank)
    rank = 1
    while 2 * (rank + 1) <= n + 1:
        below = tail + math.comb(n, rank)
        if 1 - 2 * below / (1 << n) < confidence:
            break
        rank, tail = rank + 1, below
    return rank, 1 - 2 * tail / (1 << n)


def median_interval(values, confidence=CONFIDENCE):
    """The sample median and the exact distribution-free interval of the
    population median.

    With the values ordered, ``x_(1) <= ... <= x_(n)``, the interval is
    ``[x_(l), x_(n+1-l)]``; for any continuous distribution it covers the
    population median with probability ``P(l <= B <= n - l)``, ``B ~
    Binomial(n, 1/2)`` (the number of values below the median), and ``l`` is
    the largest rank whose coverage is at least ``confidence`` (Thompson,
    "On confidence ranges for the median and other expectation distributions
    for populations of unknown distribution form", Ann. Math. Statist. 7,
    1936; David & Nagaraja, *Order Statistics*, 3rd ed., 2003, section 7.1).
    E.g. n = 10 at 0.95 gives ``[x_(2), x_(9)]`` with coverage
    1 - 22/1024 = 97.85%.

    Only the order of the values is used, so ``np.inf`` (a failure) is
    allowed: a bound may then be ``inf``, and so may the median
    (``numpy.median``: an even n averages the two middle values). NaN raises
    ``ValueError``.

    When n is too small for any interval to reach ``confidence`` (e.g. n <= 5
    at 0.95), the full range ``[min, max]`` is returned with its coverage
    ``1 - 2 / 2^n``, below ``confidence``: the caller must read the coverage.

    Returns ``(median, low, high, coverage)`` as Python floats.
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), not {confidence}.")
    x = np.asarray(values, dtype=np.float64)
    if x.ndim != 1 or x.size < 1:
        raise ValueError("median_interval needs a non-empty 1-D sample.")
    if np.isnan(x).any():
        raise ValueError("median_interval: the values hold NaN (use np.inf for a failure).")
    x = np.sort(x)
    n = x.size
    rank, coverage = _order_statistic_rank(n, confidence)
    with np.errstate(invalid="ignore"):
        median = float(np.median(x))
    return median, float(x[rank - 1]), float(x[n - rank]), float(coverage)
