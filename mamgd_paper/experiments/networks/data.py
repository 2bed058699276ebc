"""The data of the network experiments: containers and one preparation per task.

A task's raw data (what ``keras.datasets.<name>.load_data`` returns, or the
generated approximation data of :func:`approximation_data`) is turned by its
``prepare_*`` function into a :class:`TaskData`: the training, validation and
(optionally) test :class:`Split`.

Bag-of-words data (IMDB, Reuters) are kept as word-index sequences
(:class:`SequenceSet`, int32) and turned into float32 multi-hot batches inside
the ``tf.data`` pipeline, so a 25000 x 10000 matrix is never materialised
(never in float64): the IMDB run stays far below 4 GB.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass

import numpy as np


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
