"""The curvature-term ablation (notebook 09): file names and the runs on the test functions.

The rule with every code-vs-paper difference as a switch is
:mod:`mamgd_paper.experiments.ablation.switched`; the optimizers and their
labels come from :mod:`mamgd_paper.paper.registry`. This module holds the
file stems of notebook 09's tables and figures, the float32 runs everything
else builds on (:func:`run_errors`, :func:`grid_errors`) and the ablation on
the test functions at the paper's k: error curves (:func:`function_errors`,
:func:`function_summary`), the single effects (:func:`compare_pairs`,
:data:`FUNCTION_EFFECTS`, :func:`effect_counts`, :func:`effect_line`) and
the step length (:func:`step_length_summary`).

The other parts of the ablation have their own modules in this package:
:mod:`~mamgd_paper.experiments.ablation.differences` (each difference on
Tables 1-6), :mod:`~mamgd_paper.experiments.ablation.k_range` (a range of k,
how specific the tuned k is), :mod:`~mamgd_paper.experiments.ablation.warmup`
(the missing square root), :mod:`~mamgd_paper.experiments.ablation.network_runs`
(the network tasks) and :mod:`~mamgd_paper.experiments.ablation.figures`.

Paper: Sakovich et al., "MAMGD: Gradient-Based Optimization Method Using
Exponential Decay", Technologies 12(9):154, 2024, doi:10.3390/technologies12090154.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from mamgd import functions as test_functions
from mamgd import reference
from mamgd_paper.experiments.ablation.switched import AUTHORS_CODE, mamgd_switched
from mamgd_paper.paper import registry

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
    path = reference.run(optimizer, function, function.start if start is None else start,
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
FUNCTION_OPTIMIZERS = (registry.CODE, registry.ALGORITHM6_LABEL, registry.ADAEXP,
                       registry.ADAM, registry.AMSGRAD, registry.CODE_K0, registry.CODE_CURVATURE,
                       registry.CODE_SQRT, registry.ALGORITHM6_NO_CURVATURE)


def function_errors(functions=test_functions.PAPER_FUNCTIONS, optimizers=None, steps=None):
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
                err = run_errors(registry.reference_optimizer(name, 0.1, f.paper_k), f, n)
            rows.append(pd.DataFrame({"function": f.name, "table": f.table,
                                      "optimizer": name, "step": np.arange(n + 1),
                                      "error": err.astype(np.float64)}))
    return pd.concat(rows, ignore_index=True)


def function_summary(curves, functions=test_functions.PAPER_FUNCTIONS):
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


def error_ratio(a, b):
    return float(a / b) if b > 0 else (1.0 if a == b else np.inf)



def compare_pairs(curves, pairs, functions=test_functions.PAPER_FUNCTIONS):
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
                "ratio_search_step": error_ratio(b[S], a[S]),
                "error_without_last_step": float(a[N]), "error_with_last_step": float(b[N]),
                "ratio_last_step": error_ratio(b[N], a[N]),
                "mean_log10_ratio": float(np.nanmean(logs)),
            })
    return pd.DataFrame(rows)


#: The effects the ablation measures on the test functions: (without, with).
FUNCTION_EFFECTS = {
    "curvature (code)": (registry.CODE, registry.CODE_CURVATURE),
    "curvature (Algorithm 6)": (registry.ALGORITHM6_NO_CURVATURE, registry.ALGORITHM6_LABEL),
    "decay (MAMGD code, k = 0 -> paper k)": (registry.CODE_K0, registry.CODE),
    "decay (Adam -> AdaExp, paper k)": (registry.ADAM, registry.ADAEXP),
    "square root (code -> code + sqrt)": (registry.CODE, registry.CODE_SQRT),
    "all differences (code -> Algorithm 6)": (registry.CODE, registry.ALGORITHM6_LABEL),
}


class EffectCount(NamedTuple):
    """On how many test functions one change lowers the error (from :func:`compare_pairs`)."""

    functions: int
    helps_search_step: int
    helps_last_step: int


def effect_counts(effects, effect):
    """:class:`EffectCount` of ``effect`` in a :func:`compare_pairs` frame.

    ``functions``: the rows (functions) of the effect; ``helps_search_step``
    / ``helps_last_step``: those whose error ratio (with / without the
    change) is below 1 at the search step / at the last step.
    """
    rows = effects[effects["effect"] == effect]
    return EffectCount(functions=int(len(rows)),
                       helps_search_step=int((rows["ratio_search_step"] < 1).sum()),
                       helps_last_step=int((rows["ratio_last_step"] < 1).sum()))


def effect_line(effects, effect):
    """One sentence on ``effect``: on how many functions it helps, and its ratios.

    From a :func:`compare_pairs` frame: the counts of :func:`effect_counts`
    and the error ratio (with / without) at the last step per function, 3
    significant digits.
    """
    rows = effects[effects["effect"] == effect]
    count = effect_counts(effects, effect)
    return (f"{effect}: lowers the error on {count.helps_search_step}/{count.functions} "
            f"functions at the search step, {count.helps_last_step}/{count.functions} at "
            "the last step; error ratio (with/without) at the last step "
            + ", ".join(f"{r.function} {r.ratio_last_step:.3g}" for r in rows.itertuples()))


def step_over_lr(function, k=None, steps=None, switches=AUTHORS_CODE, learning_rate=0.1):
    """|theta_t - theta_{t-1}| / lr per coordinate and step (the effective step length).

    With the tuned k (~2.4 on Tables 1-2) the betas are ~0 after two steps,
    m ~ g and sqrt(n) ~ |g|: the code then moves each coordinate by ~lr per
    step (sign descent). Returns an array ``(steps, dim)``.
    """
    k = function.paper_k if k is None else k
    steps = function.max_steps if steps is None else steps
    path = reference.run(mamgd_switched(learning_rate, k=k, switches=switches), function,
                 function.start, steps).astype(np.float64)
    return np.abs(np.diff(path, axis=0)) / learning_rate


def step_length_summary(functions=test_functions.PAPER_FUNCTIONS, level=0.95):
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
