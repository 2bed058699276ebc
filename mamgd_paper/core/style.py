"""The companion's figure style: one palette, and shared axis conventions.

Every figure draws an optimizer with the colour, marker and dash of its
label in :data:`LOOKS`, so an optimizer looks the same in every figure. The
labels are those of :mod:`mamgd_paper.paper.registry` (which says what each
optimizer *is*; this module says how it is *drawn*). Figures are built with
Matplotlib's headless Agg backend and saved with
:func:`mamgd_paper.core.artifacts.save_figure`.
"""

from __future__ import annotations

from typing import NamedTuple

from matplotlib import ticker

from mamgd_paper.paper import registry


class Look(NamedTuple):
    """How one optimizer is drawn: line/marker colour, marker, line style."""

    color: str
    marker: str = "o"
    dash: str = "-"


#: Label -> :class:`Look` (tab10 colours for the paper's optimizers). Labels
#: that share a colour are the same optimizer under the names of different
#: experiments (e.g. ``MAMGD`` and ``MAMGD authors_code``).
LOOKS = {
    # the paper's optimizers and the other figures'
    registry.MAMGD: Look("#d62728", "o"),
    registry.MAMGD_ALGORITHM6: Look("#8c564b", "h"),
    registry.ADAEXP: Look("#e377c2", "X"),
    registry.ADAM: Look("#1f77b4", "s", "--"),
    registry.AMSGRAD: Look("#17becf", "P", ":"),
    registry.ADAGRAD: Look("#2ca02c", "^"),
    registry.RMSPROP: Look("#ff7f0e", "D"),
    registry.SGD: Look("#9467bd", "v"),
    # the ablation (notebook 09)
    registry.CODE: Look("#d62728"),
    registry.ALGORITHM6_LABEL: Look("#8c564b"),
    registry.CODE_K0: Look("#7f7f7f", dash="-."),
    registry.CODE_CURVATURE: Look("#9467bd"),
    registry.CODE_SQRT: Look("#bcbd22"),
    registry.ALGORITHM6_NO_CURVATURE: Look("#c49c94"),
    registry.ADAEXP_FLOAT64: Look("#e377c2", dash=":"),
    # the from-scratch references (notebook 10)
    registry.TUTORIAL_AMSGRAD: Look("#8c6d31", "."),
    registry.NUMPY_ADAM: Look("#1f77b4", "o"),
    registry.KERAS_ADAM: Look("#ff7f0e", "x"),
    registry.NUMPY_MAMGD: Look("#d62728", "s"),
    registry.NUMPY_MAMGD_ALGORITHM6: Look("#8c564b", "^"),
}

#: Looks of labels that are not optimizers of the registry: the equal-budget
#: comparison's A/A arm (Adam tuned a second time) in a light Adam blue.
EXTRA_LOOKS = {registry.ADAM_REPLICATE: Look("#aec7e8", "s", ":")}

#: Colours for labels that are not in :data:`LOOKS` (stable per name).
FALLBACK_COLORS = ("#7f7f7f", "#bcbd22", "#393b79", "#637939", "#8c6d31")


def look(label):
    """``{"color", "marker"}`` of optimizer ``label`` (a stable fallback for others)."""
    entry = LOOKS.get(label) or EXTRA_LOOKS.get(label)
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
    entry = LOOKS.get(label) or EXTRA_LOOKS.get(label)
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
