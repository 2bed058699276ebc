"""The comparison's statistics: paired verdicts and performance profiles.

* Every interval is a percentile bootstrap
  (:func:`mamgd_paper.core.stats.bootstrap_interval`) drawn from a generator of
  its own, seeded from the run's seed and names (:func:`statistic_rng`).
* The verdict against Adam is a *paired* bootstrap interval of the difference
  of means (:func:`paired_verdict`).
* A Dolan-More performance profile (Dolan & More, "Benchmarking optimization
  software with performance profiles", Math. Programming 91, 2002;
  :func:`performance_ratios`, :func:`performance_profile`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mamgd_paper.core.stats import BOOTSTRAP_SAMPLES, CONFIDENCE, bootstrap_interval
from mamgd_paper.experiments.equal_budget import protocol
from mamgd_paper.experiments.equal_budget.problems import get_problem
from mamgd_paper.experiments.equal_budget.protocol import BETTER, FUNCTION, INDISTINGUISHABLE, WORSE

__all__ = ["bootstrap_interval", "statistic_rng", "paired_verdict", "performance_ratios",
           "performance_profile", "cost"]


def statistic_rng(config_seed, *keys):
    """The generator of one interval: seeded from ``(seed, crc32(key), ...)``."""
    return np.random.default_rng(np.random.SeedSequence(
        [int(config_seed)] + [protocol.stream_key(k) for k in keys]))


def paired_verdict(values, baseline, rng, samples=BOOTSTRAP_SAMPLES, confidence=CONFIDENCE):
    """``values`` against ``baseline`` on the same units (starts or seeds).

    The test: a percentile-bootstrap interval of the mean paired difference
    values - baseline (units resampled together). ``better`` when the whole
    interval is below 0, ``worse`` when it is above 0, else
    ``indistinguishable``. Returns ``(verdict, mean difference, low, high)``.
    """
    values, baseline = np.asarray(values, float), np.asarray(baseline, float)
    if values.shape != baseline.shape:
        raise ValueError(f"paired samples differ in size: {values.shape} vs {baseline.shape}.")
    mean, low, high = bootstrap_interval(values - baseline, rng, samples, confidence)
    verdict = BETTER if high < 0 else WORSE if low > 0 else INDISTINGUISHABLE
    return verdict, mean, low, high


def performance_ratios(costs):
    """Dolan-More ratios: each problem's costs (rows) over the best one of that row.

    ``costs``: a DataFrame, problems x solvers, positive, lower is better.
    """
    costs = costs.astype(float)
    if (costs <= 0).any().any() or costs.isna().any().any():
        raise ValueError("performance ratios need positive costs for every problem and solver.")
    return costs.div(costs.min(axis=1), axis=0)


def performance_profile(ratios, taus):
    """rho_s(tau): the share of problems on which solver s is within a factor tau
    of the best (Dolan & More 2002). Returns a DataFrame, taus x solvers."""
    taus = np.asarray(taus, dtype=float)
    values = ratios.to_numpy()
    shares = (values[None, :, :] <= taus[:, None, None]).mean(axis=1)
    return pd.DataFrame(shares, index=pd.Index(taus, name="tau"), columns=ratios.columns)


def cost(problem, mean):
    """A problem's mean turned into a positive cost (functions: 10^mean, the
    geometric mean of the clipped gaps; networks: the mean test metric)."""
    return 10.0 ** mean if get_problem(problem).kind == FUNCTION else mean
