"""The network problems: their three splits and batched training runs.

Tuning sees the validation split only; the test split is for the report
(:func:`network_data`). :func:`train_models` trains many models of one
problem at once with :mod:`~mamgd_paper.experiments.equal_budget.batched`
(one model per (trial, seed); the paper's layers, loss and batch size; float32
NumPy reference optimizers) and returns, per model, the validation metric
after the last epoch, the test metric after every epoch and whether it
diverged (a diverged model is a failure: ``inf``, never a number).
"""

from __future__ import annotations

import math

import numpy as np

from mamgd_paper.experiments.equal_budget import batched, protocol
from mamgd_paper.experiments.equal_budget.problems import get_problem
from mamgd_paper.experiments.networks.data import (Split, TaskData, approximation_data,
                                                  prepare_boston_housing, prepare_mnist)

#: MNIST's declared subset: test images scored (all of them when the run uses
#: the full training set), and the validation images per training image.
MNIST_TEST_IMAGES = 1000
MNIST_VALIDATION_SHARE = 0.25
#: The test metric of each network table (a key of batched.metrics).
METRIC = {7: "mse", 8: "error", 11: "mae"}
#: Models trained together in one batched run (benchmarks/equal_budget_batched.py:
#: the small networks run fastest about 16 at a time, while their arrays stay in the
#: cache; MNIST's 784-512-10 is bound by its matrix products and gains nothing from
#: batching). A model's result does not depend on the batch it is in.
CHUNK = {7: 16, 8: 2, 11: 16}


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


def network(problem):
    """The :class:`~batched.Network` of a problem's paper model."""
    task = get_problem(problem).task
    return batched.Network.from_task(task, task.input_dim)


def _failures(values, diverged):
    values = np.asarray(values, dtype=np.float64)
    return np.where(np.asarray(diverged) | ~np.isfinite(values), np.inf, values)


def train_models(problem, data, arm, learning_rates, ks, seeds, epochs, test_every_epoch=False):
    """Train one model per (learning rate, k, seed) of ``arm``, :data:`CHUNK` at a time.

    Returns ``{"validation": (M,), "test": (M,), "test_epochs": (M, epochs)
    or None, "diverged": (M,) bool}``; a diverged model's metrics are ``inf``.
    """
    problem = get_problem(problem)
    size = CHUNK[problem.table]
    parts = [_train_chunk(problem, data, arm, learning_rates[i:i + size],
                          None if ks is None else ks[i:i + size], seeds[i:i + size], epochs,
                          test_every_epoch)
             for i in range(0, len(seeds), size)]
    out = {key: np.concatenate([p[key] for p in parts]) for key in ("validation", "test",
                                                                     "diverged")}
    out["test_epochs"] = (np.concatenate([p["test_epochs"] for p in parts])
                          if test_every_epoch else None)
    return out


def _train_chunk(problem, data, arm, learning_rates, ks, seeds, epochs, test_every_epoch):
    net = network(problem)
    metric = METRIC[problem.table]
    per_epoch = []

    def evaluate(epoch, params):
        per_epoch.append(batched.metrics(net, params, data.test)[metric])

    result = batched.train(net, protocol.optimizer_of(arm), list(learning_rates),
                           None if ks is None else list(ks), list(seeds),
                           data.train, int(epochs), problem.task.batch_size,
                           evaluate=evaluate if test_every_epoch else None)
    diverged = np.asarray(result.diverged, dtype=bool)
    validation = batched.metrics(net, result.params, data.validation)[metric]
    test = batched.metrics(net, result.params, data.test)[metric]
    out = {"validation": _failures(validation, diverged), "test": _failures(test, diverged),
           "diverged": diverged, "test_epochs": None}
    if test_every_epoch:
        out["test_epochs"] = _failures(np.stack(per_epoch, axis=1), diverged[:, None])
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
