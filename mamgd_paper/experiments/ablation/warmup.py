"""The missing square root as a learning-rate warm-up (notebook 09, part 4).

The code's step is ``sqrt(1 - b2^t)`` times Adam's: a warm-up that starts at
``sqrt(1 - beta_2) = 0.032`` and that the decay of the betas shortens.
:func:`warmup_factors` gives the step multipliers over t, :func:`warmup_length`
the steps the warm-up lasts, :func:`warmup_summary` both per k; the k values
and step counts notebook 09 shows are :data:`SUMMARY_KS`,
:func:`summary_ks`, :data:`FACTOR_KS` and :func:`factor_steps`.

Paper: Sakovich et al., "MAMGD: Gradient-Based Optimization Method Using
Exponential Decay", Technologies 12(9):154, 2024, doi:10.3390/technologies12090154.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mamgd import functions as test_functions

#: Decay rates of the warm-up table besides the paper's k of Tables 1-6 (:func:`summary_ks`).
SUMMARY_KS = (0.0, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 0.1, 1.0)
#: Decay rates of the warm-up figure: no decay, the networks' range, and the
#: paper's k of Table 3 (Three-hump camel, 0.053) and of Table 1 (quadratic, 2.38).
FACTOR_KS = (0.0, 1e-5, 1e-4, 1e-3, test_functions.THREE_HUMP_CAMEL.paper_k,
             test_functions.QUADRATIC.paper_k)
#: Steps of the warm-up figure (quick runs: :data:`QUICK_FACTOR_STEPS`).
FACTOR_STEPS = 20000
QUICK_FACTOR_STEPS = 2000


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


def summary_ks(functions=test_functions.PAPER_FUNCTIONS):
    """:data:`SUMMARY_KS` and the paper's k of ``functions``, sorted, each once."""
    return sorted(set(SUMMARY_KS) | {f.paper_k for f in functions})


def factor_steps(quick=False):
    """Steps of the warm-up figure: :data:`FACTOR_STEPS` (quick: :data:`QUICK_FACTOR_STEPS`)."""
    return QUICK_FACTOR_STEPS if quick else FACTOR_STEPS


def factor_curves(quick=False, ks=FACTOR_KS):
    """:func:`warmup_factors` over t = 1..:func:`factor_steps` for every k of ``ks``, stacked."""
    steps = factor_steps(quick)
    return pd.concat([warmup_factors(steps, k) for k in ks], ignore_index=True)
