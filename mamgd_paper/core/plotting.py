"""Generic Matplotlib plumbing shared by every figure module (headless, Agg).

* :func:`fixed_figure` -- a figure with a fixed grid of axes, margins in inches;
* :func:`close` -- free a figure once it is saved;
* :class:`FigureWriter` -- build and save many figures in worker processes.

The figures themselves live with their experiments (``figures.py`` of each
package under :mod:`mamgd_paper.experiments`); colours, markers and dashes
come from :mod:`mamgd_paper.core.style`; files are written by
:func:`mamgd_paper.core.artifacts.save_figure` (pdf + png, atomic, no
timestamps).
"""

from __future__ import annotations

import matplotlib.pyplot as plt

__all__ = ["close", "fixed_figure", "FigureWriter"]


def close(fig):
    """Close ``fig`` (free its memory; Papermill runs keep no open figures)."""
    plt.close(fig)


def fixed_figure(width, height, nrows=1, ncols=1, left=0.9, right=0.2, bottom=0.6, top=0.45,
                 wspace=0.75, hspace=0.75, **kwargs):
    """A figure with a fixed grid of axes; margins and gaps in inches.

    A fixed layout instead of Matplotlib's constrained layout, which
    re-solves the layout on every draw and doubles the cost of saving;
    :func:`mamgd_paper.core.artifacts.save_figure` crops to the drawn content anyway.
    Returns ``(fig, axes)`` with ``axes`` a 2-D array (``squeeze=False``).
    """
    fig, axes = plt.subplots(nrows, ncols, figsize=(width, height), squeeze=False, **kwargs)
    cell_w = (width - left - right - wspace * (ncols - 1)) / ncols
    cell_h = (height - top - bottom - hspace * (nrows - 1)) / nrows
    fig.subplots_adjust(left=left / width, right=1 - right / width,
                        bottom=bottom / height, top=1 - top / height,
                        wspace=wspace / cell_w, hspace=hspace / cell_h)
    return fig, axes


def _build_and_save(directory, stem, dpi, builder, args, kwargs):
    from mamgd_paper.core import artifacts

    fig = builder(*args, **kwargs)
    try:
        return [str(p) for p in artifacts.save_figure(fig, directory, stem, dpi=dpi)]
    finally:
        close(fig)


class FigureWriter:
    """Build and save figures, in a few worker processes at once.

    ``writer.submit(stem, builder, *args, **kwargs)`` calls
    ``builder(*args, **kwargs)`` (a module-level function returning a
    Figure, e.g. :func:`mamgd_paper.experiments.functions.figures.error_figure`;
    the arguments must be picklable) and saves the figure with
    :func:`mamgd_paper.core.artifacts.save_figure` as ``directory/stem.pdf``
    and ``.png`` at ``dpi``. Saving a figure costs far more than building it
    (every save draws it twice), and figures are independent, so
    ``processes`` forked workers (default: 2, at most the CPU count) share
    them. Each file is written by exactly one process, so the bytes do not
    depend on the number of workers. ``processes=1`` works in-process.

    Use as a context manager; leaving the block waits for every figure and
    re-raises the first error. The workers are forked when the writer is
    created.
    """

    def __init__(self, directory, dpi=None, processes=None):
        import os

        from mamgd_paper.core import artifacts

        self.directory = directory
        self.dpi = artifacts.PNG_DPI if dpi is None else dpi
        if processes is None:
            processes = min(2, os.cpu_count() or 1)
        self._pool = None
        if processes > 1:
            import multiprocessing

            self._pool = multiprocessing.get_context("fork").Pool(processes)
        self._pending = []
        self.saved = []

    def submit(self, stem, builder, *args, **kwargs):
        """Queue one figure (built and saved in a worker, or right away)."""
        job = (self.directory, stem, self.dpi, builder, args, kwargs)
        if self._pool is None:
            self.saved.extend(_build_and_save(*job))
        else:
            self._pending.append(self._pool.apply_async(_build_and_save, job))

    def wait(self):
        """Wait for every queued figure; re-raise the first error. Returns all paths."""
        pending, self._pending = self._pending, []
        for result in pending:
            self.saved.extend(result.get())
        return list(self.saved)

    def close(self):
        """Wait for the figures, then stop the workers."""
        try:
            self.wait()
        finally:
            if self._pool is not None:
                self._pool.close()
                self._pool.join()
                self._pool = None

    def __enter__(self):
        return self

    def __exit__(self, kind, error, traceback):
        if kind is not None and self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None
            return False
        self.close()
        return False
