"""Optuna search for MAMGD's decay rate k on the test functions.

The paper (section 8.1; docs/protocol.md, section 3) tuned k per test function with
Optuna: k uniform on [0, 10], 100 trials, objective the MAMGD error after the
function's "k-search step" count (:attr:`TestFunction.search_steps`), with
the default sampler and no seed. This module repeats that search
reproducibly:

* objective: MAMGD (``authors_code``, learning rate 0.1) run in float32 with
  the NumPy reference :func:`mamgd.reference.mamgd` -- the same numbers as
  the Keras optimizer (``tests/experiments/test_search.py``), ~1 ms per trial;
* a seeded TPE sampler, re-seeded before every trial from
  ``(seed + worker_index, number of completed trials)``: what trial n
  proposes depends only on the seed and the n trials before it, so an
  interrupted study resumed later ends exactly where an uninterrupted one
  would have;
* the study lives in a real Optuna storage: by default the journal file
  ``data/studies.journal`` (Optuna's :class:`~optuna.storages.JournalStorage`,
  safe for several processes), or any RDB URL (``sqlite:///data/x.db``,
  ``postgresql://...``); re-running resumes it (``load_if_exists``) and
  runs only the missing trials;
* several worker processes can fill one study at once (Optuna's
  distributed mode; :func:`run_worker`, ``python -m mamgd_paper.experiments.ksearch.search worker``),
  each stopping when the study holds ``n_trials`` completed trials.

The error after every step count for a whole grid of k at once is
:mod:`mamgd_paper.experiments.ksearch.sensitivity`.

No Keras optimizer runs here: every trial is the NumPy reference.
"""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
from optuna.distributions import FloatDistribution
from optuna.trial import TrialState

from mamgd_paper.core import optuna_utils
from mamgd_paper.core.optuna_utils import fail_running_trials  # noqa: F401 (public here too)
from mamgd_paper.core.progress import track
from mamgd import functions as test_functions
from mamgd import reference

__all__ = [
    "K_LOW",
    "K_HIGH",
    "N_TRIALS",
    "LEARNING_RATE",
    "K_DISTRIBUTION",
    "default_storage",
    "open_storage",
    "study_name",
    "mamgd_errors",
    "objective_value",
    "open_study",
    "run_worker",
    "run_search",
    "completed_trials",
    "found_k",
    "search_summary",
]

#: Search range of k (the authors' notebook; the paper's text says [0, 1)).
K_LOW, K_HIGH = 0.0, 10.0
#: Trials per study (the paper's protocol).
N_TRIALS = 100
#: Learning rate of MAMGD on the test functions (Tables 1-6).
LEARNING_RATE = 0.1
#: Optuna distribution of the single parameter ``k``.
K_DISTRIBUTION = FloatDistribution(K_LOW, K_HIGH)

#: File stems of notebook 02's tables (under figures/tables); notebook 09 reads
#: the sensitivity table.
SEARCH_STEM = "k_search"
SENSITIVITY_STEM = "k_sensitivity"
TRANSFER_STEM = "k_transfer"
TRANSFER_SUMMARY_STEM = "k_transfer_summary"

#: Environment variable overriding the default storage.
STORAGE_ENV = "MAMGD_STUDY_STORAGE"


# ---------------------------------------------------------------------------
# Storage and study
# ---------------------------------------------------------------------------


def default_storage(quick=False):
    """``$MAMGD_STUDY_STORAGE``, else the journal file ``<repo>/data/studies.journal``.

    ``quick``: ``data/studies-quick.journal`` instead, so that a quick run's
    short studies and the full studies never share a storage (a quick run on
    a full study would report the full study's best k).
    """
    name = "studies-quick.journal" if quick else "studies.journal"
    return optuna_utils.default_storage(name, STORAGE_ENV)


def open_storage(storage=None):
    """:func:`mamgd_paper.core.optuna_utils.open_storage`, ``None`` meaning
    :func:`default_storage` (a journal path, an RDB URL or a storage object)."""
    return optuna_utils.open_storage(default_storage() if storage is None else storage)


def _steps(function, steps):
    function = test_functions.get(function)
    if steps is None:
        steps = function.search_steps
    if steps is None:
        raise ValueError(f"{function.name} has no k-search step count; pass steps=.")
    return function, int(steps)


def study_name(function, steps=None):
    """Name of the k-search study of ``function``: ``mamgd-k/<slug>/steps=<n>``."""
    function, steps = _steps(function, steps)
    return f"mamgd-k/{function.name}/steps={steps}"


def _objective_attrs(function, steps):
    return {
        "function": function.name,
        "steps": steps,
        "k_low": K_LOW,
        "k_high": K_HIGH,
        "learning_rate": LEARNING_RATE,
        "optimizer": "mamgd.reference.mamgd(variant='authors_code', dtype=float32)",
        "objective": "paper error (mean squared distance to the target) after `steps` updates",
    }


def open_study(function, storage=None, steps=None):
    """Create or load (``load_if_exists``) the k-search study of ``function``.

    The study records what its objective is as user attributes; loading a
    study whose attributes differ raises ``ValueError`` rather than mixing
    two objectives in one study.
    """
    function, steps = _steps(function, steps)
    storage = open_storage(storage)
    name = study_name(function, steps)
    try:  # loading first writes nothing (creating an existing study logs an attempt)
        study = optuna.load_study(study_name=name, storage=storage, sampler=_sampler(0, 0))
    except KeyError:
        study = optuna.create_study(storage=storage, study_name=name, direction="minimize",
                                    load_if_exists=True, sampler=_sampler(0, 0))
    wanted = _objective_attrs(function, steps)
    present = study.user_attrs
    # Another worker may be writing the attributes right now (one at a time):
    # a partial set that agrees with ours is completed, any disagreement is
    # another objective.
    if all(wanted.get(key) == value for key, value in present.items()):
        for key, value in wanted.items():
            if key not in present:
                study.set_user_attr(key, value)
    else:
        raise ValueError(
            f"Study {study.study_name!r} in this storage was made with another "
            f"objective: {present} (expected {wanted}).")
    return study


def _sampler(stream, n_completed, constant_liar=False):
    """A TPE sampler seeded from ``(stream, n_completed)`` (see module doc)."""
    seed = int(np.random.SeedSequence([int(stream), int(n_completed)]).generate_state(1)[0])
    return optuna.samplers.TPESampler(seed=seed, constant_liar=constant_liar)


# ---------------------------------------------------------------------------
# Objective
# ---------------------------------------------------------------------------


def mamgd_errors(function, k, steps, learning_rate=LEARNING_RATE, variant="authors_code"):
    """Error after 0..steps MAMGD updates on ``function`` (float32 reference)."""
    function = test_functions.get(function)
    optimizer = reference.mamgd(learning_rate, k=float(k), variant=variant,
                                dtype=np.float32)
    with np.errstate(over="ignore", invalid="ignore"):
        path = reference.run(optimizer, function, steps=int(steps), dtype=np.float32)
        return np.asarray(function.error(path.T), dtype=np.float32)


def objective_value(function, k, steps=None):
    """The search objective: MAMGD's float32 error after ``steps`` updates.

    ``steps`` defaults to the function's k-search step count. A non-finite
    error (divergence) is returned as ``inf``, which Optuna records as a
    completed trial with the worst possible value.
    """
    function, steps = _steps(function, steps)
    value = float(mamgd_errors(function, k, steps)[-1])
    return value if np.isfinite(value) else float("inf")


# ---------------------------------------------------------------------------
# Workers
# ---------------------------------------------------------------------------


def run_worker(function, storage=None, n_trials=N_TRIALS, seed=0, worker_index=0,
               steps=None, fail_stale=False, constant_liar=True, record_worker=True):
    """Add trials to the k-search study of ``function`` until it has ``n_trials``.

    One worker of Optuna's distributed mode: any number of processes (or
    threads, with one shared storage object) may run this on the same study
    and storage at once. The worker counts completed plus running trials of
    all workers before every new trial, and stops as soon as they reach
    ``n_trials``; a trial created in the same instant as another worker's
    last one is told FAIL (user attribute ``surplus``) and not run, so the
    study ends with exactly ``n_trials`` completed trials
    (:func:`mamgd_paper.core.optuna_utils.fill_study`, shared mode; no trial is
    ever pruned here, so finished means completed).

    The sampler is re-seeded before each trial from
    ``(seed + worker_index, completed trials so far)``. With one worker the
    study is therefore a pure function of ``seed``, however often it was
    interrupted and resumed. ``fail_stale`` first marks RUNNING trials left
    by a killed run FAIL (single-worker use only).

    ``constant_liar`` (TPE's option for parallel workers: running trials
    count as bad ones, so that workers do not crowd one region) and
    ``record_worker`` (user attribute ``worker`` on each trial) each cost
    one synced storage write per trial; :func:`run_search`, one worker per
    study, switches both off. The sampler setting is part of what the study
    contains: resume a study with the setting that started it.

    Returns the study.
    """
    function, steps = _steps(function, steps)
    study = open_study(function, storage, steps)
    if fail_stale:
        fail_running_trials(study)
    stream = int(seed) + int(worker_index)
    return optuna_utils.fill_study(
        study, lambda trial: objective_value(function, trial.params["k"], steps), n_trials,
        lambda complete: _sampler(stream, complete, constant_liar), shared=True,
        worker=int(worker_index) if record_worker else None,
        distributions={"k": K_DISTRIBUTION})


def run_search(functions=None, storage=None, n_trials=N_TRIALS, seed=0, parallel=True):
    """Run (or resume) the k search of several functions, one worker each.

    ``functions`` defaults to the paper's six. With ``parallel`` the studies
    run in one thread each on one shared storage object: each study is still
    filled by a single worker in order (so the result is the same as
    sequentially), but the storage's disk syncs overlap. Stale RUNNING
    trials of an earlier, killed run are marked FAIL first.

    Returns ``{function name: study}`` in the order given.
    """
    functions = [test_functions.get(f) for f in (functions or test_functions.PAPER_FUNCTIONS)]
    shared = open_storage(storage)
    studies, errors = {}, []

    def work(function):
        try:
            studies[function.name] = run_worker(function, shared, n_trials=n_trials,
                                                seed=seed, fail_stale=True,
                                                constant_liar=False, record_worker=False)
        except BaseException as error:  # re-raised below, in the caller's thread
            errors.append(error)

    if parallel:
        threads = [threading.Thread(target=work, args=(f,), name=f"k-search-{f.name}")
                   for f in functions]
        for thread in threads:
            thread.start()
        for thread in track(threads, "k search: studies finished"):
            thread.join()
    else:
        for function in track(functions, "k search: studies finished"):
            work(function)
    if errors:
        raise errors[0]
    return {f.name: studies[f.name] for f in functions}


# ---------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------


def completed_trials(study):
    """The study's completed trials, in trial-number order."""
    return sorted(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)),
                  key=lambda t: t.number)


def found_k(study):
    """The best k of a study (ties: the earliest trial, as Optuna's best_trial)."""
    return float(study.best_trial.params["k"])


def search_summary(studies):
    """One row per function: found k against the paper's k.

    Columns: table, function, search_steps, trials, paper_k, found_k,
    paper_k_error and found_k_error (MAMGD error at the search step count
    with each k; the found one is the study's best value).
    """
    rows = []
    for name, study in studies.items():
        function = test_functions.get(name)
        steps = function.search_steps
        k = found_k(study)
        rows.append({
            "table": function.table,
            "function": function.name,
            "search_steps": steps,
            "trials": len(completed_trials(study)),
            "paper_k": function.paper_k,
            "found_k": k,
            "paper_k_error": objective_value(function, function.paper_k, steps),
            "found_k_error": float(study.best_value),
        })
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------


def _wait_at_barrier(args, timeout=300.0):
    import time

    open_study(args.function, args.storage, args.steps)
    Path(f"{args.barrier}.ready-{args.worker_index}").touch()
    deadline = time.monotonic() + timeout
    while not Path(args.barrier).exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"barrier {args.barrier} did not open within {timeout:.0f} s")
        time.sleep(0.01)


def main(argv=None):
    """``python -m mamgd_paper.experiments.ksearch.search {worker,status,dashboard} ...`` (see ``--help``)."""
    parser = argparse.ArgumentParser(
        prog="python -m mamgd_paper.experiments.ksearch.search",
        description="Optuna k search of MAMGD on the paper's test functions.")
    commands = parser.add_subparsers(dest="command", required=True)
    worker = commands.add_parser(
        "worker", help="fill a study (several workers may run at once on one storage)")
    worker.add_argument("--function", required=True,
                        help="test function slug or table number (e.g. sphere or 2)")
    worker.add_argument("--storage", default=None,
                        help="journal file path or RDB URL (default: %(default)s -> "
                             "$MAMGD_STUDY_STORAGE or data/studies.journal)")
    worker.add_argument("--n-trials", type=int, default=N_TRIALS)
    worker.add_argument("--seed", type=int, default=0)
    worker.add_argument("--worker-index", type=int, default=0)
    worker.add_argument("--steps", type=int, default=None,
                        help="step count of the objective (default: the paper's)")
    worker.add_argument("--barrier", default=None, metavar="PATH",
                        help="start several workers together: write PATH.ready-<worker "
                             "index> once the study is open, then wait until PATH exists")
    status = commands.add_parser("status", help="print found k per study")
    status.add_argument("--storage", default=None)
    dashboard = commands.add_parser(
        "dashboard", help="browse the studies in optuna-dashboard (http://HOST:PORT)")
    dashboard.add_argument("--storage", default=None)
    dashboard.add_argument("--host", default="127.0.0.1")
    dashboard.add_argument("--port", type=int, default=8080)
    args = parser.parse_args(argv)
    if args.command == "dashboard":
        import optuna_dashboard

        print(f"optuna-dashboard on http://{args.host}:{args.port}/ (Ctrl-C stops it)",
              flush=True)
        optuna_dashboard.run_server(open_storage(args.storage), host=args.host, port=args.port)
        return 0
    if args.command == "worker":
        if args.barrier:
            _wait_at_barrier(args)
        study = run_worker(args.function, args.storage, n_trials=args.n_trials,
                           seed=args.seed, worker_index=args.worker_index, steps=args.steps)
        mine = [t for t in completed_trials(study) if t.user_attrs.get("worker") == args.worker_index]
        print(f"{study.study_name}: {len(completed_trials(study))} completed trials "
              f"({len(mine)} by worker {args.worker_index}); best k = {found_k(study):.6g}, "
              f"error {study.best_value:.6g}")
        return 0
    storage = open_storage(args.storage)
    for summary in optuna.get_all_study_summaries(storage):
        best = summary.best_trial
        k = f"{best.params['k']:.6g} (error {best.value:.6g})" if best else "-"
        print(f"{summary.study_name}: {summary.n_trials} trials, best k {k}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
