"""Is each published run of Tables 7-11 a typical draw of our protocol?

The paper's network tables are single unseeded runs; we train ``n`` seeds of
the same protocol. Two questions are answered here, from the seeds' training
losses (``tableNN_seeds.csv``) and the published numbers:

Per cell (one epoch of one optimizer)
    :func:`cell_positions`: where the published number sits among our seeds:
    its mid-rank percentile (``seed_percentile``: 0 below every seed, 100 above
    every seed, ties counted half) and its distance to the seeds' median in
    units of the seeds' standard deviation (``seed_z``). The band verdicts
    (``within-band`` / ``outside-band``, the seeds' [min, max]) stay as they
    are; if the published run were one more draw of the protocol it would
    land outside the band of ``n`` seeds with probability ``2 / (n + 1)``
    (:func:`expected_outside_rate`), so "outside" alone is no evidence.

Per run (one table x optimizer)
    :func:`run_test`: the cells of one run are strongly correlated across
    epochs, so the test uses one statistic of the whole curve, its level
    ``L = mean over epochs of log(loss)``. Under "the published run is one
    more draw", ``L_paper`` and the seeds' ``L_1 .. L_n`` are ``n + 1``
    independent draws of one distribution; taking that distribution as
    normal, ``t = (L_paper - mean(L)) / (sd(L) * sqrt(1 + 1/n))`` has Student's
    t distribution with ``n - 1`` degrees of freedom (the prediction interval
    of one new observation), exact at any ``n >= 3``. The p-value is
    two-sided; the 14 runs are corrected together by Holm's method
    (:func:`mamgd_paper.core.stats.holm`), and a run is ``atypical`` when its
    adjusted p-value is below :data:`ALPHA`, else ``typical``.
    :func:`detectable_shift` gives the test's power: the smallest shift of
    the whole log-curve, in units of the seeds' spread of ``L``, that it
    detects with probability :data:`POWER` at the level the run is tested
    at, so that ``typical`` is not read as proof of sameness.
    :func:`leave_one_out_rejections` is the calibration check on our own
    seeds: each seed in turn plays "the paper" against the others; the rate
    of rejections is the test's false-positive rate on real curves.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from mamgd_paper.core.stats import holm
from mamgd_paper.experiments.networks.tasks import TASKS

#: Family-wise error rate of the per-run verdicts (Holm over all runs).
ALPHA = 0.05
#: The power :func:`detectable_shift` reports the shift for.
POWER = 0.8
TYPICAL, ATYPICAL = "typical", "atypical"
#: The run test needs at least this many seeds (:func:`prediction_t`); runs
#: with fewer are not tested (:func:`skipped_runs`).
MIN_SEEDS = 3
#: The columns a published number's position adds to ``paper_vs_reproduced.csv``.
CELL_COLUMNS = ["seed_percentile", "seed_z"]
#: The columns of ``paper_runs.csv``.
RUN_COLUMNS = ["table", "optimizer", "seeds", "epochs", "outside", "expected_outside",
               "median_abs_seed_z", "statistic", "p_value", "p_adjusted", "verdict",
               "detectable_shift"]


def expected_outside_rate(n):
    """Chance that one more draw falls outside the [min, max] band of ``n``
    draws of a continuous distribution: ``2 / (n + 1)``."""
    if n < 1:
        raise ValueError(f"n must be >= 1, not {n}.")
    return 2.0 / (n + 1)


def cell_positions(seeds, published):
    """``(seed_percentile, seed_z)`` of each published number among its seeds.

    ``seeds``: 2-D array, one row per cell, one column per seed; ``published``:
    one number per cell. The percentile is the mid-rank one,
    ``100 * (#below + #equal / 2) / n``; ``seed_z`` is
    ``(published - median) / sd`` with the seeds' sample standard deviation
    (``nan`` when the seeds do not vary).
    """
    seeds = np.asarray(seeds, dtype=np.float64)
    published = np.asarray(published, dtype=np.float64)[:, None]
    n = seeds.shape[1]
    below = (seeds < published).sum(axis=1)
    equal = (seeds == published).sum(axis=1)
    percentile = 100.0 * (below + 0.5 * equal) / n
    spread = seeds.std(axis=1, ddof=1) if n > 1 else np.full(len(seeds), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (published[:, 0] - np.median(seeds, axis=1)) / spread
    z[~np.isfinite(z)] = np.nan
    return percentile, z


def curve_level(losses):
    """The run's level: the mean over epochs of ``log(loss)`` (``losses``:
    epochs along the last axis)."""
    losses = np.asarray(losses, dtype=np.float64)
    if np.any(losses <= 0):
        raise ValueError("curve_level needs positive losses.")
    return np.log(losses).mean(axis=-1)


def prediction_t(new, sample):
    """``(t, p)``: Student's prediction test of one new value against ``sample``.

    ``t = (new - mean) / (sd * sqrt(1 + 1/n))`` with ``n - 1`` degrees of
    freedom; ``p`` two-sided.
    """
    sample = np.asarray(sample, dtype=np.float64)
    n = sample.size
    if n < MIN_SEEDS:
        raise ValueError(f"the prediction test needs at least {MIN_SEEDS} seeds, not {n}.")
    sd = sample.std(ddof=1)
    if sd == 0:
        return (0.0, 1.0) if new == sample[0] else (math.copysign(math.inf, new - sample[0]), 0.0)
    t = (new - sample.mean()) / (sd * math.sqrt(1 + 1 / n))
    return float(t), float(2 * stats.t.sf(abs(t), n - 1))


def run_test(seed_curves, paper_curve):
    """``(t, p)`` for one run: the published curve's level against the seeds'.

    ``seed_curves``: array seeds x epochs of training losses; ``paper_curve``:
    the published losses of the same epochs.
    """
    return prediction_t(float(curve_level(paper_curve)), curve_level(seed_curves))


def two_sample_test(curves, other_curves):
    """``(t, p)``: do two sets of runs have the same curve level? Welch's test.

    ``curves``, ``other_curves``: arrays runs x epochs of training losses (the
    same epochs). The two-sample version of :func:`run_test`: each run's
    :func:`curve_level`, then Welch's t (unequal variances), two-sided.
    """
    a, b = curve_level(curves), curve_level(other_curves)
    if min(a.size, b.size) < 2:
        raise ValueError(f"the two-sample test needs at least 2 runs a side, not {a.size} "
                         f"and {b.size}.")
    if a.std(ddof=1) == 0 and b.std(ddof=1) == 0:
        return (0.0, 1.0) if a[0] == b[0] else (math.copysign(math.inf, a[0] - b[0]), 0.0)
    t, p = stats.ttest_ind(a, b, equal_var=False)
    return float(t), float(p)


def _noncentral_shift(df, scale, level, power):
    """The smallest ``delta`` at which a two-sided t test with ``df`` degrees
    of freedom at ``level`` rejects with probability ``power``, when ``t`` is
    noncentral with noncentrality ``delta / scale`` (bisection)."""
    critical = stats.t.isf(level / 2, df)

    def achieved(delta):
        nc = delta / scale
        # SciPy's noncentral t returns nan for a lower tail far below 1e-16
        lower = float(np.nan_to_num(stats.nct.cdf(-critical, df, nc), nan=0.0))
        return float(stats.nct.sf(critical, df, nc)) + lower

    low, high = 0.0, 1.0
    while achieved(high) < power:
        high *= 2
    for _ in range(60):
        middle = (low + high) / 2
        low, high = (middle, high) if achieved(middle) < power else (low, middle)
    return high


def two_sample_detectable_shift(n, m, level, power=POWER):
    """The smallest difference of curve levels, in units of their (common)
    standard deviation, that :func:`two_sample_test` with ``n`` and ``m`` runs
    detects with probability ``power`` at two-sided ``level`` (noncentral t
    with ``n + m - 2`` degrees of freedom, noncentrality ``delta / sqrt(1/n + 1/m)``)."""
    return _noncentral_shift(n + m - 2, math.sqrt(1 / n + 1 / m), level, power)


def detectable_shift(n, level, power=POWER):
    """The smallest shift ``delta`` of the whole curve's level, in units of
    the seeds' standard deviation of :func:`curve_level`, that the run test
    with ``n`` seeds detects with probability ``power`` at two-sided ``level``.

    Under a shift ``delta``, ``t`` is noncentral t with ``n - 1`` degrees of
    freedom and noncentrality ``delta / sqrt(1 + 1/n)``.
    """
    return _noncentral_shift(n - 1, math.sqrt(1 + 1 / n), level, power)


def _wide(seeds_frame, optimizer, column="loss"):
    part = seeds_frame[seeds_frame["optimizer"] == optimizer]
    return part.pivot(index="epoch", columns="seed", values=column).sort_index()


def table_runs(table, seeds_frame, verdicts_frame):
    """Per optimizer of one table: the cells' positions and the run's test.

    ``seeds_frame``: ``tableNN_seeds.csv`` (seed, epoch, optimizer, loss);
    ``verdicts_frame``: ``tableNN_verdicts.csv`` (epoch, optimizer, paper,
    verdict). Returns ``(cells, runs)``: ``cells`` has ``epoch, optimizer,
    seed_percentile, seed_z``; ``runs`` one row per optimizer with the
    unadjusted test (``p_adjusted`` and ``verdict`` come from
    :func:`calibrate`).
    """
    cells, runs = [], []
    for optimizer in dict.fromkeys(verdicts_frame["optimizer"]):
        published = verdicts_frame[verdicts_frame["optimizer"] == optimizer].set_index("epoch")
        wide = _wide(seeds_frame, optimizer).loc[published.index]
        percentile, z = cell_positions(wide.to_numpy(), published["paper"].to_numpy())
        cells.append(pd.DataFrame({"epoch": published.index, "optimizer": optimizer,
                                   "seed_percentile": percentile, "seed_z": z}))
        n, epochs = wide.shape[1], wide.shape[0]
        if n < MIN_SEEDS:
            continue  # too few seeds for the run test (skipped_runs names the run)
        t, p = run_test(wide.to_numpy().T, published["paper"].to_numpy())
        runs.append({"table": table, "optimizer": optimizer, "seeds": n, "epochs": epochs,
                     "outside": int((published["verdict"] == "outside-band").sum()),
                     "expected_outside": epochs * expected_outside_rate(n),
                     "median_abs_seed_z": float(np.nanmedian(np.abs(z))),
                     "statistic": t, "p_value": p})
    return pd.concat(cells, ignore_index=True), runs


def skipped_runs(tables):
    """``[(table, optimizer, seeds)]``: the runs with fewer than :data:`MIN_SEEDS`
    seeds, which :func:`calibrate` leaves out (a 1-seed smoke run: ``QUICK=1``)."""
    skipped = []
    for table, (seeds_frame, verdicts_frame) in sorted(tables.items()):
        for optimizer in dict.fromkeys(verdicts_frame["optimizer"]):
            n = seeds_frame.loc[seeds_frame["optimizer"] == optimizer, "seed"].nunique()
            if n < MIN_SEEDS:
                skipped.append((table, optimizer, int(n)))
    return skipped


def calibrate(tables):
    """All runs of several tables, Holm-corrected together.

    ``tables``: ``{table: (seeds_frame, verdicts_frame)}``. Returns
    ``(cells, runs)``: ``cells`` with ``table, epoch, optimizer,
    seed_percentile, seed_z``; ``runs`` with :data:`RUN_COLUMNS`.
    """
    cells, runs = [], []
    for table, (seeds_frame, verdicts_frame) in sorted(tables.items()):
        table_cells, table_rows = table_runs(table, seeds_frame, verdicts_frame)
        cells.append(table_cells.assign(table=table))
        runs += table_rows
    runs = pd.DataFrame(runs)
    if runs.empty:  # no table, or too few seeds for any run test (skipped_runs)
        empty_cells = pd.DataFrame({"table": pd.Series(dtype="int64"),
                                    "epoch": pd.Series(dtype="int64"),
                                    "optimizer": pd.Series(dtype="object"),
                                    "seed_percentile": pd.Series(dtype="float64"),
                                    "seed_z": pd.Series(dtype="float64")})
        cells = pd.concat(cells, ignore_index=True)[list(empty_cells)] if cells else empty_cells
        return cells, pd.DataFrame(columns=RUN_COLUMNS)
    runs["p_adjusted"] = holm(runs["p_value"])
    runs["verdict"] = np.where(runs["p_adjusted"] < ALPHA, ATYPICAL, TYPICAL)
    # The first Holm step tests the smallest p-value at ALPHA / m: the power
    # at that level is what a departure must overcome to be flagged.
    runs["detectable_shift"] = [detectable_shift(n, ALPHA / len(runs)) for n in runs["seeds"]]
    cells = pd.concat(cells, ignore_index=True)[["table", "epoch", "optimizer",
                                                 "seed_percentile", "seed_z"]]
    return cells, runs[RUN_COLUMNS]


def leave_one_out_rejections(tables, level=ALPHA):
    """The run test's false-positive rate on our own seeds.

    For every run and every seed, that seed's curve plays "the published run"
    against the other seeds (``n - 1`` of them). Returns ``(rejected, trials)``:
    how many of these null draws the unadjusted test rejects at ``level``.
    """
    rejected = trials = 0
    for seeds_frame, verdicts_frame in tables.values():
        for optimizer in dict.fromkeys(verdicts_frame["optimizer"]):
            curves = _wide(seeds_frame, optimizer).to_numpy().T
            if curves.shape[0] < 4:
                continue
            for i in range(curves.shape[0]):
                _, p = run_test(np.delete(curves, i, axis=0), curves[i])
                rejected += p < level
                trials += 1
    return int(rejected), int(trials)


def read_tables(tables_dir, tables=None):
    """``{table: (seeds_frame, verdicts_frame)}`` of the network tables whose
    ``tableNN_seeds.csv`` and ``tableNN_verdicts.csv`` exist under ``tables_dir``
    and the list of the paths read."""
    tables_dir = Path(tables_dir)
    found, paths = {}, []
    for table in sorted(TASKS if tables is None else tables):
        task = TASKS[table]
        seeds = tables_dir / f"{task.seeds_stem}.csv"
        verdicts = tables_dir / f"{task.verdicts_stem}.csv"
        if seeds.is_file() and verdicts.is_file():
            found[table] = (pd.read_csv(seeds), pd.read_csv(verdicts))
            paths += [seeds, verdicts]
    return found, paths


def summary(runs):
    """The numbers the report and the README state about the runs.

    Returns a dict: ``seeds`` (the seed counts used, sorted),
    ``cells``, ``outside``, ``expected_outside`` (sum over cells of
    2/(n+1)), ``runs``, ``atypical`` (a list of "Table N optimizer"),
    ``smallest_p`` (the run and its unadjusted and adjusted p-value),
    ``detectable_shift`` (per seed count).
    """
    cells = len(runs) and int(runs["epochs"].sum())
    atypical = [f"Table {r.table} {r.optimizer}" for r in runs.itertuples()
                if r.verdict == ATYPICAL]
    smallest = runs.sort_values("p_value", kind="stable").iloc[0] if len(runs) else None
    return {
        "seeds": sorted({int(n) for n in runs["seeds"]}),
        "cells": int(cells),
        "outside": int(runs["outside"].sum()),
        "expected_outside": float(runs["expected_outside"].sum()),
        "runs": int(len(runs)),
        "atypical": atypical,
        "smallest": None if smallest is None else {
            "run": f"Table {smallest['table']} {smallest['optimizer']}",
            "p_value": float(smallest["p_value"]), "p_adjusted": float(smallest["p_adjusted"]),
            "median_abs_seed_z": float(smallest["median_abs_seed_z"]),
            "outside": int(smallest["outside"]), "epochs": int(smallest["epochs"])},
        "detectable_shift": {int(n): float(d) for n, d in
                             runs.groupby("seeds")["detectable_shift"].first().items()},
        "unadjusted_shift": {int(n): detectable_shift(int(n), ALPHA)
                             for n in sorted(set(runs["seeds"]))},
    }
