"""The network problems: their three splits and batched training runs.

Tuning sees the validation split only; the test split is for the report
(:func:`network_data`). :func:`train_models` trains many models of one
problem at once with the training engine (:mod:`mamgd_paper.engine`: one model
per (trial, seed); the paper's Keras model, loss and batch size; the arm's
Keras optimizer class, its learning rate and ``k`` per model in one compiled
batch) and returns, per model, the validation metric after the last epoch,
the test metric after every epoch and whether it diverged (a non-finite loss
or metric: a failure, ``inf``, never a number). A model's result depends on
its own settings only, never on the other models of the call (the engine
trains a fixed number of models per compiled call).
"""

from __future__ import annotations

import math

import numpy as np

from mamgd_paper.engine import compiled
from mamgd_paper.experiments.equal_budget import protocol
from mamgd_paper.experiments.equal_budget.problems import get_problem
from mamgd_paper.experiments.networks.data import (Split, TaskData, approximation_data,
                                                  prepare_boston_housing, prepare_mnist)
from mamgd_paper.paper import registry

#: MNIST's declared subset: test images scored (all of them when the run uses
#: the full training set), and the validation images per training image.
MNIST_TEST_IMAGES = 1000
MNIST_VALIDATION_SHARE = 0.25
#: The held-out metric of each network table: the engine's column (without the
#: ``val_``/``test_`` prefix); MNIST's is the error rate, 1 - accuracy.
METRIC = {7: "loss", 8: "accuracy", 11: "mae"}


def _column(values):
    return np.asarray(values, dtype=np.float32).reshape(-1, 1)


def network_data(problem, config, data_dir=None):
    """The splits of a network problem (tuning never sees the test split).

    Returns a :class:`mamgd_paper.experiments.networks.data.TaskData` with
    ``train``, ``validation`` (tuning) and ``test`` (reporting):

    * Table 7: the paper's 10000 grid points y = x^2 + x - 1; every 5th point
      (index = 2 mod 5) is the validation split, the other 8000 the training
      set; the test split is the 9999 midpoints of the grid.
    * Table 11: Keras's 404 training houses, the last 81 (20 %) the validation
      split, the first 323 the training set; the features are standardised
      with the mean and std of those 323; the test split is the 102 test houses.
    * Table 8 (MNIST): a permutation of Keras's 60000 training images (NumPy
      generator seeded with 8): the first ``config.mnist_images`` train, the
      next quarter as many validate; the first 1000 test images are the test
      split (all 60000 / 10000 with ``mnist_images=None``: 48000 train,
      12000 validation, the whole test set).

    Quick runs: every 10th grid point (Table 7), the first 100 training houses
    (Table 11), and the quick config's MNIST subset.
    """
    problem = get_problem(problem)
    if problem.table == 7:
        (x, y), (x_mid, y_mid) = approximation_data()
        if config.quick:
            x, y, x_mid, y_mid = x[::10], y[::10], x_mid[::10], y_mid[::10]
        validation = np.arange(len(x)) % 5 == 2
        return TaskData(Split(_column(x[~validation]), _column(y[~validation])),
                        Split(_column(x[validation]), _column(y[validation])),
                        Split(_column(x_mid), _column(y_mid)))
    if problem.table == 11:
        (x_train, y_train), test = problem.task.load(data_dir)
        n_validation = int(round(0.2 * len(x_train)))
        fit = x_train[:-n_validation], y_train[:-n_validation]
        validation = x_train[-n_validation:], y_train[-n_validation:]
        if config.quick:
            fit = fit[0][:100], fit[1][:100]
        # standardised with the mean and std of the fitting houses, both times
        with_validation = prepare_boston_housing((fit, validation))
        with_test = prepare_boston_housing((fit, test))
        return TaskData(with_validation.train, with_validation.validation, with_test.validation)
    if problem.table == 8:
        prepared = prepare_mnist(problem.task.load(data_dir))
        order = np.random.default_rng(8).permutation(len(prepared.train))
        if config.mnist_images is None:
            n_train = int(round(len(order) * (1 - MNIST_VALIDATION_SHARE / (1 + MNIST_VALIDATION_SHARE))))
            n_validation = len(order) - n_train
            test = prepared.validation
        else:
            n_train = int(config.mnist_images)
            n_validation = max(1, int(round(n_train * MNIST_VALIDATION_SHARE)))
            test = prepared.validation[:MNIST_TEST_IMAGES]
        train = prepared.train[order[:n_train]]
        validation = prepared.train[order[n_train:n_train + n_validation]]
        return TaskData(train, validation, test)
    raise ValueError(f"No network split for {problem.name!r}.")


def _failures(values, diverged):
    values = np.asarray(values, dtype=np.float64)
    return np.where(np.asarray(diverged) | ~np.isfinite(values), np.inf, values)


def _metric(history, split, table):
    values = history[f"{split}_{METRIC[table]}"].to_numpy(dtype=np.float64)
    return 1.0 - values if table == 8 else values


def train_models(problem, data, arm, learning_rates, ks, seeds, epochs, test_every_epoch=False):
    """Train one model per (learning rate, k, seed) of ``arm`` with the engine.

    Returns ``{"validation": (M,), "test": (M,), "test_epochs": (M, epochs)
    or None, "diverged": (M,) bool}``; a diverged model's metrics are ``inf``.
    """
    problem = get_problem(problem)
    label = protocol.optimizer_of(arm)
    options = (("momentum", protocol.SGD_MOMENTUM),) if label == registry.SGD else ()
    takes_k = registry.get(label).takes_k
    if takes_k and (ks is None or any(k is None for k in ks)):
        raise ValueError(f"{label!r} takes k: pass one k per model")
    runs = [compiled.Run(int(seed), label, float(lr), float(ks[i]) if takes_k else None,
                         options)
            for i, (lr, seed) in enumerate(zip(learning_rates, seeds))]
    epochs = int(epochs)
    history = compiled.train(problem.task, data, runs, epochs=epochs)
    models = len(runs)
    table = problem.table
    with np.errstate(invalid="ignore"):
        values = history.drop(columns=["run", "epoch"]).to_numpy(dtype=np.float64)
    diverged = ~np.isfinite(values).reshape(models, epochs, -1).all(axis=(1, 2))
    last = history[history["epoch"] == epochs]
    out = {"validation": _failures(_metric(last, "val", table), diverged),
           "test": _failures(_metric(last, "test", table), diverged),
           "diverged": diverged, "test_epochs": None}
    if test_every_epoch:
        per_epoch = _metric(history, "test", table).reshape(models, epochs)
        out["test_epochs"] = _failures(per_epoch, diverged[:, None])
    return out


def epochs_to_target(test_epochs, target):
    """Per model, the first epoch (1-based) whose test metric is <= ``target``; inf if none."""
    test_epochs = np.asarray(test_epochs, dtype=np.float64)
    reached = test_epochs <= target
    first = np.argmax(reached, axis=1) + 1.0
    return np.where(reached.any(axis=1), first, math.inf)


class NetworkCache:
    """Each worker process loads a network problem's data once."""

    data = {}

    @classmethod
    def get(cls, problem, config, data_dir=None):
        problem = get_problem(problem)
        key = (problem.name, config.quick, config.mnist_images)
        if key not in cls.data:
            cls.data[key] = network_data(problem, config, data_dir)
        return cls.data[key]
