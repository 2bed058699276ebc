"""A NumPy-only softmax network (docs/protocol.md, section 5) and its Keras twin.

"Softmax network" in the course report that docs/protocol.md, section 5 cites is a
single dense layer with a softmax output, i.e. multinomial logistic
regression, 784 -> 10 on MNIST. This module trains it with NumPy only:

* :func:`init_params`: Glorot-uniform kernel (Keras's default for ``Dense``)
  and zero bias, from a seeded NumPy generator, float32;
* :func:`forward` / :func:`loss_and_grad`: logits ``x W + b``, a numerically
  stable softmax, the mean cross-entropy and its analytic gradient
  ``dL/dz = (p - y) / B`` (tested against finite differences);
* :func:`epoch_orders`: the seeded shuffling (one permutation per epoch from
  ``numpy.random.default_rng(seed)``), shared by the NumPy and Keras runs so
  both see the same minibatches;
* :func:`train_numpy`: minibatch training with any optimizer of
  :mod:`mamgd.reference` (one optimizer state per parameter array, as Keras
  keeps one per variable);
* :func:`train_keras`: the same model in Keras (``Dense(10, softmax)``,
  categorical cross-entropy), the same initial weights and batches, with a
  Keras optimizer (the built-in Adam for the side-by-side), trained by the
  project's engine (:mod:`mamgd_paper.engine`), every seed at once.

The NumPy runs use one BLAS thread (:data:`BLAS_THREADS`): OpenBLAS splits a
matrix product differently with another thread count, which changes the last
bits of the gradients, and the paper's Algorithm 6 (its curvature term divides
by parameter differences) amplifies such bits into visibly different curves.
With one thread the runs are bit-identical on any core count.

Both record per epoch what ``keras.Model.fit`` prints: the training loss and
accuracy averaged over the epoch's batches (weighted by batch size), and the
loss and accuracy on the validation data after the epoch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from mamgd import reference

#: BLAS threads of the NumPy training (see the module docstring).
BLAS_THREADS = 1

__all__ = [
    "init_params",
    "softmax",
    "forward",
    "loss_and_grad",
    "accuracy",
    "evaluate",
    "epoch_orders",
    "train_numpy",
    "keras_model",
    "SoftmaxTask",
    "train_keras",
]


def init_params(n_in=784, n_out=10, seed=0, dtype=np.float32):
    """Glorot-uniform kernel ``(n_in, n_out)`` and zero bias, seeded."""
    rng = np.random.default_rng(seed)
    limit = np.sqrt(6.0 / (n_in + n_out))
    kernel = rng.uniform(-limit, limit, size=(n_in, n_out)).astype(dtype)
    return [kernel, np.zeros(n_out, dtype=dtype)]


def softmax(z):
    """Row-wise softmax, shifted by the row maximum (no overflow)."""
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def forward(params, x):
    """Class probabilities ``softmax(x W + b)``."""
    kernel, bias = params
    return softmax(x @ kernel + bias)


def _cross_entropy(p, y):
    tiny = np.finfo(p.dtype).tiny
    return -np.sum(y * np.log(np.maximum(p, tiny)), axis=1)


def loss_and_grad(params, x, y):
    """Mean cross-entropy over the batch and its gradient.

    ``y`` is one-hot. Returns ``(loss, [dW, db], p)`` with
    ``dL/dz = (p - y) / B``, ``dW = x^T dL/dz``, ``db = sum_rows dL/dz``.
    """
    p = forward(params, x)
    batch = x.shape[0]
    loss = float(np.mean(_cross_entropy(p, y)))
    dz = (p - y) / p.dtype.type(batch)
    return loss, [x.T @ dz, dz.sum(axis=0)], p


def accuracy(p, y):
    """Fraction of rows whose arg-max class is the one-hot label's."""
    return float(np.mean(np.argmax(p, axis=1) == np.argmax(y, axis=1)))


def evaluate(params, x, y, batch_size=10000):
    """``(loss, accuracy)`` of ``params`` on ``(x, y)``, in chunks."""
    total_loss, correct = 0.0, 0
    for start in range(0, len(x), batch_size):
        p = forward(params, x[start:start + batch_size])
        yb = y[start:start + batch_size]
        total_loss += float(np.sum(_cross_entropy(p, yb)))
        correct += int(np.sum(np.argmax(p, axis=1) == np.argmax(yb, axis=1)))
    return total_loss / len(x), correct / len(x)


def epoch_orders(n, epochs, seed=0):
    """One permutation of ``range(n)`` per epoch from ``default_rng(seed)``."""
    rng = np.random.default_rng(seed)
    return [rng.permutation(n) for _ in range(int(epochs))]


def _batches(order, batch_size):
    return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]


def train_numpy(x, y, optimizer: reference.Optimizer, epochs=10, batch_size=128, seed=0,
                validation=None, params=None, orders=None, label="numpy"):
    """Train the softmax network with a :mod:`mamgd.reference` optimizer.

    Returns ``(history, params)``: ``history`` has one row per epoch
    (``epoch, loss, accuracy, val_loss, val_accuracy, optimizer``), the
    training columns averaged over the epoch's batches (weighted by size).
    """
    params = init_params(x.shape[1], y.shape[1], seed) if params is None else \
        [np.array(p, copy=True) for p in params]
    states = [optimizer.init(p) for p in params]
    orders = epoch_orders(len(x), epochs, seed) if orders is None else orders
    with threadpool_limits(limits=BLAS_THREADS, user_api="blas"):
        rows = _numpy_epochs(x, y, optimizer, params, states, orders, batch_size, validation)
    history = pd.DataFrame(rows)
    history.insert(0, "optimizer", label)
    return history, params


def _numpy_epochs(x, y, optimizer, params, states, orders, batch_size, validation):
    """The epochs of :func:`train_numpy` (``params`` and ``states`` updated in place)."""
    rows = []
    for epoch, order in enumerate(orders, start=1):
        loss_sum, correct, seen = 0.0, 0, 0
        for idx in _batches(order, batch_size):
            xb, yb = x[idx], y[idx]
            loss, grads, p = loss_and_grad(params, xb, yb)
            loss_sum += loss * len(idx)
            correct += int(np.sum(np.argmax(p, axis=1) == np.argmax(yb, axis=1)))
            seen += len(idx)
            for i, (param, grad) in enumerate(zip(params, grads)):
                params[i], states[i] = optimizer.update(param, grad, states[i])
        row = {"epoch": epoch, "loss": loss_sum / seen, "accuracy": correct / seen}
        if validation is not None:
            row["val_loss"], row["val_accuracy"] = evaluate(params, *validation)
        rows.append(row)
    return rows


def keras_model(n_in=784, n_out=10):
    """``Sequential([Input(n_in), Dense(n_out, softmax)])``."""
    import keras

    return keras.Sequential([keras.Input(shape=(n_in,)),
                             keras.layers.Dense(n_out, activation="softmax")])


@dataclass(frozen=True)
class SoftmaxTask:
    """The softmax network as a task of the training engine (:mod:`mamgd_paper.engine`)."""

    n_in: int
    n_out: int
    epochs: int
    batch_size: int
    table = None
    loss = "categorical_crossentropy"
    metrics = ("accuracy",)

    def build_model(self):
        return keras_model(self.n_in, self.n_out)

    def columns(self, with_test):
        columns = ["loss", "accuracy", "val_loss", "val_accuracy"]
        return columns + (["test_loss", "test_accuracy"] if with_test else [])


def train_keras(x, y, label, learning_rate, k=None, epochs=10, batch_size=128, seeds=(0,),
                validation=None, params=None, orders=None):
    """Train the same network in Keras, one model per seed, by the training engine.

    ``label``: a :mod:`mamgd_paper.paper.registry` label with a Keras class
    (``"Keras Adam"``); every seed starts from :func:`init_params` and sees the
    batches of :func:`epoch_orders` (or ``params`` / ``orders``, one per seed),
    so batch i of epoch e is the same rows as in :func:`train_numpy`. All seeds
    train at once (:func:`mamgd_paper.engine.compiled.train`). Returns the long
    history: ``seed, optimizer, epoch, loss, accuracy`` and, with
    ``validation``, ``val_loss, val_accuracy``.
    """
    from mamgd_paper.engine import compiled
    from mamgd_paper.experiments.networks.data import Split, TaskData

    seeds = [int(s) for s in seeds]
    params = [init_params(x.shape[1], y.shape[1], s) for s in seeds] if params is None else params
    orders = [epoch_orders(len(x), epochs, s) for s in seeds] if orders is None else orders
    task = SoftmaxTask(x.shape[1], y.shape[1], int(epochs), int(batch_size))
    held = validation if validation is not None else (x[:1], y[:1])
    data = TaskData(Split(np.asarray(x, np.float32), np.asarray(y, np.float32)),
                    Split(np.asarray(held[0], np.float32), np.asarray(held[1], np.float32)))
    runs = [compiled.Run(s, label, float(learning_rate), k) for s in seeds]
    history = compiled.train(task, data, runs, epochs=epochs, initial_weights=params,
                             orders=[np.stack(o) for o in orders])
    history.insert(0, "optimizer", label)
    history.insert(0, "seed", np.asarray(seeds)[history.pop("run").to_numpy()])
    if validation is None:
        history = history.drop(columns=["val_loss", "val_accuracy"])
    return history
