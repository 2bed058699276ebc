"""Training the network experiments: one run, all seeds and optimizers of a task.

Determinism: :func:`train_one` calls ``keras.utils.set_random_seed(seed)``
before building the model, and :func:`configure_determinism` switches on
``tf.config.experimental.enable_op_determinism()``, so one seed gives the same
numbers, bit for bit, on every rerun on the same machine and software. Every
optimizer of a seed starts from the same initial weights and sees the same
batch order.

Speed: the train step is a compiled ``tf.function``; ``steps_per_execution``
runs several steps per call (the same math, see the tests). XLA
(``jit_compile``) is not used: Keras switches it off under op determinism.

Reuse: with a ``cache_dir`` (:data:`mamgd_paper.experiments.networks.cache.HISTORY_CACHE`),
a finished run of one seed and optimizer is read back instead of trained
again (:mod:`mamgd_paper.experiments.networks.cache`).
"""

from __future__ import annotations

import itertools
import os
import sys
import time
from dataclasses import dataclass, field

import pandas as pd

from mamgd_paper.core.progress import track
from mamgd_paper.experiments.networks import cache
from mamgd_paper.experiments.networks.tasks import QUICK_EPOCHS, QUICK_SEEDS, Task


def configure_determinism(threads=None):
    """Switch on TensorFlow's deterministic ops (once per process).

    ``threads``: when given, TensorFlow's intra- and inter-op thread pools
    are set to that size (only possible before TensorFlow runs its first op).
    """
    import tensorflow as tf

    if threads:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(int(threads))
            tf.config.threading.set_inter_op_parallelism_threads(int(threads))
        except RuntimeError:
            pass  # TensorFlow already initialised: keep its pools
    tf.config.experimental.enable_op_determinism()


def resolve_verbose(verbose=None):
    """Keras ``verbose`` for ``fit``: ``None`` means automatic.

    Automatic: progress bars (1) in a Jupyter front end (Jupyter Server sets
    ``JPY_SESSION_NAME`` for the kernels it starts) or a terminal, quiet (0)
    otherwise, in particular under Papermill / ``make``.
    """
    if verbose is not None:
        return int(verbose)
    if os.environ.get("JPY_SESSION_NAME"):
        return 1
    if "ipykernel" not in sys.modules and sys.stdout is not None and sys.stdout.isatty():
        return 1
    return 0


def _epoch_recorder(test_dataset):
    import keras

    class EpochRecorder(keras.callbacks.Callback):
        """Evaluates the test split after every epoch and records every epoch's logs."""

        def __init__(self):
            super().__init__()
            self.rows = []

        def on_epoch_end(self, epoch, logs=None):
            logs = logs if logs is not None else {}
            if test_dataset is not None:
                scores = self.model.evaluate(test_dataset, verbose=0, return_dict=True)
                logs.update({f"test_{name}": value for name, value in scores.items()})
            self.rows.append({"epoch": epoch + 1, **{k: float(v) for k, v in logs.items()}})

    return EpochRecorder()


def train_one(task, data, optimizer, seed, epochs=None, verbose=0,
              steps_per_execution=None):
    """Train ``task``'s model on ``data`` with one optimizer and one seed.

    ``optimizer`` is a name of ``task.optimizers`` or an
    :class:`mamgd_paper.experiments.networks.tasks.OptimizerSpec`.
    Returns a DataFrame with one row per epoch: ``epoch`` and
    :meth:`Task.columns` (training loss and metrics, ``val_*``, ``test_*``).
    """
    import keras

    spec = task.optimizer(optimizer) if isinstance(optimizer, str) else optimizer
    epochs = task.epochs if epochs is None else int(epochs)
    spe = task.steps_per_execution if steps_per_execution is None else steps_per_execution
    keras.utils.set_random_seed(int(seed))
    model = task.build_model()
    model.compile(optimizer=spec.build(), loss=task.loss, metrics=list(task.metrics),
                  steps_per_execution=int(spe), jit_compile=False)
    batch = task.batch_size
    train = data.train.dataset(batch, shuffle=True, seed=int(seed))
    validation = data.validation.dataset(batch)
    test = data.test.dataset(batch) if data.test is not None else None
    recorder = _epoch_recorder(test)
    # shuffle=False: the dataset reshuffles itself every epoch (seeded).
    model.fit(train, epochs=epochs, validation_data=validation, callbacks=[recorder],
              shuffle=False, verbose=verbose)
    frame = pd.DataFrame(recorder.rows)
    columns = ["epoch"] + task.columns(with_test=data.test is not None)
    missing = set(columns) - set(frame.columns)
    if missing:
        raise RuntimeError(f"Keras logged {sorted(frame.columns)}, missing {sorted(missing)}.")
    keras.backend.clear_session(free_memory=True)
    return frame[columns]


@dataclass
class Experiment:
    """The result of :func:`run_experiment` for one task."""

    task: Task
    seeds: list
    epochs: int
    quick: bool
    status: str  # "run" or "not run"
    reason: str = ""
    detail: str = ""
    history: pd.DataFrame | None = None
    sizes: dict = field(default_factory=dict)
    seconds: dict = field(default_factory=dict)

    @property
    def ran(self):
        return self.status == "run"

    @property
    def has_test(self):
        return self.history is not None and any(
            c.startswith("test_") for c in self.history.columns)


def run_experiment(task, seeds=5, first_seed=0, quick=False, data_dir=None,
                   verbose=None, epochs=None, data=None, threads=None,
                   allow_missing=False, cache_dir=None):
    """Run every optimizer of ``task`` for seeds ``first_seed .. first_seed+seeds-1``.

    ``quick``: :data:`QUICK_SEEDS` seed(s), :data:`QUICK_EPOCHS` epochs, data
    subsets (a smoke run). ``data``: a prepared
    :class:`mamgd_paper.experiments.networks.data.TaskData` to use
    instead of loading (tests). When the data file is not available (not in
    the data folder and no download possible) :func:`mamgd_paper.datasets.loaders.load`'s
    ``DatasetUnavailableError`` is raised, or, with ``allow_missing=True``,
    the result has ``status == "not run"`` and the reason; nothing is trained.

    The long history has columns ``seed, epoch, optimizer`` then
    :meth:`Task.columns`. ``cache_dir``: see :func:`train_seeds`.
    """
    seed_list = list(range(int(first_seed), int(first_seed) + int(seeds)))
    if quick:
        seed_list = seed_list[:QUICK_SEEDS]
    if epochs is None:
        epochs = min(task.epochs, QUICK_EPOCHS) if quick else task.epochs
    result = Experiment(task, seed_list, int(epochs), bool(quick), status="run")
    if data is None:
        if allow_missing:
            available, reason, detail = task.is_available(data_dir)
            if not available:
                result.status, result.reason, result.detail = "not run", reason, detail
                return result
        data = task.prepare(task.load(data_dir), quick=quick)
    result.sizes = data.sizes()
    history, result.seconds = train_seeds(task, data, task.optimizers, seed_list, epochs,
                                          verbose=resolve_verbose(verbose), threads=threads,
                                          cache_dir=cache_dir)
    result.history = history[["seed", "epoch", "optimizer"]
                             + [c for c in history.columns
                                if c not in ("seed", "epoch", "optimizer")]]
    return result


def train_seeds(task, data, specs, seeds, epochs=None, verbose=0, threads=None,
                cache_dir=None):
    """Train ``task`` with every optimizer of ``specs`` for every seed of ``seeds``.

    Every optimizer of a seed starts from the same initial weights and sees
    the same batches (:func:`train_one`). ``specs`` are objects with a
    ``name`` and a ``build()`` (e.g.
    :class:`mamgd_paper.experiments.networks.tasks.OptimizerSpec`). Returns
    ``(history, seconds)``: the long history, columns ``seed, optimizer``
    then :func:`train_one`'s, and the wall time of each ``(seed, name)``
    (0 for a run read from the cache). Progress is reported per seed and
    optimizer (:func:`mamgd_paper.core.progress.track`).

    ``cache_dir``: a folder of finished runs (e.g.
    :data:`mamgd_paper.experiments.networks.cache.HISTORY_CACHE`); a run
    whose :func:`mamgd_paper.experiments.networks.cache.history_key` is there
    is read instead of trained, and every run trained is stored there.
    ``None``: no cache.
    """
    configure_determinism(threads)
    epochs = task.epochs if epochs is None else int(epochs)
    frames, seconds = [], {}
    runs = list(itertools.product(seeds, specs))
    for seed, spec in track(runs, f"Table {task.table}: seeds x optimizers"):
        start = time.perf_counter()
        frame = _run(task, data, spec, seed, epochs, verbose, cache_dir)
        seconds[(seed, spec.name)] = time.perf_counter() - start
        if verbose:
            print(f"Table {task.table}, seed {seed}, {spec.name}: final training "
                  f"loss {frame['loss'].iloc[-1]:.6f} "
                  f"({seconds[(seed, spec.name)]:.1f} s)", flush=True)
        frame.insert(0, "optimizer", spec.name)
        frame.insert(0, "seed", seed)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True), seconds



def _run(task, data, spec, seed, epochs, verbose, cache_dir):
    """One run of :func:`train_one`, read from ``cache_dir`` when it is there."""
    def train():
        return train_one(task, data, spec, seed, epochs=epochs, verbose=verbose)

    if cache_dir is None:
        return train()
    return cache.cached_run(cache_dir, task, data, spec, seed, epochs, train)
