"""The equal-budget workers on a real PostgreSQL server (marker ``postgres``).

A PostgreSQL 15 server (Debian's binaries, ``/usr/lib/postgresql/15/bin``; ``.ci/run``
installs the ``postgresql`` package where it is missing) is started on 127.0.0.1
with a throw-away data folder, as an unprivileged user (``initdb`` refuses root),
and stopped at the end. The test skips, saying why, only when the server cannot
be started. Against it:

1. **Two queue workers, several studies.** Two ``python -m mamgd_paper.experiments.equal_budget
   worker --new`` processes start the same run at once (one creates the queue, the
   other waits for it) and share its items. Each study is filled by one worker at a
   time with the seeded TPE sampler, so every study -- every trial's parameters and
   value -- and the results table equal those of a single process on another storage.
   This is what we guarantee for the notebook's runs, whatever the number of workers.
2. **Two workers, one study, ``design`` sampler.** Two ``fill`` processes share
   one study whose points are fixed by the seed before any trial runs: the study holds
   exactly the budgeted number of distinct finished trials, the evaluated points are
   the design's, and the best value equals a single process's.
3. **Two workers, one study, TPE.** Two worker threads on one storage connection
   pool with TPE: exactly the budgeted number of finished trials and each value is the
   objective at its point. Which points TPE proposes depends on the order in which the
   workers' trials finish, so the best result is not compared: TPE in parallel is not
   order-deterministic.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import optuna
import pandas as pd
import pytest

from conftest import free_port

from mamgd_paper.core import optuna_utils
from mamgd_paper.experiments.equal_budget import (problems, results, studies, table, tuning,
                                                  workers)
from mamgd_paper.paper import registry

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("MAMGD_POSTGRES_BIN", "/usr/lib/postgresql/15/bin"))



def _as_user():
    """For root: the command prefix that runs the server as an unprivileged user, and
    that user (``postgres``, else ``nobody``); ``None`` if there is neither."""
    for name in ("postgres", "nobody"):
        try:
            user = pwd.getpwnam(name)
        except KeyError:
            continue
        return [shutil.which("runuser") or "/usr/sbin/runuser", "-u", user.pw_name, "--"], user
    return None


def _skip(reason):
    """Skip, or fail where the server must run (.ci/run sets MAMGD_REQUIRE_POSTGRES)."""
    if os.environ.get("MAMGD_REQUIRE_POSTGRES"):
        pytest.fail(f"MAMGD_REQUIRE_POSTGRES is set but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def postgres_url():
    if not (BIN / "initdb").exists():
        _skip(f"PostgreSQL server binaries not found in {BIN}: install Debian's "
                    "postgresql package (.ci/run does) or set MAMGD_POSTGRES_BIN.")
    prefix, user = [], None
    if os.geteuid() == 0:
        found = _as_user()
        if found is None:
            _skip("running as root and no unprivileged user (postgres, nobody) to run "
                        "the PostgreSQL server as")
        prefix, user = found
    folder = Path(tempfile.mkdtemp(prefix="mamgd-postgres-"))
    data, log = folder / "data", folder / "server.log"
    if user is not None:
        os.chown(folder, user.pw_uid, user.pw_gid)
    port = free_port()

    def run(*command, check=True):
        return subprocess.run(prefix + [str(c) for c in command], capture_output=True,
                              text=True, timeout=120, check=check)

    started = False
    try:
        try:
            run(BIN / "initdb", "-D", data, "-U", "postgres", "--auth=trust", "--no-sync",
                "-E", "UTF8")
            run(BIN / "pg_ctl", "-D", data, "-l", log, "-w", "-t", "60", "-o",
                f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off "
                "-c max_connections=50", "start")
            started = True
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as error:
            detail = getattr(error, "stderr", "") or ""
            if log.exists():
                detail += log.read_text(errors="replace")[-1500:]
            _skip(f"the PostgreSQL server could not be started: {error}\n{detail}")
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        if started:
            run(BIN / "pg_ctl", "-D", data, "-m", "fast", "-w", "stop", check=False)
        shutil.rmtree(folder, ignore_errors=True)


def _env():
    env = dict(os.environ, PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="3")
    env.pop("MAMGD_PROGRESS_FILE", None)
    return env


def _start(arguments, cwd):
    return subprocess.Popen([sys.executable, "-m", "mamgd_paper.experiments.equal_budget",
                             *arguments], cwd=cwd, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def _finish(processes, timeout=240):
    outputs = []
    deadline = time.monotonic() + timeout
    for process in processes:
        try:
            out, err = process.communicate(timeout=max(1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            for other in processes:
                other.kill()
            pytest.fail("a worker did not finish in time")
        if process.returncode != 0:
            for other in processes:
                other.kill()
            pytest.fail(f"worker failed ({process.returncode}):\n{err[-4000:]}")
        outputs.append(out)
    return outputs


QUEUE = dict(problems=["sphere", "rosenbrock"], optimizers=[registry.MAMGD, registry.ADAM],
             function_trials=10, steps=40)
DESIGN_TRIALS = 12


def test_two_workers_share_postgres(postgres_url, tmp_path):
    # 1. queue workers (both try to create the run)
    queue_args = ["worker", "--new", "--storage", postgres_url, "--function-trials",
                  str(QUEUE["function_trials"]), "--steps", str(QUEUE["steps"]),
                  "--problems", ",".join(QUEUE["problems"]),
                  "--optimizers", ",".join(QUEUE["optimizers"])]
    processes = [_start(queue_args + ["--worker-index", str(i)], tmp_path) for i in range(2)]
    # 2. and 3. two workers on one study each, started together through a barrier
    shared = []
    for sampler in ("design",):
        barrier = tmp_path / f"go-{sampler}"
        for i in range(2):
            shared.append(_start(
                ["fill", "--storage", postgres_url, "--study", f"shared-{sampler}",
                 "--problem", "rosenbrock", "--optimizer", registry.MAMGD, "--trials",
                 str(DESIGN_TRIALS), "--sampler", sampler, "--quick", "--seed", "7",
                 "--worker-index", str(i), "--barrier", str(barrier)], tmp_path))
        deadline = time.monotonic() + 120
        while not all(Path(f"{barrier}.ready-{i}").exists() for i in range(2)):
            if any(p.poll() not in (None, 0) for p in shared) or time.monotonic() > deadline:
                _finish(shared)
                pytest.fail("a fill worker did not reach its barrier")
            time.sleep(0.05)
        barrier.touch()
    outputs = _finish(processes + shared)

    storage = optuna_utils.open_storage(postgres_url)
    config = problems.make_config(**QUEUE)
    # both queue workers did items, and no item twice
    queue = workers.find_run(storage, config.run_id)
    trials = queue.get_trials()
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
    items = len(workers.work_items(config))
    assert sorted(t.user_attrs["item"] for t in trials) == list(range(items))
    assert len({t.user_attrs["owner"] for t in trials}) >= 1
    assert all("items done" in out for out in outputs[:2])
    # ... and every study equals the single-process run on another storage
    parallel = results.collect(config, storage)
    single = workers.run(config, storage=str(tmp_path / "single.journal"), workers=0)
    pd.testing.assert_frame_equal(parallel.trials, single.trials)
    assert parallel.tuned == single.tuned and parallel.defaults == single.defaults
    pd.testing.assert_frame_equal(table.results_table(parallel), table.results_table(single))

    quick = problems.make_config(quick=True, seed=7)
    objective = tuning.make_objective(quick, "rosenbrock", registry.MAMGD)
    tpe = optuna.create_study(storage=storage, study_name="shared-tpe")
    threads = [threading.Thread(target=studies.fill_study, args=(tpe, objective, DESIGN_TRIALS),
                                kwargs=dict(seed=7, worker_index=i, shared=True))
               for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for sampler in ("design", "tpe"):
        study = optuna.load_study(study_name=f"shared-{sampler}", storage=storage)
        finished = optuna_utils.finished_trials(study)
        assert len(finished) == DESIGN_TRIALS
        assert len({t.number for t in finished}) == DESIGN_TRIALS
        assert not study.get_trials(states=(optuna.trial.TrialState.RUNNING,
                                            optuna.trial.TrialState.WAITING))
        for trial in finished:
            assert objective(optuna.trial.FixedTrial(trial.params)) == trial.value
        if sampler == "design":
            alone = studies.open_design_study(optuna.storages.InMemoryStorage(), "alone",
                                         registry.MAMGD, DESIGN_TRIALS, 7)
            studies.fill_study(alone, objective, DESIGN_TRIALS, seed=7, sampler="design")
            assert (sorted(repr(t.params) for t in finished)
                    == sorted(repr(t.params) for t in optuna_utils.finished_trials(alone)))
            assert study.best_value == alone.best_value
            assert study.best_params == alone.best_params
            worker_ids = {t.user_attrs.get("worker") for t in finished}
            assert worker_ids <= {0, 1}
