"""Training the network experiments: all seeds and optimizers of a task at once.

Every run is trained by the compiled engine (:mod:`mamgd_paper.engine`):
the task's Keras model and the library's (or Keras's) optimizer classes
through Keras's stateless API under ``jax.jit``, one compiled program per
optimizer, its seeds batched. Seed ``s`` fixes a run's initial weights and
batch order, so every optimizer of a seed starts from the same weights and
sees the same batches, and a rerun gives the same numbers bit for bit.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import pandas as pd

from mamgd_paper.engine import compiled
from mamgd_paper.experiments.networks.tasks import QUICK_EPOCHS, QUICK_SEEDS, Task
from mamgd_paper.paper import registry


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
    seconds: float = 0.0

    @property
    def ran(self):
        return self.status == "run"

    @property
    def has_test(self):
        return self.history is not None and any(
            c.startswith("test_") for c in self.history.columns)


def run_experiment(task, seeds=5, first_seed=0, quick=False, data_dir=None,
                   epochs=None, data=None, allow_missing=False):
    """Run every optimizer of ``task`` for seeds ``first_seed .. first_seed+seeds-1``.

    ``quick``: :data:`QUICK_SEEDS` seed(s), :data:`QUICK_EPOCHS` epochs, data
    subsets (a smoke run). ``data``: a prepared
    :class:`mamgd_paper.experiments.networks.data.TaskData` to use
    instead of loading (tests). When the data file is not available (not in
    the data folder and no download possible) :func:`mamgd_paper.datasets.loaders.load`'s
    ``DatasetUnavailableError`` is raised, or, with ``allow_missing=True``,
    the result has ``status == "not run"`` and the reason; nothing is trained.

    The long history has columns ``seed, epoch, optimizer`` then
    :meth:`Task.columns`.
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
    history, result.seconds = train_seeds(task, data, task.optimizers, seed_list, epochs)
    result.history = history[["seed", "epoch", "optimizer"]
                             + [c for c in history.columns
                                if c not in ("seed", "epoch", "optimizer")]]
    return result


def engine_run(spec, seed):
    """The engine's :class:`~mamgd_paper.engine.compiled.Run` of an optimizer spec and seed."""
    arguments = spec.arguments
    learning_rate = arguments.pop("learning_rate")
    k = arguments.pop("k", None)
    if not registry.get(spec.name).takes_k:
        k = None
    return compiled.Run(int(seed), spec.name, float(learning_rate),
                        None if k is None else float(k), tuple(sorted(arguments.items())))


def train_seeds(task, data, specs, seeds, epochs=None):
    """Train ``task`` with every optimizer of ``specs`` for every seed of ``seeds``.

    ``specs`` are :class:`mamgd_paper.experiments.networks.tasks.OptimizerSpec`
    (a registry label and its arguments). Returns ``(history, seconds)``: the
    long history, columns ``seed, optimizer, epoch`` then :meth:`Task.columns`
    (optimizers in the order of ``specs``, seeds in the order of ``seeds``),
    and the wall time of the whole batch.
    """
    epochs = task.epochs if epochs is None else int(epochs)
    pairs = [(spec, int(seed)) for spec in specs for seed in seeds]
    start = time.perf_counter()
    history = compiled.train(task, data, [engine_run(spec, seed) for spec, seed in pairs],
                             epochs=epochs)
    seconds = time.perf_counter() - start
    labels = pd.DataFrame({"run": range(len(pairs)),
                           "seed": [seed for _, seed in pairs],
                           "optimizer": [spec.name for spec, _ in pairs]})
    history = labels.merge(history, on="run").drop(columns="run")
    order = {seed: i for i, seed in enumerate(seeds)}
    history = history.assign(_seed=history["seed"].map(order)).sort_values(
        ["_seed", "optimizer", "epoch"], kind="stable",
        key=lambda c: c.map({s.name: i for i, s in enumerate(specs)}) if c.name == "optimizer"
        else c).drop(columns="_seed").reset_index(drop=True)
    return history, seconds
