"""The paper's neural-network experiments (Tables 7-11, Figures 7-11).

Each table is one :class:`Task`: a frozen description of the authors' protocol
(model, data preparation, loss, metrics, epochs, batch size, the optimizers with
their arguments, the figure's y limits), checked against docs/protocol.md,
section 4 by ``tests/test_networks.py`` and ``tests/test_docs.py``.

The paper's Tables 7-11 are single, unseeded runs that report the *training*
loss only. This module re-runs the same protocol for several seeds and adds

* seed statistics (mean, std, min, max per epoch and optimizer);
* a verdict for every published number: inside our seed band ``[min, max]`` or
  outside, and by how much (:func:`band_verdicts`, :func:`verdict_sentence`);
* held-out metrics for every run: the validation split (the paper's where it
  had one), the test split, per epoch (:func:`summary_table`).

Determinism: :func:`train_one` calls ``keras.utils.set_random_seed(seed)``
before building the model, and :func:`configure_determinism` switches on
``tf.config.experimental.enable_op_determinism()``, so one seed gives the same
numbers, bit for bit, on every rerun on the same machine and software. Every
optimizer of a seed starts from the same initial weights and sees the same
batch order.

Speed: the train step is a compiled ``tf.function``; ``steps_per_execution``
runs several steps per call (the same math, see the tests). XLA
(``jit_compile``) is not used: Keras switches it off under op determinism.

Reuse: a finished run of one seed and optimizer is kept in
:data:`HISTORY_CACHE` under a key that names everything it depends on (the
task, seed, epochs, split sizes, the optimizer's class and full Keras
config, the source of the library and of the modules that train, and the
versions of Keras, TensorFlow and NumPy; :func:`history_key`). The ablation
(notebook 09) trains some of the very runs of Tables 7 and 11 (the authors'
MAMGD and Adam, same settings); whichever notebook runs second reads them
instead of training them twice. A changed key simply trains again.

Bag-of-words data (IMDB, Reuters) are kept as word-index sequences
(:class:`SequenceSet`, int32) and turned into float32 multi-hot batches inside
the ``tf.data`` pipeline, so a 25000 x 10000 matrix is never materialised
(never in float64): the IMDB run stays far below 4 GB.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from mamgd_paper.paper import published as paper_module
from mamgd_paper.core import paths
from mamgd_paper.paper import registry
from mamgd_paper.core.progress import track
from mamgd_paper.core.formatting import format_number
from mamgd_paper.paper.published import OUTSIDE, WITHIN, band_verdict

#: Learning rate of every optimizer in Tables 7-11 (MAMGD and the baselines).
LEARNING_RATE = 1e-3
#: Epochs and data subsets of ``quick`` (smoke-test) mode.
QUICK_EPOCHS = 2
QUICK_SEEDS = 1
#: Finished (task, seed, optimizer) runs, reused across notebooks (never committed).
HISTORY_CACHE = paths.DATA / "histories"
#: The sources a training run depends on (beyond the task and the optimizer's config).
TRAINING_SOURCES = ("mamgd/*.py", "mamgd_paper/experiments/networks/networks.py", "mamgd_paper/datasets/datasets.py",
                    "mamgd_paper/paper/registry.py", "mamgd_paper/experiments/ablation/switched.py")


# --------------------------------------------------------------------------
# Task definitions


@dataclass(frozen=True)
class OptimizerSpec:
    """One optimizer column of a table: its label and its arguments.

    ``name`` is a label of :mod:`mamgd_paper.paper.registry` (which knows how to build
    it); ``kwargs`` are its arguments as ``(name, value)`` pairs, at least
    ``learning_rate`` (Keras defaults for everything not listed; ``k`` is
    ignored by optimizers that do not decay).
    """

    name: str
    kwargs: tuple = ()

    @property
    def arguments(self):
        return dict(self.kwargs)

    @property
    def cls(self):
        """The Keras class's name (``"MAMGD"``, ``"Adam"``, ...)."""
        return registry.get(self.name).keras_name

    def build(self):
        """A fresh optimizer instance."""
        arguments = self.arguments
        learning_rate = arguments.pop("learning_rate")
        k = arguments.pop("k", None)
        return registry.keras_optimizer(self.name, learning_rate, k, **arguments)


def mamgd_spec(k):
    """MAMGD as in the authors' notebook: lr 1e-3, decay ``k``, their code's rule."""
    return OptimizerSpec(
        registry.MAMGD,
        (("learning_rate", LEARNING_RATE), ("k", k), ("variant", "authors_code")),
    )


def baseline_specs(*names):
    """Keras's built-in optimizers at lr 1e-3 and Keras defaults otherwise."""
    return tuple(OptimizerSpec(name, (("learning_rate", LEARNING_RATE),)) for name in names)


@dataclass(frozen=True)
class Dense:
    """One ``keras.layers.Dense`` layer."""

    units: int
    activation: str | None = None


@dataclass(frozen=True)
class SequenceSet:
    """Word-index sequences (ragged), stored flat: ``values`` (int32) cut by
    ``row_splits`` (int64, length n + 1). Every index is < ``num_words``.

    The multi-hot vectors the model sees are built per batch in ``tf.data``
    (float32); :meth:`multi_hot` gives the same matrix in NumPy for small sets.
    """

    values: np.ndarray
    row_splits: np.ndarray
    num_words: int

    @classmethod
    def from_sequences(cls, sequences, num_words):
        """From a list (or object array) of integer sequences, as Keras returns them."""
        lengths = np.fromiter((len(s) for s in sequences), dtype=np.int64,
                              count=len(sequences))
        row_splits = np.zeros(len(sequences) + 1, dtype=np.int64)
        np.cumsum(lengths, out=row_splits[1:])
        values = np.fromiter(itertools.chain.from_iterable(sequences), dtype=np.int64,
                             count=int(row_splits[-1]))
        if values.size and (values.min() < 0 or values.max() >= num_words):
            raise ValueError(
                f"Word indices must lie in [0, {num_words}); found "
                f"[{values.min()}, {values.max()}]. Load the data with "
                f"num_words={num_words}."
            )
        return cls(values.astype(np.int32), row_splits, int(num_words))

    def __len__(self):
        return len(self.row_splits) - 1

    def __getitem__(self, index):
        """A contiguous slice ``start:stop`` (step 1) as a new SequenceSet."""
        if not isinstance(index, slice) or index.step not in (None, 1):
            raise TypeError("SequenceSet supports contiguous slices only.")
        start, stop, _ = index.indices(len(self))
        stop = max(start, stop)
        splits = self.row_splits[start:stop + 1]
        values = self.values[splits[0]:splits[-1]]
        return SequenceSet(values, splits - splits[0], self.num_words)

    def sequences(self):
        """The sequences as a list of int32 arrays."""
        return np.split(self.values, self.row_splits[1:-1])

    def multi_hot(self, dtype="float32"):
        """The (n, num_words) multi-hot matrix in NumPy (see :func:`multi_hot`)."""
        return multi_hot(self.sequences(), self.num_words, dtype=dtype)

    @functools.cached_property
    def ragged(self):
        """The sequences as a ``tf.RaggedTensor`` (int32), built once."""
        import tensorflow as tf

        return tf.RaggedTensor.from_row_splits(self.values, self.row_splits,
                                               validate=False)


def multi_hot(sequences, dimension, dtype="float32"):
    """``out[i, j] = 1`` where word ``j`` occurs in sequence ``i`` (else 0).

    The paper's ``vectorize_sequences``, in float32 (or a smaller type; float64
    is refused: it doubles the memory for nothing, the model computes in float32).
    """
    dtype = np.dtype(dtype)
    if dtype.itemsize > 4:
        raise ValueError(f"multi-hot vectors are float32 or smaller, not {dtype}.")
    out = np.zeros((len(sequences), dimension), dtype=dtype)
    for i, sequence in enumerate(sequences):
        out[i, np.asarray(sequence, dtype=np.int64)] = 1
    return out


@dataclass(frozen=True)
class Split:
    """Inputs and targets of one split. ``x`` is an array or a :class:`SequenceSet`."""

    x: object
    y: np.ndarray

    def __post_init__(self):
        if len(self.x) != len(self.y):
            raise ValueError(f"x has {len(self.x)} rows but y has {len(self.y)}.")

    def __len__(self):
        return len(self.y)

    def __getitem__(self, index):
        return Split(self.x[index], self.y[index])

    def dataset(self, batch_size, shuffle=False, seed=None):
        """A ``tf.data.Dataset`` of float32 batches; multi-hot built per batch.

        ``shuffle``: a new permutation of all rows every epoch (as Keras's
        ``fit(shuffle=True)``), reproducible from ``seed``.
        """
        import tensorflow as tf

        n = len(self)
        indices = tf.data.Dataset.range(n)
        if shuffle:
            indices = indices.shuffle(n, seed=seed, reshuffle_each_iteration=True)
        indices = indices.batch(batch_size)
        x_all, y_all = self._tensors
        if isinstance(self.x, SequenceSet):
            width = self.x.num_words

            def batch(i):
                words = tf.gather(x_all, i)
                x = tf.math.bincount(words, minlength=width, maxlength=width,
                                     binary_output=True, axis=-1, dtype=tf.float32)
                x.set_shape([None, width])
                return x, tf.gather(y_all, i)
        else:

            def batch(i):
                return tf.gather(x_all, i), tf.gather(y_all, i)

        return indices.map(batch).prefetch(2)

    @functools.cached_property
    def _tensors(self):
        """``x`` and ``y`` as TensorFlow tensors, converted once per split."""
        import tensorflow as tf

        x = self.x.ragged if isinstance(self.x, SequenceSet) else tf.constant(self.x)
        return x, tf.constant(self.y)


@dataclass(frozen=True)
class TaskData:
    """The prepared splits of one task.

    ``validation`` is passed to ``fit`` as ``validation_data`` (metrics
    ``val_*``); ``test``, when not ``None``, is evaluated after every epoch too
    (``test_*``). When ``test`` is ``None`` the validation split *is* the test
    split (MNIST, Boston housing, the approximation's held-out grid).
    """

    train: Split
    validation: Split
    test: Split | None = None

    def sizes(self):
        sizes = {"train": len(self.train), "validation": len(self.validation)}
        if self.test is not None:
            sizes["test"] = len(self.test)
        return sizes


@dataclass(frozen=True)
class Task:
    """One of the paper's Tables 7-11: the protocol as data.

    ``load(data_dir)`` returns the raw data (what ``keras.datasets.<name>
    .load_data`` returns, or the generated approximation data) and
    ``prepare(raw, quick)`` turns it into a :class:`TaskData`; ``quick`` keeps
    small subsets for smoke runs.
    """

    table: int
    slug: str
    title: str
    dataset: str | None
    load_kwargs: tuple
    input_dim: int
    layers: tuple
    loss: str
    metrics: tuple
    epochs: int
    batch_size: int
    optimizers: tuple
    prepare: Callable = field(compare=False, repr=False)
    ylim: tuple | None = None
    heldout_metric: str = "loss"
    higher_is_better: bool = False
    protocol: str = ""
    heldout: str = ""
    steps_per_execution: int = 1
    # The prose of the task's notebook (notebooks/network_task.py), put together
    # by :func:`describe` with the protocol fields above.
    #: Heading, e.g. "IMDB movie reviews" (default: ``title``).
    subject: str = ""
    #: What the paper trained on; completes "The paper trains ... on <paper_data>".
    paper_data: str = ""
    #: The rest of the paper's protocol (its validation split, if any).
    paper_note: str = ""
    #: Training rows of the paper's protocol (updates per epoch = rows / batch).
    train_size: int = 0
    #: What a smoke run (``quick=True``) keeps of the data.
    quick_data: str = ""
    #: Remarks on the published numbers against our seed band.
    comparison_note: str = ""
    #: Remarks on the figure's y limits (the paper's, or none).
    ylim_note: str = ""
    #: What the second (held-out) figure shows.
    heldout_figure: str = ""
    #: Remarks on the held-out summary (which numbers are honest).
    summary_note: str = ""
    #: The notebook succeeds without the data file and says the table was not run.
    allow_missing: bool = False

    @property
    def figure(self):
        """The paper's figure number (the same as the table's)."""
        return self.table

    @property
    def stem(self):
        return f"table{self.table:02d}"

    @property
    def seeds_stem(self):
        """File stem of every seed's history: ``tableNN_seeds``."""
        return f"{self.stem}_seeds"

    @property
    def verdicts_stem(self):
        """File stem of the published numbers against our seed band (the report reads it)."""
        return f"{self.stem}_verdicts"

    @property
    def summary_stem(self):
        return f"{self.stem}_summary"

    @property
    def status_stem(self):
        """File stem of what was run, or why not (the report reads it)."""
        return f"{self.stem}_status"

    @property
    def figure_stem(self):
        return f"fig{self.table:02d}_{self.slug}"

    @property
    def optimizer_names(self):
        return [spec.name for spec in self.optimizers]

    def optimizer(self, name):
        for spec in self.optimizers:
            if spec.name == name:
                return spec
        raise KeyError(f"Table {self.table} has no optimizer {name!r}.")

    @property
    def k(self):
        """MAMGD's decay rate in this table."""
        return self.optimizer(registry.MAMGD).arguments["k"]

    def build_model(self):
        """A fresh Keras Sequential of the paper's Dense layers (new random weights)."""
        import keras

        return keras.Sequential(
            [keras.Input(shape=(self.input_dim,))]
            + [keras.layers.Dense(layer.units, activation=layer.activation)
               for layer in self.layers]
        )

    def load(self, data_dir=None):
        """The raw data: ``keras.datasets`` arrays via :mod:`mamgd_paper.datasets.datasets`."""
        if self.dataset is None:
            return approximation_data()
        from mamgd_paper.datasets import datasets

        return datasets.load(self.dataset, data_dir, **dict(self.load_kwargs))

    def is_available(self, data_dir=None):
        """True when the data can be loaded now (downloading it if needed).

        Returns ``(available, reason, detail)``: ``reason`` is a short,
        machine-independent phrase (empty when available), ``detail`` the
        loader's full message.
        """
        if self.dataset is None:
            return True, "", ""
        from mamgd_paper.datasets import datasets

        try:
            datasets.fetch(self.dataset, data_dir)
        except datasets.DatasetUnavailableError as error:
            fname = datasets.REGISTRY[self.dataset].fname
            return False, (f"{fname} not available (not in the data folder and not "
                           f"downloadable; `make data` on a connected machine "
                           f"fetches it)"), str(error)
        return True, "", ""

    def columns(self, with_test):
        """Per-epoch columns of a run: training loss and metrics, then held-out."""
        train = ["loss", *self.metrics]
        columns = train + [f"val_{name}" for name in train]
        if with_test:
            columns += [f"test_{name}" for name in train]
        return columns


# ---- data preparation, one function per task ------------------------------

def approximation_data(n=10000, low=-10.0, high=10.0):
    """Table 7's data: ``n`` evenly spaced x on [low, high] and y = x^2 + x - 1.

    Returns ``(x, y), (x_mid, y_mid)``: the training grid (float64, as NumPy
    makes it) and, for held-out evaluation (not in the paper), the ``n - 1``
    midpoints between neighbouring grid points.
    """
    x = np.linspace(low, high, n)
    x_mid = (x[:-1] + x[1:]) / 2
    target = lambda v: v**2 + v - 1  # noqa: E731
    return (x, target(x)), (x_mid, target(x_mid))


def _column(values):
    return np.asarray(values, dtype=np.float32).reshape(-1, 1)


def prepare_approximation(raw, quick=False):
    (x, y), (x_mid, y_mid) = raw
    step = 10 if quick else 1
    return TaskData(
        train=Split(_column(x[::step]), _column(y[::step])),
        validation=Split(_column(x_mid[::step]), _column(y_mid[::step])),
    )


def one_hot(labels, classes):
    """Float32 one-hot rows (``keras.utils.to_categorical``'s values)."""
    return np.eye(classes, dtype=np.float32)[np.asarray(labels, dtype=np.int64)]


def prepare_mnist(raw, quick=False):
    (x_train, y_train), (x_test, y_test) = raw
    flat = lambda images: images.reshape((len(images), 28 * 28)).astype("float32") / 255  # noqa: E731
    train = Split(flat(x_train), one_hot(y_train, 10))
    test = Split(flat(x_test), one_hot(y_test, 10))
    if quick:
        train, test = train[:2000], test[:500]
    return TaskData(train=train, validation=test)


def _sequence_splits(raw, num_words, n_validation, labels, quick):
    """The paper's split: first ``n_validation`` training rows = validation."""
    (x_train, y_train), (x_test, y_test) = raw
    full = Split(SequenceSet.from_sequences(x_train, num_words), labels(y_train))
    test = Split(SequenceSet.from_sequences(x_test, num_words), labels(y_test))
    validation, train = full[:n_validation], full[n_validation:]
    if quick:
        validation, train, test = validation[:200], train[:800], test[:500]
    return TaskData(train=train, validation=validation, test=test)


def prepare_imdb(raw, quick=False):
    """IMDB: 10000-d multi-hot, labels float32; 10000 validation / 15000 training."""
    return _sequence_splits(raw, 10000, 10000,
                            lambda y: np.asarray(y, dtype=np.float32).reshape(-1, 1),
                            quick)


def prepare_reuters(raw, quick=False):
    """Reuters: 10000-d multi-hot, 46 classes one-hot; 1000 validation / 7982 training."""
    return _sequence_splits(raw, 10000, 1000, lambda y: one_hot(y, 46), quick)


def prepare_boston_housing(raw, quick=False):
    """Boston housing: features standardised with the training mean and std.

    The arithmetic is done in float64 (as the authors' NumPy code did), then
    cast to float32 (what Keras feeds the model). The test split is the
    held-out set (the paper validated on its training data).
    """
    (x_train, y_train), (x_test, y_test) = raw
    mean = x_train.mean(axis=0)
    std = x_train.std(axis=0)
    scale = lambda x: ((x - mean) / std).astype(np.float32)  # noqa: E731
    train = Split(scale(x_train), _column(y_train))
    test = Split(scale(x_test), _column(y_test))
    if quick:
        train = train[:100]
    return TaskData(train=train, validation=test)


APPROXIMATION = Task(
    table=7, slug="approximation",
    title="Approximation of y = x^2 + x - 1 by a multilayer network",
    dataset=None, load_kwargs=(), input_dim=1,
    layers=(Dense(64, "relu"), Dense(32, "relu"), Dense(1)),
    loss="mse", metrics=(), epochs=15, batch_size=32,
    optimizers=(mamgd_spec(1e-4),) + baseline_specs(registry.ADAM, registry.ADAGRAD,
                                                     registry.RMSPROP, registry.SGD),
    prepare=prepare_approximation, ylim=(0.0, 2.5),
    heldout_metric="loss", higher_is_better=False,
    protocol="10000 evenly spaced x on [-10, 10], y = x^2 + x - 1; batch 32 (fit's default); "
             "no validation in the paper.",
    heldout="validation = the 9999 midpoints of the training grid (interpolation MSE); "
            "it is also the test set.",
    steps_per_execution=32,
    subject="approximating y = x^2 + x - 1",
    paper_data="10000 evenly spaced points x on [-10, 10] with targets y = x^2 + x - 1",
    paper_note="Its batch size 32 is `fit`'s default; it used no validation data.",
    train_size=10000,
    quick_data="every 10th point of the training and the midpoint grid",
    comparison_note="The first epochs' losses are in the hundreds and vary a lot from run "
                    "to run (the targets reach 109); Adagrad at learning rate 1e-3 barely "
                    "moves and SGD is far from converged after 15 epochs.",
    ylim_note="The first epochs (and Adagrad and SGD throughout) are above the frame, as in "
              "the paper.",
    heldout_figure="the held-out MSE on the midpoint grid",
    summary_note="The 9999 held-out midpoints are both the validation and the test set here.",
)

MNIST = Task(
    table=8, slug="mnist", title="MNIST",
    dataset="mnist", load_kwargs=(), input_dim=784,
    layers=(Dense(512, "relu"), Dense(10, "softmax")),
    loss="categorical_crossentropy", metrics=("accuracy",), epochs=10, batch_size=128,
    optimizers=(mamgd_spec(1e-5),) + baseline_specs(registry.ADAM, registry.RMSPROP),
    prepare=prepare_mnist, ylim=(0.0, 0.5),
    heldout_metric="accuracy", higher_is_better=True,
    protocol="60000 training images flattened to 784, /255, one-hot labels; "
             "no validation in the paper.",
    heldout="validation = the 10000 test images (they are also the test set).",
    steps_per_execution=8,
    subject="MNIST",
    paper_data="the 60000 MNIST training images (flattened, scaled to [0, 1], one-hot labels)",
    paper_note="It used no validation data.",
    train_size=60000,
    quick_data="2000 training / 500 test images",
    ylim_note="Epoch 1 of MAMGD is near 0.45.",
    heldout_figure="the held-out (test-image) loss and accuracy",
    summary_note='Here the validation data are the test images, so "best validation" is '
                 "optimistic; the final-epoch number is the honest one.",
)

IMDB = Task(
    table=9, slug="imdb", title="IMDB",
    dataset="imdb", load_kwargs=(("num_words", 10000),), input_dim=10000,
    layers=(Dense(16, "relu"), Dense(16, "relu"), Dense(1, "sigmoid")),
    loss="binary_crossentropy", metrics=("accuracy",), epochs=20, batch_size=512,
    optimizers=(mamgd_spec(1e-3),) + baseline_specs(registry.ADAM, registry.ADAGRAD,
                                                     registry.RMSPROP),
    prepare=prepare_imdb, ylim=None,
    heldout_metric="accuracy", higher_is_better=True,
    protocol="num_words 10000, multi-hot 10000-d; first 10000 training reviews = "
             "validation, the other 15000 = training.",
    heldout="validation = the paper's 10000 reviews; test = the 25000 test reviews.",
    steps_per_execution=1,
    subject="IMDB movie reviews",
    paper_data="IMDB reviews labelled positive or negative, each the multi-hot vector of its "
               "words among the 10000 most frequent",
    paper_note="The first 10000 training reviews are its validation split, the other 15000 "
               "the training data.",
    train_size=15000,
    quick_data="800 training / 200 validation / 500 test reviews",
    heldout_figure="validation loss and accuracy and the test accuracy",
    summary_note="The 25000 test reviews are used for nothing else.",
    allow_missing=True,
)

REUTERS = Task(
    table=10, slug="reuters", title="Reuters",
    dataset="reuters", load_kwargs=(("num_words", 10000),), input_dim=10000,
    layers=(Dense(64, "relu"), Dense(64, "relu"), Dense(46, "softmax")),
    loss="categorical_crossentropy", metrics=("accuracy",), epochs=20, batch_size=512,
    optimizers=(mamgd_spec(1e-4),) + baseline_specs(registry.ADAM, registry.RMSPROP),
    prepare=prepare_reuters, ylim=None,
    heldout_metric="accuracy", higher_is_better=True,
    protocol="num_words 10000, multi-hot 10000-d, 46 classes one-hot; first 1000 "
             "training newswires = validation, the other 7982 = training.",
    heldout="validation = the paper's 1000 newswires; test = the 2246 test newswires.",
    steps_per_execution=1,
    subject="Reuters newswires",
    paper_data="Reuters newswires in 46 topics (one-hot labels), each the multi-hot vector "
               "of its words among the 10000 most frequent",
    paper_note="The first 1000 training newswires are its validation split, the other 7982 "
               "the training data.",
    train_size=7982,
    quick_data="800 training / 200 validation / 500 test newswires",
    heldout_figure="validation loss and accuracy and the test accuracy",
    summary_note="The 2246 test newswires are used for nothing else.",
)

BOSTON_HOUSING = Task(
    table=11, slug="boston_housing", title="Boston housing prices",
    dataset="boston_housing", load_kwargs=(), input_dim=13,
    layers=(Dense(64, "relu"), Dense(64, "relu"), Dense(1)),
    loss="mse", metrics=("mae",), epochs=20, batch_size=1,
    optimizers=(mamgd_spec(1e-6),) + baseline_specs(registry.ADAM, registry.RMSPROP),
    prepare=prepare_boston_housing, ylim=(0.0, 20.0),
    heldout_metric="mae", higher_is_better=False,
    protocol="Keras split 404 / 102; features standardised with the training mean and "
             "std; the paper passed the training data as validation data.",
    heldout="validation = the 102 test houses (the real held-out split; MAE).",
    steps_per_execution=101,
    subject="Boston housing prices",
    paper_data="Keras's 404 training houses, features standardised with the training mean "
               "and standard deviation",
    paper_note="Its `fit` received the *training* data as validation data, so no held-out "
               "number exists.",
    train_size=404,
    quick_data="100 training houses",
    ylim_note="Epoch 1 is far above it.",
    heldout_figure="the test MSE and MAE per epoch",
    summary_note="Here the validation data are the test houses, so the best MAE over the "
                 "epochs is optimistic (it picks the epoch on the test set); the final-epoch "
                 "test MAE is the honest number (in thousands of dollars).",
)

#: The five tasks by table number.
TASKS = {task.table: task for task in (APPROXIMATION, MNIST, IMDB, REUTERS, BOSTON_HOUSING)}


# --------------------------------------------------------------------------
# Running


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

    ``optimizer`` is a name of ``task.optimizers`` or an :class:`OptimizerSpec`.
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
    subsets (a smoke run). ``data``: a prepared :class:`TaskData` to use
    instead of loading (tests). When the data file is not available (not in
    the data folder and no download possible) :func:`mamgd_paper.datasets.datasets.load`'s
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
    ``name`` and a ``build()`` (e.g. :class:`OptimizerSpec`). Returns
    ``(history, seconds)``: the long history, columns ``seed, optimizer``
    then :func:`train_one`'s, and the wall time of each ``(seed, name)``
    (0 for a run read from the cache). Progress is reported per seed and
    optimizer (:func:`mamgd_paper.core.progress.track`).

    ``cache_dir``: a folder of finished runs (e.g. :data:`HISTORY_CACHE`); a
    run whose :func:`history_key` is there is read instead of trained, and
    every run trained is stored there. ``None``: no cache.
    """
    configure_determinism(threads)
    epochs = task.epochs if epochs is None else int(epochs)
    frames, seconds = [], {}
    runs = list(itertools.product(seeds, specs))
    for seed, spec in track(runs, f"Table {task.table}: seeds x optimizers"):
        start = time.perf_counter()
        frame = _cached_run(task, data, spec, seed, epochs, verbose, cache_dir)
        seconds[(seed, spec.name)] = time.perf_counter() - start
        if verbose:
            print(f"Table {task.table}, seed {seed}, {spec.name}: final training "
                  f"loss {frame['loss'].iloc[-1]:.6f} "
                  f"({seconds[(seed, spec.name)]:.1f} s)", flush=True)
        frame.insert(0, "optimizer", spec.name)
        frame.insert(0, "seed", seed)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True), seconds


def _cached_run(task, data, spec, seed, epochs, verbose, cache_dir):
    if cache_dir is None:
        return train_one(task, data, spec, seed, epochs=epochs, verbose=verbose)
    key, description = history_key(task, data, spec, seed, epochs)
    path = Path(cache_dir) / f"{key}.csv"
    if path.is_file():
        return pd.read_csv(path, float_precision="round_trip")
    frame = train_one(task, data, spec, seed, epochs=epochs, verbose=verbose)
    path.parent.mkdir(parents=True, exist_ok=True)
    for target, text in ((path.with_suffix(".json"), json.dumps(description, indent=1)),
                         (path, frame.to_csv(index=False, float_format="%.17g",
                                             lineterminator="\n"))):
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, target)
    return frame


@functools.lru_cache(maxsize=1)
def _training_code_fingerprint():
    digest = hashlib.sha256()
    for pattern in TRAINING_SOURCES:
        for path in sorted(paths.ROOT.glob(pattern)):
            digest.update(path.relative_to(paths.ROOT).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def history_key(task, data, spec, seed, epochs):
    """``(key, description)`` of one training run, for :func:`train_seeds`'s cache.

    The description names everything the run's history depends on: the
    task's table, the seed, the epochs, the split sizes, the optimizer's
    class and Keras config (not its label: the paper's "MAMGD" and the
    ablation's "MAMGD authors_code" are the same optimizer), the sources in
    :data:`TRAINING_SOURCES` and the versions of Keras, TensorFlow and NumPy.
    The key is the sha256 of its JSON text.
    """
    import keras
    import tensorflow as tf

    optimizer = spec.build()
    config = optimizer.get_config()
    config.pop("name", None)
    description = {
        "table": task.table, "seed": int(seed), "epochs": int(epochs),
        "sizes": data.sizes(),
        "optimizer": f"{type(optimizer).__module__}.{type(optimizer).__qualname__}",
        "config": config, "code": _training_code_fingerprint(),
        "versions": {"keras": keras.__version__, "tensorflow": tf.__version__,
                     "numpy": np.__version__},
    }
    text = json.dumps(description, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()[:24], json.loads(text)


# --------------------------------------------------------------------------
# Seed statistics and verdicts


def seed_statistics(history, column="loss"):
    """Per epoch and optimizer: mean, std (ddof 1), min, max and count over seeds."""
    grouped = history.groupby(["epoch", "optimizer"], sort=False)[column]
    stats = grouped.agg(mean="mean", std="std", seed_min="min", seed_max="max",
                        n_seeds="count").reset_index()
    return stats


def mean_table(history, task, column="loss"):
    """The paper's layout: ``epoch`` + one column per optimizer (mean over seeds)."""
    wide = history.pivot_table(index="epoch", columns="optimizer", values=column,
                               aggfunc="mean")
    wide = wide[[name for name in task.optimizer_names if name in wide.columns]]
    wide = wide.reset_index()
    wide.columns.name = None
    return wide


def band_verdicts(history, table, column="loss"):
    """Every published number of ``table`` against our seed band.

    Columns: ``epoch, optimizer, paper, mean, seed_min, seed_max, verdict,
    distance, relative_distance`` (distance / |paper|). Published numbers for
    epochs we did not run (quick mode) are left out.
    """
    stats = seed_statistics(history, column).set_index(["epoch", "optimizer"])
    published = paper_module.load_paper_tables()
    published = published[published["table"] == table]
    rows = []
    for record in published.itertuples(index=False):
        key = (record.epoch, record.optimizer)
        if key not in stats.index:
            continue
        band = stats.loc[key]
        verdict, distance = band_verdict(record.loss, band["seed_min"], band["seed_max"])
        rows.append({
            "epoch": int(record.epoch), "optimizer": record.optimizer,
            "paper": float(record.loss), "mean": float(band["mean"]),
            "seed_min": float(band["seed_min"]), "seed_max": float(band["seed_max"]),
            "verdict": verdict, "distance": distance,
            "relative_distance": distance / abs(record.loss) if record.loss else np.nan,
        })
    columns = ["epoch", "optimizer", "paper", "mean", "seed_min", "seed_max",
               "verdict", "distance", "relative_distance"]
    return pd.DataFrame(rows, columns=columns)


def verdict_sentence(verdicts, table, n_seeds):
    """A plain verdict, e.g. ``Table 8: 27 of 30 published numbers inside our
    5-seed band; the other 3 outside by at most 0.003 ...``."""
    total = len(verdicts)
    if total == 0:
        return f"Table {table}: no published number to compare (no epoch in common)."
    inside = int((verdicts["verdict"] == WITHIN).sum())
    band = f"our {n_seeds}-seed band [min, max]" if n_seeds > 1 else "our single run"
    if n_seeds == 1:
        head = f"Table {table}: {inside} of {total} published numbers equal {band}"
    else:
        head = f"Table {table}: {inside} of {total} published numbers inside {band}"
    per_optimizer = ", ".join(
        f"{name} {int((group['verdict'] == WITHIN).sum())}/{len(group)}"
        for name, group in verdicts.groupby("optimizer", sort=False)
    )
    outside = verdicts[verdicts["verdict"] == OUTSIDE]
    if outside.empty:
        return f"{head} ({per_optimizer})."
    worst = outside.loc[outside["distance"].idxmax()]
    return (
        f"{head} ({per_optimizer}); the other {len(outside)} lie outside by at most "
        f"{format_number(worst['distance'])} ({worst['optimizer']}, epoch {int(worst['epoch'])}: "
        f"paper {worst['paper']:.6f}, band [{worst['seed_min']:.6f}, "
        f"{worst['seed_max']:.6f}]), median distance {format_number(outside['distance'].median())}, "
        f"at most {_percent(outside['relative_distance'].max())} of the published value."
    )


def _percent(fraction):
    value = 100 * fraction
    return f"{value:.0f}%" if value >= 100 else f"{value:.3g}%"


def summary_table(history, task, has_test=None):
    """Per optimizer, mean and std over seeds of: the final training loss, the
    best validation ``heldout_metric`` over epochs, and the test metric at the
    final epoch (the validation split's when it is the test split)."""
    metric = task.heldout_metric
    if has_test is None:
        has_test = f"test_{metric}" in history.columns
    test_column = f"test_{metric}" if has_test else f"val_{metric}"
    last = history["epoch"].max()
    rows = []
    for name in task.optimizer_names:
        runs = history[history["optimizer"] == name]
        if runs.empty:
            continue
        per_seed = runs.groupby("seed")
        final = runs[runs["epoch"] == last].set_index("seed")
        best = (per_seed[f"val_{metric}"].max() if task.higher_is_better
                else per_seed[f"val_{metric}"].min())
        values = {
            "final_train_loss": final["loss"],
            f"best_val_{metric}": best,
            f"test_{metric}": final[test_column],
        }
        row = {"optimizer": name, "n_seeds": int(per_seed.ngroups)}
        for label, series in values.items():
            row[f"{label}_mean"] = float(series.mean())
            row[f"{label}_std"] = float(series.std()) if len(series) > 1 else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------
# Views for the notebooks

#: Final-epoch validation accuracy visible in the authors' run logs (docs/protocol.md,
#: section 4); the paper itself reports no held-out number.
PAPER_LOGGED_VALIDATION_ACCURACY = {
    9: {registry.MAMGD: 0.8574, registry.ADAM: 0.8700, registry.RMSPROP: 0.8657,
        registry.ADAGRAD: 0.7325},
    10: {registry.MAMGD: 0.8090, registry.ADAM: 0.8140, registry.RMSPROP: 0.8040},
}


def protocol_frame(task, sizes=None):
    """The task's protocol as a two-column table (for the notebooks)."""
    layers = ", ".join(f"{layer.units} {layer.activation or 'linear'}"
                       for layer in task.layers)
    rows = [
        ("table / figure", f"Table {task.table}, Figure {task.figure}"),
        ("data", task.dataset or "generated (y = x^2 + x - 1)"),
        ("protocol", task.protocol),
        ("model", f"Sequential Dense: input {task.input_dim} -> {layers}"),
        ("loss", task.loss + (f" (metrics: {', '.join(task.metrics)})" if task.metrics else "")),
        ("epochs, batch", f"{task.epochs}, {task.batch_size}"),
    ]
    for spec in task.optimizers:
        arguments = ", ".join(f"{k}={v!r}" for k, v in spec.kwargs)
        rows.append((f"optimizer {spec.name}", f"{spec.cls}({arguments})"))
    rows.append(("held-out (not in the paper)", task.heldout))
    if sizes:
        rows.append(("split sizes", ", ".join(f"{k} {v}" for k, v in sizes.items())))
    rows.append(("steps per execution", str(task.steps_per_execution)))
    return pd.DataFrame(rows, columns=["item", "value"])


_LOSS_NAMES = {"mse": "mean squared error",
               "categorical_crossentropy": "categorical cross-entropy",
               "binary_crossentropy": "binary cross-entropy"}
_METRIC_NAMES = {"mae": "MAE", "mse": "MSE", "accuracy": "accuracy"}
_ACTIVATION_NAMES = {"relu": "ReLU", None: "linear"}


def _power(value):
    """``1e-3`` rather than ``0.001``."""
    return f"{value:.0e}".replace("e-0", "e-").replace("e+0", "e")


def _names(names):
    names = list(names)
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _metric_name(task, metric):
    if metric == "loss":
        return "MSE" if task.loss == "mse" else "loss"
    return _METRIC_NAMES.get(metric, metric)


def _describe_intro(task):
    units = (task.input_dim, *(layer.units for layer in task.layers))
    architecture = "-".join(str(n) for n in units)
    activations = ", ".join(_ACTIVATION_NAMES.get(layer.activation, layer.activation)
                            for layer in task.layers)
    metrics = (f" (metric: {_names(_metric_name(task, m) for m in task.metrics)})"
               if task.metrics else "")
    mamgd = task.optimizer(registry.MAMGD).arguments
    baselines = [spec.name for spec in task.optimizers if spec.name != registry.MAMGD]
    paragraphs = [
        f"## Table {task.table} and Figure {task.figure}: {task.subject or task.title}",
        f"The paper trains a {architecture} network ({activations}) on {task.paper_data}, "
        f"with the {_LOSS_NAMES.get(task.loss, task.loss)} loss{metrics}, {task.epochs} "
        f"epochs at batch size {task.batch_size}, and reports the **training** "
        f"{_metric_name(task, 'loss')} per epoch of one unseeded run per optimizer: MAMGD "
        f"(learning rate {_power(mamgd['learning_rate'])}, k = {_power(task.k)}, the "
        f"authors' code's update rule), {_names(baselines)} (learning rate "
        f"{_power(LEARNING_RATE)}, Keras defaults otherwise). {task.paper_note}".rstrip(),
        "Here the same protocol runs for `seeds` seeds (`seed`, `seed + 1`, ..., each "
        "with `keras.utils.set_random_seed` and deterministic TensorFlow ops; every "
        "optimizer of a seed starts from the same weights and sees the same batches). "
        "For every published number we say whether it lies inside our band [min, max] "
        "over the seeds, and how far outside if not. Beyond the paper, every run is "
        f"evaluated after each epoch on held-out data: {task.heldout}",
    ]
    if dict(task.load_kwargs).get("num_words"):
        paragraphs.append(
            "The multi-hot vectors are built per batch in float32 from the word indices "
            "(`SequenceSet`), never as one big matrix: the run stays far below 4 GB.")
    if task.steps_per_execution > 1:
        updates = -(-task.train_size // task.batch_size)
        paragraphs.append(
            f"Batch size {task.batch_size} means {updates} updates per epoch; the compiled "
            f"train step runs {task.steps_per_execution} steps per call "
            "(`steps_per_execution`), which gives the same numbers as one step per call, "
            "only faster.")
    if task.allow_missing:
        from mamgd_paper.datasets import datasets

        fname = datasets.REGISTRY[task.dataset].fname
        paragraphs.append(
            f"`{fname}` is downloaded by `mamgd_paper.datasets.datasets` on a connected machine (or "
            "read from `data_dir` / `$MAMGD_DATA_DIR`). Without it this notebook still "
            f"succeeds and says that Table {task.table} was not run; no number is made up.")
    paragraphs.append(
        f"Smoke run (`quick=True`): {QUICK_SEEDS} seed, {QUICK_EPOCHS} epochs, "
        f"{task.quick_data}.")
    return paragraphs


def _describe_comparison(task):
    return [f"Every published number of Table {task.table} against our seed band "
            f"(inside: the number as printed lies in [min, max] over the seeds). "
            f"{task.comparison_note}".rstrip()]


def _describe_figure(task):
    if task.ylim is None:
        limits = "The paper gives no y limits for this figure."
    else:
        low, high = task.ylim
        limits = f"The y axis is the paper's [{low:g}, {high:g}]."
    return [f"Figure {task.figure}. Lines: mean over seeds; shaded: min-max over seeds; "
            f"open markers: the paper's numbers. {limits} {task.ylim_note}".rstrip()
            + f" The second figure shows {task.heldout_figure}."]


def _describe_heldout(task):
    metric = _metric_name(task, task.heldout_metric)
    text = (f"Per optimizer, mean and standard deviation over seeds of the final training "
            f"loss, the best validation {metric} over the epochs and the test {metric} "
            f"after the last epoch. {task.summary_note}".rstrip())
    paragraphs = [text]
    if task.table in PAPER_LOGGED_VALIDATION_ACCURACY:
        paragraphs.append("The authors' run log shows the final-epoch validation accuracy "
                          "of their one run; below it is against our seeds.")
    return paragraphs


_DESCRIPTIONS = {"intro": _describe_intro, "comparison": _describe_comparison,
                 "figure": _describe_figure, "heldout": _describe_heldout}


def describe(task, part="intro"):
    """Markdown prose of ``task``'s notebook, from its declaration.

    ``part``: ``"intro"`` (heading, the paper's protocol, what this project
    adds and holds out, notes, the smoke run's sizes), ``"comparison"`` (the
    published numbers against the band), ``"figure"`` (how to read the figures,
    the y limits) or ``"heldout"`` (the held-out summary).
    """
    if part not in _DESCRIPTIONS:
        raise ValueError(f"part must be one of {sorted(_DESCRIPTIONS)}, not {part!r}.")
    return "\n\n".join(_DESCRIPTIONS[part](task))


def comparison_frame(verdicts):
    """Published number, our mean and band side by side: one row per epoch,
    columns (optimizer, paper / mean / seed_min / seed_max / verdict)."""
    wide = verdicts.set_index(["epoch", "optimizer"])[
        ["paper", "mean", "seed_min", "seed_max", "verdict"]].unstack("optimizer")
    order = list(dict.fromkeys(verdicts["optimizer"]))
    wide = wide.swaplevel(axis=1)
    return wide[[(name, col) for name in order
                 for col in ("paper", "mean", "seed_min", "seed_max", "verdict")]]


def logged_validation_comparison(result):
    """Final-epoch validation accuracy: the authors' logged run against our seeds."""
    logged = PAPER_LOGGED_VALIDATION_ACCURACY.get(result.task.table)
    if not logged or not result.ran:
        return None
    last = result.history[result.history["epoch"] == result.history["epoch"].max()]
    rows = []
    for name, value in logged.items():
        ours = last.loc[last["optimizer"] == name, "val_accuracy"]
        rows.append({"optimizer": name, "authors_log": value, "mean": ours.mean(),
                     "seed_min": ours.min(), "seed_max": ours.max(),
                     "inside_band": bool(ours.min() <= value <= ours.max())})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------
# Writing


def status_line(result):
    """One line saying what was run (or why not)."""
    task = result.task
    if not result.ran:
        return f"Table {task.table} not run: {result.reason}"
    mode = "quick smoke run" if result.quick else "paper protocol"
    return (f"Table {task.table} run ({mode}): {len(result.seeds)} seed(s) "
            f"{result.seeds[0]}..{result.seeds[-1]}, {result.epochs} epochs, "
            f"optimizers {', '.join(task.optimizer_names)}.")


def write_outputs(result, figures_dir):
    """Write every table of ``result`` under ``figures_dir/tables`` (csv, tex, md).

    Always ``tableNN_status``; when run also ``tableNN`` (mean training loss,
    paper layout), ``tableNN_seeds`` (long), ``tableNN_verdicts`` and
    ``tableNN_summary``. Returns a dict of DataFrames (and the verdict).
    """
    from mamgd_paper.core.artifacts import write_table

    task = result.task
    tables = Path(figures_dir) / "tables"
    stem = task.stem
    out = {}
    if result.ran:
        n = len(result.seeds)
        out["mean"] = mean_table(result.history, task)
        out["seeds"] = result.history
        out["verdicts"] = band_verdicts(result.history, task.table)
        out["summary"] = summary_table(result.history, task)
        out["verdict"] = verdict_sentence(out["verdicts"], task.table, n)
        write_table(out["mean"], tables, stem, caption=(
            f"Table {task.table} ({task.title}): training loss per epoch, mean over "
            f"{n} seed(s), MAMGD k = {task.k:g}."))
        write_table(out["seeds"], tables, task.seeds_stem, caption=(
            f"Table {task.table} ({task.title}): every seed, epoch and optimizer; "
            f"training and held-out metrics. {task.heldout}"))
        write_table(out["verdicts"], tables, task.verdicts_stem, caption=(
            f"Table {task.table}: each published number against our {n}-seed band."))
        write_table(out["summary"], tables, task.summary_stem, caption=(
            f"Table {task.table} ({task.title}): final training loss, best validation "
            f"{task.heldout_metric}, test {task.heldout_metric}; mean and std over "
            f"{n} seed(s). {task.heldout}"))
    out["status"] = pd.DataFrame([{
        "table": task.table, "status": result.status,
        "seeds": len(result.seeds) if result.ran else 0,
        "epochs": result.epochs if result.ran else 0,
        "quick": result.quick,
        "note": status_line(result),
        "verdict": out.get("verdict", ""),
    }])
    write_table(out["status"], tables, task.status_stem,
                caption=f"Table {task.table}: what was run.")
    return out
