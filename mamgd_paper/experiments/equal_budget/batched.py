"""Many small Dense networks trained at once in NumPy (one per trial and seed).

Training the equal-budget comparison's networks one at a time in Keras is
overhead-bound (Boston housing: batch size 1, 6,460 steps per run), so this
module trains M models of one architecture together: their parameters are one
flat array ``params`` of shape ``(M, P)`` (each row a model, each layer's
kernel ``(in, out)`` row-major then its bias, Keras's ``get_weights`` order),
one optimizer update per step advances all of them
(:func:`~mamgd_paper.experiments.equal_budget.protocol.reference_optimizer`
with a learning rate and k of shape ``(M, 1)``), and the forward and backward
passes are stacked ``np.matmul`` calls, ``(M, B, in) @ (M, in, out)``, on views
of ``params``. Each model draws its own batches (its seed's order).

The maths, for one model and a batch X of B rows (h_0 = X; layer l has kernel
W_l, bias b_l, activation f_l):

    z_l = h_{l-1} W_l + b_l,   h_l = f_l(z_l)          (f: relu, linear; last may be softmax)
    mse:  L = mean over the B x out entries of (h_L - Y)^2,   dL/dz_L = 2 (h_L - Y) / (B out)
    categorical crossentropy (softmax output, computed from the logits z_L as
    Keras's TensorFlow backend does): L = mean_b [logsumexp(z_L) - <Y, z_L>],
          dL/dz_L = (softmax(z_L) - Y) / B
    dW_l = h_{l-1}^T dz_l,   db_l = sum over the batch of dz_l,
    dz_{l-1} = (dz_l W_l^T) * [z_{l-1} > 0]            (relu; linear: no mask)

A step's loss is taken before its update; an epoch's training loss is the
batch-size-weighted mean of its steps' losses (what Keras 3's ``fit`` reports).

Determinism contract. A model's results depend only on its own setting,
seed, the data, the architecture and the dtype -- never on which other models
share the batch, nor on its position in it: every stacked matmul is one BLAS
call per model on equally shaped operands (a batch of one row takes the
kernel gradient as an element-wise outer product, the same numbers), every
reduction runs over one model's own axis, and the optimizer's array hyperparameters reproduce the
scalar ones bit for bit (:mod:`mamgd.reference`). ``tests/experiments/
test_batched.py`` checks that a model trained in a batch of five equals,
bit for bit, the model trained alone (at one BLAS thread). Results may change
with the BLAS library, its thread count (the 784-512-10 net: up to 5e-6 apart
after 10 steps at 1 and 2 OpenBLAS threads) or the CPU, so a caller that wants
reproducible numbers pins NumPy's BLAS (``threadpoolctl.threadpool_limits(1)``
in a worker; for these small matrices one thread is also the fastest, 10-40x
on a busy 2-core machine). The initial weights
(:func:`initial_weights`) and the batch order (:func:`batch_order`) depend on
the seed only, so every optimizer and setting of a seed starts from the same
weights and sees the same batches. A caller may therefore split its models
into batches of any size: measured here (``benchmarks/equal_budget_batched.py``,
one thread), M = 16 is faster per model than M = 48 for the Boston and Table 7
networks (the (M, P) temporaries outgrow the cache), and the 784-512-10 net is
compute-bound, so batching it gains nothing.

Divergence. A model whose step loss or whose parameters (checked after every
epoch) are not finite is marked diverged, and its parameters are set to NaN
from then on: it keeps computing NaNs, and every training loss, ``evaluate``
input and :func:`metrics` value of it afterwards is NaN, never a number.

Against Keras (TensorFlow 2.21 CPU backend, float32, the same initial
weights, the same batch order, ``train_on_batch``; ``tests/experiments/
test_batched.py``), one epoch of the Table 7 architecture on 400 points (13
steps of 32), the Boston architecture for 200 steps of batch 1 and a 784-512-10
softmax net for 10 steps of 128, with Adam, MAMGD (authors' code) and SGD
(momentum 0.9): the largest deviation measured, max |ours - Keras| over a
weight tensor divided by the tensor's max |Keras|, was 1.2e-5 (1.4e-6
absolute; Adam on the softmax net, whose near-zero, cancelling gradients get
Adam's unit-size step), <= 8.3e-7 in the other eight runs; the epoch's
training loss agreed to <= 1.3e-7 relative. Declared: 1e-4 on the parameters,
1e-5 on the loss. The other optimizers measured <= 4.6e-6 except on the
softmax net (AdaExp 7.2e-5, MAMGD Algorithm 6 1.6e-5). The differences are
float32 rounding (TensorFlow sums its matmuls in another order), compounded
over the steps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Callable, Optional, Sequence

import numpy as np

from mamgd_paper.experiments.equal_budget import protocol

__all__ = ["Network", "TrainResult", "initial_weights", "batch_order", "train", "predict",
           "metrics", "ACTIVATIONS", "LOSSES"]

#: Activations a layer may have (``None`` means ``"linear"``); softmax only last.
ACTIVATIONS = ("relu", "linear", "softmax")
#: Losses a network may have.
LOSSES = ("mse", "categorical_crossentropy")
#: Rows of ``x`` per forward pass in :func:`predict` (a constant, so a model's
#: predictions do not depend on how many models are predicted together).
PREDICT_CHUNK = 1024


@dataclass(frozen=True)
class Network:
    """A Dense network: ``input_dim`` inputs, ``layers`` ``((units, activation), ...)``,
    ``loss`` ``"mse"`` (last activation linear or relu) or
    ``"categorical_crossentropy"`` (last activation softmax)."""

    input_dim: int
    layers: tuple
    loss: str = "mse"

    def __post_init__(self):
        layers = tuple((int(units), "linear" if activation is None else str(activation))
                       for units, activation in self.layers)
        object.__setattr__(self, "input_dim", int(self.input_dim))
        object.__setattr__(self, "layers", layers)
        if self.input_dim < 1 or not layers or any(units < 1 for units, _ in layers):
            raise ValueError(f"a network needs inputs and layers of >= 1 unit: {self!r}")
        for index, (_, activation) in enumerate(layers):
            if activation not in ACTIVATIONS:
                raise ValueError(f"unknown activation {activation!r}; expected one of "
                                 f"{ACTIVATIONS} (or None)")
            if activation == "softmax" and index != len(layers) - 1:
                raise ValueError("softmax is supported on the last layer only")
        if self.loss not in LOSSES:
            raise ValueError(f"unknown loss {self.loss!r}; expected one of {LOSSES}")
        last = layers[-1][1]
        if (self.loss == "categorical_crossentropy") != (last == "softmax"):
            raise ValueError("categorical crossentropy needs a softmax output layer, and a "
                             "softmax output needs categorical crossentropy")

    @classmethod
    def from_task(cls, task, input_dim=None):
        """The network of a :class:`mamgd_paper.experiments.networks.tasks.Task`
        (``input_dim`` defaults to the task's)."""
        return cls(task.input_dim if input_dim is None else input_dim,
                   tuple((layer.units, layer.activation) for layer in task.layers), task.loss)

    @cached_property
    def shapes(self):
        """``(fan_in, units)`` of every layer."""
        fan_in = [self.input_dim] + [units for units, _ in self.layers[:-1]]
        return tuple((n_in, units) for n_in, (units, _) in zip(fan_in, self.layers))

    @property
    def output_dim(self):
        return self.layers[-1][0]

    @cached_property
    def n_params(self):
        return sum(n_in * n_out + n_out for n_in, n_out in self.shapes)

    @cached_property
    def slices(self):
        """``(kernel_slice, bias_slice)`` of every layer in a flat parameter vector."""
        out, start = [], 0
        for n_in, n_out in self.shapes:
            kernel = slice(start, start + n_in * n_out)
            bias = slice(kernel.stop, kernel.stop + n_out)
            out.append((kernel, bias))
            start = bias.stop
        return tuple(out)

    def unflatten(self, params):
        """``[kernel_1, bias_1, kernel_2, ...]`` (Keras's ``get_weights`` order) as views:
        ``(in, out)`` / ``(out,)`` for a ``(P,)`` vector, ``(M, in, out)`` / ``(M, out)``
        for ``(M, P)``."""
        params = np.asarray(params)
        lead = params.shape[:-1]
        if params.shape[-1] != self.n_params:
            raise ValueError(f"expected {self.n_params} parameters, got {params.shape[-1]}")
        weights = []
        for (kernel, bias), (n_in, n_out) in zip(self.slices, self.shapes):
            weights.append(params[..., kernel].reshape(lead + (n_in, n_out)))
            weights.append(params[..., bias])
        return weights

    def flatten(self, weights, dtype=np.float32):
        """The ``(P,)`` vector of Keras-ordered ``weights`` (the inverse of :meth:`unflatten`)."""
        return np.concatenate([np.asarray(w, dtype=dtype).reshape(-1) for w in weights])


@dataclass
class TrainResult:
    """What :func:`train` returns: ``params`` (M, P), ``train_loss`` (M, epochs) (NaN
    once diverged), ``diverged`` (M,) bool and ``diverged_epoch`` (M,) int (the epoch
    in which the model diverged, 0 if it did not)."""

    params: np.ndarray
    train_loss: np.ndarray
    diverged: np.ndarray
    diverged_epoch: np.ndarray


def initial_weights(network, seed, dtype=np.float32):
    """The ``(P,)`` initial parameters of ``network`` for ``seed``.

    Keras's defaults: Glorot-uniform kernels, U(-limit, limit) with
    limit = sqrt(6 / (fan_in + fan_out)), and zero biases. The kernels are drawn
    layer by layer, each row-major, in float64 and rounded to ``dtype``, from
    the stream ``np.random.default_rng(np.random.SeedSequence([seed, 1]))``.
    """
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 1]))
    parts = []
    for n_in, n_out in network.shapes:
        limit = math.sqrt(6.0 / (n_in + n_out))
        parts.append(rng.uniform(-limit, limit, size=n_in * n_out))
        parts.append(np.zeros(n_out))
    return np.concatenate(parts).astype(dtype)


def batch_order(n, batch_size, seed, epoch):
    """The batches of epoch ``epoch`` for ``seed``: a permutation of ``range(n)`` from
    ``np.random.default_rng(np.random.SeedSequence([seed, 2, epoch]))`` cut into
    consecutive batches of ``batch_size`` (the last one may be smaller, as in Keras).
    Returns a list of int64 index arrays."""
    n, batch_size = int(n), int(batch_size)
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    order = np.random.default_rng(np.random.SeedSequence([int(seed), 2, int(epoch)])
                                  ).permutation(n)
    return [order[start:start + batch_size] for start in range(0, n, batch_size)]


def _xy(split, dtype):
    if hasattr(split, "x") and hasattr(split, "y"):
        x, y = split.x, split.y
    else:
        x, y = split
    x = np.asarray(x, dtype=dtype)
    y = np.asarray(y, dtype=dtype)
    if x.ndim == 1:
        x = x.reshape(-1, 1)
    if y.ndim == 1:
        y = y.reshape(-1, 1)
    if len(x) != len(y):
        raise ValueError(f"x has {len(x)} rows but y has {len(y)}")
    return x, y


def _forward(network, weights, x):
    """Stacked forward pass: ``x`` (M, B, in) -> (pre-activations z_l, outputs h_l).

    The last entry of ``h`` is the output before a softmax (the logits): the
    softmax is applied by the loss or by :func:`predict`.
    """
    zs, hs = [], [x]
    h = x
    for index, (_, activation) in enumerate(network.layers):
        kernel, bias = weights[2 * index], weights[2 * index + 1]
        z = np.matmul(h, kernel)
        z += bias[:, None, :]
        zs.append(z)
        if activation == "relu":
            h = np.maximum(z, 0)
        else:  # linear, or softmax (left to the loss / predict)
            h = z
        hs.append(h)
    return zs, hs


def _softmax(logits):
    shifted = logits - np.max(logits, axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=-1, keepdims=True)


def _loss_and_delta(network, output, y):
    """Per-model loss (M,) and dL/dz of the last layer (M, B, out)."""
    batch = output.shape[1]
    dt = output.dtype.type
    if network.loss == "mse":
        diff = output - y
        delta = diff * dt(2.0 / (batch * output.shape[2]))
        if network.layers[-1][1] == "relu":
            delta *= output > 0
        loss = np.mean(diff * diff, axis=(1, 2))
        return loss, delta
    shifted = output - np.max(output, axis=-1, keepdims=True)
    e = np.exp(shifted)
    total = np.sum(e, axis=-1, keepdims=True)
    p = e / total
    per_sample = np.log(total[..., 0]) - np.sum(y * shifted, axis=-1)
    return np.mean(per_sample, axis=1), (p - y) * dt(1.0 / batch)


def _backward(network, weights, zs, hs, delta, grad_weights):
    """Write the gradient of every layer into ``grad_weights`` (views of the (M, P)
    gradient buffer, :meth:`Network.unflatten` order)."""
    for index in range(len(network.layers) - 1, -1, -1):
        if delta.shape[1] == 1:  # batch of one: the outer product, the same numbers as gemm
            np.multiply(hs[index][:, 0, :, None], delta[:, 0, None, :],
                        out=grad_weights[2 * index])
        else:
            np.matmul(hs[index].transpose(0, 2, 1), delta, out=grad_weights[2 * index])
        np.sum(delta, axis=1, out=grad_weights[2 * index + 1])
        if index == 0:
            break
        delta = np.matmul(delta, weights[2 * index].transpose(0, 2, 1))
        if network.layers[index - 1][1] == "relu":
            delta *= zs[index - 1] > 0


def _settings(values, name, models):
    values = list(values)
    if len(values) != models:
        raise ValueError(f"{name}: expected {models} values (one per model), got {len(values)}")
    return np.array(values, dtype=np.float64).reshape(models, 1)


def train(network: Network, label: str, learning_rates: Sequence[float],
          ks: Optional[Sequence[float]], seeds: Sequence[int], train_split, epochs: int,
          batch_size: int, evaluate: Optional[Callable[[int, np.ndarray], object]] = None,
          dtype=np.float32) -> TrainResult:
    """Train M = ``len(seeds)`` models of ``network`` with optimizer ``label``.

    ``learning_rates``, ``ks`` and ``seeds`` have one entry per model (``ks`` is
    ignored, and may be ``None``, for optimizers without k; it is required for
    MAMGD and AdaExp). ``train_split`` is a
    :class:`~mamgd_paper.experiments.networks.data.Split` or an ``(x, y)`` pair.
    Model i starts from ``initial_weights(network, seeds[i])`` and sees the
    batches ``batch_order(n, batch_size, seeds[i], epoch)``, epoch = 1, 2, ...;
    its optimizer is ``protocol.reference_optimizer(label, lr_i, k_i)`` in
    ``dtype``, all M advanced by one ``update`` call per step. After every epoch
    ``evaluate(epoch, params)`` is called, if given, with the read-only
    ``(M, P)`` parameters (diverged models' rows are NaN). Returns a
    :class:`TrainResult`.
    """
    dt = np.dtype(dtype)
    seeds = [int(seed) for seed in seeds]
    models = len(seeds)
    if models < 1:
        raise ValueError("train needs at least one model")
    lr = _settings(learning_rates, "learning_rates", models)
    if protocol.takes_k(label):
        if ks is None or any(k is None for k in ks):
            raise ValueError(f"{label!r} takes k: pass one k per model")
        k = _settings(ks, "ks", models)
    else:
        k = None
    x, y = _xy(train_split, dt)
    n = len(x)
    if x.shape[1] != network.input_dim or y.shape[1] != network.output_dim:
        raise ValueError(f"data {x.shape[1]} -> {y.shape[1]} does not fit the network "
                         f"{network.input_dim} -> {network.output_dim}")
    epochs = int(epochs)

    starts = {seed: initial_weights(network, seed, dt) for seed in set(seeds)}
    params = np.stack([starts[seed] for seed in seeds])
    optimizer = protocol.reference_optimizer(label, lr, k, dtype=dt)
    state = optimizer.init(params)
    grad = np.zeros_like(params)
    grad_weights = network.unflatten(grad)  # written in place by every backward pass
    if not all(np.may_share_memory(view, grad) for view in grad_weights):
        raise AssertionError("gradient views are copies")  # pragma: no cover
    train_loss = np.full((models, epochs), np.nan)
    diverged = np.zeros(models, dtype=bool)
    diverged_epoch = np.zeros(models, dtype=np.int64)

    def mark(bad, epoch):
        nonlocal params
        new = bad & ~diverged
        if new.any():
            diverged[new] = True
            diverged_epoch[new] = epoch
            params = params.copy()
            params[new] = np.nan

    with np.errstate(all="ignore"):
        for epoch in range(1, epochs + 1):
            orders = {seed: np.concatenate(batch_order(n, batch_size, seed, epoch))
                      for seed in set(seeds)}
            order = np.stack([orders[seed] for seed in seeds])  # (M, n)
            total = np.zeros(models)
            for start in range(0, n, int(batch_size)):
                index = order[:, start:start + int(batch_size)]  # (M, B)
                weights = network.unflatten(params)
                zs, hs = _forward(network, weights, x[index])
                loss, delta = _loss_and_delta(network, hs[-1], y[index])
                _backward(network, weights, zs, hs, delta, grad_weights)
                total += loss.astype(np.float64) * index.shape[1]
                params, state = optimizer.update(params, grad, state)
                if not np.all(np.isfinite(loss)):
                    mark(~np.isfinite(loss), epoch)
            mark(~np.all(np.isfinite(params), axis=1), epoch)
            epoch_loss = total / n
            epoch_loss[diverged] = np.nan
            train_loss[:, epoch - 1] = epoch_loss
            if evaluate is not None:
                view = params.view()
                view.flags.writeable = False
                evaluate(epoch, view)
    return TrainResult(params=params, train_loss=train_loss, diverged=diverged,
                       diverged_epoch=diverged_epoch)


def _as_models(params):
    params = np.asarray(params)
    return (params[None], True) if params.ndim == 1 else (params, False)


def _logits(network, params, x):
    """(M, n, out) outputs before a softmax, in chunks of :data:`PREDICT_CHUNK` rows."""
    x = np.asarray(x, dtype=params.dtype)
    if x.ndim == 1:
        x = x.reshape(-1, 1)
    weights = network.unflatten(params)
    models = params.shape[0]
    out = np.empty((models, len(x), network.output_dim), dtype=params.dtype)
    with np.errstate(all="ignore"):
        for start in range(0, len(x), PREDICT_CHUNK):
            chunk = x[start:start + PREDICT_CHUNK]
            stacked = np.broadcast_to(chunk, (models,) + chunk.shape)
            out[:, start:start + len(chunk)] = _forward(network, weights, stacked)[1][-1]
    return out


def predict(network, params, x):
    """Outputs of the models ``params`` (M, P) on ``x`` (n, in): (M, n, out)
    (probabilities for a softmax output). ``params`` (P,) gives (n, out)."""
    params, single = _as_models(params)
    out = _logits(network, params, x)
    if network.layers[-1][1] == "softmax":
        with np.errstate(all="ignore"):
            out = _softmax(out)
    return out[0] if single else out


def metrics(network, params, split):
    """Per-model metrics of ``params`` (M, P) on ``split`` (a ``Split`` or ``(x, y)``).

    Regression (mse): ``{"mse", "mae"}``; classification:
    ``{"crossentropy", "error"}`` (error = 1 - accuracy, accuracy = argmax match).
    Each is an (M,) float64 array of means taken in float64 (from the ``dtype``
    outputs); NaN for a model whose parameters or outputs are not finite.
    ``params`` (P,) gives floats.
    """
    params, single = _as_models(params)
    x, y = _xy(split, params.dtype)
    logits = _logits(network, params, x)
    finite = np.all(np.isfinite(params), axis=1) & np.all(np.isfinite(logits), axis=(1, 2))
    y64 = y.astype(np.float64)
    with np.errstate(all="ignore"):
        if network.loss == "mse":
            error = logits.astype(np.float64) - y64
            values = {"mse": np.mean(error * error, axis=(1, 2)),
                      "mae": np.mean(np.abs(error), axis=(1, 2))}
        else:
            z = logits.astype(np.float64)
            shifted = z - np.max(z, axis=-1, keepdims=True)
            log_p = shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))
            correct = np.argmax(logits, axis=-1) == np.argmax(y, axis=-1)
            values = {"crossentropy": -np.mean(np.sum(y64 * log_p, axis=-1), axis=1),
                      "error": 1.0 - np.mean(correct, axis=1)}
    for name, value in values.items():
        value = np.where(finite & np.isfinite(value), value, np.nan)
        values[name] = float(value[0]) if single else value
    return values
