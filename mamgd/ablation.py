"""The curvature-term ablation: every code-vs-paper difference of MAMGD as a switch.

The published numbers come from the authors' code (PROTOCOL.md sec. 1); the
paper prints Algorithm 6 (sec. 2). They differ in five places. This module
implements one parametrised MAMGD rule, :func:`mamgd_switched`, in which each
difference is a boolean :class:`Switches` field, so that its effect can be
measured one at a time:

==================  =========================================================
switch              what it changes (off = authors' code, on = paper)
==================  =========================================================
``decay_exponent``  betas decayed with ``exp(-k t)`` instead of ``exp(-k (t-1))``
``correction_form`` bias correction applied to the moments, ``m / (1 - b1^t)``
                    and ``a / (1 - b2^t)``, instead of the step-size factor
                    ``(1 - b2^t) / (1 - b1^t)``; epsilon is kept where the code
                    has it (``eps / (1 - b2^t)`` added to ``a_hat``), so in
                    exact arithmetic this changes nothing: only float32 rounding
``epsilon``         epsilon added after the bias correction (``a_hat + eps``)
                    instead of before it (``sqrt(n) + eps``)
``curvature``       the live curvature term
                    ``c = ((g - g_prev) / (theta - theta_prev + eps))^2`` (0 at
                    t = 1) in ``a = sqrt(c + n)``; identically 0 in the code
``listing_betas``   the *undecayed* betas in the moment updates, as Algorithm
                    6's listing prints them (its text, the code and
                    ``reference.mamgd(variant="algorithm6")`` use the decayed
                    ones); the bias corrections keep the decayed betas
==================  =========================================================

plus two variants that neither the code nor the paper has:

``adam_sqrt``       Adam's ``sqrt(1 - b2^t)`` instead of ``1 - b2^t``. Both the
                    code and Algorithm 6 divide ``sqrt(n)`` (not ``n``) by
                    ``1 - b2^t``, so both lack Adam's square root; without it
                    the step is ``sqrt(1 - b2^t)`` times Adam's, a learning-rate
                    warm-up that starts at ``sqrt(1 - beta_2) = 0.032`` (k = 0).
``curvature_from_zero`` (with ``curvature``) the previous-step slots start at 0,
                    so ``c = (g_1 / theta_0)^2`` at t = 1: the authors' code
                    with its slots read before they are overwritten (Table 1,
                    N = 2: 2.017627; with c = 0 at t = 1: 2.009200).

All switches off is ``reference.mamgd(variant="authors_code")`` bit for bit;
``decay_exponent``, ``correction_form``, ``epsilon`` and ``curvature`` on is
``reference.mamgd(variant="algorithm6")`` bit for bit (``tests/test_ablation.py``).
The float32 arithmetic follows :mod:`mamgd.reference` operation for operation.

``k`` may be an array of shape ``(K,)``: the parameters then have shape
``(K, dim)`` and row i is run with ``k[i]`` (one vectorised run over a grid of
k, see :func:`grid_errors`).

The rest of the module is the experiment code of notebook 09: runs on the test
functions (:func:`function_errors`, :func:`difference_study`,
:func:`k_range_study`, :func:`k_specificity`), the warm-up factors
(:func:`warmup_factors`), and the network runs (:func:`network_ablation`,
with the Keras counterpart of the switched rule, :func:`keras_optimizer`).

Paper: Sakovich et al., "MAMGD: Gradient-Based Optimization Method Using
Exponential Decay", Technologies 12(9):154, 2024, doi:10.3390/technologies12090154.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Dict, NamedTuple, Optional, Sequence

import numpy as np
import pandas as pd

from mamgd import functions as F
from mamgd import paper as paper_module
from mamgd import reference as R
from mamgd.reference import _exp, _pow, _resolve_dtype, _scalar

__all__ = [
    "Switches",
    "AUTHORS_CODE",
    "ALGORITHM6",
    "DIFFERENCES",
    "COUNTERFACTUALS",
    "CONFIGURATIONS",
    "SwitchedState",
    "mamgd_switched",
    "run_errors",
    "grid_errors",
    "function_errors",
    "difference_study",
    "summarise_differences",
    "warmup_factors",
    "k_range_study",
    "k_specificity",
    "keras_optimizer",
    "NetworkConfig",
    "NETWORK_CONFIGS",
    "network_ablation",
    "network_summary",
]


@dataclass(frozen=True)
class Switches:
    """Which of the code-vs-paper differences are switched to the paper's side."""

    decay_exponent: bool = False
    correction_form: bool = False
    epsilon: bool = False
    curvature: bool = False
    listing_betas: bool = False
    adam_sqrt: bool = False
    curvature_from_zero: bool = False

    def on(self):
        """Names of the switches that are on."""
        return tuple(f.name for f in dataclasses.fields(self) if getattr(self, f.name))

    def label(self):
        return "+".join(self.on()) or "none"

    def replace(self, **changes):
        return dataclasses.replace(self, **changes)


#: The rule that produced the published numbers (all switches off).
AUTHORS_CODE = Switches()
#: Algorithm 6 as the paper's text describes it (= reference "algorithm6").
ALGORITHM6 = Switches(decay_exponent=True, correction_form=True, epsilon=True, curvature=True)

#: The code-vs-paper differences (PROTOCOL.md sec. 2), with one-line descriptions.
DIFFERENCES: Dict[str, str] = {
    "decay_exponent": "decay exp(-k t) instead of exp(-k (t-1))",
    "correction_form": "bias correction on m and a (Algorithm 6's form) instead of a "
                       "step-size factor; epsilon kept where the code has it",
    "epsilon": "epsilon added after the bias correction (a_hat + eps) instead of "
               "to sqrt(n)",
    "curvature": "live curvature term c = ((g - g_prev)/(theta - theta_prev + eps))^2",
    "listing_betas": "undecayed betas in the moment updates (Algorithm 6's listing "
                     "as printed)",
}
#: Switches that neither the code nor the paper has.
COUNTERFACTUALS: Dict[str, str] = {
    "adam_sqrt": "Adam's sqrt(1 - b2^t) bias correction (no learning-rate warm-up)",
    "curvature_from_zero": "with curvature: the previous-step slots start at 0, so "
                           "c = (g_1 / theta_0)^2 at t = 1 (the authors' code with its "
                           "slots read before they are overwritten)",
}


def _configurations():
    """Named switch settings of the ablation, in report order."""
    configs = {"authors_code": AUTHORS_CODE}
    for name in DIFFERENCES:
        configs[f"code+{name}"] = AUTHORS_CODE.replace(**{name: True})
    configs["algorithm6"] = ALGORITHM6
    for name in ("decay_exponent", "correction_form", "epsilon", "curvature"):
        configs[f"algorithm6-{name}"] = ALGORITHM6.replace(**{name: False})
    configs["algorithm6+listing_betas"] = ALGORITHM6.replace(listing_betas=True)
    configs["code+curvature_from_zero"] = AUTHORS_CODE.replace(
        curvature=True, curvature_from_zero=True)
    configs["code+adam_sqrt"] = AUTHORS_CODE.replace(adam_sqrt=True)
    configs["algorithm6+adam_sqrt"] = ALGORITHM6.replace(adam_sqrt=True)
    return configs


#: Every switch setting the ablation reports: the code, each difference alone,
#: Algorithm 6, Algorithm 6 without each of its four differences, the literal
#: listing, and the counterfactual square root on both.
CONFIGURATIONS: Dict[str, Switches] = _configurations()


class SwitchedState(NamedTuple):
    count: np.ndarray
    m: np.ndarray
    n: np.ndarray
    theta_prev: np.ndarray
    g_prev: np.ndarray


def mamgd_switched(
    learning_rate: float = 0.001,
    beta_1: float = 0.9,
    beta_2: float = 0.999,
    k=0.0,
    epsilon: float = 1e-7,
    switches: Switches = AUTHORS_CODE,
    *,
    dtype=None,
) -> R.Optimizer:
    """MAMGD with every code-vs-paper difference as a switch (NumPy, any float dtype).

    Step t = 1, 2, ... (``s = t`` with ``decay_exponent``, else ``t - 1``)::

        decay = exp(-k s);  b1 = beta_1 decay;  b2 = beta_2 decay
        (B1, B2) = (beta_1, beta_2) with listing_betas, else (b1, b2)
        m = B1 m + (1 - B1) g;   n = B2 n + (1 - B2) g^2
        a = sqrt(c + n)   with curvature (c = 0 at t = 1), else sqrt(n)
        C1 = 1 - b1^t;   C2 = sqrt(1 - b2^t) with adam_sqrt, else 1 - b2^t
        correction_form:  theta -= (lr m/C1) / (a/C2 + E),  E = eps   (epsilon)
                                                            E = eps/C2 (otherwise)
        otherwise:        theta -= ((lr C2)/C1 m) / (a + E), E = eps C2 (epsilon)
                                                            E = eps    (otherwise)

    Returns a :class:`mamgd.reference.Optimizer` (``init`` / ``update``), so
    :func:`mamgd.reference.run` drives it. With an array ``k`` of shape
    ``(K,)`` the parameters must have shape ``(K, dim)``.
    """
    sw = switches
    k_is_array = np.ndim(k) > 0

    def init(params):
        dt = _resolve_dtype(dtype, params)
        z = np.zeros(np.shape(params), dt)
        return SwitchedState(R._count(0), z, z.copy(), z.copy(), z.copy())

    def update(params, grads, state):
        dt = _resolve_dtype(dtype, params)
        theta = R._arr(params, dt)
        g = R._arr(grads, dt)
        t = R._step(state.count, dt)
        one = dt.type(1)
        lr = _scalar(learning_rate, dt)
        if k_is_array:
            kk = np.asarray(k, dtype=dt).reshape((-1,) + (1,) * (theta.ndim - 1))
        else:
            kk = _scalar(k, dt)
        eps = _scalar(epsilon, dt)
        decay = _exp(-kk * t) if sw.decay_exponent else _exp(-kk * (t - one))
        b1 = _scalar(beta_1, dt) * decay
        b2 = _scalar(beta_2, dt) * decay
        if sw.listing_betas:
            mb1, mb2 = _scalar(beta_1, dt), _scalar(beta_2, dt)
        else:
            mb1, mb2 = b1, b2
        m = mb1 * state.m + (one - mb1) * g
        n = mb2 * state.n + (one - mb2) * (g * g)
        if sw.curvature:
            if int(state.count) == 0 and not sw.curvature_from_zero:
                c = np.zeros_like(n)
            else:
                q = (g - state.g_prev) / (theta - state.theta_prev + eps)
                c = q * q
            a = np.sqrt(c + n)
        else:
            a = np.sqrt(n)
        c1 = one - _pow(b1, t)
        c2 = one - _pow(b2, t)
        if sw.adam_sqrt:
            c2 = np.sqrt(c2)
        if sw.correction_form:
            m_hat = m / c1
            a_hat = a / c2
            denominator = a_hat + eps if sw.epsilon else a_hat + eps / c2
            new_theta = theta - (lr * m_hat) / denominator
        else:
            alpha = (lr * c2) / c1
            denominator = a + eps * c2 if sw.epsilon else a + eps
            new_theta = theta - (alpha * m) / denominator
        new_state = SwitchedState(R._count(int(state.count) + 1), m, n, theta, g)
        return new_theta, new_state

    hp = dict(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2, k=k,
              epsilon=epsilon, switches=sw.label())
    return R.Optimizer("mamgd_switched", init, update, hp)


# ---------------------------------------------------------------------------
# Test functions
# ---------------------------------------------------------------------------


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


#: Optimizers of the function ablation: name -> factory(function, k).
FUNCTION_OPTIMIZERS = {
    "MAMGD authors_code": lambda f, k: mamgd_switched(0.1, k=k, switches=AUTHORS_CODE),
    "MAMGD algorithm6": lambda f, k: mamgd_switched(0.1, k=k, switches=ALGORITHM6),
    "AdaExp": lambda f, k: R.adaexp(0.1, k=k),
    "Adam": lambda f, k: R.adam(0.1),
    "AMSGrad": lambda f, k: R.amsgrad(0.1),
    "MAMGD code, k = 0": lambda f, k: mamgd_switched(0.1, k=0.0, switches=AUTHORS_CODE),
    "MAMGD code + curvature": lambda f, k: mamgd_switched(
        0.1, k=k, switches=AUTHORS_CODE.replace(curvature=True)),
    "MAMGD code + sqrt": lambda f, k: mamgd_switched(
        0.1, k=k, switches=AUTHORS_CODE.replace(adam_sqrt=True)),
    "MAMGD algorithm6 - curvature": lambda f, k: mamgd_switched(
        0.1, k=k, switches=ALGORITHM6.replace(curvature=False)),
}


def function_errors(functions=F.PAPER_FUNCTIONS, optimizers=None, steps=None):
    """Error curves of the ablation's optimizers on the test functions (paper k).

    Returns a long DataFrame ``function, table, optimizer, step, error``
    (steps 0..``max_steps`` of each function unless ``steps`` is given).
    """
    optimizers = FUNCTION_OPTIMIZERS if optimizers is None else optimizers
    rows = []
    for f in functions:
        n = f.max_steps if steps is None else steps
        for name, factory in optimizers.items():
            with np.errstate(over="ignore", invalid="ignore"):
                err = run_errors(factory(f, f.paper_k), f, n)
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


def _printed(values):
    return np.array([float("%.6f" % v) if np.isfinite(v) else np.nan for v in values])


def difference_study(configurations=None, functions=F.PAPER_FUNCTIONS):
    """Every switch setting on Tables 1-6, cell by cell (MAMGD column, paper k).

    Returns a long DataFrame ``configuration, switches, table, epoch, paper,
    code, value, match, change`` over the 95 published MAMGD cells, where
    ``code`` is the authors'-code value, ``value`` the switched rule's,
    ``match`` whether ``"%.6f" % value`` equals the paper and ``change`` is
    ``|value - code|``.
    """
    configurations = CONFIGURATIONS if configurations is None else configurations
    published = paper_module.load_paper_tables()
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
                "value": value, "match": _printed(value) == cells["loss"].to_numpy(),
                "change": np.abs(value - code),
            }))
    return pd.concat(rows, ignore_index=True)


def baseline_matches(functions=F.PAPER_FUNCTIONS):
    """How many of the 365 non-MAMGD cells of Tables 1-6 the references match."""
    published = paper_module.load_paper_tables()
    published = published[(published["table"] <= 6) & (published["optimizer"] != "MAMGD")]
    matched = 0
    for f in functions:
        for column in f.optimizers:
            if column == "MAMGD":
                continue
            cells = published[(published["table"] == f.table)
                              & (published["optimizer"] == column)]
            err = run_errors(R.paper_optimizer(column, f), f)
            matched += int((_printed(err[cells["epoch"].to_numpy()])
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


#: Switch settings run vectorised over the k grid of :func:`k_range_study`.
K_RANGE_CONFIGS = {
    "MAMGD authors_code": AUTHORS_CODE,
    "MAMGD algorithm6": ALGORITHM6,
    "MAMGD code + curvature": AUTHORS_CODE.replace(curvature=True),
    "MAMGD algorithm6 - curvature": ALGORITHM6.replace(curvature=False),
    "MAMGD code + sqrt": AUTHORS_CODE.replace(adam_sqrt=True),
}


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
            curves["AdaExp"] = np.stack([run_errors(R.adaexp(0.1, k=k), f, N) for k in ks])
            # float64 AdaExp: its Keras-form update v + (g^2 - v)(1 - b2) cancels in
            # float32 once b2 ~ 0 (large k), see mamgd.reference.adaexp
            curves["AdaExp (float64)"] = np.stack([
                run_errors(R.adaexp(0.1, k=k), f, N, dtype=np.float64) for k in ks])
            adam = run_errors(R.adam(0.1), f, N)
            ams = run_errors(R.amsgrad(0.1), f, N)
        curves["Adam"] = np.tile(adam, (ks.size, 1))
        curves["AMSGrad"] = np.tile(ams, (ks.size, 1))
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
    "curvature (code)": ("MAMGD authors_code", "MAMGD code + curvature"),
    "curvature (Algorithm 6)": ("MAMGD algorithm6 - curvature", "MAMGD algorithm6"),
    "decay (MAMGD code, k = 0 -> paper k)": ("MAMGD code, k = 0", "MAMGD authors_code"),
    "decay (Adam -> AdaExp, paper k)": ("Adam", "AdaExp"),
    "square root (code -> code + sqrt)": ("MAMGD authors_code", "MAMGD code + sqrt"),
    "all differences (code -> Algorithm 6)": ("MAMGD authors_code", "MAMGD algorithm6"),
}


def k_range_effects(k_range, pairs=None):
    """Across the k grid: how often a change lowers the error.

    For each effect in ``pairs`` (default: the curvature, square-root and
    Algorithm 6 effects available in :func:`k_range_study`) and function:
    the fraction of k values where the error *with* the change is below the
    error without it, at the search step and at the last step, and the
    median ratio at the last step.
    """
    pairs = pairs or {
        "curvature (code)": ("MAMGD authors_code", "MAMGD code + curvature"),
        "curvature (Algorithm 6)": ("MAMGD algorithm6 - curvature", "MAMGD algorithm6"),
        "square root (code -> code + sqrt)": ("MAMGD authors_code", "MAMGD code + sqrt"),
        "all differences (code -> Algorithm 6)": ("MAMGD authors_code", "MAMGD algorithm6"),
    }
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


def significant(frame, digits=9):
    """A copy of ``frame`` with float columns as ``"%.{digits}g"`` strings.

    :func:`mamgd.artifacts.write_table` prints floats with fixed decimals; the
    ablation's errors span 1e-12 to 1e3, so they are written with significant
    digits instead (the CSV still reads back as numbers).
    """
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_float_dtype(out[column]):
            out[column] = [f"%.{digits}g" % v for v in out[column]]
    return out


# ---------------------------------------------------------------------------
# Networks (Keras)
# ---------------------------------------------------------------------------

_KERAS_CLASS = None


def _keras_class():
    """The Keras 3 optimizer class of the switched rule (built on first use)."""
    global _KERAS_CLASS
    if _KERAS_CLASS is not None:
        return _KERAS_CLASS
    import keras
    from keras import ops

    class SwitchedMAMGD(keras.optimizers.Optimizer):
        """:func:`mamgd_switched` as a Keras 3 optimizer (for the network ablation)."""

        def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, k=1e-4,
                     epsilon=1e-7, switches=AUTHORS_CODE, name="mamgd_switched",
                     **kwargs):
            super().__init__(learning_rate=learning_rate, name=name, **kwargs)
            self.beta_1, self.beta_2 = float(beta_1), float(beta_2)
            self.k, self.epsilon = float(k), float(epsilon)
            self.switches = switches

        def build(self, var_list):
            if self.built:
                return
            super().build(var_list)
            self._m, self._n = self.add_optimizer_variables(var_list, ["m", "n"])
            if self.switches.curvature:
                self._theta_prev, self._g_prev = self.add_optimizer_variables(
                    var_list, ["theta_prev", "g_prev"])

        def update_step(self, gradient, variable, learning_rate):
            sw = self.switches
            dt = variable.dtype
            lr = ops.cast(learning_rate, dt)
            g = ops.add(ops.zeros(variable.shape, dt), ops.cast(gradient, dt))
            t = ops.cast(self.iterations + 1, dt)
            one = ops.cast(1.0, dt)
            eps = ops.cast(self.epsilon, dt)
            s = t if sw.decay_exponent else t - one
            decay = ops.exp(ops.multiply(-ops.cast(self.k, dt), s))
            b1 = ops.cast(self.beta_1, dt) * decay
            b2 = ops.cast(self.beta_2, dt) * decay
            if sw.listing_betas:
                mb1, mb2 = ops.cast(self.beta_1, dt), ops.cast(self.beta_2, dt)
            else:
                mb1, mb2 = b1, b2
            index = self._get_variable_index(variable)
            m, n = self._m[index], self._n[index]
            self.assign(m, ops.add(ops.multiply(mb1, m), ops.multiply(one - mb1, g)))
            self.assign(n, ops.add(ops.multiply(mb2, n),
                                   ops.multiply(one - mb2, ops.square(g))))
            if sw.curvature:
                theta_prev, g_prev = self._theta_prev[index], self._g_prev[index]
                q = ops.divide(ops.subtract(g, g_prev),
                               ops.add(ops.subtract(variable, theta_prev), eps))
                if sw.curvature_from_zero:
                    c = ops.square(q)
                else:
                    c = ops.where(t > 1, ops.square(q), ops.zeros_like(q))
                a = ops.sqrt(ops.add(c, n))
                self.assign(theta_prev, variable)
                self.assign(g_prev, g)
            else:
                a = ops.sqrt(n)
            c1 = one - ops.power(b1, t)
            c2 = one - ops.power(b2, t)
            if sw.adam_sqrt:
                c2 = ops.sqrt(c2)
            if sw.correction_form:
                denominator = a / c2 + (eps if sw.epsilon else eps / c2)
                step = ops.divide(lr * (m / c1), denominator)
            else:
                denominator = a + (eps * c2 if sw.epsilon else eps)
                step = ops.divide(((lr * c2) / c1) * m, denominator)
            self.assign_sub(variable, step)

        def get_config(self):
            config = super().get_config()
            config.update(beta_1=self.beta_1, beta_2=self.beta_2, k=self.k,
                          epsilon=self.epsilon)
            return config

    _KERAS_CLASS = SwitchedMAMGD
    return _KERAS_CLASS


def keras_optimizer(switches=AUTHORS_CODE, **kwargs):
    """A Keras 3 optimizer running :func:`mamgd_switched`'s rule."""
    return _keras_class()(switches=switches, **kwargs)


@dataclass(frozen=True)
class NetworkConfig:
    """One optimizer of the network ablation; ``build()`` makes a fresh instance.

    ``kind``: ``"switched"`` (:func:`keras_optimizer` with ``switches``),
    ``"MAMGD"`` / ``"AdaExp"`` (the package's classes) or a
    ``keras.optimizers`` class name. ``k=None`` means the table's MAMGD k.
    """

    name: str
    kind: str
    switches: Switches = AUTHORS_CODE
    kwargs: tuple = ()
    use_k: bool = True

    def build_for(self, k, learning_rate=1e-3):
        import keras

        from mamgd import optimizers

        args = dict(self.kwargs)
        args.setdefault("learning_rate", learning_rate)
        if self.use_k and "k" not in args:
            args["k"] = k
        if self.kind == "switched":
            return keras_optimizer(self.switches, **args)
        if self.kind == "MAMGD":
            return optimizers.MAMGD(**args)
        if self.kind == "AdaExp":
            return optimizers.AdaExp(**args)
        return getattr(keras.optimizers, self.kind)(**args)


#: The network ablation's optimizers (lr 1e-3; k = the table's MAMGD k).
NETWORK_CONFIGS = (
    NetworkConfig("MAMGD authors_code", "MAMGD", kwargs=(("variant", "authors_code"),)),
    NetworkConfig("MAMGD algorithm6", "MAMGD", kwargs=(("variant", "algorithm6"),)),
    NetworkConfig("AdaExp", "AdaExp"),
    NetworkConfig("Adam", "Adam", use_k=False),
    NetworkConfig("AMSGrad", "Adam", kwargs=(("amsgrad", True),), use_k=False),
    NetworkConfig("MAMGD code + curvature", "switched",
                  AUTHORS_CODE.replace(curvature=True)),
    NetworkConfig("MAMGD code + sqrt", "switched", AUTHORS_CODE.replace(adam_sqrt=True)),
    NetworkConfig("MAMGD code, k = 0", "MAMGD",
                  kwargs=(("variant", "authors_code"), ("k", 0.0))),
)


class _BoundSpec:
    """What :func:`mamgd.networks.train_one` needs of an optimizer spec."""

    def __init__(self, config, k):
        self.name, self._config, self._k = config.name, config, k

    def build(self):
        return self._config.build_for(self._k)


def network_ablation(table=7, seeds=(0,), configs=NETWORK_CONFIGS, epochs=None,
                     quick=False, data_dir=None, data=None, verbose=0):
    """Train the ablation's optimizers on one of the paper's network tasks.

    Uses :mod:`mamgd.networks` (the same models, data, batches, initial weights
    per seed and determinism as the Tables 7-11 runs). Returns ``(history,
    info)``: the long history (``table, seed, optimizer, epoch`` + the task's
    columns) and a dict with the task, epochs, k, sizes and seconds; history is
    ``None`` and ``info["reason"]`` set when the data are not available.
    """
    from mamgd import networks

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
    networks.configure_determinism()
    frames = []
    for seed in seeds:
        for config in configs:
            start = time.perf_counter()
            frame = networks.train_one(task, data, _BoundSpec(config, task.k), seed,
                                       epochs=epochs, verbose=verbose)
            info["seconds"][(seed, config.name)] = time.perf_counter() - start
            frame.insert(0, "optimizer", config.name)
            frame.insert(0, "seed", int(seed))
            frame.insert(0, "table", task.table)
            frames.append(frame)
    return pd.concat(frames, ignore_index=True), info


def network_summary(history, reference="MAMGD authors_code"):
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


# ---------------------------------------------------------------------------
# Figures (Matplotlib; save with mamgd.artifacts.save_figure)
# ---------------------------------------------------------------------------

#: Colours of the ablation's optimizers, the same in every ablation figure.
ABLATION_COLORS = {
    "MAMGD authors_code": "#d62728",
    "MAMGD algorithm6": "#8c564b",
    "MAMGD algorithm6 - curvature": "#c49c94",
    "MAMGD code + curvature": "#9467bd",
    "MAMGD code + sqrt": "#bcbd22",
    "MAMGD code, k = 0": "#7f7f7f",
    "AdaExp": "#e377c2",
    "AdaExp (float64)": "#e377c2",
    "Adam": "#1f77b4",
    "AMSGrad": "#17becf",
}
_LINESTYLES = {"Adam": "--", "AMSGrad": ":", "MAMGD code, k = 0": "-.",
               "AdaExp (float64)": ":"}


def _color(name, index=0):
    return ABLATION_COLORS.get(name, f"C{index % 10}")


def _plain_log(ax, x=False, y=True):
    """Log axes with plain-text labels (mathtext labels make saving several times slower)."""
    from matplotlib import ticker

    for flag, axis in ((x, ax.xaxis), (y, ax.yaxis)):
        if flag:
            axis.set_major_formatter(ticker.LogFormatter(labelOnlyBase=True))
            axis.set_minor_formatter(ticker.NullFormatter())


def plot_function_curves(curves, optimizers=None, functions=F.PAPER_FUNCTIONS, floor=1e-12):
    """Error against step (log y) per test function, one line per optimizer.

    The search step S of the paper's k is marked by a vertical line.
    """
    import matplotlib.pyplot as plt

    optimizers = list(dict.fromkeys(curves["optimizer"])) if optimizers is None else optimizers
    fig, axes = plt.subplots(2, 3, figsize=(13.5, 7.4), squeeze=False)
    for ax, f in zip(axes.ravel(), functions):
        cf = curves[curves["function"] == f.name]
        for i, name in enumerate(optimizers):
            c = cf[cf["optimizer"] == name]
            if c.empty:
                continue
            y = np.clip(c["error"].to_numpy(dtype=float), floor, None)
            ax.plot(c["step"], y, color=_color(name, i), ls=_LINESTYLES.get(name, "-"),
                    lw=1.3, label=name)
        ax.axvline(f.search_steps, color="0.5", lw=0.8, ls=":")
        ax.set_yscale("log")
        _plain_log(ax)
        ax.set_title(f"Table {f.table}: {f.title} (k = {f.paper_k:.4g}, S = {f.search_steps})",
                     fontsize=9)
        ax.set_xlabel("step")
        ax.set_ylabel("error")
        ax.grid(True, alpha=0.3)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=5, fontsize=8, frameon=False)
    fig.suptitle("Ablation on the test functions (lr 0.1, float32; dotted line: the step "
                 "k was tuned at)", fontsize=11)
    fig.tight_layout(rect=(0, 0.06, 1, 0.96))
    return fig


def plot_differences(per_table):
    """Heat map: mean |change| of the MAMGD column per switch setting and table,
    annotated with the number of MAMGD cells that still match the paper."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm

    configs = list(dict.fromkeys(per_table["configuration"]))
    tables = sorted(per_table["table"].unique())
    values = np.full((len(configs), len(tables)), np.nan)
    labels = np.empty_like(values, dtype=object)
    for i, c in enumerate(configs):
        for j, t in enumerate(tables):
            row = per_table[(per_table["configuration"] == c) & (per_table["table"] == t)]
            if row.empty:
                continue
            r = row.iloc[0]
            values[i, j] = r["mean_abs_change"]
            labels[i, j] = f"{int(r['match'])}/{int(r['cells'])}"
    shown = np.where(values > 0, values, np.nan)
    fig, ax = plt.subplots(figsize=(8.6, 0.42 * len(configs) + 1.6))
    finite = shown[np.isfinite(shown)]
    norm = LogNorm(vmin=max(finite.min(), 1e-9), vmax=finite.max()) if finite.size else None
    image = ax.imshow(np.where(np.isfinite(shown), shown, np.nan), aspect="auto",
                      cmap="viridis", norm=norm)
    for i in range(len(configs)):
        for j in range(len(tables)):
            text = labels[i, j] or ""
            if values[i, j] == 0:
                text += " (=)"
            ax.text(j, i, text, ha="center", va="center", fontsize=7,
                    color="black" if not np.isfinite(shown[i, j]) else "white")
    ax.set_xticks(range(len(tables)), [f"Table {t}" for t in tables], fontsize=8)
    ax.set_yticks(range(len(configs)), configs, fontsize=8)
    cbar = fig.colorbar(image, ax=ax)
    cbar.set_label("mean |change| of the MAMGD column vs the authors' code", fontsize=8)
    ax.set_title("Each code-vs-paper difference on Tables 1-6 (cells: MAMGD cells that "
                 "still match the paper; white background: no change)", fontsize=9)
    fig.tight_layout()
    return fig


def plot_k_range(k_range, functions=F.PAPER_FUNCTIONS, column="error_search_step",
                 optimizers=("MAMGD authors_code", "MAMGD algorithm6", "MAMGD code + curvature",
                             "MAMGD code + sqrt", "AdaExp", "AdaExp (float64)", "Adam"),
                 floor=1e-12):
    """Error at the search step (or ``column``) against k, per function."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 3, figsize=(13.5, 7.4), squeeze=False)
    for ax, f in zip(axes.ravel(), functions):
        d = k_range[(k_range["function"] == f.name) & (k_range["k"] > 0)]
        for i, name in enumerate(optimizers):
            c = d[d["optimizer"] == name].sort_values("k")
            if c.empty:
                continue
            ax.plot(c["k"], np.clip(c[column].to_numpy(dtype=float), floor, None),
                    color=_color(name, i), ls=_LINESTYLES.get(name, "-"), lw=1.2, label=name)
        ax.axvline(f.paper_k, color="0.3", lw=0.8, ls=":")
        ax.set_xscale("log")
        ax.set_yscale("log")
        _plain_log(ax, x=True)
        step = int(d["search_step"].iloc[0]) if column == "error_search_step" else \
            int(d["last_step"].iloc[0])
        ax.set_title(f"Table {f.table}: {f.title} (after {step} steps)", fontsize=9)
        ax.set_xlabel("decay rate k")
        ax.set_ylabel("error")
        ax.grid(True, alpha=0.3)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=7, fontsize=8, frameon=False)
    what = "the search step" if column == "error_search_step" else "the last step"
    fig.suptitle(f"Error at {what} against k (dotted: the paper's k)", fontsize=11)
    fig.tight_layout(rect=(0, 0.05, 1, 0.96))
    return fig


def plot_warmup(factors, curves=None, functions=(F.QUADRATIC, F.BOOTH)):
    """Left: the code's step multiplier (1 - b2^t)/(1 - b1^t) and Adam's
    sqrt(1 - b2^t)/(1 - b1^t) against t for several k. Right: error curves
    with and without the square root (``curves`` from :func:`function_errors`)."""
    import matplotlib.pyplot as plt

    ncols = 1 + (len(functions) if curves is not None else 0)
    fig, axes = plt.subplots(1, ncols, figsize=(4.6 * ncols, 4.0), squeeze=False)
    ax = axes[0, 0]
    for i, (k, d) in enumerate(factors.groupby("k", sort=True)):
        color = f"C{i % 10}"
        ax.plot(d["t"], d["mamgd"], color=color, lw=1.3, label=f"code, k = {k:g}")
        ax.plot(d["t"], d["adam"], color=color, lw=0.9, ls="--")
    ax.set_xscale("log")
    ax.set_yscale("log")
    _plain_log(ax, x=True)
    ax.set_xlabel("step t")
    ax.set_ylabel("step-size multiplier of lr")
    ax.set_title("code (solid) vs Adam's sqrt (dashed)", fontsize=9)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7)
    if curves is not None:
        for ax, f in zip(axes[0, 1:], functions):
            cf = curves[curves["function"] == f.name]
            for name in ("MAMGD authors_code", "MAMGD code + sqrt", "Adam", "AdaExp"):
                c = cf[cf["optimizer"] == name]
                ax.plot(c["step"], np.clip(c["error"].to_numpy(dtype=float), 1e-12, None),
                        color=_color(name), ls=_LINESTYLES.get(name, "-"), lw=1.3, label=name)
            ax.set_yscale("log")
            _plain_log(ax)
            ax.set_xlabel("step")
            ax.set_ylabel("error")
            ax.set_title(f"{f.title}, k = {f.paper_k:.4g}: with / without sqrt", fontsize=9)
            ax.grid(True, alpha=0.3)
            ax.legend(fontsize=7)
    fig.suptitle("The missing square root is a learning-rate warm-up", fontsize=11)
    fig.tight_layout(rect=(0, 0, 1, 0.94))
    return fig


def plot_k_specificity(grids, spec, functions=F.PAPER_FUNCTIONS, floor=1e-12):
    """Per function: log10 error over (step, k) with the best k per step (line),
    the paper's k (dashed) and the step it was tuned at (dotted)."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 3, figsize=(13.5, 7.8), squeeze=False)
    for ax, f in zip(axes.ravel(), functions):
        if f.name not in grids:
            ax.set_visible(False)
            continue
        ks, errors = grids[f.name]
        keep = ks > 0
        ks, errors = ks[keep], errors[keep]
        order = np.argsort(ks)
        ks, errors = ks[order], errors[order]
        z = np.log10(np.clip(np.where(np.isfinite(errors), errors, np.nan), floor, None))
        steps = np.arange(errors.shape[1])
        mesh = ax.pcolormesh(steps[1:], ks, z[:, 1:], shading="nearest", cmap="viridis_r")
        d = spec[spec["function"] == f.name]
        ax.plot(d["step"], d["k_best"], ls="none", marker="o", ms=3.5, mfc="white",
                mec="black", mew=0.6, label="best k at each step")
        ax.axhline(f.paper_k, color="red", lw=1.0, ls="--", label="paper's k")
        ax.axvline(f.search_steps, color="red", lw=0.8, ls=":", label="tuned at step S")
        ax.set_yscale("log")
        _plain_log(ax)
        ax.set_xlabel("step")
        ax.set_ylabel("k")
        ax.set_title(f"Table {f.table}: {f.title}", fontsize=9)
        fig.colorbar(mesh, ax=ax, label="log10 error")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=8, frameon=False)
    fig.suptitle("Is the tuned k specific to its step count? MAMGD (authors' code) error "
                 "over (step, k)", fontsize=11)
    fig.tight_layout(rect=(0, 0.04, 1, 0.96))
    return fig


def plot_networks(history, optimizers=None, log=True):
    """Training loss per epoch on the network task(s): mean over seeds and the
    [min, max] band, one panel per table (log y)."""
    import matplotlib.pyplot as plt

    tables = list(dict.fromkeys(history["table"]))
    optimizers = list(dict.fromkeys(history["optimizer"])) if optimizers is None else optimizers
    fig, axes = plt.subplots(1, len(tables), figsize=(6.2 * len(tables), 4.6), squeeze=False)
    for ax, table in zip(axes[0], tables):
        h = history[history["table"] == table]
        for i, name in enumerate(optimizers):
            runs = h[h["optimizer"] == name]
            if runs.empty:
                continue
            stats = runs.groupby("epoch")["loss"].agg(["mean", "min", "max"])
            color = _color(name, i)
            ax.fill_between(stats.index, stats["min"], stats["max"], color=color,
                            alpha=0.15, lw=0)
            ax.plot(stats.index, stats["mean"], color=color, lw=1.4, marker="o", ms=2.5,
                    ls=_LINESTYLES.get(name, "-"), label=name)
        if log:
            ax.set_yscale("log")
            _plain_log(ax)
        ax.set_xlabel("epoch")
        ax.set_ylabel("training loss")
        ax.set_title(f"Table {table} task, {h['seed'].nunique()} seed(s): mean and "
                     f"min-max band", fontsize=9)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig
