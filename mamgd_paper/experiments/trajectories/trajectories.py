"""Optimizer paths on the test functions (NumPy float32 reference optimizers).

Every optimizer of the companion runs from the function's start point with
the test-function protocol of the paper (learning rate 0.1, Keras defaults
otherwise; docs/protocol.md, section 3), in float32, through the NumPy reference
implementations of :mod:`mamgd.reference` (bit for bit the Keras optimizers;
see ``tests/library/test_reference.py``); no Keras optimizer runs here.

MAMGD (both readings) and AdaExp use the function's published k; the two
classics that are not in the paper (Rosenbrock, Beale) have no published k
and use :data:`DEFAULT_K`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mamgd_paper.paper import registry
from mamgd import functions as test_functions
from mamgd import reference

__all__ = [
    "LEARNING_RATE",
    "DEFAULT_K",
    "EXTRA_STEPS",
    "OPTIMIZERS",
    "decay_rate",
    "path_steps",
    "reference_optimizer",
    "optimizer_paths",
    "paths_frame",
    "path_summary",
    "QUICK_FUNCTIONS",
    "selected_functions",
    "figure_stem",
    "figure_title",
    "ending_lines",
]

#: Learning rate of every optimizer (the paper's test-function protocol).
LEARNING_RATE = 0.1
#: k of MAMGD and AdaExp on functions without a published k (Rosenbrock, Beale):
#: the order of the paper's k on its 2-D functions (0.03 to 0.2).
DEFAULT_K = 0.1
#: Steps on functions that have no paper table (Rosenbrock, Beale).
EXTRA_STEPS = 100
#: The functions of a quick run (notebook 03): a bowl, several minimisers, a valley.
QUICK_FUNCTIONS = ("sphere", "himmelblau", "rosenbrock")

#: The optimizers drawn, in the order of the figures' legends (registry labels).
OPTIMIZERS = (registry.MAMGD, registry.MAMGD_ALGORITHM6, registry.ADAEXP, registry.ADAM,
              registry.AMSGRAD, registry.ADAGRAD, registry.RMSPROP, registry.SGD)


def decay_rate(function):
    """k for MAMGD and AdaExp on ``function``: the paper's, else :data:`DEFAULT_K`."""
    function = test_functions.get(function)
    return DEFAULT_K if function.paper_k is None else float(function.paper_k)


def path_steps(function):
    """Steps drawn for ``function``: its table length, else :data:`EXTRA_STEPS`."""
    function = test_functions.get(function)
    return EXTRA_STEPS if function.max_steps is None else int(function.max_steps)


def reference_optimizer(label, function, learning_rate=LEARNING_RATE, k=None):
    """The float32 NumPy reference optimizer behind legend label ``label``."""
    if label not in OPTIMIZERS:
        raise ValueError(f"Unknown optimizer {label!r}; expected one of {list(OPTIMIZERS)}.")
    k = decay_rate(function) if k is None else float(k)
    return registry.reference_optimizer(label, learning_rate, k, dtype=np.float32)


def optimizer_paths(function, steps=None, labels=None, learning_rate=LEARNING_RATE):
    """Run each optimizer from the start point of ``function``.

    Returns ``{label: float32 array (steps + 1, dim)}`` (row 0 the start).
    A diverging optimizer (SGD on Himmelblau, Rosenbrock) overflows to
    inf/nan in float32; that is kept, silently.
    """
    function = test_functions.get(function)
    steps = path_steps(function) if steps is None else int(steps)
    labels = list(OPTIMIZERS) if labels is None else list(labels)
    paths = {}
    with np.errstate(over="ignore", invalid="ignore"):
        for label in labels:
            optimizer = reference_optimizer(label, function, learning_rate)
            paths[label] = reference.run(optimizer, function, steps=steps, dtype=np.float32)
    return paths


def paths_frame(function, paths):
    """Long table of ``paths``: function, optimizer, step, x (and y for 2-D)."""
    function = test_functions.get(function)
    coordinates = ("x", "y", "z")[: function.dim]
    parts = []
    for label, path in paths.items():
        frame = pd.DataFrame(np.asarray(path), columns=list(coordinates))
        frame.insert(0, "step", np.arange(len(path)))
        frame.insert(0, "optimizer", label)
        frame.insert(0, "function", function.name)
        parts.append(frame)
    return pd.concat(parts, ignore_index=True)


def path_summary(function, paths):
    """One row per optimizer: k, steps, final point, f there, the paper's error.

    ``diverged`` is true when the final point is not finite.
    """
    function = test_functions.get(function)
    rows = []
    for label, path in paths.items():
        last = np.asarray(path[-1], dtype=np.float32)
        finite = bool(np.all(np.isfinite(last)))
        decays = label in registry.REGISTRY and registry.get(label).takes_k
        with np.errstate(over="ignore", invalid="ignore"):
            rows.append({
                "function": function.name,
                "optimizer": label,
                "k": decay_rate(function) if decays else np.nan,
                "steps": len(path) - 1,
                "x_final": float(last[0]),
                "y_final": float(last[1]) if function.dim > 1 else np.nan,
                "f_final": float(function.value(last)) if finite else np.nan,
                "error_final": float(function.error(last)) if finite else np.nan,
                "diverged": not finite,
            })
    return pd.DataFrame(rows)


def selected_functions(names=None, quick=False):
    """The test functions notebook 03 draws, in order.

    ``names`` (function names) if given; else :data:`QUICK_FUNCTIONS` in a
    quick run, every function of :data:`mamgd.functions.ALL_FUNCTIONS` otherwise.
    """
    if names is None:
        names = (QUICK_FUNCTIONS if quick
                 else [f.name for f in test_functions.ALL_FUNCTIONS])
    return [test_functions.get(name) for name in names]


def figure_stem(function):
    """File stem of the paths figure of ``function`` (``traj_<name>``)."""
    return f"traj_{test_functions.get(function).name}"


def figure_title(function):
    """Title of the paths figure: the function, the steps, lr and k."""
    function = test_functions.get(function)
    return (f"{function.title}: {path_steps(function)} steps, "
            f"learning rate {LEARNING_RATE:g}, k = {decay_rate(function):.4g}")


def ending_lines(summary):
    """Markdown bullets from :func:`path_summary` rows (several functions stacked):
    per function the optimizer that ends closest to the target, then the
    optimizers that diverged (or "none")."""
    diverged = summary[summary["diverged"]]
    best = summary.dropna(subset=["error_final"]).loc[
        lambda s: s.groupby("function")["error_final"].idxmin()]
    lines = [f"- {row.function}: closest to the target after {row.steps} steps is "
             f"{row.optimizer} (error {row.error_final:.3g})" for row in best.itertuples()]
    lines.append("- diverged (non-finite after the last step): "
                 + (", ".join(f"{r.optimizer} on {r.function}" for r in diverged.itertuples())
                    or "none"))
    return lines
