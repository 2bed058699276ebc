"""The comparison's statistics: profiles over problems and the verdict against Adam.

* A Dolan-More performance profile (Dolan & More, "Benchmarking optimization
  software with performance profiles", Math. Programming 91, 2002;
  :func:`performance_ratios`, :func:`performance_profile`).
* A More-Wild data profile (More & Wild, "Benchmarking derivative-free
  optimization algorithms", SIAM J. Optim. 20, 2009; :func:`data_profile`).
* The verdict of one optimizer against Adam on one problem from its
  multiplicity-adjusted p-values (:func:`verdict`; the tests themselves are
  :func:`mamgd_paper.core.stats.sign_flip_test` and
  :func:`mamgd_paper.core.stats.tost_sign_flip`).

A failure (a run that never reaches its target, a diverged network) is
``np.inf`` in every input here; it is ordered, never averaged.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mamgd_paper.experiments.equal_budget.protocol import (BETTER, EQUIVALENT, INCONCLUSIVE,
                                                           VERDICTS, WORSE)

__all__ = ["RATIO_FAILURE", "BETTER", "WORSE", "EQUIVALENT", "INCONCLUSIVE", "VERDICTS",
           "performance_ratios", "performance_profile", "data_profile", "verdict"]

#: The performance ratio of a failure: Dolan & More's r_M, a value above
#: every finite ratio. As ``np.inf`` it is above every tau, so a solver that
#: failed on some problem never reaches rho = 1, even at tau = inf.
RATIO_FAILURE = np.inf

# The verdicts (BETTER, WORSE, EQUIVALENT, INCONCLUSIVE) are the protocol's.


def _checked_table(table, name, positive):
    values = table.to_numpy(dtype=np.float64)
    if np.isnan(values).any():
        raise ValueError(f"{name}: the table holds NaN (use np.inf for a failure).")
    bad = values <= 0 if positive else values < 0
    if bad.any():
        raise ValueError(f"{name}: the values must be {'positive' if positive else '>= 0'}.")
    return values


def _levels(levels, name):
    levels = np.asarray(levels, dtype=np.float64).ravel()
    if np.isnan(levels).any():
        raise ValueError(f"{name} must not hold NaN.")
    return levels


def performance_ratios(costs):
    """Dolan-More performance ratios and the problems every solver failed.

    ``costs``: a DataFrame, problems (rows) x solvers (columns), positive,
    lower is better, ``np.inf`` a failure. The ratio of solver s on problem p
    is ``r_ps = cost_ps / min_s cost_ps``; a failure's ratio is
    :data:`RATIO_FAILURE`. A problem on which every solver failed has no
    best cost and no ratios: it is dropped.

    Returns ``(ratios, dropped)``: ``ratios`` the DataFrame of the kept
    problems (finite ratios >= 1, ``inf`` for failures), ``dropped`` a list of
    the dropped problems' labels.
    """
    values = _checked_table(costs, "performance_ratios", positive=True)
    best = values.min(axis=1) if values.shape[1] else np.full(len(values), np.inf)
    solved = np.isfinite(best)
    ratios = np.full(values[solved].shape, RATIO_FAILURE)
    finite = np.isfinite(values[solved])
    ratios[finite] = (values[solved] / best[solved, None])[finite]
    kept = pd.DataFrame(ratios, index=costs.index[solved], columns=costs.columns)
    return kept, list(costs.index[~solved])


def performance_profile(costs, taus):
    """rho_s(tau): the share of problems on which solver s is within a factor
    tau of the best solver of that problem (Dolan & More 2002)::

        rho_s(tau) = #{p : r_ps <= tau} / n_p

    with the ratios of :func:`performance_ratios` (``costs``: problems x
    solvers, positive, ``np.inf`` a failure). A failure counts at no tau
    (its ratio is r_M = :data:`RATIO_FAILURE`), so ``rho_s(inf)`` is the share
    of problems solver s solved and reaches 1 only for a solver that never
    failed. ``n_p`` counts only the problems some solver solved: a problem
    every solver failed is dropped (it would lower every curve alike and
    carries no comparison). The returned frame records both:
    ``profile.attrs["dropped_problems"]``, a tuple of the dropped problems'
    labels, and ``profile.attrs["problems"]``, ``n_p``. With no problem left
    every rho is NaN.

    Returns a DataFrame, taus (index ``tau``) x solvers.
    """
    taus = _levels(taus, "taus")
    ratios, dropped = performance_ratios(costs)
    values = ratios.to_numpy()
    within = (values[None, :, :] <= taus[:, None, None]) & np.isfinite(values)[None, :, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = within.sum(axis=1) / values.shape[0]
    profile = pd.DataFrame(shares, index=pd.Index(taus, name="tau"), columns=costs.columns)
    profile.attrs["dropped_problems"] = tuple(dropped)
    profile.attrs["problems"] = int(values.shape[0])
    return profile


def data_profile(steps, budgets):
    """d_s(kappa): the share of units solver s solves within kappa steps
    (More & Wild 2009)::

        d_s(kappa) = #{u : t_us <= kappa} / n_u

    ``steps``: a DataFrame, units (problem x start point, or problem x seed)
    x solvers, of the steps each solver needs to reach the unit's target,
    ``>= 0``, ``np.inf`` for never. Steps stand for More & Wild's budget
    unit (they count simplex gradients, ``(n_p + 1)`` function values; here
    one step is one gradient evaluation and no rescaling is applied). Unlike
    the performance profile the data profile is absolute, so a unit that
    every solver failed stays in ``n_u``; a failure counts at no kappa, not
    even kappa = inf.

    Returns a DataFrame, budgets (index ``budget``) x solvers.
    """
    budgets = _levels(budgets, "budgets")
    values = _checked_table(steps, "data_profile", positive=False)
    within = (values[None, :, :] <= budgets[:, None, None]) & np.isfinite(values)[None, :, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = within.sum(axis=1) / values.shape[0]
    return pd.DataFrame(shares, index=pd.Index(budgets, name="budget"), columns=steps.columns)


def verdict(p_adjusted, p_equivalence_adjusted, effect, alpha=0.05):
    """The verdict of an optimizer against Adam on one problem.

    ``p_adjusted``: the multiplicity-adjusted p-value of the two-sided test
    of no difference; ``p_equivalence_adjusted``: the adjusted p-value of the
    equivalence test (TOST); ``effect``: the estimated effect, positive when
    the optimizer beats Adam (e.g. the mean win score).

    * :data:`BETTER` when ``p_adjusted < alpha`` and ``effect > 0``;
    * :data:`WORSE` when ``p_adjusted < alpha`` and ``effect < 0``;
    * else :data:`EQUIVALENT` when ``p_equivalence_adjusted < alpha``;
    * else :data:`INCONCLUSIVE`.

    A significant difference with ``effect == 0`` (or NaN) is neither better
    nor worse and falls through to the equivalence test; a NaN p-value never
    rejects.
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), not {alpha}.")
    if p_adjusted < alpha:
        if effect > 0:
            return BETTER
        if effect < 0:
            return WORSE
    if p_equivalence_adjusted < alpha:
        return EQUIVALENT
    return INCONCLUSIVE
