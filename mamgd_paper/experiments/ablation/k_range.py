"""The ablation over a range of k, and how specific the tuned k is (notebook 09, parts 3 and 5).

* :func:`k_range_study` / :func:`k_range_effects`: the error at the search
  step and at the last step over the grid :func:`k_grid` for the MAMGD switch
  settings, AdaExp, Adam and AMSGrad, and how often each change helps;
* :func:`k_specificity` / :func:`k_specificity_summary`: is a k tuned at one
  step count good at the others? The (k, step) error grid is notebook 02's
  sensitivity table when it is there (:func:`read_sensitivity`,
  :func:`sensitivity_errors`), else computed here (:func:`specificity_grids`).

Paper: Sakovich et al., "MAMGD: Gradient-Based Optimization Method Using
Exponential Decay", Technologies 12(9):154, 2024, doi:10.3390/technologies12090154.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from mamgd import functions as test_functions
from mamgd import reference
from mamgd_paper.experiments.ablation.ablation import (FUNCTION_EFFECTS, error_ratio,
                                                       grid_errors, run_errors)
from mamgd_paper.paper import registry

#: The k grid of :func:`k_range_study` besides k = 0: ``geomspace(*K_RANGE_GRID)``
#: (201 log-spaced values on [1e-4, 10]); quick runs use :data:`QUICK_K_RANGE_GRID`.
K_RANGE_GRID = (1e-4, 10, 201)
QUICK_K_RANGE_GRID = (1e-3, 10, 21)
#: The k grid of the specificity study when notebook 02's sensitivity table is
#: not used (besides k = 0); quick runs use :data:`QUICK_SPECIFICITY_GRID`.
SPECIFICITY_GRID = (1e-3, 10, 401)
QUICK_SPECIFICITY_GRID = (1e-3, 10, 41)


def k_grid(grid):
    """k = 0 followed by ``np.geomspace(*grid)`` (``grid``: ``(low, high, count)``)."""
    return np.concatenate([[0.0], np.geomspace(*grid)])


def k_range_grid(quick=False):
    """The k values of :func:`k_range_study` (:data:`K_RANGE_GRID`, or the quick one)."""
    return k_grid(QUICK_K_RANGE_GRID if quick else K_RANGE_GRID)


#: Switched-rule optimizers run vectorised over the k grid of :func:`k_range_study`.
K_RANGE_CONFIGS = {label: registry.get(label).switches for label in (
    registry.CODE, registry.ALGORITHM6_LABEL, registry.CODE_CURVATURE,
    registry.ALGORITHM6_NO_CURVATURE, registry.CODE_SQRT)}


def k_range_study(ks, functions=test_functions.PAPER_FUNCTIONS, configs=None):
    """Error at the search step and at the last step over a range of k.

    For the MAMGD switch settings ``configs`` (default
    :data:`K_RANGE_CONFIGS`, vectorised over k) and AdaExp (one run per k);
    Adam and AMSGrad (k-independent) are added as constant rows. Returns a
    long DataFrame ``function, table, optimizer, k, search_step, last_step,
    error_search_step, error_last_step, best_error`` (``best_error``: the
    smallest error over steps 1..last_step).
    """
    ks = np.asarray(ks, dtype=np.float64)
    configs = K_RANGE_CONFIGS if configs is None else configs
    rows = []
    for f in functions:
        S, N = f.search_steps, f.max_steps
        curves = {name: grid_errors(f, ks, N, sw) for name, sw in configs.items()}
        with np.errstate(over="ignore", invalid="ignore"):
            curves[registry.ADAEXP] = np.stack([run_errors(reference.adaexp(0.1, k=k), f, N)
                                                for k in ks])
            # float64 AdaExp: its Keras-form update v + (g^2 - v)(1 - b2) cancels in
            # float32 once b2 ~ 0 (large k), see mamgd.reference.adaexp
            curves[registry.ADAEXP_FLOAT64] = np.stack([
                run_errors(reference.adaexp(0.1, k=k), f, N, dtype=np.float64) for k in ks])
            adam = run_errors(reference.adam(0.1), f, N)
            ams = run_errors(reference.amsgrad(0.1), f, N)
        curves[registry.ADAM] = np.tile(adam, (ks.size, 1))
        curves[registry.AMSGRAD] = np.tile(ams, (ks.size, 1))
        for name, err in curves.items():
            err = err.astype(np.float64)
            finite = np.where(np.isfinite(err[:, 1:]), err[:, 1:], np.inf)
            rows.append(pd.DataFrame({
                "function": f.name, "table": f.table, "optimizer": name, "k": ks,
                "search_step": S, "last_step": N, "error_search_step": err[:, S],
                "error_last_step": err[:, N], "best_error": finite.min(axis=1),
            }))
    return pd.concat(rows, ignore_index=True)


#: The effects :func:`k_range_effects` measures over the k grid.
K_RANGE_EFFECTS = ("curvature (code)", "curvature (Algorithm 6)",
                   "square root (code -> code + sqrt)",
                   "all differences (code -> Algorithm 6)")

def k_range_effects(k_range, pairs=None):
    """Across the k grid: how often a change lowers the error.

    For each effect in ``pairs`` (default: the curvature, square-root and
    Algorithm 6 effects available in :func:`k_range_study`) and function:
    the fraction of k values where the error *with* the change is below the
    error without it, at the search step and at the last step, and the
    median ratio at the last step.
    """
    pairs = pairs or {name: FUNCTION_EFFECTS[name] for name in K_RANGE_EFFECTS}
    rows = []
    for effect, (without, with_) in pairs.items():
        for name, group in k_range.groupby("function", sort=False):
            a = group[group["optimizer"] == without].set_index("k")
            b = group[group["optimizer"] == with_].set_index("k")
            if a.empty or b.empty:
                continue
            b = b.loc[a.index]
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = b["error_last_step"] / a["error_last_step"]
            rows.append({
                "effect": effect, "function": name, "table": int(group["table"].iloc[0]),
                "n_k": int(len(a)),
                "helps_search_step": float(np.mean(b["error_search_step"].to_numpy()
                                                   < a["error_search_step"].to_numpy())),
                "helps_last_step": float(np.mean(b["error_last_step"].to_numpy()
                                                 < a["error_last_step"].to_numpy())),
                "median_ratio_last_step": float(np.nanmedian(ratio.to_numpy())),
            })
    return pd.DataFrame(rows)


def k_specificity(function, ks, steps=None, k_tuned=None, search_step=None, errors=None):
    """Is a k tuned at one step count good at the others?

    From the error grid over (k, step) (computed with :func:`grid_errors`
    unless ``errors`` of shape ``(len(ks), steps + 1)`` is given) returns a
    DataFrame with one row per step N = 1..steps: the best k at N (``k_best``;
    NaN where the error does not depend on k),
    the best error, the error of ``k_tuned`` (default the paper's k) and of
    ``k_search`` (the grid's best k at ``search_step``), their ratio to the
    best error (``regret_*``), and ``k_tuned``'s rank-based percentile among
    the grid at N (0 = best).
    """
    ks = np.asarray(ks, dtype=np.float64)
    steps = function.max_steps if steps is None else int(steps)
    k_tuned = function.paper_k if k_tuned is None else k_tuned
    search_step = function.search_steps if search_step is None else search_step
    if errors is None:
        errors = grid_errors(function, ks, steps)
    errors = np.where(np.isfinite(errors), errors.astype(np.float64), np.inf)
    tuned = grid_errors(function, [k_tuned], steps)[0].astype(np.float64)
    i_search = int(np.argmin(errors[:, search_step]))
    rows = []
    for n in range(1, steps + 1):
        col = errors[:, n]
        i_best = int(np.argmin(col))
        finite = col[np.isfinite(col)]
        # no best k where the error does not depend on k (e.g. step 1 of the code)
        flat = finite.size and finite.max() - finite.min() <= 1e-6 * abs(finite.min())
        k_best, error_best = ks[i_best], col[i_best]
        if tuned[n] < error_best:  # the tuned k counts as a point of the grid
            k_best, error_best = k_tuned, tuned[n]
        rows.append({
            "function": function.name, "table": function.table, "step": n,
            "search_step": search_step, "k_best": np.nan if flat else k_best,
            "error_best": error_best,
            "k_tuned": k_tuned, "error_tuned": tuned[n],
            "regret_tuned": tuned[n] / error_best if error_best > 0 else np.nan,
            "k_search": ks[i_search], "error_search": col[i_search],
            "regret_search": col[i_search] / error_best if error_best > 0 else np.nan,
            "percentile_tuned": float(np.mean(col < tuned[n])),
        })
    return pd.DataFrame(rows)


def k_specificity_summary(spec, functions=test_functions.PAPER_FUNCTIONS):
    """One row per function from :func:`k_specificity` frames (concatenated).

    ``k_tuned`` and its error at the search step S and at the last step N;
    the grid's best k at S and at N; the tuned k's regret (error / best
    error) at S, at N and its worst over all steps; ``rise_after_search``:
    error of the tuned k at N divided by its error at S (> 1: the curve
    rises after the step it was tuned at); ``steps_within_10x``: the steps
    N at which the tuned k is within a factor 10 of the best k.
    """
    rows = []
    for f in functions:
        d = spec[spec["function"] == f.name].set_index("step")
        if d.empty:
            continue
        S = int(d["search_step"].iloc[0])
        N = int(d.index.max())
        rows.append({
            "function": f.name, "table": f.table, "k_tuned": float(d["k_tuned"].iloc[0]),
            "search_step": S, "last_step": N,
            "k_best_search_step": float(d.loc[S, "k_best"]),
            "k_best_last_step": float(d.loc[N, "k_best"]),
            "error_tuned_search_step": float(d.loc[S, "error_tuned"]),
            "error_tuned_last_step": float(d.loc[N, "error_tuned"]),
            "regret_search_step": float(d.loc[S, "regret_tuned"]),
            "regret_last_step": float(d.loc[N, "regret_tuned"]),
            "regret_max": float(d["regret_tuned"].max()),
            "rise_after_search": error_ratio(d.loc[N, "error_tuned"], d.loc[S, "error_tuned"]),
            "steps_within_10x": int((d["regret_tuned"] <= 10).sum()),
            "steps": int(len(d)),
        })
    return pd.DataFrame(rows)


def sensitivity_errors(frame, function, ks=None):
    """An error grid ``(len(ks), steps + 1)`` from a long sensitivity table.

    ``frame`` has columns ``function`` (or ``table``), ``k``, ``steps`` (or
    ``step``) and ``error``, e.g. the k-search notebook's sensitivity CSV.
    Column 0 (no update yet) is the start's error. Returns ``(ks, errors)``.
    """
    step_col = "steps" if "steps" in frame.columns else "step"
    part = frame[frame["function"] == function.name] if "function" in frame.columns \
        else frame[frame["table"] == function.table]
    wide = part.pivot_table(index="k", columns=step_col, values="error", aggfunc="first")
    wide = wide.sort_index()
    steps = int(wide.columns.max())
    errors = np.full((len(wide), steps + 1), np.nan)
    errors[:, 0] = float(function.error(np.asarray(function.start, dtype=np.float32)))
    for step in wide.columns:
        errors[:, int(step)] = wide[step].to_numpy()
    return wide.index.to_numpy(dtype=np.float64), errors


def read_sensitivity(tables_dir, quick=False):
    """Notebook 02's k-sensitivity table from ``tables_dir``; ``None`` in quick runs.

    A full run needs the table: without it a ``FileNotFoundError`` says to run
    notebook 02 first (quick runs compute their grid, see :func:`specificity_grids`).
    """
    from mamgd_paper.experiments.ksearch import search

    path = Path(tables_dir) / f"{search.SENSITIVITY_STEM}.csv"
    if quick:
        return None
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} not found: it is notebook 02's k-sensitivity table; run "
            "notebook 02 first (`make reproduce` does), or pass quick=True.")
    return pd.read_csv(path)


def grid_source(sensitivity):
    """Where the specificity grids come from, in words (for captions and the report)."""
    if sensitivity is None:
        return "computed here (mamgd_paper.experiments.ablation.ablation.grid_errors)"
    from mamgd_paper.experiments.ksearch import search

    return f"notebook 02's sensitivity table {search.SENSITIVITY_STEM}.csv"


def specificity_grids(sensitivity=None, quick=False, functions=test_functions.PAPER_FUNCTIONS):
    """Per function name: ``(ks, errors)``, the (k, step) error grid of :func:`k_specificity`.

    From notebook 02's ``sensitivity`` table where it has the function
    (:func:`sensitivity_errors`), else computed with :func:`grid_errors` on
    :func:`k_grid` of :data:`SPECIFICITY_GRID` (quick: :data:`QUICK_SPECIFICITY_GRID`).
    """
    grids = {}
    for f in functions:
        if sensitivity is not None and f.name in set(sensitivity["function"]):
            grids[f.name] = sensitivity_errors(sensitivity, f)
        else:
            ks = k_grid(QUICK_SPECIFICITY_GRID if quick else SPECIFICITY_GRID)
            grids[f.name] = (ks, grid_errors(f, ks))
    return grids


def specificity_tables(grids, source, functions=test_functions.PAPER_FUNCTIONS):
    """``(spec, summary)``: :func:`k_specificity` of every function on its grid
    (concatenated) and its :func:`k_specificity_summary`, whose first column
    ``grid_source`` is ``source``."""
    spec = pd.concat([k_specificity(f, grids[f.name][0], errors=grids[f.name][1])
                      for f in functions], ignore_index=True)
    summary = k_specificity_summary(spec, functions)
    summary.insert(0, "grid_source", source)
    return spec, summary
