"""The paper's published numbers (Tables 1-11) and the verdict rules.

``mamgd_paper/paper/paper_tables.csv`` holds all 765 numbers of Sakovich et al.,
*Technologies* 2024, 12, 154, Tables 1-11, one row per number
(``table, title, epoch, optimizer, loss``), as typed from the paper.

A reproduced number gets one of the verdicts :data:`VERDICTS`:

``exact`` / ``mismatch``
    Tables 1-6 (deterministic): our value printed with ``"%.6f"``, as the
    paper prints, is the published number, or not (:func:`exact_verdict`).
``within-band`` / ``outside-band``
    Tables 7-11 (single unseeded runs in the paper): the published number
    lies inside the band [min, max] of our seeds, all three as printed with
    6 decimals, or outside it by some distance (:func:`band_verdict`).
``not-run``
    No reproduced value (e.g. the dataset is absent).
"""

import math
from importlib import resources

import numpy as np
import pandas as pd

#: Number of decimals the paper prints.
PAPER_DECIMALS = 6
#: Smallest error the paper's tables can show as non-zero: half a unit in the
#: last printed decimal (5e-7); anything below prints as "0.000000".
PRINT_RESOLUTION = 0.5 * 10.0 ** -PAPER_DECIMALS
#: Verdict labels, in report order.
EXACT, MISMATCH, WITHIN, OUTSIDE, NOT_RUN = (
    "exact", "mismatch", "within-band", "outside-band", "not-run")
VERDICTS = (EXACT, MISMATCH, WITHIN, OUTSIDE, NOT_RUN)
#: Tables reproduced exactly (test functions) and against a seed band (networks).
FUNCTION_TABLES = (1, 2, 3, 4, 5, 6)
NETWORK_TABLES = (7, 8, 9, 10, 11)


def load_paper_tables():
    """Return the 765 published numbers as a long DataFrame."""
    with resources.files(__package__).joinpath("paper_tables.csv").open() as fh:
        return pd.read_csv(fh)


def paper_table(table):
    """Return published Table ``table`` in the paper's layout.

    Columns: ``epoch`` then one column per optimizer in the paper's order.
    """
    long = load_paper_tables()
    long = long[long["table"] == table]
    if long.empty:
        raise ValueError(f"The paper has Tables 1-11; there is no Table {table!r}.")
    order = list(dict.fromkeys(long["optimizer"]))
    wide = long.pivot(index="epoch", columns="optimizer", values="loss")[order]
    wide = wide.reset_index()
    wide.columns.name = None
    return wide


def printed(value, decimals=PAPER_DECIMALS):
    """``value`` as the paper prints it: the text of ``"%.6f" % value``."""
    return f"%.{decimals}f" % float(value)


def as_printed(values, decimals=PAPER_DECIMALS):
    """Return ``values`` as a table prints them: ``"%.{decimals}f"``, read back.

    ``np.round`` works on the scaled binary value and can differ from the
    printed decimal in the last place; comparing what ``"%.6f"`` prints is
    comparing exactly what a reader sees. NaN stays NaN.
    """
    return np.array([float(printed(v, decimals)) for v in np.ravel(values)]).reshape(
        np.shape(values))


def exact_verdict(paper, reproduced):
    """``(verdict, distance)`` for a Tables 1-6 cell: exact at 6 decimals or not."""
    if reproduced is None or not np.isfinite(reproduced):
        return MISMATCH, math.inf
    if printed(reproduced) == printed(paper):
        return EXACT, 0.0
    return MISMATCH, abs(float(reproduced) - float(paper))


def band_verdict(paper, low, high):
    """``(verdict, distance)`` of a published number against a seed band [low, high].

    Inside when ``low <= paper <= high`` with all three as printed with 6
    decimals (the paper's rounding is no evidence against us); the distance is
    0 then, else the distance to the nearest band edge.
    """
    printed_low, printed_high, printed_paper = as_printed([low, high, paper])
    if printed_low <= printed_paper <= printed_high:
        return WITHIN, 0.0
    return OUTSIDE, float(max(low - paper, paper - high))


def compare_exact(table, ours):
    """Compare our wide table ``ours`` with published Table ``table`` cell by cell.

    Returns a long DataFrame (``table, epoch, optimizer, paper, reproduced,
    match``) with ``match`` true where ``"%.6f"`` of our value equals the
    published number. Raises ``ValueError`` if ``ours`` lacks a published
    row or column.
    """
    published = paper_table(table)
    missing_cols = [c for c in published.columns if c not in ours.columns]
    if missing_cols:
        raise ValueError(f"Table {table}: our table lacks columns {missing_cols}.")
    ours = ours.set_index("epoch")
    missing_rows = sorted(set(published["epoch"]) - set(ours.index))
    if missing_rows:
        raise ValueError(f"Table {table}: our table lacks epochs {missing_rows}.")
    rows = []
    for record in published.itertuples(index=False):
        epoch = record[0]
        for optimizer, value in zip(published.columns[1:], record[1:]):
            mine = float(ours.loc[epoch, optimizer])
            rows.append((table, epoch, optimizer, value, mine,
                         printed(mine) == printed(value)))
    return pd.DataFrame(rows, columns=["table", "epoch", "optimizer", "paper",
                                       "reproduced", "match"])
