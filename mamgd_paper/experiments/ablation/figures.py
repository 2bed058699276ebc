"""Figures of the curvature-term ablation (notebook 09), Matplotlib only.

Every function returns a figure; save it with
:func:`mamgd_paper.core.artifacts.save_figure`. Colours and dashes come from
:mod:`mamgd_paper.core.style` (one palette for the whole companion).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import LogNorm

from mamgd_paper.paper import registry
from mamgd_paper.core import style
from mamgd import functions as test_functions


def plot_function_curves(curves, optimizers=None, functions=test_functions.PAPER_FUNCTIONS,
                         floor=1e-12):
    """Error against step (log y) per test function, one line per optimizer.

    The search step S of the paper's k is marked by a vertical line.
    """

    optimizers = list(dict.fromkeys(curves["optimizer"])) if optimizers is None else optimizers
    fig, axes = plt.subplots(2, 3, figsize=(13.5, 7.4), squeeze=False)
    for ax, f in zip(axes.ravel(), functions):
        cf = curves[curves["function"] == f.name]
        for name in optimizers:
            c = cf[cf["optimizer"] == name]
            if c.empty:
                continue
            y = np.clip(c["error"].to_numpy(dtype=float), floor, None)
            ax.plot(c["step"], y, color=style.color(name), ls=style.dash(name),
                    lw=1.3, label=name)
        ax.axvline(f.search_steps, color="0.5", lw=0.8, ls=":")
        ax.set_yscale("log")
        style.plain_log(ax)
        ax.set_title(f"Table {f.table}: {f.title} (k = {f.paper_k:.4g}, S = {f.search_steps})",
                     fontsize=9)
        ax.set_xlabel("step")
        ax.set_ylabel("error")
        ax.grid(True, alpha=0.3)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=5, fontsize=8, frameon=False)
    fig.suptitle("Ablation on the test functions (lr 0.1, float32; dotted line: the step "
                 "k was tuned at)", fontsize=11)
    fig.tight_layout(rect=(0, 0.06, 1, 0.96))
    return fig


def plot_differences(per_table):
    """Heat map: mean |change| of the MAMGD column per switch setting and table,
    annotated with the number of MAMGD cells that still match the paper."""

    configs = list(dict.fromkeys(per_table["configuration"]))
    tables = sorted(per_table["table"].unique())
    values = np.full((len(configs), len(tables)), np.nan)
    labels = np.empty_like(values, dtype=object)
    for i, c in enumerate(configs):
        for j, t in enumerate(tables):
            row = per_table[(per_table["configuration"] == c) & (per_table["table"] == t)]
            if row.empty:
                continue
            r = row.iloc[0]
            values[i, j] = r["mean_abs_change"]
            labels[i, j] = f"{int(r['match'])}/{int(r['cells'])}"
    shown = np.where(values > 0, values, np.nan)
    fig, ax = plt.subplots(figsize=(8.6, 0.42 * len(configs) + 1.6))
    finite = shown[np.isfinite(shown)]
    norm = LogNorm(vmin=max(finite.min(), 1e-9), vmax=finite.max()) if finite.size else None
    image = ax.imshow(np.where(np.isfinite(shown), shown, np.nan), aspect="auto",
                      cmap="viridis", norm=norm)
    for i in range(len(configs)):
        for j in range(len(tables)):
            text = labels[i, j] or ""
            if values[i, j] == 0:
                text += " (=)"
            ax.text(j, i, text, ha="center", va="center", fontsize=7,
                    color="black" if not np.isfinite(shown[i, j]) else "white")
    ax.set_xticks(range(len(tables)), [f"Table {t}" for t in tables], fontsize=8)
    ax.set_yticks(range(len(configs)), configs, fontsize=8)
    cbar = fig.colorbar(image, ax=ax)
    cbar.set_label("mean |change| of the MAMGD column vs the authors' code", fontsize=8)
    ax.set_title("Each code-vs-paper difference on Tables 1-6 (cells: MAMGD cells that "
                 "still match the paper; white background: no change)", fontsize=9)
    fig.tight_layout()
    return fig


def plot_k_range(k_range, functions=test_functions.PAPER_FUNCTIONS, column="error_search_step",
                 optimizers=(registry.CODE, registry.ALGORITHM6_LABEL, registry.CODE_CURVATURE,
                             registry.CODE_SQRT, "AdaExp", registry.ADAEXP_FLOAT64, "Adam"),
                 floor=1e-12):
    """Error at the search step (or ``column``) against k, per function."""

    fig, axes = plt.subplots(2, 3, figsize=(13.5, 7.4), squeeze=False)
    for ax, f in zip(axes.ravel(), functions):
        d = k_range[(k_range["function"] == f.name) & (k_range["k"] > 0)]
        for name in optimizers:
            c = d[d["optimizer"] == name].sort_values("k")
            if c.empty:
                continue
            ax.plot(c["k"], np.clip(c[column].to_numpy(dtype=float), floor, None),
                    color=style.color(name), ls=style.dash(name), lw=1.2, label=name)
        ax.axvline(f.paper_k, color="0.3", lw=0.8, ls=":")
        ax.set_xscale("log")
        ax.set_yscale("log")
        style.plain_log(ax, x=True)
        step = int(d["search_step"].iloc[0]) if column == "error_search_step" else \
            int(d["last_step"].iloc[0])
        ax.set_title(f"Table {f.table}: {f.title} (after {step} steps)", fontsize=9)
        ax.set_xlabel("decay rate k")
        ax.set_ylabel("error")
        ax.grid(True, alpha=0.3)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=7, fontsize=8, frameon=False)
    what = "the search step" if column == "error_search_step" else "the last step"
    fig.suptitle(f"Error at {what} against k (dotted: the paper's k)", fontsize=11)
    fig.tight_layout(rect=(0, 0.05, 1, 0.96))
    return fig


def plot_warmup(factors, curves=None, functions=(test_functions.QUADRATIC, test_functions.BOOTH)):
    """Left: the code's step multiplier (1 - b2^t)/(1 - b1^t) and Adam's
    sqrt(1 - b2^t)/(1 - b1^t) against t for several k. Right: error curves
    with and without the square root (``curves`` from :func:`function_errors`)."""

    ncols = 1 + (len(functions) if curves is not None else 0)
    fig, axes = plt.subplots(1, ncols, figsize=(4.6 * ncols, 4.0), squeeze=False)
    ax = axes[0, 0]
    for i, (k, d) in enumerate(factors.groupby("k", sort=True)):
        color = f"C{i % 10}"
        ax.plot(d["t"], d["mamgd"], color=color, lw=1.3, label=f"code, k = {k:g}")
        ax.plot(d["t"], d["adam"], color=color, lw=0.9, ls="--")
    ax.set_xscale("log")
    ax.set_yscale("log")
    style.plain_log(ax, x=True)
    ax.set_xlabel("step t")
    ax.set_ylabel("step-size multiplier of lr")
    ax.set_title("code (solid) vs Adam's sqrt (dashed)", fontsize=9)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7)
    if curves is not None:
        for ax, f in zip(axes[0, 1:], functions):
            cf = curves[curves["function"] == f.name]
            for name in (registry.CODE, registry.CODE_SQRT, "Adam", "AdaExp"):
                c = cf[cf["optimizer"] == name]
                ax.plot(c["step"], np.clip(c["error"].to_numpy(dtype=float), 1e-12, None),
                        color=style.color(name), ls=style.dash(name), lw=1.3, label=name)
            ax.set_yscale("log")
            style.plain_log(ax)
            ax.set_xlabel("step")
            ax.set_ylabel("error")
            ax.set_title(f"{f.title}, k = {f.paper_k:.4g}: with / without sqrt", fontsize=9)
            ax.grid(True, alpha=0.3)
            ax.legend(fontsize=7)
    fig.suptitle("The missing square root is a learning-rate warm-up", fontsize=11)
    fig.tight_layout(rect=(0, 0, 1, 0.94))
    return fig


def plot_k_specificity(grids, spec, functions=test_functions.PAPER_FUNCTIONS, floor=1e-12):
    """Per function: log10 error over (step, k) with the best k per step (line),
    the paper's k (dashed) and the step it was tuned at (dotted)."""

    fig, axes = plt.subplots(2, 3, figsize=(13.5, 7.8), squeeze=False)
    for ax, f in zip(axes.ravel(), functions):
        if f.name not in grids:
            ax.set_visible(False)
            continue
        ks, errors = grids[f.name]
        keep = ks > 0
        ks, errors = ks[keep], errors[keep]
        order = np.argsort(ks)
        ks, errors = ks[order], errors[order]
        z = np.log10(np.clip(np.where(np.isfinite(errors), errors, np.nan), floor, None))
        steps = np.arange(errors.shape[1])
        mesh = ax.pcolormesh(steps[1:], ks, z[:, 1:], shading="nearest", cmap="viridis_r")
        d = spec[spec["function"] == f.name]
        ax.plot(d["step"], d["k_best"], ls="none", marker="o", ms=3.5, mfc="white",
                mec="black", mew=0.6, label="best k at each step")
        ax.axhline(f.paper_k, color="red", lw=1.0, ls="--", label="paper's k")
        ax.axvline(f.search_steps, color="red", lw=0.8, ls=":", label="tuned at step S")
        ax.set_yscale("log")
        style.plain_log(ax)
        ax.set_xlabel("step")
        ax.set_ylabel("k")
        ax.set_title(f"Table {f.table}: {f.title}", fontsize=9)
        fig.colorbar(mesh, ax=ax, label="log10 error")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=8, frameon=False)
    fig.suptitle("Is the tuned k specific to its step count? MAMGD (authors' code) error "
                 "over (step, k)", fontsize=11)
    fig.tight_layout(rect=(0, 0.04, 1, 0.96))
    return fig


def plot_networks(history, optimizers=None, log=True):
    """Training loss per epoch on the network task(s): mean over seeds and the
    [min, max] band, one panel per table (log y)."""

    tables = list(dict.fromkeys(history["table"]))
    optimizers = list(dict.fromkeys(history["optimizer"])) if optimizers is None else optimizers
    fig, axes = plt.subplots(1, len(tables), figsize=(6.2 * len(tables), 4.6), squeeze=False)
    for ax, table in zip(axes[0], tables):
        h = history[history["table"] == table]
        for name in optimizers:
            runs = h[h["optimizer"] == name]
            if runs.empty:
                continue
            stats = runs.groupby("epoch")["loss"].agg(["mean", "min", "max"])
            color = style.color(name)
            ax.fill_between(stats.index, stats["min"], stats["max"], color=color,
                            alpha=0.15, lw=0)
            ax.plot(stats.index, stats["mean"], color=color, lw=1.4, marker="o", ms=2.5,
                    ls=style.dash(name), label=name)
        if log:
            ax.set_yscale("log")
            style.plain_log(ax)
        ax.set_xlabel("epoch")
        ax.set_ylabel("training loss")
        ax.set_title(f"Table {table} task, {h['seed'].nunique()} seed(s): mean and "
                     f"min-max band", fontsize=9)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig
