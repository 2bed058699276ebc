"""The companion's figure style: one palette, and shared axis conventions.

Every figure draws an optimizer with the colour, marker and dash of its
:mod:`mamgd_paper.paper.registry` entry, so an optimizer looks the same in every
figure. Figures are built with Matplotlib's headless Agg backend and saved
with :func:`mamgd_paper.core.artifacts.save_figure`.
"""

from __future__ import annotations

from matplotlib import ticker

from mamgd_paper.paper import registry

#: Colours for labels that are not optimizers of the registry (stable per name).
FALLBACK_COLORS = ("#7f7f7f", "#bcbd22", "#393b79", "#637939", "#8c6d31")


def look(label):
    """``{"color", "marker"}`` of optimizer ``label`` (a stable fallback for others)."""
    entry = registry.REGISTRY.get(label)
    if entry is not None:
        return {"color": entry.color, "marker": entry.marker}
    index = sum(map(ord, str(label))) % len(FALLBACK_COLORS)
    return {"color": FALLBACK_COLORS[index], "marker": "."}


def color(label):
    """The colour of optimizer ``label``."""
    return look(label)["color"]


def marker(label):
    """The marker of optimizer ``label``."""
    return look(label)["marker"]


def dash(label):
    """The line style of ``label`` in figures that tell optimizers apart by dash."""
    entry = registry.REGISTRY.get(label)
    return entry.dash if entry is not None else "-"


def plain_log_axis(axis):
    """Log-axis labels as plain text (``1e-08``), major ticks only.

    Matplotlib's default log labels are mathtext (``$10^{-8}$``), whose
    parsing dominates the cost of saving a small figure; plain labels draw
    several times faster and read the same.
    """
    axis.set_major_formatter(ticker.LogFormatter(labelOnlyBase=True))
    axis.set_minor_formatter(ticker.NullFormatter())


def plain_log(ax, x=False, y=True):
    """:func:`plain_log_axis` on the chosen axes of ``ax``."""
    for flag, axis in ((x, ax.xaxis), (y, ax.yaxis)):
        if flag:
            plain_log_axis(axis)
