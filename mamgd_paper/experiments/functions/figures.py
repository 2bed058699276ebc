"""Figures of the test-function experiments (Tables 1-6, Figures 1-6; notebooks 01, 03).

:func:`error_figure` and :func:`contour_paths` return a
:class:`matplotlib.figure.Figure` and never save or show it: save it with
:func:`mamgd_paper.core.artifacts.save_figure` (pdf + 300 dpi png, atomic, no
timestamps), or hand the function to
:class:`mamgd_paper.core.plotting.FigureWriter`, and close it with
:func:`mamgd_paper.core.plotting.close`.

* :func:`error_figure` -- error against steps, the paper's view (linear y,
  the paper's y limits, published points as markers) beside a log-y view;
* :func:`contour_paths` -- optimizer paths on a contour plot of f, drawn
  with :func:`draw_contour` and :func:`mark_points` (which other figures of
  paths on the test functions reuse).

Colours and markers come from :mod:`mamgd_paper.core.style`, shared by every
figure. The k-search figures are in :mod:`mamgd_paper.experiments.ksearch.figures`.
"""

from __future__ import annotations

import numpy as np
from matplotlib.lines import Line2D

from mamgd_paper.core import style
from mamgd_paper.core.plotting import fixed_figure
from mamgd_paper.paper.published import PRINT_RESOLUTION

__all__ = [
    "PAPER_LINESTYLE",
    "PRINT_RESOLUTION",
    "error_figure",
    "contour_paths",
    "draw_contour",
    "mark_points",
]

#: Line style of our (reproduced) curves; published points are markers only.
PAPER_LINESTYLE = "-"


# ---------------------------------------------------------------------------
# Error against steps (Figures 1-6)
# ---------------------------------------------------------------------------

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
    fig, axes = fixed_figure(8.4, 3.6, 1, 2, bottom=1.1, top=0.55)
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


def draw_contour(ax, function, box, resolution):
    """Filled and line contours of ``function`` over ``box`` on ``ax`` (log-spaced levels)."""
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


def mark_points(ax, function):
    """Mark the start (gold star) and every global minimiser (white cross) on ``ax``."""
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
    fig, axes = fixed_figure(4.4 * len(boxes) + 0.5, 5.6, 1, len(boxes), bottom=1.45, top=0.55,
                        wspace=0.8)
    axes = axes[0]
    handles = []
    for panel, (ax, box) in enumerate(zip(axes, boxes)):
        draw_contour(ax, function, box, resolution)
        for name, path in paths.items():
            look = style.look(name)
            path = np.asarray(path, dtype=float)
            (line,) = ax.plot(path[:, 0], path[:, 1], "-", color=look["color"],
                              marker=look["marker"], ms=3, lw=1.0, mew=0.4,
                              markevery=markevery, label=_path_label(function, name, path))
            if panel == 0:
                handles.append(line)
        mark_points(ax, function)
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
    fig, axes = fixed_figure(7.0, 5.2, bottom=1.45, top=0.55)
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
