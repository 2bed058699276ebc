"""How MAMGD's error depends on k and on the step count (notebook 02's map).

* :func:`k_grid` -- a log-spaced float32 grid of k (plus 0);
* :func:`sensitivity_grid` -- the error after every step count for a whole
  grid of k at once (the float32 reference optimizer vectorised over k);
* :func:`sensitivity_frame` -- those errors as a long table
  (``figures/tables/k_sensitivity.csv``);
* :func:`transfer_summary` -- does a k tuned at one step count hold at the
  others (``figures/tables/k_transfer.csv``)?
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mamgd import functions as test_functions
from mamgd import reference
from mamgd_paper.experiments.ksearch import search

__all__ = ["k_grid", "sensitivity_grid", "sensitivity_frame", "transfer_summary"]


def k_grid(per_decade=40, low=1e-3, high=search.K_HIGH, include_zero=True):
    """Log-spaced float32 grid of k from ``low`` to ``high`` (plus 0).

    float32 because the optimizer rounds k to float32 anyway: the grid's
    printed values (9 significant digits) read back as exactly the k used.
    """
    decades = np.log10(high) - np.log10(low)
    count = int(round(decades * per_decade)) + 1
    ks = np.geomspace(low, high, count).astype(np.float32)
    if include_zero:
        ks = np.concatenate([np.zeros(1, np.float32), ks])
    return ks


def sensitivity_grid(function, ks, steps=None, learning_rate=search.LEARNING_RATE):
    """MAMGD's error after 0..steps updates for every k of ``ks`` at once.

    The float32 reference optimizer is run once on a batch of ``len(ks)``
    independent copies of the start point, with ``k`` an array (broadcast
    against the batch), so every update is one vectorised step for the whole
    grid. The gradient is evaluated point by point, exactly as
    :func:`mamgd.reference.run` (and the Keras runs) evaluate it: NumPy's
    float32 ``x ** 3`` on an array can differ in the last bit from the same
    power of a scalar. Every column therefore equals, bit for bit, a single
    :func:`search.mamgd_errors` run with that k (``tests/experiments/test_search.py``).

    Returns a float32 array of shape ``(steps + 1, len(ks))``; row s is the
    error after s updates. ``steps`` defaults to the function's table length.
    """
    function = test_functions.get(function)
    steps = int(function.max_steps if steps is None else steps)
    ks = np.asarray(ks, dtype=np.float32).reshape(-1)
    optimizer = reference.mamgd(learning_rate, k=ks, variant="authors_code",
                                dtype=np.float32)
    x = np.repeat(np.asarray(function.start, np.float32)[:, None], ks.size, axis=1)
    state = optimizer.init(x)
    errors = np.empty((steps + 1, ks.size), np.float32)
    with np.errstate(over="ignore", invalid="ignore"):
        errors[0] = function.error(x)
        for step in range(1, steps + 1):
            gradient = np.empty_like(x)
            for column in range(ks.size):
                gradient[:, column] = function.gradient(x[:, column])
            x, state = optimizer.update(x, gradient, state)
            errors[step] = function.error(x)
    return errors


def sensitivity_frame(grids, ks):
    """Long table of :func:`sensitivity_grid` results.

    ``grids`` is ``{function name: errors}``. Columns: table, function, k,
    steps (1..N), error.
    """
    ks = np.asarray(ks, dtype=np.float32)
    parts = []
    for name, errors in grids.items():
        function = test_functions.get(name)
        steps = np.arange(1, errors.shape[0])
        parts.append(pd.DataFrame({
            "table": function.table,
            "function": function.name,
            "k": np.tile(ks, steps.size),
            "steps": np.repeat(steps, ks.size),
            "error": errors[1:].reshape(-1),
        }))
    return pd.concat(parts, ignore_index=True)


def transfer_summary(grids, ks, found=None):
    """Does a k tuned at one step count hold at the others?

    For each function (``grids``: name -> :func:`sensitivity_grid`) and each
    of its table's step counts (2, 4, ..., max): the grid's best k and error
    there, and the error of the paper's k and of the found k
    (``found``: name -> k) at that step count, with their ratios to the best.
    """
    ks = np.asarray(ks, dtype=np.float32)
    rows = []
    for name, errors in grids.items():
        function = test_functions.get(name)
        steps_run = errors.shape[0] - 1
        curves = {"paper_k": search.mamgd_errors(function, function.paper_k, steps_run)}
        if found and name in found:
            curves["found_k"] = search.mamgd_errors(function, found[name], steps_run)
        for steps in range(2, errors.shape[0], 2):
            column = errors[steps]
            best = int(np.nanargmin(np.where(np.isfinite(column), column, np.inf)))
            row = {"table": function.table, "function": function.name, "steps": steps,
                   "tuned_steps": function.search_steps,
                   "best_k": float(ks[best]), "best_error": float(column[best])}
            for key, curve in curves.items():
                row[f"{key}_error"] = float(curve[steps])
                row[f"{key}_over_best"] = (float(curve[steps]) / float(column[best])
                                           if column[best] > 0 else np.inf)
            rows.append(row)
    return pd.DataFrame(rows)
