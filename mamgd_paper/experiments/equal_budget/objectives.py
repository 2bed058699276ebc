"""The test-function objective: seeded start points, batched runs, scores.

Every study has its own tuning starts and its own held-out starts (study r of
every arm shares them with study r of Adam, so comparisons are paired). A run
is the float64 NumPy reference optimizer from a start for ``horizon`` steps;
what is kept of it is the first step at which the optimality gap
f(x_t) - f* falls to each target of :data:`~protocol.TARGETS` (``inf`` when it
never does: not reached) and the final gap (``inf`` when not finite).

All the trials of a batch run at once (:func:`function_outcomes`): the
parameters are one ``(dim, N)`` array with a column per (trial, start) and the
learning rates and k's are ``(N,)`` arrays, so every update is one NumPy call
for the whole batch. Columns never interact: a trial's outcome is the same in
any batch.
"""

from __future__ import annotations

import numpy as np

from mamgd_paper.experiments.equal_budget import protocol
from mamgd_paper.experiments.equal_budget.problems import get_problem
from mamgd_paper.experiments.equal_budget.protocol import GAP_CAP, PRIMARY_TARGET, TARGETS

#: The two sets of start points of a study.
ROLES = ("tuning", "heldout")


def start_points(problem, role, count, seed=0, study=0):
    """``count`` start points of study ``study`` of ``problem``, ``(dim, count)`` float64.

    Uniform in the function's domain, from a generator seeded with
    ``(seed, crc32(problem name), role, study)``: tuning and held-out starts
    are independent draws, and so are the studies.
    """
    problem = get_problem(problem)
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}, not {role!r}.")
    function = problem.function
    rng = np.random.default_rng(np.random.SeedSequence(
        [int(seed), protocol.stream_key(problem.name), ROLES.index(role), int(study)]))
    low = np.array([lo for lo, _ in function.domain])
    high = np.array([hi for _, hi in function.domain])
    return rng.uniform(low, high, size=(int(count), function.dim)).T.copy()


def _gradient(function, x):
    parts = function.gradient(x)
    if any(np.shape(g) != x.shape[1:] for g in parts):
        parts = [np.broadcast_to(g, x.shape[1:]) for g in parts]
    return np.stack(parts)


def function_outcomes(problem, arm, learning_rates, ks, starts, horizon, targets=TARGETS):
    """Run ``arm`` from every column of ``starts`` with that column's setting.

    ``starts``: ``(dim, N)``; ``learning_rates``, ``ks``: ``(N,)`` (``ks``
    ``None`` for optimizers without k). Returns ``{"steps": (len(targets), N)
    float array, the first step t <= horizon with gap <= target, inf if none;
    "final_gap": (N,), inf where not finite}``.
    """
    function = get_problem(problem).function
    x = np.array(starts, dtype=np.float64, copy=True)
    n = x.shape[1]
    learning_rates = np.broadcast_to(np.asarray(learning_rates, dtype=np.float64), (n,))
    if ks is not None:
        ks = np.broadcast_to(np.asarray(ks, dtype=np.float64), (n,))
    optimizer = protocol.reference_optimizer(arm, learning_rates, ks, dtype=np.float64)
    state = optimizer.init(x)
    targets = np.asarray(targets, dtype=np.float64)
    steps = np.full((len(targets), n), np.inf)
    with np.errstate(all="ignore"):
        gap = function.value(x) - function.minimum
        reached = gap[None, :] <= targets[:, None]
        steps[reached] = 0
        for step in range(1, int(horizon) + 1):
            x, state = optimizer.update(x, _gradient(function, x), state)
            gap = function.value(x) - function.minimum
            new = (gap[None, :] <= targets[:, None]) & np.isinf(steps)
            steps[new] = step
    final = np.where(np.isfinite(gap), gap, np.inf)
    return {"steps": steps, "final_gap": final}


def tuning_scores(steps, final_gap, horizon):
    """Per start, the tuning score (protocol.GAP_CAP): the step count at which
    the primary target was reached, else horizon * (1 + log10(gap / target))
    with the gap capped at GAP_CAP. Lower is better."""
    steps = np.asarray(steps, dtype=np.float64)
    gap = np.minimum(np.asarray(final_gap, dtype=np.float64), GAP_CAP)
    with np.errstate(divide="ignore", invalid="ignore"):
        missed = horizon * (1.0 + np.log10(np.maximum(gap, PRIMARY_TARGET) / PRIMARY_TARGET))
    return np.where(np.isfinite(steps), steps, missed)


def evaluate_trials(problem, arm, settings, config, role="tuning"):
    """Outcomes of several settings, each on its study's starts, in one batch.

    ``settings``: a list of ``(study, learning_rate, k)``. Returns a list with,
    per setting, ``{"score"}`` (the mean tuning score over the tuning starts;
    ``role="tuning"``) or ``{"steps", "final_gap"}`` per held-out start
    (``role="heldout"``; lists, ``inf`` kept).
    """
    problem = get_problem(problem)
    count = config.tuning_starts if role == "tuning" else config.heldout_starts
    blocks, rates, ks = [], [], []
    for study, learning_rate, k in settings:
        blocks.append(start_points(problem, role, count, config.seed, study))
        rates.append(np.full(count, learning_rate))
        ks.append(np.full(count, 0.0 if k is None else k))
    out = function_outcomes(problem, arm, np.concatenate(rates),
                            np.concatenate(ks) if protocol.takes_k(arm) else None,
                            np.concatenate(blocks, axis=1), config.horizon)
    results = []
    for i in range(len(settings)):
        part = slice(i * count, (i + 1) * count)
        steps, final = out["steps"][:, part], out["final_gap"][part]
        if role == "tuning":
            score = tuning_scores(steps[0], final, config.horizon).mean()
            results.append({"score": float(score)})
        else:
            results.append({"steps": {f"{t:g}": steps[j].tolist() for j, t in enumerate(TARGETS)},
                            "final_gap": final.tolist()})
    return results


def function_paths(problem, arm, learning_rate, k, config, extra_starts=3):
    """Paths of ``arm`` at one setting from the function's start point and the
    first ``extra_starts`` held-out starts of study 0: ``(horizon + 1, 2, n)``
    and the final gap from the function's start."""
    problem = get_problem(problem)
    function = problem.function
    starts = np.concatenate([np.asarray(function.start, float)[:, None],
                             start_points(problem, "heldout", config.heldout_starts,
                                          config.seed, 0)[:, :extra_starts]], axis=1)
    n = starts.shape[1]
    optimizer = protocol.reference_optimizer(arm, np.full(n, learning_rate),
                                             None if k is None else np.full(n, k),
                                             dtype=np.float64)
    x = starts.copy()
    state = optimizer.init(x)
    path = np.empty((config.horizon + 1,) + x.shape)
    path[0] = x
    with np.errstate(all="ignore"):
        for step in range(1, config.horizon + 1):
            x, state = optimizer.update(x, _gradient(function, x), state)
            path[step] = x
        final = float(function.value(x)[0] - function.minimum)
    return path, final


def gallery_paths(results, problem, extra_starts=3):
    """Per arm, its paths at the best setting of its study 0
    (:func:`function_paths`): ``{arm: {"paths", "learning_rate", "k", "final_gap"}}``."""
    problem = get_problem(problem)
    best = results.studies[(results.studies["problem"] == problem.name)
                           & (results.studies["study"] == 0)].set_index("arm")
    out = {}
    for arm in results.config.arms:
        learning_rate = float(best.loc[arm, "best_learning_rate"])
        k = float(best.loc[arm, "best_k"]) if protocol.takes_k(arm) else None
        path, final = function_paths(problem, arm, learning_rate, k, results.config,
                                     extra_starts)
        out[arm] = {"paths": path, "learning_rate": learning_rate, "k": k, "final_gap": final}
    return out
