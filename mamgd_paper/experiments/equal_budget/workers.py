"""Workers: fill a run's studies with Optuna's own mechanisms, on any number of machines.

There is no queue of our own. The work of a run is the WAITING trials of its
studies (:mod:`~mamgd_paper.experiments.equal_budget.studies`): each tuning
study is created with its whole design enqueued, each evaluation study once
its tuning study is complete. A worker (:func:`run_worker`; ``python -m
mamgd_paper.experiments.equal_budget worker --storage URL`` on another
machine) reads the run's configuration from the storage, checks that it has
the data the run needs and NumPy's pinned floating-point code
(:mod:`mamgd_paper.core.numerics`; else it stops at once and says what is
missing),
then goes through the (problem, arm) groups in a fixed order and, in each,

1. fails and retries the trials of dead workers (Optuna heartbeats and
   :class:`~optuna.storages.RetryHeartbeatStaleTrialCallback` on RDB storages;
   :func:`studies.release_dead` on a journal file),
2. creates the group's missing tuning studies (once, whoever comes first),
3. claims every WAITING trial of the group's tuning studies (atomic WAITING
   -> RUNNING) and evaluates them in one batch, or, for a complete tuning
   study, creates its evaluation study and claims and evaluates its trials.

A trial whose evaluation raises is marked FAIL with the error as its user
attribute ``error`` and retried by the same callback (at most
``studies.MAX_RETRY`` times, by any worker); the worker stops with a message
naming the study, the trials and the error. :func:`run` starts workers on
this machine and waits for the run; it fails with the study, trial and error
when a trial has used up its retries. Trial values depend only on the
parameters, the study and the configuration, so the tables do not depend on
the number of workers.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import optuna
from optuna.trial import TrialState

from mamgd_paper.core import numerics, paths, storage_url
from mamgd_paper.experiments.equal_budget import parent, protocol, results, studies, tuning
from mamgd_paper.experiments.equal_budget.problems import Config, get_problem
from mamgd_paper.experiments.equal_budget.protocol import FUNCTION, NETWORK

#: The worker command line: ``python -m`` this package.
WORKER_MODULE = "mamgd_paper.experiments.equal_budget"


class RunFailed(RuntimeError):
    """A trial of the run failed and used up its retries (the message names it)."""


class RunNotFound(LookupError):
    """The storage holds no such run, or several and none was named."""

    def __str__(self):
        return str(self.args[0])


def groups(config):
    """The run's (problem, arm) groups in the order workers visit them: the
    networks first (the longest), then the functions, higher dimensions first."""
    problems = config.problem_list
    networks = sorted([p for p in problems if p.kind == NETWORK],
                      key=lambda p: (p.table != 8, -p.table))
    functions = sorted([p for p in problems if p.kind == FUNCTION],
                       key=lambda p: -p.function.dim)
    return [(p.name, arm) for p in networks + functions for arm in config.arms]


def find_run(storage, run_id=None):
    """The :class:`Config` of ``run_id`` (without one: the storage's only run)."""
    storage = studies.open_storage(storage)
    if run_id is None:
        names = [name for name in optuna.study.get_all_study_names(storage)
                 if name.startswith(protocol.STUDY_PREFIX + "/") and name.count("/") == 1]
        if not names:
            raise RunNotFound(f"The storage holds no equal-budget run; start one with the "
                              f"notebook or `python -m {WORKER_MODULE} worker --new ...`.")
        if len(names) > 1:
            raise RunNotFound(f"The storage holds {len(names)} equal-budget runs "
                              f"({[n.split('/')[1] for n in names]}); pass --run RUN_ID.")
        run_id = names[0].split("/", 1)[1]
    try:
        study = optuna.load_study(study_name=studies.run_name(run_id), storage=storage)
    except KeyError:
        raise RunNotFound(f"No equal-budget run {run_id!r} in this storage; start it with the "
                          f"notebook or `python -m {WORKER_MODULE} worker --new ...`.") from None
    return Config.from_json(study.user_attrs["config"])


def check_data(config, data_dir=None):
    """Stop at once when a network problem's data cannot be loaded here."""
    for problem in config.problem_list:
        if problem.kind == NETWORK:
            available, reason, detail = problem.task.is_available(data_dir)
            if not available:
                where = data_dir or os.environ.get("MAMGD_DATA_DIR") or str(paths.DATA)
                raise SystemExit(f"equal-budget worker: {problem.name} needs {reason}. The "
                                 f"data folder here is {where}; pass --data-dir or set "
                                 f"MAMGD_DATA_DIR.\n{detail}")


class _Heartbeat:
    """Optuna heartbeats for the trials this worker holds (RDB storages), and
    the reaper: every :data:`studies.REAP` s, the dead workers' trials of the
    whole run are failed and queued again (:func:`studies.reap`), whatever
    (problem, arm) this worker is busy with. Both run in one background thread."""

    def __init__(self, storage, config=None):
        self.storage, self.held, self.lock = storage, set(), threading.Lock()
        self.enabled = studies.heartbeats(storage)
        self.prefix = None if config is None else studies.run_name(config.run_id) + "/"
        self.stop = threading.Event()
        if self.enabled or self.prefix is not None:
            threading.Thread(target=self._beat, daemon=True).start()

    def hold(self, trials):
        with self.lock:
            self.held = {t._trial_id for t in trials}

    def _beat(self):
        next_reap = time.monotonic()
        while not self.stop.wait(min(studies.HEARTBEAT, studies.REAP)):
            with self.lock:
                held = sorted(self.held)
            for trial_id in held if self.enabled else ():
                try:
                    self.storage.record_heartbeat(trial_id)
                except Exception:  # noqa: BLE001 (a finished trial, a lost connection)
                    pass
            if self.prefix is not None and time.monotonic() >= next_reap:
                next_reap = time.monotonic() + studies.REAP
                try:
                    studies.reap(self.storage, self.prefix)
                except Exception:  # noqa: BLE001 (a lost connection: the next round retries)
                    pass


def _unit_count(config, problem):
    return 1 if get_problem(problem).kind == FUNCTION else config.rerun_seeds


def open_evaluation(config, storage, problem, arm, study, tuned):
    """Create (once) or load the evaluation study of tuning study ``tuned``:
    its best setting, once per re-run seed (networks) or once (functions)."""
    best = studies.best_trial(tuned)
    seeds = (config.rerun_seeds_of(study) if get_problem(problem).kind == NETWORK else [None])
    attrs = [{"design": unit, "unit": unit, **({} if seed is None else {"seed": int(seed)})}
             for unit, seed in enumerate(seeds)]
    labels = {"problem": get_problem(problem).name, "arm": arm, "study": int(study),
              "best_design": int(best.user_attrs["design"]), "best_value": float(best.value)}
    return studies.open_study_with_trials(
        storage, studies.study_name(config, problem, arm, study, "eval"), arm,
        [dict(best.params)] * len(seeds), attrs, labels)


def _stuck(study):
    """The latest FAIL trial of a design index that has no COMPLETE, WAITING or
    RUNNING copy (the one with the longest retry history), else ``None``."""
    trials = study.get_trials(deepcopy=False)
    alive = {t.user_attrs.get("design") for t in trials
             if t.state in (TrialState.COMPLETE, TrialState.WAITING, TrialState.RUNNING)}
    stuck = {}
    for t in trials:
        design = t.user_attrs.get("design")
        if t.state == TrialState.FAIL and design not in alive:
            if design not in stuck or _retries(t) > _retries(stuck[design]):
                stuck[design] = t
    return next(iter(stuck.values()), None)


def _retries(trial):
    return len(trial.system_attrs.get("retry_history", []))


def _fail(study, trials, error):
    """Mark claimed trials FAIL with the error and queue their retries."""
    retry = studies.retry_callback()
    storage = study._storage
    for trial in trials:
        storage.set_trial_user_attr(trial._trial_id, "error", repr(error)[:2000])
        if storage.set_trial_state_values(trial._trial_id, state=TrialState.FAIL):
            retry(study, storage.get_trial(trial._trial_id))


class _Group:
    """One (problem, arm): its tuning and evaluation studies, opened as needed."""

    def __init__(self, config, storage, problem, arm):
        self.config, self.storage, self.problem, self.arm = config, storage, problem, arm
        self.count = config.studies(problem)
        self.tuning = [None] * self.count
        self.evaluation = [None] * self.count
        self.done = False

    def step(self, heartbeat, data_dir):
        """Do one batch of this group's work; ``True`` if something was done."""
        if self.done:
            return False
        config, storage = self.config, self.storage
        for r in range(self.count):
            if self.tuning[r] is None:
                self.tuning[r] = studies.open_tuning_study(config, storage, self.problem,
                                                           self.arm, r)
        claimed = []
        for r, study in enumerate(self.tuning):
            studies.release_dead(study)
            claimed += [(r, study, t) for t in studies.claim(study)]
        if claimed:
            self._evaluate(claimed, tuning.tune_values, heartbeat, data_dir)
            return True
        units = _unit_count(config, self.problem)
        finished = 0
        for r, study in enumerate(self.tuning):
            if len(studies.complete_designs(study)) < config.trials(self.problem):
                stuck = _stuck(study)
                if stuck is not None:
                    # a worker stopped between marking its trial failed and queuing
                    # the retry (an interrupt, a kill): queue it now, within the bound
                    if _retries(stuck) < studies.MAX_RETRY:
                        studies.retry_callback()(study, stuck)
                        return True
                    raise RunFailed(_failure_message(study, stuck))
                continue
            if self.evaluation[r] is None:
                self.evaluation[r] = open_evaluation(config, storage, self.problem, self.arm,
                                                     r, study)
            evaluation = self.evaluation[r]
            studies.release_dead(evaluation)
            claimed += [(r, evaluation, t) for t in studies.claim(evaluation)]
            if len(studies.complete_designs(evaluation)) == units:
                finished += 1
            else:
                stuck = _stuck(evaluation)
                if stuck is not None and not claimed:
                    raise RunFailed(_failure_message(evaluation, stuck))
        if claimed:
            self._evaluate(claimed, tuning.evaluation_values, heartbeat, data_dir)
            return True
        self.done = finished == self.count
        return False

    def _evaluate(self, claimed, evaluate, heartbeat, data_dir):
        heartbeat.hold([t for _, _, t in claimed])
        items = [(r, t) for r, _, t in claimed]
        try:
            values, attrs = evaluate(self.config, self.problem, self.arm, items, data_dir)
        except BaseException as error:
            by_study = {}
            for _, study, trial in claimed:
                by_study.setdefault(study.study_name, (study, []))[1].append(trial)
            for study, trials in by_study.values():
                _fail(study, trials, error)
            names = ", ".join(f"{name} trials {[t.number for t in trials]}"
                              for name, (_, trials) in by_study.items())
            heartbeat.hold([])
            raise RuntimeError(f"equal-budget worker {studies.owner()}: {names} failed: "
                               f"{error!r} (the trials are queued again for other "
                               f"workers)") from error
        for i, (_, study, trial) in enumerate(claimed):
            for key, value in (attrs[i] if attrs else {}).items():
                study._storage.set_trial_user_attr(trial._trial_id, key, value)
            study.tell(trial.number, values[i])
        heartbeat.hold([])


def _failure_message(study, trial):
    retries = _retries(trial)
    return (f"study {study.study_name!r}: trial {trial.number} failed "
            f"({retries} retries used, at most {studies.MAX_RETRY}): "
            f"{trial.user_attrs.get('error', 'its worker died (no error recorded)')}")


def run_worker(storage, run_id=None, data_dir=None, threads=1, poll=0.5):
    """Work on the run until every evaluation study is complete; returns the
    number of batches this worker evaluated."""
    from threadpoolctl import threadpool_limits

    numerics.check("equal-budget worker")
    storage = studies.open_storage(storage)
    config = find_run(storage, run_id)
    check_data(config, data_dir)
    heartbeat = _Heartbeat(storage, config)
    work = [_Group(config, storage, problem, arm) for problem, arm in groups(config)]
    batches = 0
    try:
        with threadpool_limits(limits=int(threads)):
            while True:
                parent.check()
                did = False
                for group in work:
                    if group.step(heartbeat, data_dir):
                        batches += 1
                        did = True
                if all(group.done for group in work):
                    return batches
                if not did:
                    time.sleep(poll)  # the rest is held by other workers
    finally:
        heartbeat.stop.set()


def _worker_command(run_id, index, data_dir=None, threads=1):
    """A local worker's command line. The storage is not on it (a URL may hold a
    password, and every user sees a command line): the worker reads it from
    :data:`~mamgd_paper.core.storage_url.ENVIRONMENT`."""
    command = [sys.executable, "-m", WORKER_MODULE, "worker",
               "--run", run_id, "--worker-index", str(index), "--threads", str(threads),
               "--parent", str(os.getpid())]
    if data_dir is not None:
        command += ["--data-dir", str(data_dir)]
    return command


def run(config, storage=None, workers=2, data_dir=None, poll=0.5, describe="equal budget"):
    """Run (or resume) ``config`` and return its
    :class:`~mamgd_paper.experiments.equal_budget.results.Results`.

    ``workers`` processes are started on this machine (``workers=0``: the work
    is done in this process); workers elsewhere may join at any time. A
    worker that stops early leaves its work to the others; the run fails only
    when no worker is left or a trial used up its retries, with the study,
    the trial and the error. Progress: one step per finished group.
    """
    from mamgd_paper.core.progress import track

    storage_text = studies.storage_argument(storage, config.quick)
    store = studies.open_storage(storage_text)
    studies.open_run(config, store)
    check_data(config, data_dir)
    total = len(groups(config))
    if workers == 0:  # in this process: it must compute what every worker computes
        run_worker(store, config.run_id, data_dir, threads=1, poll=poll)
        return results.collect(config, store)
    with tempfile.TemporaryDirectory(prefix="mamgd-equal-budget-") as logs:
        processes = []
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3",
                   PYTHONPATH=os.pathsep.join(filter(None, [str(paths.ROOT),
                                                            os.environ.get("PYTHONPATH")])))
        env.pop("MAMGD_PROGRESS_FILE", None)
        env[storage_url.ENVIRONMENT] = storage_text  # the workers' storage, off their arguments
        try:
            for index in range(int(workers)):
                log = open(Path(logs) / f"worker-{index}.log", "w+", encoding="utf-8")
                processes.append((subprocess.Popen(
                    _worker_command(config.run_id, index, data_dir),
                    stdout=log, stderr=subprocess.STDOUT, env=env, cwd=os.getcwd()), log))
            for _ in track(_watch(config, store, processes, poll), describe, total=total):
                pass
        finally:
            for process, log in processes:
                if process.poll() is None:
                    process.terminate()
                    process.wait()
                log.close()
    return results.collect(config, store)


def finished_groups(config, storage, known=None):
    """The (problem, arm) groups whose evaluation studies are all complete
    (``known``: groups already found finished, not looked at again)."""
    known = set() if known is None else set(known)
    names = set(optuna.study.get_all_study_names(storage))
    for problem, arm in groups(config):
        if (problem, arm) in known:
            continue
        units = _unit_count(config, problem)
        for r in range(config.studies(problem)):
            name = studies.study_name(config, problem, arm, r, "eval")
            if name not in names:
                break
            study = optuna.load_study(study_name=name, storage=storage)
            if len(studies.complete_designs(study)) < units:
                break
        else:
            known.add((problem, arm))
    return known


def _watch(config, storage, processes, poll):
    """Yield once per newly finished group until all are done; raise when no
    worker is left and the run is not finished."""
    done, total = set(), len(groups(config))
    while True:
        stopped = all(process.poll() is not None for process, _ in processes)
        new = finished_groups(config, storage, done)
        for _ in range(len(new) - len(done)):
            yield
        done = new
        if len(done) >= total:
            return
        if stopped:
            tails = []
            for process, log in processes:
                log.seek(0)
                tails.append(f"(exit code {process.returncode}) " + log.read()[-3000:])
            raise RunFailed("Every equal-budget worker stopped before the run was finished; "
                            "finished trials are kept, run again to go on. The ends of "
                            "their logs:\n" + "\n".join(tails))
        time.sleep(max(poll, 5.0))
