"""One (problem, optimizer): its objective, its tuning, its held-out evaluation.

:func:`process_item` does one work item of the queue: fill the study to the
budget and evaluate its best setting on held-out data (``"tuned"``), or
evaluate the one-shot default setting (``"defaults"``). The results are stored
as user attributes of the study, so an item is never done twice.
"""

from __future__ import annotations

import math

import optuna
from optuna.trial import TrialState

from mamgd_paper.core import optuna_utils
from mamgd_paper.experiments.equal_budget import (network_problems, objectives, parent, protocol,
                                                  studies)
from mamgd_paper.experiments.equal_budget.problems import get_problem
from mamgd_paper.experiments.equal_budget.protocol import FUNCTION, NETWORK, NETWORK_CAP


def halving_pruner():
    """Successive halving for the networks, the same for every optimizer.

    Optuna's :class:`~optuna.pruners.SuccessiveHalvingPruner` with rungs at
    ``HALVING_MIN_EPOCHS * HALVING_ETA**i`` epochs (2, 6, 18, ...): at a rung a
    trial goes on when its validation metric is among the best
    ``max(1, n // HALVING_ETA)`` of the n trials of the study that reached the
    rung (itself included). A network study is filled by one worker at a time
    (the queue hands out whole studies), so the trials that compete at a rung
    are exactly the study's earlier ones, in every run.
    """
    return optuna.pruners.SuccessiveHalvingPruner(
        min_resource=protocol.HALVING_MIN_EPOCHS, reduction_factor=protocol.HALVING_ETA,
        min_early_stopping_rate=0)


def make_objective(config, problem, label, data_dir=None):
    """``objective(trial)`` of ``label`` on ``problem`` under ``config``.

    Functions: the mean score on the tuning starts. Networks: the validation
    metric after the last epoch; the trial reports it after every epoch and
    stops when ``trial.should_prune()`` (the study's pruner,
    :func:`halving_pruner` when filled by :func:`process_item`) says so
    (``optuna.TrialPruned``); a diverged training is a completed trial with
    the value :data:`NETWORK_CAP`.
    """
    problem = get_problem(problem)
    if problem.kind == FUNCTION:
        def objective(trial):
            learning_rate, k = studies.suggest(trial, label)
            return objectives.function_objective(problem, label, learning_rate, k, config)
        return objective

    data = network_problems.NetworkCache.get(problem, config.quick, data_dir)
    epochs = config.epochs(problem)

    def objective(trial):
        learning_rate, k = studies.suggest(trial, label)

        def on_epoch(epoch, value):
            trial.report(value, epoch)
            return trial.should_prune()

        record = network_problems.train_network(problem, data, label, learning_rate, k, config.seed,
                                        epochs, on_epoch=on_epoch)
        if record["stopped"] and record["epochs"] < epochs:
            if math.isfinite(record["train_loss"]):
                raise optuna.TrialPruned()
            return NETWORK_CAP  # diverged: a completed trial with the worst value
        return record["validation"]

    return objective


def best_setting(study, label):
    """``(learning_rate, k)`` of the study's best completed trial (ties: the earliest)."""
    complete = [t for t in optuna_utils.finished_trials(study) if t.state == TrialState.COMPLETE]
    if not complete:
        raise RuntimeError(f"Study {study.study_name!r} has no completed trial.")
    best = min(complete, key=lambda t: (t.value, t.number))
    params = best.params
    k = None
    if protocol.takes_k(label):
        k = 0.0 if params.get("k_zero") else float(params["k"])
    return float(params["learning_rate"]), k


def evaluate_setting(config, problem, label, learning_rate, k, data_dir=None):
    """A setting on held-out data: held-out starts (functions) or re-run seeds (networks)."""
    problem = get_problem(problem)
    if problem.kind == FUNCTION:
        return objectives.function_evaluation(problem, label, learning_rate, k, config)
    data = network_problems.NetworkCache.get(problem, config.quick, data_dir)
    records = []
    for seed in config.final_seeds():
        parent.check()
        records.append(network_problems.train_network(problem, data, label, learning_rate, k, seed,
                                              config.epochs(problem)))
    return {"learning_rate": float(learning_rate), "k": None if k is None else float(k),
            "seeds": config.final_seeds(),
            "values": [float(r["test"]) for r in records],
            "validation": [float(r["validation"]) for r in records],
            "train_loss": [float(r["train_loss"]) if math.isfinite(r["train_loss"]) else None
                           for r in records],
            "diverged": int(sum(r["test"] >= NETWORK_CAP for r in records))}


def open_item_study(config, storage, problem, label):
    """Load or create the study of (``problem``, ``label``), labelled with both."""
    study = studies.load_or_create(storage, studies.study_name(config, problem, label))
    study.set_user_attr("problem", get_problem(problem).name)
    study.set_user_attr("optimizer", label)
    return study


def process_item(config, storage, problem, label, kind, data_dir=None):
    """Do one work item: ``"tuned"`` (fill the study, then evaluate its best
    setting) or ``"defaults"`` (evaluate the one-shot setting). Idempotent: a
    finished part is not redone. The caller owns the item: RUNNING trials
    left in the study by a killed worker are failed first."""
    problem = get_problem(problem)
    study = open_item_study(config, storage, problem, label)
    if kind == "defaults":
        if "defaults" not in study.user_attrs:
            learning_rate, k = protocol.default_setting(label)
            study.set_user_attr("defaults", evaluate_setting(config, problem, label,
                                                             learning_rate, k, data_dir))
        return study
    if kind != "tuned":
        raise ValueError(f"Unknown item kind {kind!r}.")
    optuna_utils.fail_running_trials(study)
    studies.fill_study(study, make_objective(config, problem, label, data_dir),
                       config.trials(problem), seed=config.seed,
                       pruner=halving_pruner() if problem.kind == NETWORK else None)
    if "tuned" not in study.user_attrs:
        learning_rate, k = best_setting(study, label)
        study.set_user_attr("tuned", evaluate_setting(config, problem, label, learning_rate, k,
                                                      data_dir))
    return study
