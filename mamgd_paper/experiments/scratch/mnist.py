"""The softmax network on MNIST: from-scratch Adam and MAMGD beside Keras's Adam.

:func:`mnist_arrays` prepares the data, :func:`run_plan` the epochs, seeds and
subset of a run (paper settings or a quick one), :func:`mnist_runs` trains
every optimizer per seed from the same initial weights and batches
(:mod:`mamgd_paper.experiments.scratch.softmax`), :func:`mnist_summary` puts
the final epoch beside the course report's numbers and :func:`adam_gap`
measures how far the from-scratch Adam is from Keras's.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mamgd_paper.datasets import loaders
from mamgd_paper.experiments.scratch.softmax import (epoch_orders, init_params, train_keras,
                                                    train_numpy)
from mamgd_paper.paper import registry

#: The course report's numbers (docs/protocol.md, section 5), percent.
REPORT_ACCURACY = {
    "scratch_train": 92.18,
    "keras_train": 92.71,
    "keras_validation": 92.64,
}
#: The course report's final training loss of the from-scratch Adam.
REPORT_SCRATCH_LOSS = 0.2810
#: A quick (smoke) run: one seed, one epoch on the first 2000 training images
#: (and the first 400 test images, see :func:`mnist_arrays`).
QUICK_SUBSET = 2000
QUICK_EPOCHS = 1
#: The columns :func:`adam_gap` compares.
GAP_COLUMNS = ("loss", "accuracy", "val_loss", "val_accuracy")


def mnist_arrays(data_dir=None, subset=None):
    """MNIST as float32 ``x / 255`` (flattened to 784) and one-hot float32 labels.

    Returns ``(x_train, y_train), (x_test, y_test)``; ``subset`` keeps the
    first ``subset`` training and ``subset // 5`` test images (quick runs).
    """
    (x_train, y_train), (x_test, y_test) = loaders.load("mnist", data_dir)

    def prep(images, labels):
        x = images.reshape(len(images), -1).astype(np.float32) / np.float32(255)
        return x, np.eye(10, dtype=np.float32)[labels.astype(np.int64)]

    train, test = prep(x_train, y_train), prep(x_test, y_test)
    if subset:
        train = (train[0][:subset], train[1][:subset])
        test = (test[0][:max(subset // 5, 1)], test[1][:max(subset // 5, 1)])
    return train, test



def run_plan(quick, seed, seeds, epochs):
    """``(subset, epochs, seeds)`` of a run: ``subset`` for :func:`mnist_arrays`
    (``None``: all images), the number of epochs and the list of seeds
    ``seed, seed + 1, ...``; a quick run keeps :data:`QUICK_SUBSET` images,
    :data:`QUICK_EPOCHS` epoch and one seed."""
    if quick:
        return QUICK_SUBSET, QUICK_EPOCHS, [int(seed)]
    return None, int(epochs), list(range(int(seed), int(seed) + int(seeds)))


def mnist_runs(train, test, seeds=(0,), epochs=10, batch_size=128, learning_rate=1e-3,
               k=1e-5, include=(registry.NUMPY_ADAM, registry.KERAS_ADAM, registry.NUMPY_MAMGD,
                                registry.NUMPY_MAMGD_ALGORITHM6)):
    """The softmax network on MNIST, per seed: the from-scratch Adam, Keras's Adam,
    and the from-scratch MAMGD (authors' code; Algorithm 6), all with the same
    initial weights and batches per seed. ``include``: registry labels; those with
    a NumPy reference train with :func:`train_numpy`, the others with
    :func:`train_keras` (the engine, all seeds at once). Returns a long history
    with ``seed``, seed by seed in the order of ``include``.
    """
    frames, keras_labels = [], []
    for seed in seeds:
        params = init_params(train[0].shape[1], train[1].shape[1], seed)
        orders = epoch_orders(len(train[0]), epochs, seed)
        for name in include:
            entry = registry.get(name)
            if entry.reference is None:
                keras_labels.append(name)
                continue
            history, _ = train_numpy(*train, entry.build_reference(learning_rate, k),
                                     epochs=epochs, batch_size=batch_size, seed=seed,
                                     validation=test, params=params, orders=orders,
                                     label=name)
            history.insert(0, "seed", int(seed))
            frames.append(history)
    for name in dict.fromkeys(keras_labels):
        frames.append(train_keras(*train, name, learning_rate, k if registry.get(name).takes_k
                                  else None, epochs=epochs, batch_size=batch_size,
                                  seeds=seeds, validation=test))
    rank = {name: i for i, name in enumerate(include)}
    history = pd.concat(frames, ignore_index=True)
    order = np.lexsort((history["epoch"], history["optimizer"].map(rank),
                        history["seed"].map({s: i for i, s in enumerate(seeds)})))
    return history.iloc[order].reset_index(drop=True)


def mnist_summary(history):
    """Final epoch per optimizer: mean, min and max over seeds of the training
    and validation (test-set) accuracy (percent) and training loss, beside the
    course report's numbers."""
    last = history[history["epoch"] == history["epoch"].max()]
    rows = []
    report = {registry.NUMPY_ADAM: (REPORT_ACCURACY["scratch_train"], np.nan,
                                    REPORT_SCRATCH_LOSS),
              registry.KERAS_ADAM: (REPORT_ACCURACY["keras_train"],
                             REPORT_ACCURACY["keras_validation"], np.nan)}
    for name, group in last.groupby("optimizer", sort=False):
        rep = report.get(name, (np.nan, np.nan, np.nan))
        rows.append({
            "optimizer": name, "n_seeds": int(len(group)),
            "epochs": int(history["epoch"].max()),
            "train_accuracy_mean": 100 * float(group["accuracy"].mean()),
            "train_accuracy_min": 100 * float(group["accuracy"].min()),
            "train_accuracy_max": 100 * float(group["accuracy"].max()),
            "val_accuracy_mean": 100 * float(group["val_accuracy"].mean()),
            "val_accuracy_min": 100 * float(group["val_accuracy"].min()),
            "val_accuracy_max": 100 * float(group["val_accuracy"].max()),
            "train_loss_mean": float(group["loss"].mean()),
            "report_train_accuracy": rep[0], "report_val_accuracy": rep[1],
            "report_train_loss": rep[2],
        })
    return pd.DataFrame(rows)


def adam_gap(history):
    """Per column of :data:`GAP_COLUMNS`, the largest ``|numpy Adam - Keras Adam|``
    over the seeds and epochs of ``history`` (a Series)."""
    columns = list(GAP_COLUMNS)
    numpy_adam = history[history["optimizer"] == registry.NUMPY_ADAM].reset_index(drop=True)
    keras_adam = history[history["optimizer"] == registry.KERAS_ADAM].reset_index(drop=True)
    return (numpy_adam[columns] - keras_adam[columns]).abs().max()
