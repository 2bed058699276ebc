"""Figures of the equal-budget comparison (notebook 11; docs/protocol.md, section 7).

* :func:`profile_figure` -- Dolan-More performance profiles (Dolan & More,
  Math. Programming 91, 2002) of the tuned optimizers and of their defaults:
  rho_s(tau), the share of problems on which optimizer s is within a factor
  tau of the best, against log10 tau.
* :func:`sensitivity_figure` -- one problem: every trial's tuning objective
  against its learning rate, all optimizers (as in the learning-rate
  sensitivity plots of Schmidt, Schneider & Hennig, ICML 2021).
* :func:`gallery_figure` -- one 2-D function: one small panel per optimizer,
  each at its own tuned setting, its paths on the contour plot (in the style of
  the well-known optimizer-visualisation galleries).

Colours, markers and dashes come from :mod:`mamgd_paper.core.style`; every builder
returns a Figure for :func:`mamgd_paper.core.artifacts.save_figure` (through
:class:`mamgd_paper.core.plotting.FigureWriter`).
"""

from __future__ import annotations

import numpy as np
from matplotlib.lines import Line2D

from mamgd_paper.experiments.equal_budget import protocol, statistics, summary
from mamgd_paper.experiments.equal_budget.problems import get_problem
from mamgd_paper.experiments.functions import figures
from mamgd_paper.core import plotting, style

__all__ = ["profile_figure", "sensitivity_figure", "gallery_figure"]


def _step(ax, taus, shares, label):
    ax.step(taus, shares, where="post", color=style.color(label), ls=style.dash(label),
            lw=1.5, label=label)


def profile_figure(table, title=None):
    """Performance profiles of the tuned optimizers (left) and of their defaults (right).

    ``table``: :func:`mamgd_paper.experiments.equal_budget.table.results_table`. The cost of a
    problem is its mean (functions: 10^mean log10 gap, the geometric mean of
    the clipped gaps; networks: the mean test metric), so on the functions
    log10 tau is the distance in orders of magnitude to the best optimizer.
    """
    panels = [("tuned (equal budget)", ""), ("defaults (no tuning)", "defaults_")]
    fig, axes = plotting.fixed_figure(11.0, 4.6, 1, 2, bottom=1.25, top=0.5, wspace=0.5,
                                sharey=True)
    axes = axes[0]
    labels = list(dict.fromkeys(table["optimizer"]))
    problems = table["problem"].nunique()
    for ax, (name, prefix) in zip(axes, panels):
        ratios = statistics.performance_ratios(summary.profile_costs(table, prefix))
        logs = np.log10(ratios.to_numpy())
        top = max(1.0, float(np.nanmax(logs)) * 1.05)
        taus = np.concatenate([[0.0], np.unique(logs), [top]])
        shares = statistics.performance_profile(ratios, 10.0 ** taus)
        for label in labels:
            _step(ax, taus, shares[label].to_numpy(), label)
        ax.set_xlim(0, top)
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel("log10 tau (performance ratio to the best optimizer)")
        ax.set_title(f"{name}: {problems} problems", fontsize=9)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("share of problems within tau of the best")
    handles, names = axes[0].get_legend_handles_labels()
    fig.legend(handles, names, loc="lower center", ncol=4, fontsize=8, frameon=False,
               bbox_to_anchor=(0.5, 0.0))
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def sensitivity_figure(trials, problem, metric, log_y, title=None, cap=None):
    """Tuning objective of every trial against its learning rate, all optimizers.

    ``trials``: the problem's rows of
    :func:`mamgd_paper.experiments.equal_budget.results.trials_frame` (one study per optimizer).
    Filled markers: completed trials; hollow: pruned (their last reported
    value); the large marker with a black edge: the optimizer's best trial.
    ``log_y``: log-scale y (the networks' validation metric; the functions'
    objective is already a log10). ``cap``: values at or above it (diverged
    runs) are drawn as crosses on the top edge.
    """
    fig, axes = plotting.fixed_figure(7.4, 5.2, bottom=1.35, top=0.5)
    ax = axes[0, 0]
    values = trials["value"].to_numpy(dtype=float)
    diverged = np.zeros(len(trials), bool) if cap is None else values >= cap
    top = None
    if diverged.any() and (~diverged).any():
        finite = values[~diverged]
        top = finite.max() * 3 if log_y else finite.max() + 0.1 * (finite.max() - finite.min() + 1)
    trials = trials.assign(diverged=diverged)
    for label in dict.fromkeys(trials["optimizer"]):
        part = trials[trials["optimizer"] == label]
        look = style.look(label)
        if top is not None and part["diverged"].any():
            lost = part[part["diverged"]]
            ax.plot(lost["learning_rate"], np.full(len(lost), top), ls="none", marker="x",
                    ms=5, color=look["color"], clip_on=False)
        part = part[~part["diverged"]] if top is not None else part
        done = part[part["state"] == "complete"]
        pruned = part[part["state"] == "pruned"]
        ax.plot(done["learning_rate"], done["value"], ls="none", marker=look["marker"],
                ms=4.5, color=look["color"], alpha=0.8, label=label)
        if len(pruned):
            ax.plot(pruned["learning_rate"], pruned["value"], ls="none",
                    marker=look["marker"], ms=4.5, mfc="none", mec=look["color"], alpha=0.6)
        if len(done):
            best = done.sort_values(["value", "number"]).iloc[0]
            ax.plot([best["learning_rate"]], [best["value"]], ls="none", marker=look["marker"],
                    ms=10, color=look["color"], mec="black", mew=1.0, zorder=5)
    ax.set_xscale("log")
    style.plain_log(ax, x=True, y=False)
    if log_y:
        ax.set_yscale("log")
        style.plain_log(ax, x=False, y=True)
    ax.set_xlim(protocol.LR_LOW / 1.5, protocol.LR_HIGH * 1.5)
    ax.set_xlabel("learning rate")
    ax.set_ylabel(metric)
    ax.grid(alpha=0.3)
    handles, names = ax.get_legend_handles_labels()
    handles += [Line2D([], [], ls="none", marker="o", mfc="none", mec="grey", label="pruned"),
                Line2D([], [], ls="none", marker="o", ms=9, color="grey", mec="black",
                       label="best trial")]
    if top is not None:
        ax.set_ylim(top=top)
        handles.append(Line2D([], [], ls="none", marker="x", color="grey",
                              label="diverged (top edge)"))
    fig.legend(handles=handles, loc="lower center", ncol=5, fontsize=8, frameon=False,
               bbox_to_anchor=(0.5, 0.0))
    ax.set_title(f"{title or problem}: tuning objective of every trial", fontsize=10)
    return fig


def gallery_figure(problem, paths, title=None, ncols=4, resolution=160):
    """One panel per optimizer: its paths at its tuned setting on the contour of f.

    ``paths``: :func:`mamgd_paper.experiments.equal_budget.objectives.gallery_paths` (the path from the
    function's start point drawn thick, those from held-out starts thin).
    Points outside the domain (a diverging run) are left out.
    """
    function = get_problem(problem).function
    labels = list(paths)
    nrows = -(-len(labels) // ncols)
    fig, axes = plotting.fixed_figure(3.0 * ncols + 0.6, 3.15 * nrows + 0.9, nrows, ncols,
                                left=0.45, right=0.15, bottom=0.35, top=0.75, wspace=0.25,
                                hspace=0.55)
    (x0, x1), (y0, y1) = function.domain
    for ax in axes.ravel()[len(labels):]:
        ax.set_axis_off()
    for ax, label in zip(axes.ravel(), labels):
        entry = paths[label]
        figures.draw_contour(ax, function, function.domain, resolution)
        color = style.color(label)
        path = np.asarray(entry["paths"], dtype=float)
        for run in range(path.shape[2]):
            line = path[:, :, run]
            keep = np.all(np.isfinite(line), axis=1)
            keep &= (line[:, 0] >= x0) & (line[:, 0] <= x1) & (line[:, 1] >= y0) & (line[:, 1] <= y1)
            ax.plot(line[keep, 0], line[keep, 1], "-", color=color,
                    lw=1.4 if run == 0 else 0.7, alpha=1.0 if run == 0 else 0.6)
            ax.plot(line[0, 0], line[0, 1], ls="none", marker="o", ms=3, color=color)
        figures.mark_points(ax, function)
        k = entry["k"]
        setting = f"lr {entry['learning_rate']:.3g}" + ("" if k is None else f", k {k:.3g}")
        ax.set_title(f"{label}\n{setting}; gap {entry['final_gap']:.2g}", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.set_xticks([])
        ax.set_yticks([])
    if title:
        fig.suptitle(title, fontsize=10)
    return fig
