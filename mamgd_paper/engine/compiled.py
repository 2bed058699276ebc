"""Train a batch of Keras models at once: one compiled program per optimizer class.

:func:`train` takes a task (the paper's Keras model, loss, metrics, epochs and
batch size, :class:`mamgd_paper.experiments.networks.tasks.Task`), its data
and a list of :class:`Run` (seed, optimizer, learning rate, ``k``, other
options). Runs of the same optimizer class and options form a group; each group
is one ``jax.jit`` program that ``jax.vmap`` s one model's whole training run
(``lax.scan`` over epochs and, inside, over batches) over the group's models,
chunked by :data:`CHUNK` models. Learning rate and ``k`` differ per model
inside one program: the learning rate is the optimizer's own variable, ``k``
is traced in place of the optimizer's ``k`` attribute while the program is
compiled (:func:`_hyperparameters`), so no value compiles a program of its own.

The model is the task's ``keras.Sequential`` run with ``model.stateless_call``,
the update the library's (or Keras's) optimizer class run with
``optimizer.stateless_apply``. For one model the semantics are those of
``model.fit``:

* seed ``s``: ``keras.utils.set_random_seed(s)`` before the model is built
  (its initial weights), and a new permutation of the training rows every
  epoch from ``numpy.random.default_rng([s, epoch])`` (:func:`batch_orders`);
  every optimizer of a seed starts from the same weights and sees the same
  batches;
* a last, smaller batch when the batch size does not divide the rows (padded
  to the batch size with weight 0, so its mean is over its real rows);
* per-epoch training loss and metrics averaged over the epoch's batches
  weighted by their sizes (Keras's ``Mean`` trackers), from the predictions
  each batch was trained on; validation and test loss and metrics on the whole
  split after every epoch.

Multi-hot inputs (Reuters, IMDB) are never materialised: the first Dense layer
is computed from each row's word indices (:mod:`mamgd_paper.engine.inputs`).
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mamgd_paper.engine.backend import use_jax
from mamgd_paper.engine.inputs import SparseRows, batch_pages, engine_inputs, multi_hot_matmul

#: Models per compiled call, by table. XLA compiles a batch of 1-5 models
#: differently from one of 7 or more (it vectorises across models), which
#: changes the last bits of a run; so every call trains exactly this many
#: models (a short last chunk is padded with copies of its last run, whose
#: results are dropped), and a run's result depends on its own configuration
#: only, never on the other runs of the call. MNIST's matrix products gain
#: nothing from batching: its chunk is small, so padding costs little.
CHUNK = {7: 10, 8: 5, 9: 10, 10: 10, 11: 10}
#: Rows per block when a whole validation or test split is scored (memory:
#: a block's activations for every model of a call).
EVAL_BLOCK = 1024


@dataclass(frozen=True)
class Run:
    """One model to train: its seed and optimizer configuration.

    ``optimizer`` is a label of :mod:`mamgd_paper.paper.registry`;
    ``learning_rate`` and ``k`` may differ between runs of one compiled batch
    (``k`` is ``None`` for optimizers without a decay); ``options`` are other
    constructor arguments as ``(name, value)`` pairs (fixed within a batch).
    """

    seed: int
    optimizer: str
    learning_rate: float
    k: float | None = None
    options: tuple = ()

    @property
    def group(self):
        return (self.optimizer, self.k is None, self.options)


def batch_orders(seed, epochs, n):
    """The training rows' order in every epoch of seed ``seed``: (epochs, n) int32."""
    return np.stack([np.random.default_rng([int(seed), epoch]).permutation(n)
                     for epoch in range(int(epochs))]).astype(np.int32)


def _steps(order, batch_size):
    """An epoch's order cut into batches: (steps, batch) indices and weights."""
    n = order.shape[-1]
    steps = math.ceil(n / batch_size)
    pad = steps * batch_size - n
    indices = np.concatenate([order, np.zeros(order.shape[:-1] + (pad,), order.dtype)], -1)
    weights = np.concatenate([np.ones(n, np.float32), np.zeros(pad, np.float32)])
    return (indices.reshape(order.shape[:-1] + (steps, batch_size)),
            weights.reshape(steps, batch_size))


def metric_function(name, loss):
    """The per-sample function of a compiled metric name (what Keras resolves it to)."""
    import keras

    if name == "accuracy":
        return (keras.metrics.binary_accuracy if loss == "binary_crossentropy"
                else keras.metrics.categorical_accuracy)
    if name == "mae":
        return keras.losses.mean_absolute_error
    raise ValueError(f"The engine knows the metrics 'accuracy' and 'mae', not {name!r}.")


@contextlib.contextmanager
def _hyperparameters(optimizer, values):
    """Trace ``values`` (name -> traced scalar) in place of the optimizer's attributes."""
    saved = {name: getattr(optimizer, name) for name in values}
    try:
        for name, value in values.items():
            setattr(optimizer, name, value)
        yield
    finally:
        for name, value in saved.items():
            setattr(optimizer, name, value)


class _Program:
    """The compiled training of one group's models (one optimizer class and options)."""

    def __init__(self, task, optimizer, epochs, n_train, capacity, eval_capacity):
        import jax
        import jax.numpy as jnp
        import keras

        self.task, self.epochs = task, int(epochs)
        sparse = capacity is not None
        self.model = task.build_model()
        self.optimizer = optimizer
        self.optimizer.build(self.model.trainable_variables)
        self.loss = keras.losses.get(task.loss)
        self.metrics = [metric_function(m, task.loss) for m in task.metrics]
        learning_rate = getattr(optimizer, "_learning_rate", None)
        self.lr_index = next((i for i, v in enumerate(optimizer.variables)
                              if v is learning_rate), None)
        if self.lr_index is None:
            raise ValueError(f"{type(optimizer).__name__} keeps no learning-rate variable.")
        layers = self.model.layers
        trainable = self.model.trainable_variables
        non_trainable = [v.value for v in self.model.non_trainable_variables]

        def forward(weights, x):
            if not sparse:
                return self.model.stateless_call(weights, non_trainable, x, training=True)[0]
            arrays, page_ids, segment, n_rows = x
            with keras.StatelessScope(state_mapping=list(zip(trainable, weights))):
                first = layers[0]
                product = multi_hot_matmul(arrays, page_ids, segment, n_rows,
                                           first.kernel.value)
                h = first.activation(product + first.bias.value)
                for layer in layers[1:]:
                    h = layer(h, training=True)
            return h

        def batch_inputs(x, index, weight, size=capacity):
            if not sparse:
                return x[index]
            page_ids, segment = batch_pages(x, index, weight > 0, size)
            return (x, page_ids, segment, index.shape[0])

        def scores(y, prediction, weight):
            values = [self.loss(y, prediction)] + [m(y, prediction) for m in self.metrics]
            return jnp.stack([jnp.sum(v * weight) for v in values])

        def evaluate(weights, split):
            x, y, block_rows, block_weights = split

            def block(total, rows):
                index, weight = rows
                prediction = forward(weights, batch_inputs(x, index, weight, eval_capacity))
                return total + scores(y[index], prediction, weight), None

            start = jnp.zeros(1 + len(self.metrics), jnp.float32)
            total, _ = jax.lax.scan(block, start, (block_rows, block_weights))
            return total / y.shape[0]

        def one_model(weights, opt_vars, k, indices, step_weights, train, held_out):
            x_train, y_train = train

            def step(state, batch):
                weights, opt_vars = state
                index, weight = batch
                xb, yb = batch_inputs(x_train, index, weight), y_train[index]

                def objective(w):
                    prediction = forward(w, xb)
                    per_sample = self.loss(yb, prediction)
                    return jnp.sum(per_sample * weight) / jnp.sum(weight), prediction

                (_, prediction), grads = jax.value_and_grad(objective, has_aux=True)(weights)
                weights, opt_vars = self.optimizer.stateless_apply(opt_vars, grads, weights)
                return (weights, opt_vars), scores(yb, prediction, weight)

            def epoch(state, epoch_indices):
                state, sums = jax.lax.scan(step, state, (epoch_indices, step_weights))
                record = [sums.sum(0) / n_train]
                record += [evaluate(state[0], split) for split in held_out]
                return state, jnp.concatenate(record)

            values = {} if k is None else {"k": k}
            with _hyperparameters(self.optimizer, values):
                _, history = jax.lax.scan(epoch, (weights, opt_vars), indices)
            return history

        self._run = jax.jit(jax.vmap(one_model, in_axes=(0, 0, 0, 0, None, None, None)))

    def initial_state(self, runs, given):
        """Stacked initial weights (per seed, or ``given``) and optimizer variables
        (per learning rate)."""
        import keras

        weights, opt_vars = [], []
        base = [np.asarray(v.value) for v in self.optimizer.variables]
        for run, start in zip(runs, given):
            if start is None:
                keras.utils.set_random_seed(int(run.seed))
                model = self.task.build_model()
                start = [np.asarray(v.value) for v in model.trainable_variables]
            weights.append([np.asarray(w, dtype=np.float32) for w in start])
            values = list(base)
            values[self.lr_index] = np.asarray(run.learning_rate, base[self.lr_index].dtype)
            opt_vars.append(values)
        stack = lambda lists: [np.stack(column) for column in zip(*lists)]  # noqa: E731
        return stack(weights), stack(opt_vars)

    def __call__(self, runs, given, indices, step_weights, train, held_out, chunk):
        real = len(runs)
        runs = list(runs) + [runs[-1]] * (chunk - real)
        given = list(given) + [given[-1]] * (chunk - real)
        indices = np.concatenate([indices] + [indices[-1:]] * (chunk - real))
        weights, opt_vars = self.initial_state(runs, given)
        k = None if runs[0].k is None else np.asarray([r.k for r in runs], np.float32)
        return np.asarray(self._run(weights, opt_vars, k, indices, step_weights,
                                    train, held_out))[:real]


#: Compiled programs of this process, reused by every call with the same task,
#: optimizer group and shapes (learning rate and k are inputs, not constants).
_PROGRAMS = {}


def _task_key(task):
    """What a program depends on of a task: its model, loss, metrics and batch size."""
    return (type(task).__name__, getattr(task, "table", None), repr(getattr(task, "layers", None)),
            getattr(task, "input_dim", None), getattr(task, "n_in", None),
            getattr(task, "n_out", None), task.loss, tuple(task.metrics), task.batch_size)


def _arrays(x, y):
    return (x.arrays if isinstance(x, SparseRows) else x), np.asarray(y, dtype=np.float32)


def _held_out(split):
    """A validation or test split for the program: its arrays and its blocks of rows."""
    x = engine_inputs(split.x)
    rows, weights = _steps(np.arange(len(split), dtype=np.int32), min(EVAL_BLOCK, len(split)))
    pages = x.pages_needed(rows) if isinstance(x, SparseRows) else 0
    return _arrays(x, split.y) + (rows, weights), pages


def train(task, data, runs, epochs=None, chunk=None, initial_weights=None, orders=None):
    """Train every run of ``runs`` on ``data``; returns the long history.

    One row per run and epoch: ``run`` (the index into ``runs``), ``epoch``
    (1-based) and :meth:`Task.columns` (training loss and metrics, ``val_*``
    and, when ``data.test`` exists, ``test_*``). ``chunk``: models per
    compiled call (default :data:`CHUNK` of the task's table).

    ``task`` needs ``build_model()``, ``loss``, ``metrics``, ``epochs``,
    ``batch_size``, ``table`` and ``columns(with_test)``
    (:class:`~mamgd_paper.experiments.networks.tasks.Task` has them).
    ``initial_weights`` (one list of arrays per run, or ``None`` entries) and
    ``orders`` (one (epochs, n) array of row orders per run) replace a seed's
    own initial weights and batch order, for a run that must match another
    trainer's (a from-scratch NumPy run, Keras ``fit``).
    """
    use_jax()
    from mamgd_paper.paper import registry

    runs = list(runs)
    chunk = CHUNK.get(task.table, 10) if chunk is None else int(chunk)
    epochs = task.epochs if epochs is None else int(epochs)
    x_train = engine_inputs(data.train.x)
    n_train = len(data.train)
    step_weights = _steps(np.arange(n_train, dtype=np.int32), task.batch_size)[1]
    if orders is None:
        orders = [batch_orders(run.seed, epochs, n_train) for run in runs]
    indices = np.stack([_steps(np.asarray(order, dtype=np.int32), task.batch_size)[0]
                        for order in orders])
    initial_weights = [None] * len(runs) if initial_weights is None else list(initial_weights)
    capacity = None
    if isinstance(x_train, SparseRows):
        # the most pages any batch of these runs holds, rounded up: the result
        # does not depend on it (unused slots add nothing; a test checks)
        capacity = -(-x_train.pages_needed(indices) // 256) * 256
    train_arrays = _arrays(x_train, data.train.y)
    held_out, pages = zip(*[_held_out(split) for split in (data.validation, data.test)
                            if split is not None])
    eval_capacity = -(-max(pages) // 256) * 256 if capacity is not None else None
    columns = task.columns(with_test=data.test is not None)
    groups = {}
    for index, run in enumerate(runs):
        groups.setdefault(run.group, []).append(index)
    frames = []
    for members in groups.values():
        first = runs[members[0]]
        key = (_task_key(task), first.group, epochs, n_train, capacity, eval_capacity)
        program = _PROGRAMS.get(key)
        if program is None:
            optimizer = registry.keras_optimizer(first.optimizer, first.learning_rate, first.k,
                                                 **dict(first.options))
            program = _PROGRAMS[key] = _Program(task, optimizer, epochs, n_train, capacity,
                                                eval_capacity)
        for start in range(0, len(members), chunk):
            part = members[start:start + chunk]
            history = program([runs[i] for i in part], [initial_weights[i] for i in part],
                              indices[part], step_weights, train_arrays, held_out, chunk)
            for index, curve in zip(part, history):
                frame = pd.DataFrame(curve.astype(np.float64), columns=columns)
                frame.insert(0, "epoch", np.arange(1, epochs + 1))
                frame.insert(0, "run", index)
                frames.append(frame)
    return pd.concat(frames).sort_values(["run", "epoch"], kind="stable").reset_index(drop=True)
