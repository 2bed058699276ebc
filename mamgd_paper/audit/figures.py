"""One figure per network table: is each published run a typical draw of ours?

Per optimizer, a panel: our seeds' training loss per epoch as a band (min to
max, the median as a line) and the published curve on top, each published
point coloured by its percentile among our seeds (blue below every seed, white
at the median, red above every seed). The panel's title gives the run's
verdict and p-value (:mod:`mamgd_paper.audit.calibration`).
"""

import matplotlib.pyplot as plt
from matplotlib import colors

from mamgd_paper.core import style

#: Percentile colour map: 0 (below every seed) to 100 (above every seed).
PERCENTILE_CMAP = "coolwarm"


def figure_stem(table):
    """``paper_runs_tableNN``."""
    return f"paper_runs_table{int(table):02d}"


def run_figure(table, title, seeds_frame, verdicts_frame, cells, runs):
    """The figure of one table (see the module docstring).

    ``cells``: this table's ``epoch, optimizer, seed_percentile`` rows;
    ``runs``: this table's rows of ``paper_runs``.
    """
    optimizers = list(dict.fromkeys(verdicts_frame["optimizer"]))
    fig, axes = plt.subplots(1, len(optimizers), figsize=(3.1 * len(optimizers), 3.0),
                             sharey=True, squeeze=False)
    norm = colors.Normalize(vmin=0, vmax=100)
    scatter = None
    for ax, optimizer in zip(axes[0], optimizers):
        seeds = seeds_frame[seeds_frame["optimizer"] == optimizer]
        band = seeds.groupby("epoch")["loss"].agg(["min", "median", "max"])
        colour = style.look(optimizer)["color"]
        ax.fill_between(band.index, band["min"], band["max"], color=colour, alpha=0.25,
                        linewidth=0, label=f"our {seeds['seed'].nunique()} seeds")
        ax.plot(band.index, band["median"], color=colour, linewidth=1.2, label="seed median")
        paper = verdicts_frame[verdicts_frame["optimizer"] == optimizer].sort_values("epoch")
        where = cells[cells["optimizer"] == optimizer].set_index("epoch")
        ax.plot(paper["epoch"], paper["paper"], color="0.2", linewidth=0.8, zorder=3,
                label="published")
        scatter = ax.scatter(paper["epoch"], paper["paper"],
                             c=where.loc[paper["epoch"], "seed_percentile"].to_numpy(),
                             cmap=PERCENTILE_CMAP, norm=norm, s=22, edgecolors="0.2",
                             linewidths=0.6, zorder=4)
        tested = runs[runs["optimizer"] == optimizer]
        if len(tested):
            run = tested.iloc[0]
            ax.set_title(f"{optimizer}: {run['verdict']}\np = {run['p_value']:.2g} "
                         f"(Holm {run['p_adjusted']:.2g})", fontsize=8)
        else:  # fewer seeds than the run test needs (calibration.skipped_runs)
            ax.set_title(f"{optimizer}: not tested\n({seeds['seed'].nunique()} seed(s))",
                         fontsize=8)
        ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.grid(True, which="major", alpha=0.3)
    axes[0][0].set_ylabel("training loss")
    axes[0][0].legend(fontsize=6, loc="upper right")
    bar = fig.colorbar(scatter, ax=axes[0].tolist(), fraction=0.025, pad=0.02)
    bar.set_label("published point's percentile among our seeds", fontsize=7)
    fig.suptitle(f"Table {table}: {title}", fontsize=9, y=1.06)
    return fig

