"""The curvature-term ablation (notebook 09): what each code-vs-paper difference does.

The rule with every difference as a switch is :mod:`mamgd_paper.experiments.ablation.switched`; the
optimizers and their labels come from :mod:`mamgd_paper.paper.registry`. This module
runs them:

* on the test functions: error curves at the paper's k
  (:func:`function_errors`, :func:`function_summary`), every switch setting
  cell by cell against Tables 1-6 (:func:`difference_study`), a range of k
  (:func:`k_range_study`, :func:`k_range_effects`), how specific the tuned k
  is to its step count (:func:`k_specificity`), the step length
  (:func:`step_length_summary`);
* the learning-rate warm-up hidden in the missing square root
  (:func:`warmup_factors`, :func:`warmup_summary`);
* on the paper's network tasks (:func:`network_ablation`, through
  :mod:`mamgd_paper.experiments.networks.networks`).

The figures are in :mod:`mamgd_paper.experiments.ablation.figures`; the file names of the
tables written by notebook 09 are the ``*_STEM`` constants below.

Paper: Sakovich et al., "MAMGD: Gradient-Based Optimization Method Using
Exponential Decay", Technologies 12(9):154, 2024, doi:10.3390/technologies12090154.
"""

from __future__ import annotations


import numpy as np
import pandas as pd

from mamgd_paper.experiments.networks import networks
from mamgd_paper.paper import published as paper
from mamgd_paper.paper import registry as reg
from mamgd_paper.experiments.ablation.switched import (ALGORITHM6, AUTHORS_CODE, CONFIGURATIONS, Switches,
                                mamgd_switched)
from mamgd import functions as F
from mamgd import reference as R



#: File stems of notebook 09's tables (under figures/tables) and figures (under
#: figures/); the report reads the tables by these names.
DIFFERENCES_STEM = "ablation_differences"
DIFFERENCES_CELLS_STEM = "ablation_differences_cells"
DIFFERENCES_PER_TABLE_STEM = "ablation_differences_per_table"
EFFECTS_STEM = "ablation_effects"
FUNCTION_CURVES_STEM = "ablation_function_curves"
FUNCTIONS_STEM = "ablation_functions"
K_RANGE_STEM = "ablation_k_range"
K_RANGE_EFFECTS_STEM = "ablation_k_range_effects"
K_SPECIFICITY_STEM = "ablation_k_specificity"
K_SPECIFICITY_SUMMARY_STEM = "ablation_k_specificity_summary"
NETWORKS_STEM = "ablation_networks"
NETWORKS_HISTORY_STEM = "ablation_networks_history"
STEP_LENGTH_STEM = "ablation_step_length"
WARMUP_STEM = "ablation_warmup"


def run_errors(optimizer, function, steps=None, start=None, dtype=np.float32):
    """The paper's error after 0..steps updates of ``optimizer`` on ``function``.

    One :func:`mamgd.reference.run` (float32 by default) and the float32 error
    of every row, exactly as the golden test of Tables 1-6 computes it.
    """
    steps = function.max_steps if steps is None else int(steps)
    path = R.run(optimizer, function, function.start if start is None else start,
                 steps, dtype=dtype)
    return np.asarray(function.error(path.T), dtype=dtype)


def grid_errors(function, ks, steps=None, switches=AUTHORS_CODE, learning_rate=0.1,
                dtype=np.float32):
    """Error after 0..steps updates for every k of ``ks`` at once: ``(K, steps + 1)``.

    Vectorised over k (one NumPy array op per update for the whole grid). The
    gradient is evaluated on arrays, so a cell can differ from the scalar run
    of :func:`run_errors` in the last bit (NumPy's array ``power`` may round
    differently from its scalar one); use :func:`run_errors` for table cells.
    """
    dt = np.dtype(dtype)
    ks = np.asarray(ks, dtype=np.float64).reshape(-1)
    steps = function.max_steps if steps is None else int(steps)
    opt = mamgd_switched(learning_rate, k=ks, switches=switches, dtype=dt)
    x = np.tile(np.asarray(function.start, dtype=dt), (ks.size, 1))
    state = opt.init(x)
    errors = np.empty((ks.size, steps + 1), dtype=dt)
    errors[:, 0] = function.error(x.T)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for i in range(1, steps + 1):
            grad = np.stack([np.asarray(gi, dtype=dt) * np.ones(ks.size, dt)
                             for gi in function.gradient(x.T)], axis=-1)
            x, state = opt.update(x, grad, state)
            errors[:, i] = function.error(x.T)
    return errors


#: Optimizers of the function ablation (labels of :mod:`mamgd_paper.paper.registry`),
#: each at learning rate 0.1 and, where it decays, the function's paper k.
FUNCTION_OPTIMIZERS = (reg.CODE, reg.ALGORITHM6_LABEL, reg.ADAEXP, reg.ADAM, reg.AMSGRAD,
                       reg.CODE_K0, reg.CODE_CURVATURE, reg.CODE_SQRT,
                       reg.ALGORITHM6_NO_CURVATURE)


def function_errors(functions=F.PAPER_FUNCTIONS, optimizers=None, steps=None):
    """Error curves of the ablation's optimizers on the test functions (paper k).

    Returns a long DataFrame ``function, table, optimizer, step, error``
    (steps 0..``max_steps`` of each function unless ``steps`` is given).
    """
    optimizers = FUNCTION_OPTIMIZERS if optimizers is None else optimizers
    rows = []
    for f in functions:
        n = f.max_steps if steps is None else steps
        for name in optimizers:
            with np.errstate(over="ignore", invalid="ignore"):
                err = run_errors(reg.reference_optimizer(name, 0.1, f.paper_k), f, n)
            rows.append(pd.DataFrame({"function": f.name, "table": f.table,
                                      "optimizer": name, "step": np.arange(n + 1),
                                      "error": err.astype(np.float64)}))
    return pd.concat(rows, ignore_index=True)


def function_summary(curves, functions=F.PAPER_FUNCTIONS):
    """Per function and optimizer, from :func:`function_errors`: the error one
    step before, at and after the search step S, at the last step N, the best
    error over steps 1..N, and the largest error over the even and over the
    odd steps of the second half (the paper's tables show even steps only).
    """
    rows = []
    for f in functions:
        cf = curves[curves["function"] == f.name]
        S, N = f.search_steps, f.max_steps
        half = np.arange(N // 2 + 1, N + 1)
        for name, c in cf.groupby("optimizer", sort=False):
            e = c.set_index("step")["error"]
            finite = e[1:][np.isfinite(e[1:])]
            rows.append({
                "function": f.name, "table": f.table, "optimizer": name,
                "search_step": S, "last_step": N,
                "error_before_search_step": float(e[S - 1]),
                "error_search_step": float(e[S]), "error_after_search_step": float(e[S + 1]),
                "error_last_step": float(e[N]),
                "best_error": float(finite.min()) if len(finite) else np.nan,
                "max_error_even_steps_second_half": float(e[half[half % 2 == 0]].max()),
                "max_error_odd_steps_second_half": float(e[half[half % 2 == 1]].max()),
            })
    return pd.DataFrame(rows)


def difference_study(configurations=None, functions=F.PAPER_FUNCTIONS):
    """Every switch setting on Tables 1-6, cell by cell (MAMGD column, paper k).

    Returns a long DataFrame ``configuration, switches, table, epoch, paper,
    code, value, match, change`` over the 95 published MAMGD cells, where
    ``code`` is the authors'-code value, ``value`` the switched rule's,
    ``match`` whether ``"%.6f" % value`` equals the paper and ``change`` is
    ``|value - code|``.
    """
    configurations = CONFIGURATIONS if configurations is None else configurations
    published = paper.load_paper_tables()
    published = published[(published["table"] <= 6) & (published["optimizer"] == "MAMGD")]
    rows = []
    for f in functions:
        cells = published[published["table"] == f.table]
        epochs = cells["epoch"].to_numpy()
        code = run_errors(mamgd_switched(0.1, k=f.paper_k), f)[epochs].astype(np.float64)
        for name, sw in configurations.items():
            with np.errstate(over="ignore", invalid="ignore"):
                err = run_errors(mamgd_switched(0.1, k=f.paper_k, switches=sw), f)
            value = err[epochs].astype(np.float64)
            rows.append(pd.DataFrame({
                "configuration": name, "switches": sw.label(), "table": f.table,
                "epoch": epochs, "paper": cells["loss"].to_numpy(), "code": code,
                "value": value, "match": paper.as_printed(value) == cells["loss"].to_numpy(),
                "change": np.abs(value - code),
            }))
    return pd.concat(rows, ignore_index=True)


def baseline_matches(functions=F.PAPER_FUNCTIONS):
    """How many of the 365 non-MAMGD cells of Tables 1-6 the references match."""
    published = paper.load_paper_tables()
    published = published[(published["table"] <= 6) & (published["optimizer"] != "MAMGD")]
    matched = 0
    for f in functions:
        for column in f.optimizers:
            if column == "MAMGD":
                continue
            cells = published[(published["table"] == f.table)
                              & (published["optimizer"] == column)]
            err = run_errors(reg.paper_column(column, f), f)
            matched += int((paper.as_printed(err[cells["epoch"].to_numpy()])
                            == cells["loss"].to_numpy()).sum())
    return matched, len(published)


def summarise_differences(study, baseline_matched=365):
    """Per configuration: cells matching (of 460 and of 95), mean/max change.

    Returns ``(overall, per_table)``: ``overall`` has one row per configuration
    (``match_460, match_mamgd_95, mean_abs_change, max_abs_change``),
    ``per_table`` one row per configuration and table.
    """
    per_table = (study.groupby(["configuration", "table"], sort=False)
                 .agg(switches=("switches", "first"), cells=("match", "size"),
                      match=("match", "sum"), mean_abs_change=("change", "mean"),
                      max_abs_change=("change", "max"))
                 .reset_index())
    overall = (study.groupby("configuration", sort=False)
               .agg(switches=("switches", "first"), match_mamgd_95=("match", "sum"),
                    mean_abs_change=("change", "mean"), max_abs_change=("change", "max"))
               .reset_index())
    overall.insert(2, "match_460", overall["match_mamgd_95"] + int(baseline_matched))
    for frame in (overall, per_table):
        for col in frame.columns:
            if col in ("match", "match_mamgd_95", "match_460", "cells"):
                frame[col] = frame[col].astype(int)
    return overall, per_table


def warmup_factors(steps, k=0.0, beta_1=0.9, beta_2=0.999, exponent_offset=1):
    """Step-size multipliers over t = 1..steps (float64).

    ``mamgd``: (1 - b2^t)/(1 - b1^t) (the code's factor, no square root);
    ``adam``: sqrt(1 - b2^t)/(1 - b1^t); ``ratio`` = mamgd / adam =
    sqrt(1 - b2^t), the warm-up the missing square root adds. The betas decay
    as exp(-k (t - exponent_offset)) (1: the code; 0: Algorithm 6 / AdaExp).
    """
    t = np.arange(1, int(steps) + 1, dtype=np.float64)
    decay = np.exp(-k * (t - exponent_offset))
    b1, b2 = beta_1 * decay, beta_2 * decay
    c1, c2 = 1 - b1**t, 1 - b2**t
    return pd.DataFrame({"t": t.astype(int), "k": k, "mamgd": c2 / c1,
                         "adam": np.sqrt(c2) / c1, "ratio": np.sqrt(c2)})


def warmup_length(k=0.0, level=0.5, beta_2=0.999, max_steps=10**7):
    """First t at which the warm-up ratio sqrt(1 - b2^t) reaches ``level``."""
    lo, hi = 1, 1
    ratio = lambda t: np.sqrt(1 - (beta_2 * np.exp(-k * (t - 1))) ** t)  # noqa: E731
    while ratio(hi) < level:
        lo, hi = hi, hi * 2
        if hi > max_steps:
            return None
    while lo < hi:
        mid = (lo + hi) // 2
        if ratio(mid) >= level:
            hi = mid
        else:
            lo = mid + 1
    return int(lo)


#: Switched-rule optimizers run vectorised over the k grid of :func:`k_range_study`.
K_RANGE_CONFIGS = {label: reg.get(label).switches for label in (
    reg.CODE, reg.ALGORITHM6_LABEL, reg.CODE_CURVATURE, reg.ALGORITHM6_NO_CURVATURE,
    reg.CODE_SQRT)}


def k_range_study(ks, functions=F.PAPER_FUNCTIONS, configs=None):
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
            curves[reg.ADAEXP] = np.stack([run_errors(R.adaexp(0.1, k=k), f, N) for k in ks])
            # float64 AdaExp: its Keras-form update v + (g^2 - v)(1 - b2) cancels in
            # float32 once b2 ~ 0 (large k), see mamgd.reference.adaexp
            curves[reg.ADAEXP_FLOAT64] = np.stack([
                run_errors(R.adaexp(0.1, k=k), f, N, dtype=np.float64) for k in ks])
            adam = run_errors(R.adam(0.1), f, N)
            ams = run_errors(R.amsgrad(0.1), f, N)
        curves[reg.ADAM] = np.tile(adam, (ks.size, 1))
        curves[reg.AMSGRAD] = np.tile(ams, (ks.size, 1))
        for name, err in curves.items():
            err = err.astype(np.float64)
            finite = np.where(np.isfinite(err[:, 1:]), err[:, 1:], np.inf)
            rows.append(pd.DataFrame({
                "function": f.name, "table": f.table, "optimizer": name, "k": ks,
                "search_step": S, "last_step": N, "error_search_step": err[:, S],
                "error_last_step": err[:, N], "best_error": finite.min(axis=1),
            }))
    return pd.concat(rows, ignore_index=True)


def _ratio(a, b):
    return float(a / b) if b > 0 else (1.0 if a == b else np.inf)


def compare_pairs(curves, pairs, functions=F.PAPER_FUNCTIONS):
    """Effect of one change on the test functions, from :func:`function_errors`.

    ``pairs``: ``{effect name: (without, with)}`` optimizer names. Returns one
    row per effect and function: the error without and with the change at the
    search step and at the last step, their ratios (with / without; < 1: the
    change helps), and ``mean_log10_ratio`` (mean over steps 1..N of
    log10(with / without)).
    """
    rows = []
    for effect, (without, with_) in pairs.items():
        for f in functions:
            cf = curves[curves["function"] == f.name]
            a = cf[cf["optimizer"] == without].set_index("step")["error"]
            b = cf[cf["optimizer"] == with_].set_index("step")["error"]
            S, N = f.search_steps, f.max_steps
            steps = np.arange(1, N + 1)
            with np.errstate(divide="ignore", invalid="ignore"):
                logs = np.log10(np.maximum(b[steps].to_numpy(), 1e-30)
                                / np.maximum(a[steps].to_numpy(), 1e-30))
            rows.append({
                "effect": effect, "without": without, "with": with_,
                "function": f.name, "table": f.table, "search_step": S, "last_step": N,
                "error_without_search_step": float(a[S]),
                "error_with_search_step": float(b[S]),
                "ratio_search_step": _ratio(b[S], a[S]),
                "error_without_last_step": float(a[N]), "error_with_last_step": float(b[N]),
                "ratio_last_step": _ratio(b[N], a[N]),
                "mean_log10_ratio": float(np.nanmean(logs)),
            })
    return pd.DataFrame(rows)


#: The effects the ablation measures on the test functions: (without, with).
FUNCTION_EFFECTS = {
    "curvature (code)": (reg.CODE, reg.CODE_CURVATURE),
    "curvature (Algorithm 6)": (reg.ALGORITHM6_NO_CURVATURE, reg.ALGORITHM6_LABEL),
    "decay (MAMGD code, k = 0 -> paper k)": (reg.CODE_K0, reg.CODE),
    "decay (Adam -> AdaExp, paper k)": (reg.ADAM, reg.ADAEXP),
    "square root (code -> code + sqrt)": (reg.CODE, reg.CODE_SQRT),
    "all differences (code -> Algorithm 6)": (reg.CODE, reg.ALGORITHM6_LABEL),
}
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


def k_specificity_summary(spec, functions=F.PAPER_FUNCTIONS):
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
            "rise_after_search": _ratio(d.loc[N, "error_tuned"], d.loc[S, "error_tuned"]),
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


def warmup_summary(ks, levels=(0.5, 0.9, 0.99), beta_1=0.9, beta_2=0.999):
    """Per k: the code's and Adam's step multipliers at t = 1 and the warm-up length.

    ``steps_to_<level>``: first t at which sqrt(1 - b2^t) (the code's step /
    Adam's step) reaches ``level`` (b2 decayed as in the code).
    """
    rows = []
    for k in ks:
        first = warmup_factors(1, k, beta_1, beta_2).iloc[0]
        row = {"k": float(k), "mamgd_t1": float(first["mamgd"]),
               "adam_t1": float(first["adam"]), "ratio_t1": float(first["ratio"])}
        for level in levels:
            row[f"steps_to_{level:g}"] = warmup_length(k, level, beta_2)
        rows.append(row)
    return pd.DataFrame(rows)


def step_over_lr(function, k=None, steps=None, switches=AUTHORS_CODE, learning_rate=0.1):
    """|theta_t - theta_{t-1}| / lr per coordinate and step (the effective step length).

    With the tuned k (~2.4 on Tables 1-2) the betas are ~0 after two steps,
    m ~ g and sqrt(n) ~ |g|: the code then moves each coordinate by ~lr per
    step (sign descent). Returns an array ``(steps, dim)``.
    """
    k = function.paper_k if k is None else k
    steps = function.max_steps if steps is None else steps
    path = R.run(mamgd_switched(learning_rate, k=k, switches=switches), function,
                 function.start, steps).astype(np.float64)
    return np.abs(np.diff(path, axis=0)) / learning_rate


def step_length_summary(functions=F.PAPER_FUNCTIONS, level=0.95):
    """Per function (authors' code, paper k, lr 0.1): |step| / lr at t = 1 and 2, the
    first step from which every step is at least ``level`` lr long (sign descent),
    and the median |step| / lr over the steps after the search step."""
    rows = []
    for f in functions:
        ratio = step_over_lr(f).mean(axis=1)
        long_ = ratio >= level
        first = next((i + 1 for i in range(len(ratio)) if long_[i:].all()), None)
        rows.append({"function": f.name, "table": f.table, "k": f.paper_k,
                     "step_1_over_lr": float(ratio[0]), "step_2_over_lr": float(ratio[1]),
                     f"first_step_all_ge_{level:g}": first,
                     "median_over_lr_after_search_step":
                         float(np.median(ratio[f.search_steps:]))})
    return pd.DataFrame(rows)


#: The network ablation's optimizers (registry labels; lr 1e-3, k = the table's MAMGD k).
NETWORK_CONFIGS = (reg.CODE, reg.ALGORITHM6_LABEL, reg.ADAEXP, reg.ADAM, reg.AMSGRAD,
                   reg.CODE_CURVATURE, reg.CODE_SQRT, reg.CODE_K0)


def network_ablation(table=7, seeds=(0,), configs=NETWORK_CONFIGS, epochs=None,
                     quick=False, data_dir=None, data=None, verbose=0, cache_dir=None):
    """Train the ablation's optimizers on one of the paper's network tasks.

    Uses :mod:`mamgd_paper.experiments.networks.networks` (the same models, data, batches, initial weights
    per seed and determinism as the Tables 7-11 runs). Returns ``(history,
    info)``: the long history (``table, seed, optimizer, epoch`` + the task's
    columns) and a dict with the task, epochs, k, sizes and seconds; history is
    ``None`` and ``info["reason"]`` set when the data are not available.
    ``cache_dir``: finished runs to reuse (:func:`mamgd_paper.experiments.networks.networks.train_seeds`;
    the network notebooks' MAMGD and Adam runs have the same keys).
    """
    task = networks.TASKS[int(table)]
    epochs = (min(task.epochs, networks.QUICK_EPOCHS) if quick else task.epochs) \
        if epochs is None else int(epochs)
    info = {"table": task.table, "task": task.title, "k": task.k, "epochs": epochs,
            "seeds": list(seeds), "batch_size": task.batch_size, "seconds": {}}
    if data is None:
        status = task.is_available(data_dir)  # (available, reason[, detail])
        if not status[0]:
            info["reason"] = status[1]
            return None, info
        data = task.prepare(task.load(data_dir), quick=quick)
    info["sizes"] = data.sizes()
    specs = [networks.OptimizerSpec(label, (("learning_rate", networks.LEARNING_RATE),
                                            ("k", task.k)))
             for label in configs]
    history, info["seconds"] = networks.train_seeds(task, data, specs, [int(s) for s in seeds],
                                                    epochs, verbose=verbose,
                                                    cache_dir=cache_dir)
    history.insert(0, "table", task.table)
    return history, info


def network_summary(history, reference=reg.CODE):
    """Per table and optimizer: final-epoch training and validation loss over seeds.

    Columns ``table, optimizer, n_seeds, final_loss_mean, final_loss_min,
    final_loss_max, final_val_loss_mean, change_vs_reference`` (relative
    change of the mean final training loss against ``reference``) and
    ``wins_vs_reference`` (seeds whose final training loss is below the
    reference's for the same seed).
    """
    rows = []
    for table, runs in history.groupby("table", sort=False):
        last = runs[runs["epoch"] == runs["epoch"].max()]
        ref = last[last["optimizer"] == reference].set_index("seed")["loss"]
        for name, group in last.groupby("optimizer", sort=False):
            per_seed = group.set_index("seed")["loss"]
            common = per_seed.index.intersection(ref.index)
            rows.append({
                "table": int(table), "optimizer": name, "n_seeds": int(len(group)),
                "final_loss_mean": float(group["loss"].mean()),
                "final_loss_min": float(group["loss"].min()),
                "final_loss_max": float(group["loss"].max()),
                "final_val_loss_mean": float(group["val_loss"].mean()),
                "change_vs_reference": float(group["loss"].mean() / ref.mean() - 1)
                if len(ref) else np.nan,
                "wins_vs_reference": int((per_seed[common] < ref[common]).sum()),
            })
    return pd.DataFrame(rows)

