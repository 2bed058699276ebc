"""The equal-budget workers on a real PostgreSQL server (marker ``postgres``).

A PostgreSQL 15 server (Debian's binaries, ``/usr/lib/postgresql/15/bin``; ``.ci/run``
installs the ``postgresql`` package where it is missing) is started on 127.0.0.1
with a throw-away data folder, as an unprivileged user (``initdb`` refuses root),
and stopped at the end. The test skips, saying why, only when the server cannot
be started. Against it:

**Two workers, one killed mid-study.** Two ``python -m
mamgd_paper.experiments.equal_budget worker --new`` processes start the same run at
once (one creates it, the other finds it) and share its trials. As soon as one of them
holds RUNNING trials it is killed (SIGKILL). Its trials stop sending Optuna heartbeats;
after the grace period the other worker's :func:`optuna.storages.fail_stale_trials`
fails them and Optuna's retry callback queues copies, which it evaluates. The run
ends with exactly the budgeted trials in every tuning study and a results table equal
to that of a single process on a journal file.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import optuna
import pandas as pd
import pytest

from conftest import free_port

from optuna.trial import TrialState

from mamgd_paper.experiments.equal_budget import problems, protocol, results, studies, table, workers

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


CONFIG = dict(quick=True, problems=["rosenbrock_10d", "sphere"],
              arms=[protocol.BASELINE, "MAMGD", protocol.REPLICATE], function_trials=6,
              horizon=600, tuning_starts=32)


def _arguments(url):
    config = problems.make_config(**CONFIG)
    return config, ["worker", "--new", "--storage", url, "--quick", "--problems",
                    ",".join(config.problems), "--arms", ",".join(config.arms),
                    "--function-trials", "6", "--horizon", "600", "--tuning-starts", "32"]


def test_killed_worker_on_postgres(postgres_url, tmp_path):
    config, arguments = _arguments(postgres_url)
    first, second = _start(arguments, tmp_path), _start(arguments, tmp_path)
    storage = studies.open_storage(postgres_url)
    deadline, victim = time.monotonic() + 180, None
    while victim is None and time.monotonic() < deadline:
        time.sleep(0.05)
        for name in optuna.study.get_all_study_names(storage):
            if "/tune-" not in name:
                continue
            study = optuna.load_study(study_name=name, storage=storage)
            owners = {t.user_attrs.get("owner", "") for t in
                      study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))}
            for process in (first, second):
                if any(owner.endswith(f":{process.pid}") for owner in owners):
                    victim = process
    assert victim is not None, "no worker ever held a trial"
    victim.kill()
    victim.communicate()
    survivor = second if victim is first else first
    _finish([survivor], timeout=300)
    done = results.collect(config, storage)
    assert set(done.trials.groupby(["problem", "arm", "study"]).size()) == {6}
    assert done.studies["retried"].sum() >= 1, "the killed worker held no trial to retry"
    single = workers.run(config, storage=str(tmp_path / "single.journal"), workers=0)
    pd.testing.assert_frame_equal(done.trials, single.trials)
    pd.testing.assert_frame_equal(table.results_table(done), table.results_table(single))


def _holding(storage, process):
    """The tuning study in which ``process`` holds RUNNING trials, or None."""
    for name in optuna.study.get_all_study_names(storage):
        if "/tune-" not in name:
            continue
        study = optuna.load_study(study_name=name, storage=storage)
        if any(t.user_attrs.get("owner", "").endswith(f":{process.pid}")
               for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))):
            return study
    return None


def test_dead_workers_trials_come_back_within_the_documented_bound(postgres_url, tmp_path):
    """The live worker is busy elsewhere (here: its main thread never steps the
    dead worker's (problem, arm)); its reaper still fails the dead trials and
    queues them again within studies.REQUEUE_BOUND seconds."""
    url = postgres_url.replace("/postgres", "/postgres") + "?application_name=latency"
    config, arguments = _arguments(url)
    config = problems.make_config(**{**CONFIG, "seed": 7})
    arguments = [a if a != "--quick" else "--quick" for a in arguments] + ["--seed", "7"]
    storage = studies.open_storage(url)
    victim = _start(arguments, tmp_path)
    live = workers._Heartbeat(storage, config)  # a live worker's background thread
    try:
        deadline, study = time.monotonic() + 180, None
        while study is None and time.monotonic() < deadline:
            assert victim.poll() is None, victim.communicate()[1][-3000:]
            time.sleep(0.05)
            study = _holding(storage, victim)
        assert study is not None, "the worker never held a trial"
        victim.kill()
        victim.communicate()
        killed = time.monotonic()
        while time.monotonic() - killed < studies.REQUEUE_BOUND + 20:
            trials = study.get_trials(deepcopy=False)
            if any(t.state == TrialState.FAIL for t in trials) and any(
                    t.state == TrialState.WAITING and "retry_history" in t.system_attrs
                    for t in trials):
                break
            time.sleep(0.2)
        latency = time.monotonic() - killed
        assert latency <= studies.REQUEUE_BOUND + 1, latency
    finally:
        live.stop.set()
        if victim.poll() is None:
            victim.kill()


@pytest.mark.heavy
def test_a_password_is_in_no_output_and_no_process_argument(postgres_url, tmp_path):
    """Trust authentication accepts any password: the URL carries one, which must
    appear in no output, no file written and no process's arguments."""
    secret = "Pw-in-url-5521"
    url = postgres_url.replace("postgres@", f"postgres:{secret}@")
    code = (
        "from mamgd_paper.experiments.equal_budget import problems, workers\n"
        f"config = problems.make_config(**{dict(CONFIG, seed=11)!r})\n"
        "result = workers.run(config, storage=None, workers=2)\n"
        "print(len(result.trials), 'trials')\n")
    env = dict(_env(), MAMGD_EQUAL_BUDGET_STORAGE=url)
    process = subprocess.Popen([sys.executable, "-c", code], cwd=tmp_path, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen_workers, leaks = 0, []
    while process.poll() is None:
        # -ww: whole command lines (piped, ps cuts them at 80 columns, and a checkout's
        # path decides what falls off)
        table = subprocess.run(["ps", "-ww", "-eo", "pid,args", "--no-headers"],
                               capture_output=True, text=True).stdout
        seen_workers = max(seen_workers, table.count("equal_budget worker"))
        leaks += [line for line in table.splitlines() if secret in line]
        time.sleep(0.1)
    out, err = process.communicate()
    assert process.returncode == 0, err[-3000:]
    assert seen_workers >= 2 and not leaks, leaks
    assert secret not in out + err
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path
