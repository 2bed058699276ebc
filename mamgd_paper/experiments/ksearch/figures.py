"""Figures of the k search (notebook 02): error against k and step count, Optuna's plots.

* :func:`sensitivity_figure` -- heat maps of log10(error) against the decay
  rate k and the step count;
* :func:`optuna_figure` -- Optuna's optimisation-history and slice plots of
  a study (:data:`OPTUNA_PLOTS`).

Both return a :class:`matplotlib.figure.Figure` and never save it: hand them
to :class:`mamgd_paper.core.plotting.FigureWriter` or save with
:func:`mamgd_paper.core.artifacts.save_figure`.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib import ticker
from matplotlib.lines import Line2D

from mamgd_paper.core import style
from mamgd_paper.core.plotting import fixed_figure

__all__ = ["OPTUNA_PLOTS", "sensitivity_figure", "optuna_figure"]



def sensitivity_figure(panels, ncols=3, floor=1e-12, title=None):
    """Heat maps of log10(error) against the decay rate k and the step count.

    Args:
        panels: list of dicts, one per panel, with keys ``title``, ``ks``
            (1-D, > 0, log-uniform, e.g.
            :func:`mamgd_paper.experiments.ksearch.sensitivity.k_grid` without its 0;
            drawn on a log axis), ``errors`` (array
            ``(steps + 1, len(ks))``, row s = error after s steps), and
            optional ``paper_k``, ``found_k``, ``search_steps``.
        floor: errors below it are coloured as it.

    Over each map: the k with the smallest error at every step count (white
    dots), the paper's k (dashed), the k found by our search (dotted) and
    the step count the search tuned k for (horizontal line).
    """
    nrows = math.ceil(len(panels) / ncols)
    fig, axes = fixed_figure(3.4 * ncols + 1.6, 3.0 * nrows + 1.0, nrows, ncols, left=0.7,
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
    :class:`mamgd_paper.core.plotting.FigureWriter`; they are added to an in-memory study first).
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
