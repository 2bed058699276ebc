"""A split's inputs as the engine feeds them: dense rows, or multi-hot rows kept sparse.

A dense split (an array) is used as it is. A bag-of-words split
(:class:`mamgd_paper.experiments.networks.data.SequenceSet`) stands for the
multi-hot matrix ``x[i, j] = 1`` where word ``j`` occurs in text ``i``; the
engine never builds that matrix. :class:`SparseRows` keeps each text's
*distinct* word indices in pages of :data:`PAGE` indices (the last page of a
text padded with a mask), and the first Dense layer computes ``x @ W`` as the
sum of the rows of ``W`` at those indices (:func:`multi_hot_matmul`): a gather
in the forward pass, whose gradient is a scatter-add, over the batch's real
words only (a batch's pages are listed in the compiled program,
:func:`batch_pages`). It is the same product up to the order of the additions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Word indices per page.
PAGE = 16


@dataclass(frozen=True)
class SparseRows:
    """Multi-hot rows as pages of distinct word indices.

    ``pages`` (n_pages, PAGE) int32 word indices and ``page_mask`` (n_pages,
    PAGE) float32 (1 for a word, 0 for padding); text ``i`` owns the pages
    ``first_page[i] .. first_page[i] + page_count[i] - 1``; ``dimension`` is the
    multi-hot width.
    """

    pages: np.ndarray
    page_mask: np.ndarray
    first_page: np.ndarray
    page_count: np.ndarray
    dimension: int

    def __len__(self):
        return len(self.first_page)

    @classmethod
    def from_sequences(cls, sequence_set):
        """From a ``SequenceSet`` (word-index sequences, repeats allowed)."""
        rows = [np.unique(s) for s in sequence_set.sequences()]
        count = np.array([max(1, -(-len(r) // PAGE)) for r in rows], dtype=np.int32)
        first = np.zeros(len(rows), dtype=np.int32)
        np.cumsum(count[:-1], out=first[1:])
        pages = np.zeros((int(count.sum()), PAGE), dtype=np.int32)
        mask = np.zeros((int(count.sum()), PAGE), dtype=np.float32)
        for i, row in enumerate(rows):
            flat = slice(first[i] * PAGE, first[i] * PAGE + len(row))
            pages.reshape(-1)[flat] = row
            mask.reshape(-1)[flat] = 1.0
        return cls(pages, mask, first, count, int(sequence_set.num_words))

    @property
    def arrays(self):
        """The arrays the compiled program takes."""
        return (self.pages, self.page_mask, self.first_page, self.page_count)

    def dense(self):
        """The multi-hot matrix (float32), for checks on small sets."""
        out = np.zeros((len(self), self.dimension), dtype=np.float32)
        owner = np.repeat(np.arange(len(self)), self.page_count)
        rows = np.repeat(owner, PAGE)
        keep = self.page_mask.ravel() > 0
        out[rows[keep], self.pages.ravel()[keep]] = 1.0
        return out

    def pages_needed(self, batches):
        """The most pages any batch of ``batches`` (..., batch) row indices holds."""
        return int(self.page_count[np.asarray(batches)].sum(axis=-1).max())


def engine_inputs(x):
    """A split's ``x`` as the engine takes it: a float32 array, or :class:`SparseRows`."""
    from mamgd_paper.experiments.networks.data import SequenceSet

    if isinstance(x, SequenceSet):
        return SparseRows.from_sequences(x)
    return np.asarray(x, dtype=np.float32)


def batch_pages(arrays, rows, live, capacity):
    """The pages of a batch, listed in the compiled program (JAX).

    ``rows`` (batch,) text indices, ``live`` (batch,) bool (padding rows hold
    no pages). Returns ``(page_ids, segment)``, each (capacity,): the pages of
    row 0, then row 1, ...; ``segment`` the row each page belongs to, and
    ``len(rows)`` for unused slots (dropped by the segment sum).
    """
    import jax.numpy as jnp

    _, _, first_page, page_count = arrays
    counts = jnp.where(live, page_count[rows], 0)
    ends = jnp.cumsum(counts)
    slot = jnp.arange(capacity)
    row = jnp.searchsorted(ends, slot, side="right")
    used = slot < ends[-1]
    row = jnp.minimum(row, len(rows) - 1)
    page = first_page[rows[row]] + slot - (ends[row] - counts[row])
    return jnp.where(used, page, 0), jnp.where(used, row, len(rows))


def multi_hot_matmul(arrays, page_ids, segment, n_rows, kernel):
    """``multi_hot(rows) @ kernel`` from the rows' pages (JAX): (n_rows, units)."""
    import jax
    import jax.numpy as jnp

    pages, page_mask, _, _ = arrays
    words = pages[page_ids]
    mask = page_mask[page_ids].astype(kernel.dtype)
    per_page = jnp.einsum("cpu,cp->cu", jnp.take(kernel, words, axis=0), mask)
    return jax.ops.segment_sum(per_page, segment, num_segments=n_rows)
