"""Optuna infrastructure shared by the k search and the equal-budget comparison.

* :func:`quiet_optuna` -- Optuna logs one INFO line per trial; keep warnings only.
* :func:`default_storage` -- the rule "environment variable, else a journal file
  in ``data/``".
* :func:`open_storage` -- an Optuna storage from a journal file path or an
  SQLAlchemy URL (:func:`open_rdb_storage` for the latter).
* :func:`finished_trials`, :func:`fail_running_trials`, :func:`claim_waiting`,
  :func:`create_once` -- small operations on studies that several worker
  processes share.
* :func:`fill_study` -- add trials to a study until it holds exactly N finished
  ones, alone or together with other workers.

The callers choose the sampler and its seeding (a function of the number of
finished trials), so each keeps its own reproducibility rule.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import optuna
from optuna.storages.journal import JournalFileBackend
from optuna.storages.journal._file import get_lock_file
from optuna.trial import TrialState

from mamgd_paper.core import paths

__all__ = ["FINISHED", "StorageUnavailable", "quiet_optuna", "default_storage", "open_storage",
           "open_rdb_storage",
           "finished_trials", "fail_running_trials", "claim_waiting", "create_once",
           "fill_study"]

#: The states a budget counts: completed and pruned trials.
FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)

_quiet = False


def quiet_optuna():
    """Set Optuna's log level to WARNING (once per process): no line per trial."""
    global _quiet
    if not _quiet:
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        _quiet = True


# ---------------------------------------------------------------------------
# Storages
# ---------------------------------------------------------------------------


def default_storage(file_name, env):
    """``$env`` when it is set and not empty, else the journal file ``<repo>/data/<file_name>``."""
    return os.environ.get(env) or str(paths.DATA / file_name)


class UnsyncedJournalFile(JournalFileBackend):
    """Optuna's journal file, appended without an ``fsync`` per write.

    :class:`~optuna.storages.journal.JournalFileBackend` syncs the file to
    the disk after every write: about 2.5 ms each here, and a full
    equal-budget run writes some 60,000 times. This backend writes the same
    lines under the same inter-process lock and leaves the flushing to the
    operating system: a killed process loses nothing (its writes are in the
    page cache), only a crash of the machine itself can lose the last writes.
    """

    def append_logs(self, logs):
        lines = "".join(json.dumps(log, separators=(",", ":")) + "\n" for log in logs)
        with get_lock_file(self._lock):
            with open(self._file_path, "ab") as handle:
                handle.write(lines.encode("utf-8"))


class StorageUnavailable(RuntimeError):
    """The storage cannot be opened: a database that does not answer in time,
    or a journal file that does not exist (the message names which)."""


#: Seconds to wait for a PostgreSQL server to accept a connection (libpq's
#: ``connect_timeout``: the whole handshake), for one statement to finish
#: (the server's ``statement_timeout``), and before TCP keepalives probe a
#: silent connection. A URL's own ``connect_timeout`` query parameter wins.
CONNECT_TIMEOUT, STATEMENT_TIMEOUT, KEEPALIVE_IDLE = 10, 120, 30


def rdb_connect_args(url):
    """The driver's connection arguments for ``url``: bounded waits on
    PostgreSQL (see :data:`CONNECT_TIMEOUT`), a 60 s lock wait on SQLite."""
    if url.startswith("sqlite"):
        return {"timeout": 60}
    if url.startswith("postgresql"):
        args = {"options": f"-c statement_timeout={STATEMENT_TIMEOUT * 1000}",
                "keepalives": 1, "keepalives_idle": KEEPALIVE_IDLE,
                "keepalives_interval": 10, "keepalives_count": 3}
        if "connect_timeout=" not in url.split("?", 1)[-1]:
            args["connect_timeout"] = CONNECT_TIMEOUT
        return args
    return {}


def _connect_timeout(url):
    query = url.split("?", 1)[1] if "?" in url else ""
    for pair in query.split("&"):
        key, _, value = pair.partition("=")
        if key == "connect_timeout" and value:
            return value
    return str(CONNECT_TIMEOUT)


def check_reachable(url):
    """Open and close one connection to ``url`` (PostgreSQL): a server that does
    not answer within the connect timeout raises :class:`StorageUnavailable`
    naming the host and the timeout, the URL's password masked."""
    import sqlalchemy
    import sqlalchemy.exc

    from mamgd_paper.core.storage_url import mask, mask_all

    parsed = sqlalchemy.make_url(url)
    engine = sqlalchemy.create_engine(url, connect_args=rdb_connect_args(url),
                                      poolclass=sqlalchemy.pool.NullPool)
    try:
        with engine.connect():
            pass
    except sqlalchemy.exc.SQLAlchemyError as error:
        detail = str(getattr(error, "orig", None) or error).strip().splitlines()
        detail = mask_all(detail[0] if detail else type(error).__name__, [url])
        raise StorageUnavailable(
            f"the study storage {mask(url)} cannot be reached: the server at "
            f"{parsed.host or 'localhost'}:{parsed.port or 5432} did not answer within "
            f"{_connect_timeout(url)} s (connect_timeout) or refused the connection "
            f"({detail})") from None
    finally:
        engine.dispose()


def open_storage(storage, sync=True, create=True):
    """Turn ``storage`` into something :func:`optuna.create_study` accepts.

    * a string with ``://`` (``sqlite:///path.db``, ``postgresql://...``):
      :func:`open_rdb_storage`;
    * any other string or path: a journal file (Optuna's
      :class:`~optuna.storages.JournalStorage` with a file backend and its
      inter-process file lock; ``sync=False``: :class:`UnsyncedJournalFile`);
      folders are never created: a journal in a folder that does not exist,
      or (``create=False``) a journal file that does not exist, raises
      :class:`StorageUnavailable`;
    * an Optuna storage object: returned as is.

    Opening a storage also quiets Optuna's logging (:func:`quiet_optuna`).
    """
    quiet_optuna()
    if isinstance(storage, optuna.storages.BaseStorage):
        return storage
    text = str(storage)
    if "://" in text:
        return open_rdb_storage(text)
    path = Path(text)
    if not create and not path.is_file():
        raise StorageUnavailable(f"the journal file {path} does not exist (give the storage "
                                 f"the run was started with; nothing is created)")
    if not path.parent.is_dir():
        raise StorageUnavailable(f"the journal file {path} is in a folder that does not "
                                 f"exist ({path.parent}); it is never created")
    backend = JournalFileBackend if sync else UnsyncedJournalFile
    return optuna.storages.JournalStorage(backend(str(path)))


def open_rdb_storage(url, attempts=8, **options):
    """An RDBStorage for ``url``, safe when several workers open a new database at once.

    Two processes that find no schema both create it; the loser gets a
    SQLAlchemy error (e.g. ``UNIQUE constraint failed: alembic_version``). The
    schema exists by then, so opening again succeeds: retry with a short pause.
    SQLite waits up to 60 s for a lock held by another worker. PostgreSQL waits
    are bounded (:func:`rdb_connect_args`); a server that does not answer
    raises :class:`StorageUnavailable` naming its host and the timeout.
    """
    import sqlalchemy.exc

    if url.startswith("postgresql"):
        check_reachable(url)  # bounded: a silent server stops here, named
    engine_kwargs = {"connect_args": rdb_connect_args(url)}
    for attempt in range(1, attempts + 1):
        try:
            return optuna.storages.RDBStorage(url, engine_kwargs=engine_kwargs, **options)
        except sqlalchemy.exc.SQLAlchemyError:
            if attempt == attempts:
                raise
            time.sleep(0.1 * attempt)


# ---------------------------------------------------------------------------
# Studies shared by workers
# ---------------------------------------------------------------------------


def finished_trials(study):
    """Completed and pruned trials (the budget counts both), in trial order."""
    return sorted(study.get_trials(deepcopy=False, states=FINISHED), key=lambda t: t.number)


def fail_running_trials(study):
    """Mark the study's RUNNING trials FAIL (left over by a killed worker).

    Only safe when no other worker is active on the study. Returns their
    numbers.
    """
    numbers = [t.number for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))]
    for number in numbers:
        study.tell(number, state=TrialState.FAIL, skip_if_finished=True)
    return numbers


def claim_waiting(storage, study_id, owner=None):
    """Take one WAITING trial with the atomic WAITING -> RUNNING transition.

    The lowest-numbered WAITING trial that no other process took first; its
    user attribute ``owner`` is set to ``owner`` when given. ``None`` when no
    WAITING trial is left.
    """
    for trial in sorted(storage.get_all_trials(study_id, deepcopy=False,
                                               states=(TrialState.WAITING,)),
                        key=lambda t: t.number):
        try:
            if storage.set_trial_state_values(trial._trial_id, state=TrialState.RUNNING):
                if owner:
                    storage.set_trial_user_attr(trial._trial_id, "owner", owner)
                return trial
        except optuna.exceptions.UpdateFinishedTrialError:
            continue
    return None


def create_once(storage, name, setup, timeout=300.0, repair=None):
    """Create study ``name`` and run ``setup(study)`` once, whoever gets there first.

    A study that exists and is ready is loaded without a write (creating an
    existing study would append a line to a journal file). Study creation is
    atomic in every Optuna storage: the process that creates the study runs
    ``setup`` and then sets the user attribute ``ready``; the others wait for it
    (at most ``timeout`` seconds). When the creator died before it was ready,
    ``repair(study)`` (if given) completes the setup and the study is marked
    ready; without ``repair`` that is an error. Returns the study.
    """
    try:
        study = optuna.load_study(study_name=name, storage=storage)
    except KeyError:
        try:
            study = optuna.create_study(storage=storage, study_name=name, direction="minimize")
        except optuna.exceptions.DuplicatedStudyError:
            study = optuna.load_study(study_name=name, storage=storage)
        else:
            setup(study)
            study.set_user_attr("ready", True)
            return study
    deadline = time.monotonic() + timeout
    while not study.user_attrs.get("ready"):
        if time.monotonic() > deadline:
            if repair is not None:
                repair(study)
                study.set_user_attr("ready", True)
                return study
            raise TimeoutError(
                f"Study {name!r} exists but was never made ready (its creator died?). "
                f"Delete it (optuna.delete_study) or use another storage.")
        time.sleep(0.05)
    return study


# ---------------------------------------------------------------------------
# Filling a study
# ---------------------------------------------------------------------------


def _evaluate(study, trial, objective):
    """Run ``objective(trial)`` and tell ``study`` the outcome.

    ``optuna.TrialPruned`` -> PRUNED; any other exception -> FAIL, re-raised.
    """
    try:
        value = objective(trial)
    except optuna.TrialPruned:
        study.tell(trial, state=TrialState.PRUNED)
        return
    except BaseException:
        study.tell(trial, state=TrialState.FAIL)
        raise
    study.tell(trial, value)


def fill_study(study, objective, n_trials, sampler_for, *, shared=True, worker=None,
               distributions=None, before_trial=None, pruner=None):
    """Add trials to ``study`` until it holds ``n_trials`` finished ones.

    ``objective(trial)`` returns the value or raises ``optuna.TrialPruned``;
    another exception marks the trial FAIL and is re-raised. Before every new
    trial ``study.sampler`` is set to ``sampler_for(finished)``, where
    ``finished`` counts the finished trials so far: a seeded sampler made from
    that count proposes the same trial n in every run with the same history.
    ``distributions`` are passed to ``study.ask`` (parameters sampled when the
    trial is created). ``before_trial()``, when given, is called before each
    trial (e.g. to stop an orphaned worker). ``pruner``, when given, becomes
    the study's pruner (what ``trial.should_prune()`` asks).

    * ``shared=False``: no other worker fills the study at the same time. The
      trials run in an in-memory copy of the study (its finished trials first,
      so the sampler sees exactly what it would see in the storage) and each
      finished trial is written to the storage in one operation
      (``study.add_trial``): one synced write per trial instead of one per
      parameter. Resuming after an interruption continues from the finished
      trials, so the study is the same as an uninterrupted one.
    * ``shared=True``: any number of processes (or threads) run this on the
      same study at once. Each counts finished plus running trials of all
      workers before a new trial and stops at ``n_trials``; a trial created in
      the same instant as another worker's last one is told FAIL (user
      attribute ``surplus``) without running. ``worker``, when given, is stored
      as the user attribute ``worker`` of each trial.

    The study ends with exactly ``n_trials`` finished trials. Returns it.
    """
    if not shared:
        return _fill_alone(study, objective, n_trials, sampler_for, distributions, before_trial,
                           pruner)
    if pruner is not None:
        study.pruner = pruner
    while True:
        if before_trial is not None:
            before_trial()
        active = study.get_trials(deepcopy=False, states=FINISHED + (TrialState.RUNNING,))
        finished = sum(t.state != TrialState.RUNNING for t in active)
        if len(active) >= n_trials:
            break
        study.sampler = sampler_for(finished)
        trial = study.ask(distributions)
        if worker is not None:
            trial.set_user_attr("worker", int(worker))
        before = study.get_trials(deepcopy=False, states=FINISHED + (TrialState.RUNNING,))
        if sum(t.number < trial.number for t in before) >= n_trials:
            trial.set_user_attr("surplus", True)
            study.tell(trial, state=TrialState.FAIL)
            break
        _evaluate(study, trial, objective)
    return study


def _fill_alone(study, objective, n_trials, sampler_for, distributions, before_trial, pruner):
    """:func:`fill_study` with ``shared=False`` (see there)."""
    mirror = optuna.create_study(direction="minimize", pruner=pruner)
    mirror.add_trials(finished_trials(study))
    while True:
        if before_trial is not None:
            before_trial()
        finished = len(mirror.get_trials(deepcopy=False, states=FINISHED))
        if finished >= n_trials:
            return study
        mirror.sampler = sampler_for(finished)
        trial = mirror.ask(distributions)
        _evaluate(mirror, trial, objective)  # a failure is re-raised before the write
        study.add_trial(mirror.get_trials(deepcopy=False)[-1])


