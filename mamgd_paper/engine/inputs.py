"""A split's inputs as the engine feeds them: dense rows, or multi-hot rows kept sparse.

A dense split (an array) is used as it is. A bag-of-words split
(:class:`mamgd_paper.experiments.networks.data.SequenceSet`) stands for the
multi-hot matrix ``x[i, j] = 1`` where word ``j`` occurs in document ``i``; the
engine never builds that matrix. :class:`SparseRows` keeps each document's
*distinct* word indices, padded to the longest document with a mask, and the
first Dense layer computes ``x @ W`` as the sum of the rows of ``W`` at those
indices (:func:`multi_hot_matmul`): a gather in the forward pass, whose
gradient is a scatter-add. It is the same product up to the order of the
additions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SparseRows:
    """Multi-hot rows as padded distinct indices: ``indices`` (n, width) int32,
    ``mask`` (n, width) float32 (1 for a word, 0 for padding), ``dimension``
    the multi-hot width."""

    indices: np.ndarray
    mask: np.ndarray
    dimension: int

    def __len__(self):
        return len(self.indices)

    @classmethod
    def from_sequences(cls, sequence_set):
        """From a ``SequenceSet`` (word-index sequences, repeats allowed)."""
        rows = [np.unique(s) for s in sequence_set.sequences()]
        width = max(1, max((len(r) for r in rows), default=1))
        indices = np.zeros((len(rows), width), dtype=np.int32)
        mask = np.zeros((len(rows), width), dtype=np.float32)
        for i, row in enumerate(rows):
            indices[i, :len(row)] = row
            mask[i, :len(row)] = 1.0
        return cls(indices, mask, int(sequence_set.num_words))

    def dense(self):
        """The multi-hot matrix (float32), for checks on small sets."""
        out = np.zeros((len(self), self.dimension), dtype=np.float32)
        rows = np.repeat(np.arange(len(self)), self.indices.shape[1])
        keep = self.mask.ravel() > 0
        out[rows[keep], self.indices.ravel()[keep]] = 1.0
        return out


def engine_inputs(x):
    """A split's ``x`` as the engine takes it: a float32 array, or :class:`SparseRows`."""
    from mamgd_paper.experiments.networks.data import SequenceSet

    if isinstance(x, SequenceSet):
        return SparseRows.from_sequences(x)
    return np.asarray(x, dtype=np.float32)


def multi_hot_matmul(indices, mask, kernel):
    """``multi_hot(indices) @ kernel`` as a masked gather-sum (JAX).

    ``indices``/``mask``: (..., width); ``kernel``: (dimension, units).
    """
    import jax.numpy as jnp

    rows = jnp.take(kernel, indices, axis=0)  # (..., width, units)
    return jnp.einsum("...wu,...w->...u", rows, mask.astype(kernel.dtype))
