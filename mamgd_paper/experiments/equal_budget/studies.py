"""The Optuna side of the comparison: storage, study names, samplers, filling.

Each (problem, optimizer) is one study, named :func:`study_name`, in one
storage (a journal file by default, or an SQLAlchemy URL). A study is filled
to its budget by :func:`fill_study`, either with the seeded TPE sampler
(:func:`tpe_sampler`, re-seeded before every trial) or with the ``design``
sampler (:func:`design_points`, a seeded set of points fixed before any trial
runs). The search space is :func:`suggest`.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import optuna

from mamgd_paper.core import optuna_utils
from mamgd_paper.experiments.equal_budget import parent, protocol
from mamgd_paper.experiments.equal_budget.problems import get_problem
from mamgd_paper.experiments.equal_budget.protocol import K_HIGH, K_LOW, LR_HIGH, LR_LOW


def default_storage(quick=False):
    """``$MAMGD_EQUAL_BUDGET_STORAGE``, else ``data/equal_budget.journal``
    (``data/equal_budget-quick.journal`` for quick runs)."""
    name = "equal_budget-quick.journal" if quick else "equal_budget.journal"
    return optuna_utils.default_storage(name, protocol.STORAGE_ENV)


def storage_argument(storage, quick=False):
    """``storage`` as a string every worker process can open the same way.

    ``None``: :func:`default_storage`. A URL is kept; a journal file path is made
    absolute (workers may run in another folder).
    """
    if storage is None:
        storage = default_storage(quick)
    if isinstance(storage, optuna.storages.BaseStorage):
        raise ValueError("Pass the storage as a URL or a journal file path, so that worker "
                         "processes can open it too.")
    text = str(storage)
    return text if "://" in text else str(Path(text).resolve())


def as_storage(storage):
    """An Optuna storage: ``storage`` itself, or opened from its URL or path."""
    return optuna_utils.open_storage(storage) if isinstance(storage, str) else storage


def study_name(config, problem, label):
    """``equal-budget/<run>/<problem>/<optimizer>``."""
    return f"{protocol.STUDY_PREFIX}/{config.run_id}/{get_problem(problem).name}/{label}"


def queue_name(run_id):
    """``equal-budget/<run>/queue``: the study that holds the run's work items."""
    return f"{protocol.STUDY_PREFIX}/{run_id}/queue"


def load_or_create(storage, name, sampler=None):
    """Load study ``name`` (writing nothing), else create it (direction minimize)."""
    try:
        return optuna.load_study(study_name=name, storage=storage, sampler=sampler)
    except KeyError:
        return optuna.create_study(storage=storage, study_name=name, direction="minimize",
                                   sampler=sampler, load_if_exists=True)


def tpe_sampler(seed, stream, finished, trials, constant_liar=False):
    """Optuna's TPE sampler, seeded from ``(seed, stream, finished trials)``.

    Trial n of a study filled by one worker (stream 0) therefore proposes the
    same point in every run with the same seed and history. The first
    ``max(3, trials // 5)`` trials are random (TPE's start-up phase).
    """
    state = np.random.SeedSequence([int(seed), int(stream), int(finished)]).generate_state(1)
    return optuna.samplers.TPESampler(seed=int(state[0]), n_startup_trials=max(3, trials // 5),
                                      constant_liar=constant_liar)


def suggest(trial, label):
    """The searched setting of ``label`` in ``trial``: ``(learning_rate, k)``."""
    learning_rate = trial.suggest_float("learning_rate", LR_LOW, LR_HIGH, log=True)
    if not protocol.takes_k(label):
        return learning_rate, None
    if trial.suggest_categorical("k_zero", [False, True]):
        return learning_rate, 0.0
    return learning_rate, trial.suggest_float("k", K_LOW, K_HIGH, log=True)


def design_points(label, count, seed):
    """``count`` seeded points of the search space (the ``design`` sampler).

    Log-uniform learning rate; for MAMGD and AdaExp k_zero with probability
    1/2, else k log-uniform. Fixed by ``seed`` alone, before any trial runs.
    """
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), protocol.stream_key(label),
                                                        7]))
    points = []
    for _ in range(int(count)):
        point = {"learning_rate": float(10 ** rng.uniform(math.log10(LR_LOW),
                                                          math.log10(LR_HIGH)))}
        if protocol.takes_k(label):
            zero = bool(rng.random() < 0.5)
            point["k_zero"] = zero
            k = float(10 ** rng.uniform(math.log10(K_LOW), math.log10(K_HIGH)))
            if not zero:
                point["k"] = k
        points.append(point)
    return points


def open_design_study(storage, name, label, n_trials, seed):
    """Create (once) or load a study whose trials are :func:`design_points`."""
    def setup(study):
        study.set_user_attr("sampler", "design")
        for point in design_points(label, n_trials, seed):
            study.enqueue_trial(point)

    return optuna_utils.create_once(as_storage(storage), name, setup)


def fill_study(study, objective, n_trials, seed=0, worker_index=0, sampler="tpe",
               shared=False, pruner=None):
    """Add trials to ``study`` until it holds ``n_trials`` finished ones.

    ``objective(trial)`` returns the value or raises ``optuna.TrialPruned``;
    ``pruner`` (an Optuna pruner) decides ``trial.should_prune()``.

    * ``sampler="tpe"``: before every trial the sampler is re-seeded from
      ``(seed, worker_index, finished trials)`` (:func:`tpe_sampler`); one
      worker (index 0) gives a study that depends on the seed alone.
      ``shared``: other workers fill the study at the same time (TPE's
      constant liar on, each trial's user attribute ``worker`` set).
    * ``sampler="design"``: the study was made by :func:`open_design_study`,
      which enqueued its :func:`design_points`; workers take them with
      Optuna's atomic WAITING -> RUNNING transition and sample nothing else.

    Several processes may run this on one study
    (:func:`mamgd_paper.core.optuna_utils.fill_study`); the study ends with
    exactly ``n_trials`` finished trials. Returns the study.
    """
    if sampler not in ("tpe", "design"):
        raise ValueError(f"sampler must be 'tpe' or 'design', not {sampler!r}.")
    worker = int(worker_index) if shared else None
    if sampler == "design":
        return optuna_utils.run_waiting_trials(study, objective, worker=worker,
                                               before_trial=parent.check)
    return optuna_utils.fill_study(
        study, objective, n_trials,
        lambda finished: tpe_sampler(seed, worker_index, finished, n_trials, shared),
        shared=shared, worker=worker, before_trial=parent.check, pruner=pruner)
