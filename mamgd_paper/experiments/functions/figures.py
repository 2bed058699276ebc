"""Plotting helpers for the companion's figures (Matplotlib, headless).

Every helper returns a :class:`matplotlib.figure.Figure` and never saves or
shows it: save with :func:`mamgd_paper.core.artifacts.save_figure` (pdf + 300 dpi png,
atomic, no timestamps) and close with :func:`close`.

Contents
--------
Styles
    colours and markers come from :mod:`mamgd_paper.core.style` (the registry's
    palette), shared by every figure.
Test functions (Tables 1-6, Figures 1-6)
    :func:`error_figure` -- error against steps, the paper's view (linear y,
    the paper's y limits, published points as markers) beside a log-y view.
    :func:`contour_paths` -- optimizer paths on a contour plot of f.
k search
    :func:`sensitivity_figure` -- error against decay rate k and step count;
    :func:`optuna_figure` -- Optuna's history and slice plots of a study.
Saving
    :class:`FigureWriter` -- build and save many figures in worker processes.

Network figures (Tables 7-11) get their own section at the end of the module.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import ticker
from matplotlib.lines import Line2D

from mamgd_paper.core import style

__all__ = [
    "PAPER_LINESTYLE",
    "close",
    "error_figure",
    "contour_paths",
    "sensitivity_figure",
    "optuna_figure",
    "FigureWriter",
]

#: Line style of our (reproduced) curves; published points are markers only.
PAPER_LINESTYLE = "-"


def close(fig):
    """Close ``fig`` (free its memory; Papermill runs keep no open figures)."""
    plt.close(fig)


def _figure(width, height, nrows=1, ncols=1, left=0.9, right=0.2, bottom=0.6, top=0.45,
            wspace=0.75, hspace=0.75, **kwargs):
    """A figure with a fixed grid of axes; margins and gaps in inches.

    A fixed layout instead of Matplotlib's constrained layout, which
    re-solves the layout on every draw and doubles the cost of saving;
    :func:`mamgd_paper.core.artifacts.save_figure` crops to the drawn content anyway.
    """
    fig, axes = plt.subplots(nrows, ncols, figsize=(width, height), squeeze=False, **kwargs)
    cell_w = (width - left - right - wspace * (ncols - 1)) / ncols
    cell_h = (height - top - bottom - hspace * (nrows - 1)) / nrows
    fig.subplots_adjust(left=left / width, right=1 - right / width,
                        bottom=bottom / height, top=1 - top / height,
                        wspace=wspace / cell_w, hspace=hspace / cell_h)
    return fig, axes


# ---------------------------------------------------------------------------
# Error against steps (Figures 1-6)
# ---------------------------------------------------------------------------

#: Smallest value the paper's 6-decimal tables can show as non-zero.
PRINT_RESOLUTION = 5e-7


def error_figure(curves, paper_points=None, ylim=None, title=None, log_floor=1e-16,
                 xlabel="step (the paper's \"epoch\")", ylabel="error (the paper's \"MSE\")"):
    """The paper's error figure beside a log-scale companion panel.

    Args:
        curves: DataFrame indexed by step (0..N), one column per optimizer:
            our error after every step, drawn as lines.
        paper_points: optional DataFrame in the paper's layout (``epoch``
            column plus one column per optimizer): the published numbers,
            drawn as hollow markers on the left (linear) panel.
        ylim: ``(bottom, top)`` of the left panel (the paper's y limits, e.g.
            ``(0, 1)`` for Figures 3, 4 and 6); ``None``: from the data.
        title: figure title.
        log_floor: values below this are drawn at it on the log panel (an
            error of exactly 0 cannot be drawn on a log axis).

    The right panel shows our curves on a log y axis with the 6-decimal print
    resolution (5e-7) as a dotted line: everything under it is "0.000000"
    in the paper's tables.
    """
    steps = np.asarray(curves.index, dtype=float)
    fig, axes = _figure(8.4, 3.6, 1, 2, bottom=1.1, top=0.55)
    linear, logarithmic = axes[0]
    handles = []
    for name in curves.columns:
        look = style.look(name)
        values = np.asarray(curves[name], dtype=float)
        (line,) = linear.plot(steps, values, PAPER_LINESTYLE, color=look["color"],
                              lw=1.3, label=name)
        handles.append(line)
        with np.errstate(invalid="ignore"):
            floored = np.where(values > log_floor, values, log_floor)
        logarithmic.plot(steps, floored, PAPER_LINESTYLE, color=look["color"], lw=1.3)
        if paper_points is not None and name in paper_points.columns:
            linear.plot(paper_points["epoch"], paper_points[name], ls="none",
                        marker=look["marker"], ms=4.5, mfc="none", mew=1.0,
                        color=look["color"])
    if paper_points is not None:
        handles.append(Line2D([], [], ls="none", marker="o", mfc="none", color="black",
                              ms=4.5, label="published (paper)"))
    handles.append(Line2D([], [], ls=":", color="0.4", lw=1,
                          label="6-decimal print limit"))
    linear.set_title("as in the paper" + (f", y in [{ylim[0]:g}, {ylim[1]:g}]"
                                          if ylim is not None else ""), fontsize=9)
    if ylim is not None:
        linear.set_ylim(*ylim)
    else:
        linear.set_ylim(bottom=0)
    logarithmic.set_yscale("log")
    style.plain_log_axis(logarithmic.yaxis)
    logarithmic.axhline(PRINT_RESOLUTION, ls=":", color="0.4", lw=1)
    logarithmic.set_title("every step, log scale", fontsize=9)
    for ax in (linear, logarithmic):
        ax.set_xlabel(xlabel)
        ax.set_xlim(steps[0], steps[-1])
        ax.grid(True, lw=0.3, alpha=0.5)
    linear.set_ylabel(ylabel)
    fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 4),
               fontsize=8, frameon=False, bbox_to_anchor=(0.5, 0.0))
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


# ---------------------------------------------------------------------------
# Optimizer paths on a contour plot
# ---------------------------------------------------------------------------


def _levels(values, minimum, count=20):
    """Log-spaced contour levels above ``minimum`` covering ``values``."""
    excess = np.asarray(values, dtype=float) - float(minimum)
    finite = excess[np.isfinite(excess)]
    top = float(finite.max()) if finite.size else 1.0
    positive = finite[finite > 0]
    bottom = float(positive.min()) if positive.size else top * 1e-6
    bottom = max(bottom, top * 1e-6)
    if not top > bottom:
        top = bottom * 10
    return float(minimum) + np.geomspace(bottom, top, count)


def _finite_points(path, box):
    (x0, x1), (y0, y1) = box
    path = np.asarray(path, dtype=float)
    keep = np.all(np.isfinite(path), axis=1)
    keep &= (path[:, 0] >= x0) & (path[:, 0] <= x1) & (path[:, 1] >= y0) & (path[:, 1] <= y1)
    return path[keep]


def _zoom_box(function, paths, pad=0.12):
    """A box around the start, the target and every path point inside the domain."""
    points = [np.atleast_2d(np.asarray(function.start, float)),
              np.atleast_2d(np.asarray(function.target, float))]
    for path in paths.values():
        points.append(_finite_points(path, function.domain))
    cloud = np.concatenate(points)
    lo, hi = cloud.min(axis=0), cloud.max(axis=0)
    span = np.maximum(hi - lo, 1e-3)
    center = (lo + hi) / 2
    half = span.max() / 2 * (1 + 2 * pad)  # square box
    box = []
    for axis in range(2):
        low, high = function.domain[axis]
        a = max(center[axis] - half, low)
        b = min(center[axis] + half, high)
        box.append((a, b))
    return tuple(box)


def _draw_contour(ax, function, box, resolution):
    (x0, x1), (y0, y1) = box
    xs = np.linspace(x0, x1, resolution)
    ys = np.linspace(y0, y1, resolution)
    grid = np.stack(np.meshgrid(xs, ys))
    values = np.asarray(function.value(grid), dtype=float)
    levels = _levels(values, function.minimum)
    ax.contourf(xs, ys, values, levels=levels, cmap="Greys_r", alpha=0.35, extend="both")
    ax.contour(xs, ys, values, levels=levels, cmap="viridis", linewidths=0.5)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)


def _mark_points(ax, function):
    starts = np.atleast_2d(function.start)
    ax.plot(starts[:, 0], starts[:, 1], ls="none", marker="*", ms=11, color="gold",
            mec="black", mew=0.7, zorder=5)
    for point in function.minimizers:
        ax.plot(point[0], point[1], ls="none", marker="X", ms=8, color="white",
                mec="black", mew=0.7, zorder=5)


def contour_paths(function, paths, title=None, zoom=True, resolution=200, markevery=1):
    """Optimizer paths on a contour plot of ``function`` over its domain.

    In the style of the from-scratch AMSGrad tutorial: contour of f, each
    path as a line with a marker at every step, the start (gold star) and
    every global minimiser (white cross) marked.

    Args:
        function: a :class:`mamgd.functions.TestFunction`.
        paths: ``{name: array (steps + 1, dim)}``; non-finite or out-of-domain
            points (a diverging optimizer) are left out, and the legend says
            "diverged" when the final point is not finite.
        title: figure title.
        zoom: add a second panel zoomed on the region the paths cover
            (2-D functions only).
        resolution: grid points per axis for the contour.

    A 1-D function is drawn over the plane (step, x): the background is f(x)
    (horizontal bands), each path is x against the step, the minimiser a
    dashed line.
    """
    if function.dim == 1:
        return _paths_1d(function, paths, title, resolution)
    if function.dim != 2:
        raise ValueError(f"contour_paths draws 1-D and 2-D functions; "
                         f"{function.name} has {function.dim} dimensions.")
    boxes = [function.domain]
    if zoom:
        boxes.append(_zoom_box(function, paths))
    fig, axes = _figure(4.4 * len(boxes) + 0.5, 5.6, 1, len(boxes), bottom=1.45, top=0.55,
                        wspace=0.8)
    axes = axes[0]
    handles = []
    for panel, (ax, box) in enumerate(zip(axes, boxes)):
        _draw_contour(ax, function, box, resolution)
        for name, path in paths.items():
            look = style.look(name)
            path = np.asarray(path, dtype=float)
            (line,) = ax.plot(path[:, 0], path[:, 1], "-", color=look["color"],
                              marker=look["marker"], ms=3, lw=1.0, mew=0.4,
                              markevery=markevery, label=_path_label(function, name, path))
            if panel == 0:
                handles.append(line)
        _mark_points(ax, function)
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        ax.set_title("domain" if panel == 0 else "zoom on the paths", fontsize=9)
    handles += [
        Line2D([], [], ls="none", marker="*", ms=10, color="gold", mec="black",
               label="start"),
        Line2D([], [], ls="none", marker="X", ms=7, color="white", mec="black",
               label="global minimiser" + ("s" if len(function.minimizers) > 1 else "")),
    ]
    fig.legend(handles=handles, loc="lower center", ncol=4, fontsize=8, frameon=False,
               bbox_to_anchor=(0.5, 0.0))
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def _path_label(function, name, path):
    last = path[-1]
    if not np.all(np.isfinite(last)):
        return f"{name} (diverged)"
    inside = all(lo <= v <= hi for v, (lo, hi) in zip(last, function.domain))
    return name if inside else f"{name} (leaves the domain)"


def _paths_1d(function, paths, title, resolution):
    steps = max(len(p) for p in paths.values()) - 1
    (lo, hi), = function.domain
    xs = np.linspace(lo, hi, resolution)
    values = np.asarray(function.value(xs[None, :]), dtype=float)
    plane = np.repeat(values[:, None], 2, axis=1)
    levels = _levels(values, function.minimum)
    fig, axes = _figure(7.0, 5.2, bottom=1.45, top=0.55)
    ax = axes[0, 0]
    ax.contourf([0, steps], xs, plane, levels=levels, cmap="Greys_r", alpha=0.35,
                extend="both")
    handles = []
    for name, path in paths.items():
        look = style.look(name)
        path = np.asarray(path, dtype=float)
        (line,) = ax.plot(np.arange(len(path)), path[:, 0], "-", color=look["color"],
                          marker=look["marker"], ms=3, lw=1.0, mew=0.4,
                          label=_path_label(function, name, path))
        handles.append(line)
    ax.plot(0, function.start[0], ls="none", marker="*", ms=11, color="gold",
            mec="black", mew=0.7, zorder=5)
    for point in function.minimizers:
        ax.axhline(point[0], ls="--", color="black", lw=0.9, zorder=4)
    handles += [
        Line2D([], [], ls="none", marker="*", ms=10, color="gold", mec="black",
               label="start"),
        Line2D([], [], ls="--", color="black", lw=0.8, label="minimiser"),
    ]
    ax.set_xlim(0, steps)
    ax.set_ylim(lo, hi)
    ax.set_xlabel("step")
    ax.set_ylabel("x (background: f(x))")
    fig.legend(handles=handles, loc="lower center", ncol=4, fontsize=8, frameon=False,
               bbox_to_anchor=(0.5, 0.0))
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


# ---------------------------------------------------------------------------
# k search: error against k and step count
# ---------------------------------------------------------------------------


def sensitivity_figure(panels, ncols=3, floor=1e-12, title=None):
    """Heat maps of log10(error) against the decay rate k and the step count.

    Args:
        panels: list of dicts, one per panel, with keys ``title``, ``ks``
            (1-D, > 0, log-uniform, e.g. :func:`mamgd_paper.experiments.ksearch.search.k_grid` without
            its 0; drawn on a log axis), ``errors`` (array
            ``(steps + 1, len(ks))``, row s = error after s steps), and
            optional ``paper_k``, ``found_k``, ``search_steps``.
        floor: errors below it are coloured as it.

    Over each map: the k with the smallest error at every step count (white
    dots), the paper's k (dashed), the k found by our search (dotted) and
    the step count the search tuned k for (horizontal line).
    """
    nrows = math.ceil(len(panels) / ncols)
    fig, axes = _figure(3.4 * ncols + 1.6, 3.0 * nrows + 1.0, nrows, ncols, left=0.7,
                        right=1.2, bottom=1.0, top=0.5, wspace=0.75, hspace=0.75)
    mesh = None
    for ax, panel in zip(axes.flat, panels):
        ks = np.asarray(panel["ks"], dtype=float)
        errors = np.asarray(panel["errors"], dtype=float)
        steps = np.arange(errors.shape[0])
        # One image on a linear log10(k) axis (the grid is log-uniform):
        # far cheaper to draw and save than a mesh on a log axis.
        logk = np.log10(ks)
        spacing = np.diff(logk)
        if ks.size < 2 or not np.allclose(spacing, spacing.mean(), rtol=1e-3, atol=1e-6):
            raise ValueError("sensitivity_figure needs a log-uniform k grid (k > 0).")
        half = spacing.mean() / 2
        with np.errstate(divide="ignore", invalid="ignore"):
            shown = np.log10(np.clip(errors, floor, None))
        mesh = ax.imshow(shown[1:], origin="lower", aspect="auto", interpolation="nearest",
                         extent=(logk[0] - half, logk[-1] + half, 0.5, steps[-1] + 0.5),
                         cmap="magma", vmin=math.log10(floor), vmax=1.0)
        finite = np.where(np.isfinite(errors[1:]), errors[1:], np.inf)
        best = logk[np.argmin(finite, axis=1)]
        ax.plot(best, steps[1:], ls="none", marker=".", ms=3, color="white")
        if panel.get("paper_k"):
            ax.axvline(math.log10(panel["paper_k"]), ls="--", color="cyan", lw=1.0)
        if panel.get("found_k"):
            ax.axvline(math.log10(panel["found_k"]), ls=":", color="lime", lw=1.4)
        if panel.get("search_steps") is not None:
            ax.axhline(panel["search_steps"], ls="-", color="white", lw=0.6, alpha=0.8)
        decades = np.arange(math.floor(logk[0]), math.ceil(logk[-1]) + 1, dtype=float)
        ax.xaxis.set_major_locator(ticker.FixedLocator(decades))
        ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{10.0 ** v:g}"))
        ax.xaxis.set_minor_locator(ticker.FixedLocator(
            (decades[:, None] + np.log10(np.arange(2, 10))[None, :]).ravel()))
        ax.set_xlim(logk[0] - half, logk[-1] + half)
        ax.set_title(panel.get("title", ""), fontsize=9)
        ax.set_xlabel("decay rate k (log scale)")
        ax.set_ylabel("steps")
    for ax in list(axes.flat)[len(panels):]:
        ax.set_visible(False)
    if mesh is not None:
        top = axes[0, -1].get_position()
        bottom = axes[-1, -1].get_position()
        cax = fig.add_axes([top.x1 + 0.25 / fig.get_figwidth(), bottom.y0,
                            0.15 / fig.get_figwidth(), top.y1 - bottom.y0])
        fig.colorbar(mesh, cax=cax, label="log10 error")
        handles = [
            Line2D([], [], ls="none", marker="o", ms=4, color="white", mec="black",
                   label="best k per step count"),
            Line2D([], [], ls="--", color="cyan", label="paper k"),
            Line2D([], [], ls=":", color="lime", lw=1.4, label="found k"),
            Line2D([], [], ls="-", color="0.6", lw=0.8, label="tuned step count (white)"),
        ]
        fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=8,
                   frameon=False, bbox_to_anchor=(0.5, 0.0))
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


OPTUNA_PLOTS = ("history", "slice")


def optuna_figure(kind, study_or_trials, title=None):
    """Optuna's own optimisation-history (``kind="history"``) or slice plot.

    The Matplotlib versions (:mod:`optuna.visualization.matplotlib`), with a
    log y axis (the errors span several decades). ``study_or_trials`` is an
    Optuna study or a list of its ``FrozenTrial`` objects (picklable, for
    :class:`FigureWriter`; they are added to an in-memory study first).
    """
    import warnings

    import optuna
    import optuna.visualization.matplotlib as optuna_plots

    plot = {"history": optuna_plots.plot_optimization_history,
            "slice": optuna_plots.plot_slice}[kind]
    study = study_or_trials
    if not isinstance(study, optuna.Study):
        study = optuna.create_study(direction="minimize")
        study.add_trials(list(study_or_trials))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "experimental feature" warnings
        ax = np.ravel(plot(study))[0]
    ax.set_yscale("log")
    style.plain_log_axis(ax.yaxis)
    fig = ax.figure
    fig.set_layout_engine("none")  # save_figure crops; no re-layout on every draw
    fig.set_size_inches(5.6, 4.0)
    if title:
        ax.set_title(f"{ax.get_title()}: {title}", fontsize=10)
    return fig


# ---------------------------------------------------------------------------
# Saving many figures, in parallel
# ---------------------------------------------------------------------------


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
    Figure, e.g. :func:`error_figure`; the arguments must be picklable) and
    saves the figure with :func:`mamgd_paper.core.artifacts.save_figure` as
    ``directory/stem.pdf`` and ``.png`` at ``dpi``. Saving a figure costs far
    more than building it (every save draws it twice), and figures are
    independent, so ``processes`` forked workers (default: 2, at most the
    CPU count) share them. Each file is written by exactly one process, so
    the bytes do not depend on the number of workers. ``processes=1`` works
    in-process.

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


# ---------------------------------------------------------------------------
# Network experiments (Tables 7-11, Figures 7-11): helpers go below.
# ---------------------------------------------------------------------------
