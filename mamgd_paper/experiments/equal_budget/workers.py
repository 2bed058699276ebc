"""The queue of work items and the worker processes that take them.

The work of a run is a queue of items -- tune one study and re-run its best
setting, or run one optimizer's defaults -- kept as WAITING trials of a queue
study (:func:`open_queue`). Any number of worker processes, on one machine or
many (``python -m mamgd_paper.experiments.equal_budget worker --storage URL``),
take items with Optuna's atomic WAITING -> RUNNING transition
(:func:`run_worker`). One study is filled by one worker at a time, trial after
trial, so every study, and every table made from them, is the same whatever
the number of workers. :func:`run` starts workers on this machine and waits
for the run to finish.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import optuna
from optuna.trial import TrialState

from mamgd_paper.core import optuna_utils, paths
from mamgd_paper.experiments.equal_budget import parent, protocol, results, studies, tuning
from mamgd_paper.experiments.equal_budget.problems import Config
from mamgd_paper.experiments.equal_budget.protocol import FUNCTION, NETWORK
from mamgd_paper.experiments.networks.training import configure_determinism

#: The worker command line: ``python -m`` this package.
WORKER_MODULE = "mamgd_paper.experiments.equal_budget"


def work_items(config):
    """The run's items ``(problem, optimizer, kind)``, the longest first.

    Network items (tuning + re-runs, then defaults) go first, so that the
    short function items fill the gaps at the end.
    """
    items = []
    problems = config.problem_list
    for kind in ("tuned", "defaults"):
        for problem in reversed([p for p in problems if p.kind == NETWORK]):
            items += [(problem.name, label, kind) for label in config.optimizers]
    for problem in sorted([p for p in problems if p.kind == FUNCTION],
                          key=lambda p: -p.function.dim):
        for label in config.optimizers:
            items += [(problem.name, label, "tuned"), (problem.name, label, "defaults")]
    return items


def owner():
    """``host:pid`` of this process (the ``owner`` of the items it takes)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def open_queue(config, storage):
    """Create (once) or load the run's queue: one WAITING trial per work item."""
    def setup(queue):
        queue.set_user_attr("config", config.to_json())
        for index, (problem, label, kind) in enumerate(work_items(config)):
            queue.enqueue_trial({}, user_attrs={"item": index, "problem": problem,
                                                "optimizer": label, "kind": kind})

    queue = optuna_utils.create_once(storage, studies.queue_name(config.run_id), setup)
    if queue.user_attrs.get("config") != config.to_json():
        raise ValueError(f"Queue {queue.study_name!r} holds another configuration.")
    return queue


def find_run(storage, run_id=None):
    """The queue of ``run_id``; without one, the storage's only run (else an error)."""
    storage = studies.as_storage(storage)
    if run_id is not None:
        try:
            return optuna.load_study(study_name=studies.queue_name(run_id), storage=storage)
        except KeyError:
            raise KeyError(f"No equal-budget run {run_id!r} in this storage; start it with "
                           f"the notebook or `python -m {WORKER_MODULE} worker "
                           "--new ...`.") from None
    names = [s.study_name for s in optuna.get_all_study_summaries(storage)
             if s.study_name.startswith(protocol.STUDY_PREFIX + "/")
             and s.study_name.endswith("/queue")]
    if len(names) != 1:
        raise ValueError(f"The storage holds {len(names)} equal-budget runs "
                         f"({[n.split('/')[1] for n in names]}); pass --run RUN_ID.")
    return optuna.load_study(study_name=names[0], storage=storage)


def queue_state(queue):
    """Items by state: ``{"done": [...], "running": [...], "waiting": [...], "failed": [...]}``.

    An item is done when one of its queue trials is COMPLETE (a re-queued item
    has several trials).
    """
    trials = queue.get_trials(deepcopy=False)
    done = {t.user_attrs["item"] for t in trials if t.state == TrialState.COMPLETE}
    state = {"done": sorted(done), "running": [], "waiting": [], "failed": []}
    names = {TrialState.RUNNING: "running", TrialState.WAITING: "waiting",
             TrialState.FAIL: "failed"}
    for t in trials:
        if t.user_attrs["item"] not in done and t.state in names:
            state[names[t.state]].append(t)
    return state


def requeue(queue, stale_owners=None):
    """Put failed items, and running items of dead workers, back in the queue.

    ``stale_owners``: a predicate on the ``owner`` attribute
    (``host:pid``) of a RUNNING item; ``None`` requeues every running item
    (only when no worker is alive anywhere). Returns the requeued item indices.
    """
    state = queue_state(queue)
    again = []
    pending = {t.user_attrs["item"] for t in state["waiting"]}
    for t in state["running"]:
        item_owner = t.user_attrs.get("owner")
        if stale_owners is None or (item_owner is not None and stale_owners(item_owner)):
            queue.tell(t.number, state=TrialState.FAIL, skip_if_finished=True)
            again.append(t)
    running = {t.user_attrs["item"] for t in queue_state(queue)["running"]}
    for t in state["failed"] + again:
        item = t.user_attrs["item"]
        if item in pending or item in running:
            continue
        attrs = {key: t.user_attrs[key] for key in ("item", "problem", "optimizer", "kind")}
        queue.enqueue_trial({}, user_attrs=attrs)
        pending.add(item)
    return sorted(pending)


def dead_local_owner(item_owner):
    """Whether ``host:pid`` names a process of this machine that no longer exists."""
    host, _, pid = item_owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def run_worker(storage, run_id=None, data_dir=None, threads=1, max_items=None):
    """Take items from the run's queue and do them until none is left.

    One worker of the distributed run: start as many as you like, on any
    machine that reaches the storage. Each item is taken atomically, so no
    item runs twice; a failing item is marked FAIL (with the error) and the
    worker stops with the exception. Returns the number of items done.
    """
    storage = studies.as_storage(storage)
    queue = find_run(storage, run_id)
    config = Config.from_json(queue.user_attrs["config"])
    if config.has_networks:
        configure_determinism(threads)
    queue_id, done = queue._study_id, 0
    while max_items is None or done < max_items:
        parent.check()
        item = optuna_utils.claim_waiting(storage, queue_id, owner())
        if item is None:
            break
        attrs = item.user_attrs
        start = time.perf_counter()
        try:
            tuning.process_item(config, storage, attrs["problem"], attrs["optimizer"],
                                attrs["kind"], data_dir)
        except BaseException as error:
            storage.set_trial_user_attr(item._trial_id, "error", repr(error)[:2000])
            storage.set_trial_state_values(item._trial_id, state=TrialState.FAIL)
            raise
        storage.set_trial_user_attr(item._trial_id, "seconds", time.perf_counter() - start)
        storage.set_trial_state_values(item._trial_id, state=TrialState.COMPLETE, values=[0.0])
        done += 1
    return done


def _worker_command(storage, run_id, index, data_dir=None, threads=1):
    command = [sys.executable, "-m", WORKER_MODULE, "worker", "--storage", storage,
               "--run", run_id, "--worker-index", str(index), "--threads", str(threads),
               "--parent", str(os.getpid())]
    if data_dir is not None:
        command += ["--data-dir", str(data_dir)]
    return command


def run(config, storage=None, workers=2, data_dir=None, poll=0.5, describe="equal budget"):
    """Run (or resume) every item of ``config`` and return the
    :class:`~mamgd_paper.experiments.equal_budget.results.Results`.

    ``workers`` processes (``python -m mamgd_paper.experiments.equal_budget worker``) are
    started on this machine; workers elsewhere may join the same run at any
    time. ``workers=0`` does the items in this process. Failed items, and
    items left RUNNING by dead workers of this machine, are queued again
    first. Progress: one step per finished item
    (:func:`mamgd_paper.core.progress.track`). A failing worker stops the others and
    raises with the end of its log.
    """
    from mamgd_paper.core.progress import track

    storage_text = studies.storage_argument(storage, config.quick)
    store = optuna_utils.open_storage(storage_text)
    queue = open_queue(config, store)
    requeue(queue, dead_local_owner)
    total = len(work_items(config))
    if len(queue_state(queue)["done"]) == total:
        workers = 0  # nothing left to do: read the results back
    if workers == 0:
        if config.has_networks:
            configure_determinism(1)
        for _ in track(_in_process(store, queue, config, data_dir), describe, total=total):
            pass
        return results.collect(config, store)
    with tempfile.TemporaryDirectory(prefix="mamgd-equal-budget-") as logs:
        processes = []
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3",
                   PYTHONPATH=os.pathsep.join(filter(None, [str(paths.ROOT),
                                                            os.environ.get("PYTHONPATH")])))
        env.pop("MAMGD_PROGRESS_FILE", None)
        try:
            for index in range(int(workers)):
                log = open(Path(logs) / f"worker-{index}.log", "w+", encoding="utf-8")
                processes.append((subprocess.Popen(
                    _worker_command(storage_text, config.run_id, index, data_dir),
                    stdout=log, stderr=subprocess.STDOUT, env=env, cwd=os.getcwd()), log))
            for _ in track(_watch(queue, processes, total, poll), describe, total=total):
                pass
        finally:
            for process, log in processes:
                if process.poll() is None:
                    process.terminate()
                    process.wait()
                log.close()
    return results.collect(config, store)


def _in_process(storage, queue, config, data_dir):
    done = len(queue_state(queue)["done"])
    for _ in range(done):
        yield
    while run_worker(storage, config.run_id, data_dir, threads=1, max_items=1):
        yield
    state = queue_state(queue)
    if len(state["done"]) != len(work_items(config)):
        raise RuntimeError(f"{len(state['running'])} items are still running elsewhere; "
                           "wait for their workers, then run again.")


def _watch(queue, processes, total, poll):
    """Yield once per newly finished item until all are done; raise if a worker fails."""
    reported = 0
    while True:
        state = queue_state(queue)
        done = len(state["done"])
        while reported < min(done, total):
            reported += 1
            yield
        if done >= total:
            return
        for process, log in processes:
            code = process.poll()
            if code not in (None, 0):
                for other, _ in processes:
                    if other.poll() is None:
                        other.terminate()
                log.seek(0)
                tail = log.read()[-4000:]
                raise RuntimeError(f"An equal-budget worker failed (exit code {code}); the "
                                   f"end of its log:\n{tail}\nFix the cause and run again: "
                                   "finished items are kept.")
        if all(process.poll() is not None for process, _ in processes):
            if state["waiting"] or not state["running"]:
                raise RuntimeError(
                    f"The workers stopped with {total - done} items not done "
                    f"({len(state['waiting'])} waiting); run again to finish them.")
            # the rest is held by workers elsewhere: wait for them
        time.sleep(poll)
