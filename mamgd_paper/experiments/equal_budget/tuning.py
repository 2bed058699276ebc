"""Evaluating claimed trials, many at once.

A worker claims the WAITING trials of a (problem, arm) group's studies and
evaluates them together: :func:`tune_values` for tuning trials (functions:
the mean tuning score on the study's tuning starts; networks: the mean
validation metric over the study's tuning seeds, ``inf`` when a seed
diverged), :func:`evaluation_values` for the held-out evaluation of a study's
best setting (functions: every held-out start; networks: one re-run seed per
trial, with the test metric after every epoch). A trial's value depends on
its parameters, its study and the configuration only, never on the batch it
ran in or on the worker.
"""

from __future__ import annotations

import numpy as np

from mamgd_paper.experiments.equal_budget import network_problems, objectives, protocol, studies
from mamgd_paper.experiments.equal_budget.problems import get_problem
from mamgd_paper.experiments.equal_budget.protocol import FUNCTION


def _settings(items):
    return [(study, *studies.trial_setting(trial)) for study, trial in items]


def tune_values(config, problem, arm, items, data_dir=None):
    """Values of tuning trials ``items`` (a list of ``(study, trial)``), in order."""
    problem = get_problem(problem)
    settings = _settings(items)
    if problem.kind == FUNCTION:
        return [r["score"] for r in objectives.evaluate_trials(problem, arm, settings, config,
                                                               "tuning")], None
    data = network_problems.NetworkCache.get(problem, config, data_dir)
    rates, ks, seeds = [], [], []
    for study, learning_rate, k in settings:
        for seed in config.tuning_seeds_of(study):
            rates.append(learning_rate)
            ks.append(k)
            seeds.append(seed)
    out = network_problems.train_models(problem, data, arm, rates,
                                        ks if protocol.takes_k(arm) else None, seeds,
                                        config.epochs(problem))
    per_trial = out["validation"].reshape(len(settings), config.tuning_seeds)
    values = [float(np.inf) if not np.all(np.isfinite(v)) else float(np.mean(v))
              for v in per_trial]
    attrs = [{"validation": [float(x) for x in v]} for v in per_trial]
    return values, attrs


def evaluation_values(config, problem, arm, items, data_dir=None):
    """Values and user attributes of evaluation trials ``items`` (``(study, trial)``)."""
    problem = get_problem(problem)
    settings = _settings(items)
    if problem.kind == FUNCTION:
        outcomes = objectives.evaluate_trials(problem, arm, settings, config, "heldout")
        primary = f"{protocol.PRIMARY_TARGET:g}"
        values = [float(np.median(o["steps"][primary])) for o in outcomes]
        return values, outcomes
    data = network_problems.NetworkCache.get(problem, config, data_dir)
    seeds = [int(trial.user_attrs["seed"]) for _, trial in items]
    out = network_problems.train_models(
        problem, data, arm, [s[1] for s in settings],
        [s[2] for s in settings] if protocol.takes_k(arm) else None, seeds,
        config.epochs(problem), test_every_epoch=True)
    attrs = [{"test": float(out["test"][i]), "validation": float(out["validation"][i]),
              "test_epochs": [float(v) for v in out["test_epochs"][i]],
              "diverged": bool(out["diverged"][i])} for i in range(len(items))]
    return [a["test"] for a in attrs], attrs
