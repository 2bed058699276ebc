"""Figures of the equal-budget comparison (notebook 11; docs/protocol.md, section 7).

* :func:`performance_profile_figure` -- Dolan-More performance profiles
  (Dolan & More, Math. Programming 91, 2002) on the test functions, one panel
  per target: the cost of an arm on a problem is its median steps to the
  target (a failure, ``inf``, gets the ratio r_M and never counts as solved);
  rho_s(tau) is the share of problems on which arm s is within a factor tau of
  the best. Networks are left out: their metrics have other units.
* :func:`data_profile_figure` -- More-Wild data profiles (More & Wild, SIAM J.
  Optim. 20, 2009) on the test functions: the share of all held-out runs
  (problem x study x start) that reach the target within kappa steps.
* :func:`sensitivity_figure` -- one problem: every trial's tuning objective
  against its learning rate, every arm and study (as in the learning-rate
  sensitivity plots of Schmidt, Schneider & Hennig, ICML 2021).
* :func:`gallery_figure` -- one 2-D function: one small panel per arm at its
  tuned setting (study 0), its paths on the contour plot.

Colours, markers and dashes come from :mod:`mamgd_paper.core.style`; every builder
returns a Figure for :func:`mamgd_paper.core.artifacts.save_figure` (through
:class:`mamgd_paper.core.plotting.FigureWriter`).
"""

from __future__ import annotations

import numpy as np
from matplotlib.lines import Line2D

from mamgd_paper.core import plotting, style
from mamgd_paper.experiments.equal_budget import protocol, statistics
from mamgd_paper.experiments.equal_budget.problems import get_problem
from mamgd_paper.experiments.functions import figures

__all__ = ["performance_profile_figure", "data_profile_figure", "sensitivity_figure",
           "gallery_figure"]


def _step(ax, x, shares, label):
    ax.step(x, shares, where="post", color=style.color(label), ls=style.dash(label),
            lw=1.5, label=label)


def _panel(ax, x, shares, arms, xlim, xlabel, title):
    """One profile panel: a step curve per arm, shares from 0 to 1."""
    for arm in arms:
        _step(ax, x, shares[arm].to_numpy(), arm)
    ax.set_xlim(*xlim)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel(xlabel)
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)


def _legend(fig, axes):
    handles, names = axes[0].get_legend_handles_labels()
    fig.legend(handles, names, loc="lower center", ncol=5, fontsize=8, frameon=False,
               bbox_to_anchor=(0.5, 0.0))


def _function_costs(table, target):
    part = table[(table["kind"] == protocol.FUNCTION)
                 & (table["target"].astype(float) == float(target))]
    return part.pivot(index="problem", columns="optimizer", values="median").astype(float)


def performance_profile_figure(table, targets=protocol.TARGETS):
    """Performance profiles on steps to target, one panel per target (functions only)."""
    fig, axes = plotting.fixed_figure(11.0, 4.6, 1, len(targets), bottom=1.25, top=0.5,
                                      wspace=0.5, sharey=True)
    axes = axes[0]
    arms = list(dict.fromkeys(table["optimizer"]))
    for ax, target in zip(axes, targets):
        costs = _function_costs(table, target)[arms]
        ratios = costs.div(costs.min(axis=1), axis=0).to_numpy()
        finite = np.log10(ratios[np.isfinite(ratios)])
        top = max(1.0, float(finite.max()) * 1.05) if finite.size else 1.0
        taus = np.concatenate([[0.0], np.unique(finite), [top]])
        shares = statistics.performance_profile(costs, 10.0 ** taus)
        used = shares.attrs.get("problems", len(costs))
        _panel(ax, taus, shares, arms, (0, top),
               "log10 tau (steps relative to the fastest arm)",
               f"gap <= {target:g}: {used} of {len(costs)} test functions"
               + ("" if used == len(costs) else " (on the others no arm reached it)"))
    axes[0].set_ylabel("share of problems within tau of the best")
    _legend(fig, axes)
    return fig


def data_profile_figure(unit_steps, horizon):
    """Data profiles, one panel per target. ``unit_steps``: ``{target: DataFrame
    units x arms of steps to target}`` (:func:`table.unit_steps`)."""
    fig, axes = plotting.fixed_figure(11.0, 4.6, 1, len(unit_steps), bottom=1.25, top=0.5,
                                      wspace=0.5, sharey=True)
    axes = axes[0]
    budgets = np.unique(np.round(np.geomspace(1, horizon, 200)))
    for ax, (target, steps) in zip(axes, unit_steps.items()):
        shares = statistics.data_profile(steps, budgets)
        ax.set_xscale("log")
        style.plain_log(ax, x=True, y=False)
        _panel(ax, budgets, shares, steps.columns, (1, horizon), "budget kappa (steps)",
               f"gap <= {target:g}: {len(steps)} held-out runs")
    axes[0].set_ylabel("share of runs that reached the target")
    _legend(fig, axes)
    return fig


def sensitivity_figure(trials, best, problem, metric, title=None):
    """Tuning objective of every trial against its learning rate, every arm and study.

    ``trials``: the problem's rows of :attr:`results.Results.trials`; ``best``:
    its rows of :attr:`results.Results.studies` (each study's best trial, drawn
    large with a black edge). Log-scale y; a value of ``inf`` (a diverged
    network) is drawn as a cross on the top edge.
    """
    fig, axes = plotting.fixed_figure(7.4, 5.2, bottom=1.35, top=0.5)
    ax = axes[0, 0]
    values = trials["value"].to_numpy(dtype=float)
    finite = values[np.isfinite(values) & (values > 0)]
    top = finite.max() * 3 if finite.size else 1.0
    for arm in dict.fromkeys(trials["arm"]):
        part = trials[trials["arm"] == arm]
        look = style.look(arm)
        lost = part[~np.isfinite(part["value"].to_numpy(float))]
        if len(lost):
            ax.plot(lost["learning_rate"], np.full(len(lost), top), ls="none", marker="x",
                    ms=5, color=look["color"], clip_on=False)
        done = part[np.isfinite(part["value"].to_numpy(float))]
        ax.plot(done["learning_rate"], done["value"], ls="none", marker=look["marker"],
                ms=3.5, color=look["color"], alpha=0.6, label=arm)
        chosen = best[(best["arm"] == arm) & np.isfinite(best["best_value"].to_numpy(float))]
        ax.plot(chosen["best_learning_rate"], chosen["best_value"], ls="none",
                marker=look["marker"], ms=8, color=look["color"], mec="black", mew=0.8,
                zorder=5)
    ax.set_xscale("log")
    ax.set_yscale("log")
    style.plain_log(ax, x=True, y=True)
    lows = [protocol.LR_RANGE[o][0] for o in protocol.OPTIMIZERS]
    highs = [protocol.LR_RANGE[o][1] for o in protocol.OPTIMIZERS]
    ax.set_xlim(min(lows) / 1.5, max(highs) * 1.5)
    ax.set_ylim(top=top)
    ax.set_xlabel("learning rate")
    ax.set_ylabel(metric)
    ax.grid(alpha=0.3)
    handles, names = ax.get_legend_handles_labels()
    handles += [Line2D([], [], ls="none", marker="o", ms=8, color="grey", mec="black",
                       label="best trial of a study"),
                Line2D([], [], ls="none", marker="x", color="grey", label="diverged (top edge)")]
    fig.legend(handles=handles, loc="lower center", ncol=4, fontsize=8, frameon=False,
               bbox_to_anchor=(0.5, 0.0))
    ax.set_title(f"{title or problem}: tuning objective of every trial", fontsize=10)
    return fig


def gallery_figure(problem, paths, title=None, ncols=4, resolution=160):
    """One panel per optimizer: its paths at its tuned setting on the contour of f.

    ``paths``: ``{arm: {"paths", "learning_rate", "k", "final_gap"}}`` from
    :func:`mamgd_paper.experiments.equal_budget.objectives.function_paths` (the
    path from the function's start point drawn thick, those from held-out
    starts thin).
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
