"""Figures 7-11: training loss per epoch over seeds, with the paper's numbers.

Per optimizer: the mean over seeds as a line, the band [min, max] over seeds
shaded, and the published number of every epoch as a marker of the same
colour. The y axis uses the paper's limits where it gave them (Figures 7, 8,
11). A second figure per task shows the held-out metrics (not in the paper).

Matplotlib only; figures are saved with :func:`mamgd_paper.core.artifacts.save_figure`
(PDF + PNG, no dates, byte-reproducible).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from mamgd_paper.core import style

_METRIC_LABELS = {"loss": "loss", "accuracy": "accuracy", "mae": "MAE"}


def _band(ax, history, name, column, color, label=None):
    runs = history[history["optimizer"] == name]
    stats = runs.groupby("epoch")[column].agg(["mean", "min", "max"])
    ax.fill_between(stats.index, stats["min"], stats["max"], color=color, alpha=0.2,
                    linewidth=0)
    ax.plot(stats.index, stats["mean"], color=color, linewidth=1.6, label=label)
    return stats


def training_loss_figure(task, history, paper=None, ylim="paper"):
    """Figure ``task.figure``: training loss, mean and [min, max] band over seeds.

    ``paper``: the published table in the paper's layout
    (:func:`mamgd_paper.paper.published.paper_table`), drawn as markers; ``None`` leaves them
    out. ``ylim``: ``"paper"`` for the paper's limits (when it had some),
    ``None`` for automatic, or a ``(low, high)`` pair.
    """
    n_seeds = history["seed"].nunique()
    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    for name in task.optimizer_names:
        if name not in set(history["optimizer"]):
            continue
        color = style.color(name)
        _band(ax, history, name, "loss", color, label=name)
        if paper is not None and name in paper.columns:
            ax.plot(paper["epoch"], paper[name], linestyle="none",
                    marker=style.marker(name), markersize=4.5,
                    markerfacecolor="none", markeredgecolor=color, markeredgewidth=1.1)
    limits = task.ylim if ylim == "paper" else ylim
    if limits is not None:
        ax.set_ylim(*limits)
    epochs = sorted(history["epoch"].unique())
    ax.set_xlim(epochs[0] - 0.3, epochs[-1] + 0.3)
    if len(epochs) <= 15:
        ax.set_xticks(epochs)
    else:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel(f"training loss ({task.loss.replace('_', ' ')})")
    ax.set_title(f"Figure {task.figure}: {task.title}", fontsize=11)
    ax.grid(True, alpha=0.3)
    handles, labels = ax.get_legend_handles_labels()
    handles += [Patch(color="0.6", alpha=0.35),
                Line2D([], [], color="0.3", linestyle="none", marker="o",
                       markerfacecolor="none")]
    labels += [f"min-max over {n_seeds} seed{'s' if n_seeds != 1 else ''}"
               " (line: mean)", "paper (one unseeded run)"]
    if paper is None:
        handles, labels = handles[:-1], labels[:-1]
    # below the axes: inside, it would hide published markers in some figures
    ax.legend(handles, labels, fontsize=8, loc="upper center", ncol=3,
              bbox_to_anchor=(0.5, -0.14), frameon=False)
    fig.tight_layout()
    return fig


def heldout_figure(task, history):
    """Held-out metrics per epoch (mean and band over seeds): loss and the task's
    metric on the validation split, and on the test split when there is one."""
    metric = task.heldout_metric
    panels = [("val_loss", "validation loss")]
    if metric != "loss":
        panels.append((f"val_{metric}", f"validation {_METRIC_LABELS.get(metric, metric)}"))
    if f"test_{metric}" in history.columns:
        panels.append((f"test_{metric}", f"test {_METRIC_LABELS.get(metric, metric)}"))
    fig, axes = plt.subplots(1, len(panels), figsize=(3.8 * len(panels) + 0.6, 3.9),
                             squeeze=False)
    for ax, (column, label) in zip(axes[0], panels):
        for name in task.optimizer_names:
            if name in set(history["optimizer"]):
                _band(ax, history, name, column, style.color(name), label=name)
        values = history[column]
        if column.endswith("loss") and values.min() > 0 and values.max() / values.min() > 100:
            ax.set_yscale("log")  # e.g. Table 7: Adagrad's MSE ~1000, Adam's ~0.05
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.grid(True, alpha=0.3)
    handles, labels = axes[0][0].get_legend_handles_labels()
    n_seeds = history["seed"].nunique()
    fig.legend(handles, labels, fontsize=8, loc="lower center", ncol=len(labels),
               frameon=False)
    fig.suptitle(f"Table {task.table}, held-out data (not in the paper): mean and "
                 f"min-max over {n_seeds} seed{'s' if n_seeds != 1 else ''}",
                 fontsize=10)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return fig


def save_task_figures(task, history, paper, figures_dir, close=True):
    """Save ``figNN_<slug>`` and ``figNN_<slug>_heldout`` (PDF + PNG).

    Returns the two figures (closed unless ``close=False``, e.g. to show them
    inline in a notebook).
    """
    from mamgd_paper.core.artifacts import save_figure

    figures = []
    for stem, fig in ((task.figure_stem, training_loss_figure(task, history, paper)),
                      (f"{task.figure_stem}_heldout", heldout_figure(task, history))):
        save_figure(fig, figures_dir, stem)
        if close:
            plt.close(fig)
        figures.append(fig)
    return figures
