"""The network problems: their three splits and one seeded training run.

Tuning sees the validation split only; the test split is for the report
(:func:`network_data`). :func:`train_network` trains the paper's model of the
task once, reporting the validation metric after every epoch (the pruner's
input). The models, losses, batch sizes and the Boston standardisation are
those of :mod:`mamgd_paper.experiments.networks` (``tasks``, ``data``).
"""

from __future__ import annotations

import math

import numpy as np

from mamgd_paper.experiments.equal_budget import protocol
from mamgd_paper.experiments.equal_budget.problems import get_problem
from mamgd_paper.experiments.equal_budget.protocol import NETWORK_CAP
from mamgd_paper.experiments.networks.data import (Split, TaskData, approximation_data,
                                                  prepare_boston_housing)


def _column(values):
    return np.asarray(values, dtype=np.float32).reshape(-1, 1)


def network_data(problem, quick=False, data_dir=None):
    """The splits of a network problem (tuning never sees the test split).

    Returns a :class:`mamgd_paper.experiments.networks.data.TaskData` with
    ``train``, ``validation`` (tuning) and ``test`` (reporting):

    * Table 7: the paper's 10000 grid points y = x^2 + x - 1; every 5th point
      (index = 2 mod 5) is the validation split, the other 8000 the training
      set; the test split is the 9999 midpoints of the grid.
    * Table 11: Keras's 404 training houses, the last 81 (20 %) the validation
      split, the first 323 the training set; the features are standardised
      with the mean and std of those 323
      (:func:`mamgd_paper.experiments.networks.data.prepare_boston_housing`);
      the test split is the 102 test houses.

    ``quick``: every 10th grid point (Table 7) or the first 100 training houses
    (Table 11; the standardisation then uses those 100).
    """
    problem = get_problem(problem)
    if problem.table == 7:
        (x, y), (x_mid, y_mid) = approximation_data()
        if quick:
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
        if quick:
            fit = fit[0][:100], fit[1][:100]
        # standardised with the mean and std of the fitting houses, both times
        with_validation = prepare_boston_housing((fit, validation))
        with_test = prepare_boston_housing((fit, test))
        return TaskData(with_validation.train, with_validation.validation, with_test.validation)
    raise ValueError(f"No network split for {problem.name!r}.")


def split_metric(problem, model, split):
    """The problem's metric of ``model`` on ``split``: MSE (Table 7) or MAE (Table 11).

    The model predicts the whole split in one float32 call; the mean is taken
    in float64. Non-finite or larger than :data:`NETWORK_CAP` -> the cap.
    """
    prediction = np.asarray(model(split.x, training=False), dtype=np.float64)
    error = prediction - np.asarray(split.y, dtype=np.float64)
    with np.errstate(all="ignore"):
        value = float(np.mean(error * error) if get_problem(problem).table == 7
                      else np.mean(np.abs(error)))
    return value if math.isfinite(value) and value <= NETWORK_CAP else NETWORK_CAP


def train_network(problem, data, label, learning_rate, k, seed, epochs, on_epoch=None):
    """Train the problem's model (the paper's layers, loss and batch size) once.

    ``keras.utils.set_random_seed(seed)`` precedes the model, so every
    optimizer and setting of a seed starts from the same weights and sees the
    same batches (TensorFlow's op determinism is switched on by the caller,
    :func:`mamgd_paper.experiments.networks.training.configure_determinism`). After every epoch the
    validation metric is computed and passed to ``on_epoch(epoch, value)``;
    when that returns ``True`` (pruned), or the training loss is not finite,
    training stops. Returns ``{"epochs", "validation", "test", "train_loss",
    "stopped"}`` (the test metric after the last epoch trained).
    """
    import keras

    problem = get_problem(problem)
    task = problem.task
    keras.utils.set_random_seed(int(seed))
    model = task.build_model()
    model.compile(optimizer=protocol.keras_optimizer(label, learning_rate, k), loss=task.loss,
                  steps_per_execution=int(task.steps_per_execution), jit_compile=False)
    record = {"epochs": 0, "validation": NETWORK_CAP, "train_loss": float("nan"),
              "stopped": False}

    class Epochs(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            loss = float((logs or {}).get("loss", float("nan")))
            record["epochs"], record["train_loss"] = epoch + 1, loss
            record["validation"] = split_metric(problem, self.model, data.validation)
            stop = not math.isfinite(loss)
            if on_epoch is not None and on_epoch(epoch + 1, record["validation"]):
                stop = True
            if stop:
                record["stopped"] = True
                self.model.stop_training = True

    model.fit(data.train.dataset(task.batch_size, shuffle=True, seed=int(seed)),
              epochs=int(epochs), verbose=0, shuffle=False, callbacks=[Epochs()])
    record["test"] = split_metric(problem, model, data.test)
    keras.backend.clear_session(free_memory=True)
    return record


class NetworkCache:
    """Each worker process loads a network problem's data once."""

    data = {}

    @classmethod
    def get(cls, problem, quick, data_dir=None):
        key = (problem.name, bool(quick))
        if key not in cls.data:
            cls.data[key] = network_data(problem, quick=quick, data_dir=data_dir)
        return cls.data[key]
