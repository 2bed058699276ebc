"""From-scratch references (docs/protocol.md, section 5): a NumPy-only softmax network.

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
  Keras optimizer (the built-in Adam for the side-by-side).

Both record per epoch what ``keras.Model.fit`` prints: the training loss and
accuracy averaged over the epoch's batches (weighted by batch size), and the
loss and accuracy on the validation data after the epoch.
"""

from __future__ import annotations

import dataclasses

import keras
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib import ticker

from mamgd_paper.datasets import datasets
from mamgd_paper.paper import registry
from mamgd_paper.core import style
from mamgd import functions as F
from mamgd import reference as R

__all__ = [
    "init_params",
    "softmax",
    "forward",
    "loss_and_grad",
    "accuracy",
    "evaluate",
    "epoch_orders",
    "train_numpy",
    "train_keras",
    "mnist_arrays",
    "REPORT_ACCURACY",
]

#: The course report's numbers (docs/protocol.md, section 5), percent.
REPORT_ACCURACY = {
    "scratch_train": 92.18,
    "keras_train": 92.71,
    "keras_validation": 92.64,
}
#: The course report's final training loss of the from-scratch Adam.
REPORT_SCRATCH_LOSS = 0.2810


#: File stems of notebook 10's tables (under figures/tables) and figures (under
#: figures/); the report reads the tables by these names.
AMSGRAD_CONTOUR_STEM = "scratch_amsgrad_contour"
BOWL_STEM = "scratch_bowl"
BOWL_CONTOUR_STEM = "scratch_bowl_contour"
MNIST_STEM = "scratch_mnist"
MNIST_SUMMARY_STEM = "scratch_mnist_summary"


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


def train_numpy(x, y, optimizer: R.Optimizer, epochs=10, batch_size=128, seed=0,
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
    history = pd.DataFrame(rows)
    history.insert(0, "optimizer", label)
    return history, params


def keras_model(n_in=784, n_out=10, params=None):
    """``Sequential([Input(n_in), Dense(n_out, softmax)])`` with ``params`` as weights."""
    model = keras.Sequential([keras.Input(shape=(n_in,)),
                              keras.layers.Dense(n_out, activation="softmax")])
    if params is not None:
        model.set_weights([np.asarray(p) for p in params])
    return model


def train_keras(x, y, optimizer, epochs=10, batch_size=128, seed=0, validation=None,
                params=None, orders=None, label="keras"):
    """Train the same network in Keras with the same initial weights and batches.

    ``optimizer`` is a Keras optimizer instance. Each epoch calls ``fit`` on
    the epoch's permutation of the data with ``shuffle=False``, so batch i of
    epoch e is the same rows as in :func:`train_numpy`. Returns
    ``(history, weights)``.
    """
    params = init_params(x.shape[1], y.shape[1], seed) if params is None else params
    orders = epoch_orders(len(x), epochs, seed) if orders is None else orders
    model = keras_model(x.shape[1], y.shape[1], params)
    model.compile(optimizer=optimizer, loss="categorical_crossentropy",
                  metrics=["accuracy"])
    rows = []
    for epoch, order in enumerate(orders, start=1):
        fit = model.fit(x[order], y[order], batch_size=batch_size, epochs=1,
                        shuffle=False, verbose=0)
        row = {"epoch": epoch, "loss": float(fit.history["loss"][-1]),
               "accuracy": float(fit.history["accuracy"][-1])}
        if validation is not None:
            scores = model.evaluate(*validation, batch_size=10000, verbose=0,
                                    return_dict=True)
            row["val_loss"], row["val_accuracy"] = (float(scores["loss"]),
                                                    float(scores["accuracy"]))
        rows.append(row)
    weights = [np.asarray(w) for w in model.get_weights()]
    keras.backend.clear_session()
    history = pd.DataFrame(rows)
    history.insert(0, "optimizer", label)
    return history, weights


def mnist_arrays(data_dir=None, subset=None):
    """MNIST as float32 ``x / 255`` (flattened to 784) and one-hot float32 labels.

    Returns ``(x_train, y_train), (x_test, y_test)``; ``subset`` keeps the
    first ``subset`` training and ``subset // 5`` test images (quick runs).
    """
    (x_train, y_train), (x_test, y_test) = datasets.load("mnist", data_dir)

    def prep(images, labels):
        x = images.reshape(len(images), -1).astype(np.float32) / np.float32(255)
        return x, np.eye(10, dtype=np.float32)[labels.astype(np.int64)]

    train, test = prep(x_train, y_train), prep(x_test, y_test)
    if subset:
        train = (train[0][:subset], train[1][:subset])
        test = (test[0][:max(subset // 5, 1)], test[1][:max(subset // 5, 1)])
    return train, test


# ---------------------------------------------------------------------------
# The 2-D bowl of the AMSGrad tutorial
# ---------------------------------------------------------------------------

#: The tutorial's domain [-1, 1]^2 and settings (docs/protocol.md, section 5).
BOWL_BOUNDS = ((-1.0, 1.0), (-1.0, 1.0))
TUTORIAL_ITERATIONS = 100
TUTORIAL_ALPHA = 0.007


def tutorial_start(seed=1, bounds=BOWL_BOUNDS):
    """The tutorial's random start: ``lo + RandomState(seed).rand(2) * (hi - lo)``.

    NumPy's legacy ``RandomState`` (what ``np.random.seed(1); np.random.rand``
    draws), so it is the tutorial's start point.
    """
    b = np.asarray(bounds, dtype=np.float64)
    return b[:, 0] + np.random.RandomState(seed).rand(len(b)) * (b[:, 1] - b[:, 0])


def bowl():
    """f = x^2 + y^2 on the tutorial's domain [-1, 1]^2, started at its start point."""
    return dataclasses.replace(F.SPHERE, domain=BOWL_BOUNDS, start=tuple(tutorial_start()),
                               title="f(x, y) = x^2 + y^2 (the AMSGrad tutorial's bowl)")


#: The optimizers run on the bowl (registry labels): every optimizer of
#: :mod:`mamgd.reference`. MAMGD and AdaExp use k = 2.377131029618243, the
#: paper's k for this function (Table 2); everything else has its defaults.
SPHERE_K = 2.377131029618243
BOWL_OPTIMIZERS = (registry.TUTORIAL_AMSGRAD, registry.SGD, registry.ADAGRAD,
                   registry.RMSPROP, registry.ADAM, registry.AMSGRAD, registry.ADAEXP,
                   registry.MAMGD, registry.MAMGD_ALGORITHM6)


def bowl_optimizer(label, learning_rate):
    """The NumPy reference optimizer ``label`` at ``learning_rate`` (k = :data:`SPHERE_K`)."""
    return registry.reference_optimizer(label, learning_rate, SPHERE_K)


#: Learning rates tried by :func:`choose_learning_rates`.
LEARNING_RATE_GRID = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3)


def bowl_run(optimizer, start=None, iterations=TUTORIAL_ITERATIONS, dtype=np.float64):
    """Path ``(iterations + 1, 2)`` of ``optimizer`` on the bowl (float64 like the
    tutorial's NumPy code)."""
    start = tutorial_start() if start is None else start
    return R.run(optimizer, F.SPHERE, start, iterations, dtype=dtype)


def choose_learning_rates(optimizers=None, grid=LEARNING_RATE_GRID, start=None,
                          iterations=TUTORIAL_ITERATIONS):
    """Per optimizer label, the learning rate of ``grid`` with the smallest final f.

    ``optimizers`` defaults to :data:`BOWL_OPTIMIZERS`. The tutorial's AMSGrad
    keeps its alpha (0.007). Ties go to the smaller rate. Returns ``{label: lr}``.
    """
    optimizers = BOWL_OPTIMIZERS if optimizers is None else optimizers
    chosen = {}
    for name in optimizers:
        if name == registry.TUTORIAL_AMSGRAD:
            chosen[name] = TUTORIAL_ALPHA
            continue
        finals = []
        for lr in grid:
            with np.errstate(over="ignore", invalid="ignore"):
                path = bowl_run(bowl_optimizer(name, lr), start, iterations)
                value = float(F.SPHERE.value(path[-1]))
            finals.append(value if np.isfinite(value) else np.inf)
        chosen[name] = float(grid[int(np.argmin(finals))])
    return chosen


def bowl_table(paths, learning_rates):
    """One row per optimizer: learning rate, f at the start, after 10, 50 and all
    iterations, and the distance of the last point to the minimum."""
    rows = []
    for name, path in paths.items():
        f = F.SPHERE.value(np.asarray(path, dtype=np.float64).T)
        rows.append({"optimizer": name, "learning_rate": learning_rates[name],
                     "f_start": float(f[0]), "f_10": float(f[10]), "f_50": float(f[50]),
                     "f_final": float(f[-1]), "iterations": len(f) - 1,
                     "distance_final": float(np.sqrt(f[-1]))})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------
# MNIST: NumPy vs Keras
# ---------------------------------------------------------------------------


def mnist_runs(train, test, seeds=(0,), epochs=10, batch_size=128, learning_rate=1e-3,
               k=1e-5, include=(registry.NUMPY_ADAM, registry.KERAS_ADAM, registry.NUMPY_MAMGD,
                                registry.NUMPY_MAMGD_ALGORITHM6)):
    """The softmax network on MNIST, per seed: the from-scratch Adam, Keras's Adam,
    and the from-scratch MAMGD (authors' code; Algorithm 6), all with the same
    initial weights and batches per seed. ``include``: registry labels; those with
    a NumPy reference train with :func:`train_numpy`, the others with
    :func:`train_keras`. Returns a long history with ``seed``.
    """
    frames = []
    for seed in seeds:
        params = init_params(train[0].shape[1], train[1].shape[1], seed)
        orders = epoch_orders(len(train[0]), epochs, seed)
        for name in include:
            entry = registry.get(name)
            if entry.reference is not None:
                trainer, optimizer = train_numpy, entry.build_reference(learning_rate, k)
            else:
                trainer, optimizer = train_keras, entry.build_keras(learning_rate, k)
            history, _ = trainer(*train, optimizer, epochs=epochs, batch_size=batch_size,
                                 seed=seed, validation=test, params=params, orders=orders,
                                 label=name)
            history.insert(0, "seed", int(seed))
            frames.append(history)
    return pd.concat(frames, ignore_index=True)


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


def plot_mnist(history, accuracy_floor=85.0):
    """Loss (log scale) and accuracy per epoch (training: solid, validation:
    dashed), mean over seeds with the [min, max] band; the course report's
    numbers as horizontal lines. The accuracy axis starts at
    ``accuracy_floor``; an optimizer that ends below it is named in the
    legend with its final accuracy."""
    fig, axes = plt.subplots(1, 2, figsize=(12.0, 4.6))
    last = history["epoch"].max()
    for name, runs in history.groupby("optimizer", sort=False):
        color = style.color(name)
        final = 100 * runs.loc[runs["epoch"] == last, "accuracy"].mean()
        off = f" (off scale: {final:.1f}%)" if final < accuracy_floor else ""
        for ax, column in zip(axes, ("loss", "accuracy")):
            for prefix, ls in (("", "-"), ("val_", "--")):
                stats = runs.groupby("epoch")[prefix + column].agg(["mean", "min", "max"])
                scale = 100 if column == "accuracy" else 1
                ax.fill_between(stats.index, scale * stats["min"], scale * stats["max"],
                                color=color, alpha=0.15, lw=0)
                label = f"{name} ({'validation' if prefix else 'training'})"
                ax.plot(stats.index, scale * stats["mean"], color=color, ls=ls, lw=1.2,
                        marker=style.marker(name), ms=4, mfc="none",
                        label=label + (off if column == "accuracy" else ""))
    for value, label, ls in ((REPORT_ACCURACY["scratch_train"], "report: scratch train", ":"),
                             (REPORT_ACCURACY["keras_train"], "report: Keras train", "-."),
                             (REPORT_ACCURACY["keras_validation"], "report: Keras validation",
                              (0, (1, 3)))):
        axes[1].axhline(value, color="0.3", lw=0.9, ls=ls, label=label)
    axes[0].axhline(REPORT_SCRATCH_LOSS, color="0.3", lw=0.9, ls=":",
                    label="report: scratch final loss")
    axes[0].set_yscale("log")
    axes[0].yaxis.set_major_formatter(ticker.FormatStrFormatter("%g"))
    axes[0].yaxis.set_minor_formatter(ticker.FormatStrFormatter("%g"))
    axes[0].set_ylabel("cross-entropy (log scale)")
    axes[1].set_ylim(accuracy_floor, 95.0)
    axes[1].set_ylabel("accuracy (%)")
    for ax in axes:
        ax.set_xlabel("epoch")
        ax.grid(True, alpha=0.3)
    axes[0].legend(fontsize=6.5, loc="center right")
    axes[1].legend(fontsize=6.5, loc="lower right")
    n = history["seed"].nunique()
    fig.suptitle(f"Softmax network (784 -> 10) on MNIST: from-scratch NumPy vs Keras (numpy "
                 f"Adam lies under Keras Adam); mean and min-max over {n} "
                 f"seed{'s' if n != 1 else ''}", fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.94))
    return fig
