"""The Optuna side of the comparison: storage, study names, designs, claiming trials.

A run is a set of Optuna studies in one storage (a journal file by default,
or an SQLAlchemy URL; PostgreSQL for several machines):

* ``equal-budget/<run>``: holds the run's :class:`Config` (user attribute
  ``config``), so a worker started by hand anywhere learns it from the storage;
* ``equal-budget/<run>/<problem>/<arm>/tune-<r>``: tuning study r of
  (problem, arm). Created once (:func:`open_tuning_study`) with its whole design
  enqueued as WAITING trials: trial 0 is the arm's default setting, the
  others are points of Optuna's :class:`~optuna.samplers.QMCSampler`
  (scrambled Sobol, seeded per study, :func:`design`), so the budget is the
  design: exactly ``trials`` trials;
* ``.../eval-<r>``: the held-out evaluation of study r's best setting (one
  trial on the functions, one per re-run seed on the networks), created once
  the tuning study is complete.

Workers take WAITING trials with Optuna's atomic WAITING -> RUNNING
transition (:func:`claim`). On an RDB storage the trials a worker holds send
Optuna heartbeats, and a trial whose heartbeat stops is failed by
:func:`optuna.storages.fail_stale_trials` and queued again by
:class:`optuna.storages.RetryHeartbeatStaleTrialCallback` (Optuna's
``RetryFailedTrialCallback`` under its new name: same parameters, same user
attributes). A journal file has no heartbeat; there, a RUNNING trial
whose owner process on this machine is gone is failed and retried by the same
callback (:func:`release_dead`).
"""

from __future__ import annotations

import os
import socket
import warnings
from pathlib import Path

import numpy as np
import optuna
from optuna.trial import TrialState

from mamgd_paper.core import optuna_utils
from mamgd_paper.experiments.equal_budget import protocol
from mamgd_paper.experiments.equal_budget.problems import get_problem

#: RDB storages: a held trial sends a heartbeat every HEARTBEAT s; one silent for
#: GRACE s is stale (failed and retried). A trial is retried at most MAX_RETRY times.
HEARTBEAT, GRACE, MAX_RETRY = 2, 10, 3
#: Every live worker looks for dead workers' trials in the whole run every
#: REAP s, whatever (problem, arm) it is working on (:func:`reap`): a dead
#: worker's trial is failed and queued again at most GRACE + REAP + HEARTBEAT
#: seconds after its last heartbeat (the documented bound, :data:`REQUEUE_BOUND`).
REAP = 2
REQUEUE_BOUND = GRACE + REAP + HEARTBEAT
PHASES = ("tune", "eval")


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


def open_storage(storage, create=True):
    """The run's storage: an RDB URL opens with heartbeats and the retry callback
    (connections with bounded waits), anything else as
    :func:`mamgd_paper.core.optuna_utils.open_storage` does (``create=False``:
    a journal file that does not exist is an error, never created)."""
    if isinstance(storage, optuna.storages.BaseStorage):
        return storage
    text = str(storage)
    if "://" not in text:
        return optuna_utils.open_storage(text, sync=False, create=create)
    optuna_utils.quiet_optuna()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna_utils.open_rdb_storage(
            text, heartbeat_interval=HEARTBEAT, grace_period=GRACE,
            heartbeat_stale_trial_callback=retry_callback())


def heartbeats(storage):
    """Whether ``storage`` records Optuna heartbeats (an RDB storage opened by
    :func:`open_storage`)."""
    interval = getattr(storage, "get_heartbeat_interval", None)
    return interval is not None and interval() is not None


def retry_callback():
    """Optuna's retry of a failed trial (a WAITING copy with the same parameters and
    user attributes), at most :data:`MAX_RETRY` times per trial."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=MAX_RETRY)


def run_name(run_id):
    """``equal-budget/<run>``: the study that holds the run's configuration."""
    return f"{protocol.STUDY_PREFIX}/{run_id}"


def study_name(config, problem, arm, study, phase="tune"):
    """``equal-budget/<run>/<problem>/<arm>/<phase>-<study>``."""
    if phase not in PHASES:
        raise ValueError(f"phase must be one of {PHASES}, not {phase!r}.")
    return f"{run_name(config.run_id)}/{get_problem(problem).name}/{arm}/{phase}-{int(study)}"


def design(config, problem, arm, study):
    """The trials of tuning study ``study`` of (``problem``, ``arm``), in order.

    Trial 0: the default setting (:func:`protocol.default_setting`). Trials
    1, 2, ...: the points that Optuna's QMCSampler (``qmc_type="sobol"``,
    ``scramble=True``, ``seed`` = :meth:`Config.study_seed`) proposes after a
    first trial with the default: the scrambled Sobol points 0, 1, ... of
    SciPy's engine (which the sampler wraps) mapped log-uniformly onto
    :func:`protocol.search_space`. They are computed here in one call instead
    of one sampler call per trial (about 6 ms each, 17,000 of them in a full
    run); ``tests/experiments/test_equal_budget.py`` checks that they equal the
    sampler's. The design does not depend on any result.
    """
    from scipy.stats import qmc

    space = protocol.search_space(arm)
    points = [protocol.default_setting(arm)]
    count = config.trials(problem) - 1
    if count:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # Sobol balance: n not a power of 2
            uniform = qmc.Sobol(len(space), seed=config.study_seed(problem, arm, study),
                                scramble=True).random(count)
        low = np.log([low for low, _ in space.values()])
        high = np.log([high for _, high in space.values()])
        values = np.exp(low + uniform * (high - low))
        points += [dict(zip(space, map(float, row))) for row in values]
    return points


def distributions(arm):
    """The Optuna distributions of ``arm``'s search space (all log-uniform floats)."""
    return {name: optuna.distributions.FloatDistribution(low, high, log=True)
            for name, (low, high) in protocol.search_space(arm).items()}


def add_waiting(study, arm, points, user_attrs):
    """Add WAITING trials with their parameters (one storage write each)."""
    spaces = distributions(arm)
    for point, attrs in zip(points, user_attrs):
        study.add_trial(optuna.trial.create_trial(
            state=TrialState.WAITING, params=dict(point),
            distributions={name: spaces[name] for name in point}, user_attrs=attrs))


def open_run(config, storage):
    """Create (once) or load the run's configuration study; a different
    configuration under the same id is an error."""
    def setup(study):
        study.set_user_attr("config", config.to_json())

    study = optuna_utils.create_once(storage, run_name(config.run_id), setup)
    if study.user_attrs.get("config") != config.to_json():
        raise ValueError(f"Study {study.study_name!r} holds another configuration.")
    return study


#: Seconds a worker waits for another to finish creating a study before it
#: completes the study itself (the creator died half-way).
CREATION_TIMEOUT = 30.0


def add_missing(study, arm, points, user_attrs):
    """Add the WAITING trials whose ``design`` index the study does not hold yet
    (completing a study whose creator died half-way)."""
    have = {t.user_attrs.get("design") for t in study.get_trials(deepcopy=False)}
    missing = [i for i in range(len(points)) if user_attrs[i]["design"] not in have]
    add_waiting(study, arm, [points[i] for i in missing], [user_attrs[i] for i in missing])


def open_study_with_trials(storage, name, arm, points, user_attrs, labels):
    """Create (once, whoever comes first) or load a study holding ``points`` as
    WAITING trials (user attributes ``user_attrs``; study attributes ``labels``)."""
    def setup(created):
        for key, value in labels.items():
            created.set_user_attr(key, value)
        add_waiting(created, arm, points, user_attrs)

    def repair(found):
        for key, value in labels.items():
            found.set_user_attr(key, value)
        add_missing(found, arm, points, user_attrs)

    return optuna_utils.create_once(storage, name, setup, timeout=CREATION_TIMEOUT,
                                    repair=repair)


def open_tuning_study(config, storage, problem, arm, study):
    """Create (once, whoever comes first) or load a tuning study with its design."""
    points = design(config, problem, arm, study)
    labels = {"problem": get_problem(problem).name, "arm": arm, "study": int(study)}
    return open_study_with_trials(storage, study_name(config, problem, arm, study), arm, points,
                                  [{"design": i} for i in range(len(points))], labels)


def best_trial(study):
    """The best COMPLETE trial: lowest value, ties to the lowest design index."""
    complete = [t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))]
    if not complete:
        raise RuntimeError(f"Study {study.study_name!r} has no completed trial.")
    return min(complete, key=lambda t: (t.value, t.user_attrs["design"]))


def complete_designs(study):
    """The design indices of the study's COMPLETE trials."""
    return {t.user_attrs["design"] for t in study.get_trials(deepcopy=False,
                                                             states=(TrialState.COMPLETE,))}


def owner():
    """``host:pid`` of this process (the ``owner`` of the trials it takes)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _dead_local(item_owner):
    host, _, pid = str(item_owner).rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _orphaned(trial, now):
    """A RUNNING trial that never got its owner: its worker died between the
    WAITING -> RUNNING step and the next write, :data:`CREATION_TIMEOUT` ago."""
    started = trial.datetime_start
    return ("owner" not in trial.user_attrs and started is not None
            and (now - started).total_seconds() > CREATION_TIMEOUT)


def release_dead(study):
    """Fail and retry the trials of dead workers: Optuna's
    :func:`~optuna.storages.fail_stale_trials` on a storage with heartbeats; on
    a journal file, RUNNING trials whose owner process on this machine is gone;
    on both, trials orphaned between their claim and its first write
    (:func:`_orphaned`). Retries are :func:`retry_callback`'s. Returns the
    numbers failed."""
    import datetime

    storage = study._storage
    before = {t.number for t in study.get_trials(deepcopy=False, states=(TrialState.FAIL,))}
    if heartbeats(storage):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            optuna.storages.fail_stale_trials(study)
    retry = retry_callback()
    now = datetime.datetime.now()
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        dead = _orphaned(trial, now) or (not heartbeats(storage)
                                         and _dead_local(trial.user_attrs.get("owner", "")))
        if dead:
            try:
                failed = storage.set_trial_state_values(trial._trial_id, state=TrialState.FAIL)
            except optuna.exceptions.UpdateFinishedTrialError:
                failed = False
            if failed:
                retry(study, storage.get_trial(trial._trial_id))
    after = {t.number for t in study.get_trials(deepcopy=False, states=(TrialState.FAIL,))}
    return sorted(after - before)


def _running_study_ids(storage):
    """The ids of the studies that hold RUNNING trials (one query on an RDB
    storage; the journal's in-memory state otherwise)."""
    if isinstance(storage, optuna.storages.RDBStorage):
        from optuna.storages._rdb import models

        session = storage.scoped_session()
        try:
            rows = (session.query(models.TrialModel.study_id)
                    .filter(models.TrialModel.state == TrialState.RUNNING).distinct().all())
            session.commit()
        finally:
            session.close()
        return sorted({row[0] for row in rows})
    found = []
    for summary in storage.get_all_studies():
        if storage.get_all_trials(summary._study_id, deepcopy=False,
                                  states=(TrialState.RUNNING,)):
            found.append(summary._study_id)
    return found


def reap(storage, prefix):
    """Fail and queue again the trials of dead workers in every study whose name
    starts with ``prefix`` (:func:`release_dead` on each study that holds RUNNING
    trials). Run by every worker every :data:`REAP` s, beside its heartbeats, so
    that a dead worker's trials come back whatever the live workers are on.
    Returns ``{study name: [trial numbers failed]}``."""
    failed = {}
    for study_id in _running_study_ids(storage):
        name = storage.get_study_name_from_id(study_id)
        if not name.startswith(prefix):
            continue
        numbers = release_dead(optuna.load_study(study_name=name, storage=storage))
        if numbers:
            failed[name] = numbers
    return failed


def claim(study, limit=None):
    """Take up to ``limit`` (``None``: all) WAITING trials of ``study`` (atomic
    WAITING -> RUNNING) with this process as their ``owner``, and return them
    (``FrozenTrial``; a first heartbeat is sent on RDB storages)."""
    storage = study._storage
    beats = heartbeats(storage)
    taken = []
    me = owner()
    while limit is None or len(taken) < limit:
        frozen = optuna_utils.claim_waiting(storage, study._study_id)
        if frozen is None:
            break
        # heartbeat first, then owner: a worker killed in between leaves a trial
        # that is stale (heartbeat) or orphaned (no owner), never one that looks alive
        if beats:
            storage.record_heartbeat(frozen._trial_id)
        storage.set_trial_user_attr(frozen._trial_id, "owner", me)
        taken.append(storage.get_trial(frozen._trial_id))
    return taken


def trial_setting(trial):
    """``(learning_rate, k)`` of a claimed trial (k ``None`` for optimizers without one)."""
    params = trial.params
    return float(params["learning_rate"]), (float(params["k"]) if "k" in params else None)
