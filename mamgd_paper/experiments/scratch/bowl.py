"""The 2-D bowl of the AMSGrad tutorial (docs/protocol.md, section 5).

f = x^2 + y^2 on [-1, 1]^2 from the tutorial's random start
(:func:`tutorial_start`), the tutorial's AMSGrad (:func:`tutorial_run`) and
every optimizer of :mod:`mamgd.reference` at its best learning rate of a grid
(:func:`choose_learning_rates`, :func:`bowl_table`).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from mamgd import functions
from mamgd import reference
from mamgd_paper.paper import registry

#: The tutorial's domain [-1, 1]^2 and settings (docs/protocol.md, section 5).
BOWL_BOUNDS = ((-1.0, 1.0), (-1.0, 1.0))
TUTORIAL_ITERATIONS = 100
TUTORIAL_ALPHA = 0.007


def tutorial_start(seed=1, bounds=BOWL_BOUNDS):
    """The tutorial's random start: ``lo + RandomState(seed).rand(2) * (hi - lo)``.

    NumPy's legacy ``RandomState`` (what ``np.random.seed(1); np.random.rand``
    draws), so it is the tutorial's start point.
    """
    b = np.asarray(bounds, dtype=np.float64)
    return b[:, 0] + np.random.RandomState(seed).rand(len(b)) * (b[:, 1] - b[:, 0])


def bowl():
    """f = x^2 + y^2 on the tutorial's domain [-1, 1]^2, started at its start point."""
    return dataclasses.replace(functions.SPHERE, domain=BOWL_BOUNDS, start=tuple(tutorial_start()),
                               title="f(x, y) = x^2 + y^2 (the AMSGrad tutorial's bowl)")




#: The optimizers run on the bowl (registry labels): every optimizer of
#: :mod:`mamgd.reference`. MAMGD and AdaExp use k = 2.377131029618243, the
#: paper's k for this function (Table 2, ``mamgd.functions.SPHERE.paper_k``);
#: everything else has its defaults.
SPHERE_K = functions.SPHERE.paper_k
BOWL_OPTIMIZERS = (registry.TUTORIAL_AMSGRAD, registry.SGD, registry.ADAGRAD,
                   registry.RMSPROP, registry.ADAM, registry.AMSGRAD, registry.ADAEXP,
                   registry.MAMGD, registry.MAMGD_ALGORITHM6)


def bowl_optimizer(label, learning_rate):
    """The NumPy reference optimizer ``label`` at ``learning_rate`` (k = :data:`SPHERE_K`)."""
    return registry.reference_optimizer(label, learning_rate, SPHERE_K)


#: Learning rates tried by :func:`choose_learning_rates`.
LEARNING_RATE_GRID = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3)


def bowl_run(optimizer, start=None, iterations=TUTORIAL_ITERATIONS, dtype=np.float64):
    """Path ``(iterations + 1, 2)`` of ``optimizer`` on the bowl (float64 like the
    tutorial's NumPy code)."""
    start = tutorial_start() if start is None else start
    return reference.run(optimizer, functions.SPHERE, start, iterations, dtype=dtype)



def tutorial_run(start=None):
    """The tutorial's AMSGrad (alpha :data:`TUTORIAL_ALPHA`) on the bowl for
    :data:`TUTORIAL_ITERATIONS` iterations: ``(path, f)``, the points and the
    value of f at each."""
    path = bowl_run(reference.amsgrad_tutorial(alpha=TUTORIAL_ALPHA), start)
    return path, bowl().value(path.T)


def choose_learning_rates(optimizers=None, grid=LEARNING_RATE_GRID, start=None,
                          iterations=TUTORIAL_ITERATIONS):
    """Per optimizer label, the learning rate of ``grid`` with the smallest final f.

    ``optimizers`` defaults to :data:`BOWL_OPTIMIZERS`. The tutorial's AMSGrad
    keeps its alpha (0.007). Ties go to the smaller rate. Returns ``{label: lr}``.
    """
    optimizers = BOWL_OPTIMIZERS if optimizers is None else optimizers
    chosen = {}
    for name in optimizers:
        if name == registry.TUTORIAL_AMSGRAD:
            chosen[name] = TUTORIAL_ALPHA
            continue
        finals = []
        for lr in grid:
            with np.errstate(over="ignore", invalid="ignore"):
                path = bowl_run(bowl_optimizer(name, lr), start, iterations)
                value = float(functions.SPHERE.value(path[-1]))
            finals.append(value if np.isfinite(value) else np.inf)
        chosen[name] = float(grid[int(np.argmin(finals))])
    return chosen


def bowl_paths(learning_rates, start=None):
    """``{label: path}``: every optimizer of ``learning_rates`` (``{label: lr}``, e.g.
    from :func:`choose_learning_rates`) on the bowl at its rate, from ``start``."""
    return {name: bowl_run(bowl_optimizer(name, lr), start)
            for name, lr in learning_rates.items()}


def bowl_table(paths, learning_rates):
    """One row per optimizer: learning rate, f at the start, after 10, 50 and all
    iterations, and the distance of the last point to the minimum."""
    rows = []
    for name, path in paths.items():
        f = functions.SPHERE.value(np.asarray(path, dtype=np.float64).T)
        rows.append({"optimizer": name, "learning_rate": learning_rates[name],
                     "f_start": float(f[0]), "f_10": float(f[10]), "f_50": float(f[50]),
                     "f_final": float(f[-1]), "iterations": len(f) - 1,
                     "distance_final": float(np.sqrt(f[-1]))})
    return pd.DataFrame(rows)
