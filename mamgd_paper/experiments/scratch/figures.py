"""Notebook 10's figures: the bowl's contour plots and the MNIST learning curves."""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib import ticker

from mamgd_paper.core import style
from mamgd_paper.experiments.functions import figures as function_figures
from mamgd_paper.experiments.scratch.bowl import TUTORIAL_ALPHA, TUTORIAL_ITERATIONS
from mamgd_paper.experiments.scratch.mnist import REPORT_ACCURACY, REPORT_SCRATCH_LOSS
from mamgd_paper.paper import registry


def amsgrad_contour(bowl, path, f):
    """The tutorial's AMSGrad path on the bowl (``path``, ``f`` of
    :func:`mamgd_paper.experiments.scratch.bowl.tutorial_run`), its final f in the title."""
    return function_figures.contour_paths(bowl, {registry.TUTORIAL_AMSGRAD: path}, title=(
        f"AMSGrad from scratch on f = x^2 + y^2: {TUTORIAL_ITERATIONS} iterations, alpha "
        f"{TUTORIAL_ALPHA}, final f = {f[-1]:.2g}"))


def bowl_contour(bowl, paths):
    """Every optimizer's path on the bowl (``{label: path}``)."""
    return function_figures.contour_paths(bowl, paths, title=(
        "Every optimizer of mamgd.reference on the bowl, 100 iterations from the tutorial's "
        "start (learning rates in tables/scratch_bowl.md)"))


def plot_mnist(history, accuracy_floor=85.0):
    """Loss (log scale) and accuracy per epoch (training: solid, validation:
    dashed), mean over seeds with the [min, max] band; the course report's
    numbers as horizontal lines. The accuracy axis starts at
    ``accuracy_floor``; an optimizer that ends below it is named in the
    legend with its final accuracy."""
    fig, axes = plt.subplots(1, 2, figsize=(12.0, 4.6))
    last = history["epoch"].max()
    for name, runs in history.groupby("optimizer", sort=False):
        color = style.color(name)
        final = 100 * runs.loc[runs["epoch"] == last, "accuracy"].mean()
        off = f" (off scale: {final:.1f}%)" if final < accuracy_floor else ""
        for ax, column in zip(axes, ("loss", "accuracy")):
            for prefix, ls in (("", "-"), ("val_", "--")):
                stats = runs.groupby("epoch")[prefix + column].agg(["mean", "min", "max"])
                scale = 100 if column == "accuracy" else 1
                ax.fill_between(stats.index, scale * stats["min"], scale * stats["max"],
                                color=color, alpha=0.15, lw=0)
                label = f"{name} ({'validation' if prefix else 'training'})"
                ax.plot(stats.index, scale * stats["mean"], color=color, ls=ls, lw=1.2,
                        marker=style.marker(name), ms=4, mfc="none",
                        label=label + (off if column == "accuracy" else ""))
    for value, label, ls in ((REPORT_ACCURACY["scratch_train"], "report: scratch train", ":"),
                             (REPORT_ACCURACY["keras_train"], "report: Keras train", "-."),
                             (REPORT_ACCURACY["keras_validation"], "report: Keras validation",
                              (0, (1, 3)))):
        axes[1].axhline(value, color="0.3", lw=0.9, ls=ls, label=label)
    axes[0].axhline(REPORT_SCRATCH_LOSS, color="0.3", lw=0.9, ls=":",
                    label="report: scratch final loss")
    axes[0].set_yscale("log")
    axes[0].yaxis.set_major_formatter(ticker.FormatStrFormatter("%g"))
    axes[0].yaxis.set_minor_formatter(ticker.FormatStrFormatter("%g"))
    axes[0].set_ylabel("cross-entropy (log scale)")
    axes[1].set_ylim(accuracy_floor, 95.0)
    axes[1].set_ylabel("accuracy (%)")
    for ax in axes:
        ax.set_xlabel("epoch")
        ax.grid(True, alpha=0.3)
    axes[0].legend(fontsize=6.5, loc="center right")
    axes[1].legend(fontsize=6.5, loc="lower right")
    n = history["seed"].nunique()
    fig.suptitle(f"Softmax network (784 -> 10) on MNIST: from-scratch NumPy vs Keras (numpy "
                 f"Adam lies under Keras Adam); mean and min-max over {n} "
                 f"seed{'s' if n != 1 else ''}", fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.94))
    return fig
