"""The test-function objective: seeded start points, batched runs, scores.

Tune on one set of random start points, report on another: the tuning
objective is the mean score over the tuning starts (:func:`function_objective`),
the report the per-start scores and steps-to-target on held-out starts
(:func:`function_evaluation`). The score is the log10 of the optimality gap
after a fixed step count, clipped (:func:`gap_scores`). Also the paths of the
gallery figure (:func:`gallery_paths`).
"""

from __future__ import annotations

import numpy as np

from mamgd_paper.experiments.equal_budget import protocol
from mamgd_paper.experiments.equal_budget.problems import get_problem
from mamgd_paper.experiments.equal_budget.protocol import GAP_CAP, GAP_FLOOR, TARGET_GAP


def start_points(problem, role, count, seed=0):
    """``count`` start points of ``problem`` as a ``(dim, count)`` float64 array.

    Uniform in the function's domain, from a generator seeded with
    ``(seed, crc32(problem name), role)``; ``role`` is ``"tuning"`` or
    ``"heldout"``, so the two sets are independent draws.
    """
    problem = get_problem(problem)
    if role not in ("tuning", "heldout"):
        raise ValueError(f"role must be 'tuning' or 'heldout', not {role!r}.")
    function = problem.function
    rng = np.random.default_rng(np.random.SeedSequence(
        [int(seed), protocol.stream_key(problem.name), 0 if role == "tuning" else 1]))
    low = np.array([lo for lo, _ in function.domain])
    high = np.array([hi for _, hi in function.domain])
    return rng.uniform(low, high, size=(int(count), function.dim)).T.copy()


def function_run(problem, label, learning_rate, k, starts, steps, keep_path=False):
    """Run one optimizer from every start point at once (float64 NumPy reference).

    ``starts`` is ``(dim, n)``; the optimizer treats the array as one
    parameter tensor and every update is elementwise, so each column is an
    independent run. Returns the optimality gap f(x_s) - f* after every step
    s = 0..steps, shape ``(steps + 1, n)`` (and the path, ``(steps + 1, dim,
    n)``, with ``keep_path``).
    """
    function = get_problem(problem).function
    optimizer = protocol.reference_optimizer(label, learning_rate, k, dtype=np.float64)
    x = np.array(starts, dtype=np.float64, copy=True)
    state = optimizer.init(x)
    gaps = np.empty((int(steps) + 1, x.shape[1]))
    path = np.empty((int(steps) + 1,) + x.shape) if keep_path else None
    with np.errstate(all="ignore"):
        gaps[0] = function.value(x) - function.minimum
        if keep_path:
            path[0] = x
        for step in range(1, int(steps) + 1):
            parts = function.gradient(x)
            if any(np.shape(g) != x.shape[1:] for g in parts):
                parts = [np.broadcast_to(g, x.shape[1:]) for g in parts]
            gradient = np.stack(parts)
            x, state = optimizer.update(x, gradient, state)
            gaps[step] = function.value(x) - function.minimum
            if keep_path:
                path[step] = x
    return (gaps, path) if keep_path else gaps


def gap_scores(gaps):
    """log10 of the gaps clipped to [GAP_FLOOR, GAP_CAP] (non-finite -> GAP_CAP)."""
    gaps = np.asarray(gaps, dtype=np.float64)
    clipped = np.where(np.isfinite(gaps), np.clip(gaps, GAP_FLOOR, GAP_CAP), GAP_CAP)
    return np.log10(clipped)


def steps_to_target(gaps, target=TARGET_GAP):
    """Per run (column), the first step whose gap is <= ``target``; -1 if none."""
    reached = np.asarray(gaps) <= target
    first = np.argmax(reached, axis=0)
    return np.where(reached.any(axis=0), first, -1)


def function_objective(problem, label, learning_rate, k, config):
    """The tuning objective: the mean score over the tuning starts."""
    starts = start_points(problem, "tuning", config.tuning_starts, config.seed)
    gaps = function_run(problem, label, learning_rate, k, starts, config.steps)
    return float(gap_scores(gaps[-1]).mean())


def function_evaluation(problem, label, learning_rate, k, config):
    """A setting on the held-out starts: per start, score and steps to target."""
    starts = start_points(problem, "heldout", config.heldout_starts, config.seed)
    gaps = function_run(problem, label, learning_rate, k, starts, config.steps)
    final = gaps[-1]
    return {
        "learning_rate": float(learning_rate), "k": None if k is None else float(k),
        "values": [float(v) for v in gap_scores(final)],
        "steps_to_target": [int(v) for v in steps_to_target(gaps)],
        "diverged": int((~np.isfinite(final) | (final > GAP_CAP)).sum()),
    }


def gallery_paths(results, problem, extra_starts=3):
    """Per optimizer, its paths at its tuned setting: from the function's start
    point and from the first ``extra_starts`` held-out starts.

    ``results``: :class:`mamgd_paper.experiments.equal_budget.results.Results`.
    Returns ``{label: {"paths": array (steps + 1, 2, 1 + extra), "learning_rate",
    "k", "final_gap"}}`` (the final gap of the path from the function's start).
    """
    problem = get_problem(problem)
    config = results.config
    starts = np.concatenate([np.asarray(problem.function.start, float)[:, None],
                             start_points(problem, "heldout", config.heldout_starts,
                                          config.seed)[:, :extra_starts]], axis=1)
    out = {}
    for label in config.optimizers:
        tuned = results.tuned[(problem.name, label)]
        gaps, path = function_run(problem, label, tuned["learning_rate"], tuned["k"], starts,
                                  config.steps, keep_path=True)
        out[label] = {"paths": path, "learning_rate": tuned["learning_rate"], "k": tuned["k"],
                      "final_gap": float(gaps[-1, 0])}
    return out
