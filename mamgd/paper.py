"""The paper's published numbers (Tables 1-11) and cell-by-cell comparison.

``mamgd/data/paper_tables.csv`` holds all 765 numbers of Sakovich et al.,
*Technologies* 2024, 12, 154, Tables 1-11, one row per number
(``table, title, epoch, optimizer, loss``), as typed from the paper.
"""

from importlib import resources

import numpy as np
import pandas as pd

#: Number of decimals the paper prints.
PAPER_DECIMALS = 6


def load_paper_tables():
    """Return the 765 published numbers as a long DataFrame."""
    with resources.files("mamgd").joinpath("data/paper_tables.csv").open() as fh:
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


def as_printed(values, decimals=PAPER_DECIMALS):
    """Return ``values`` as a table prints them: ``"%.{decimals}f"``, read back.

    ``np.round`` works on the scaled binary value and can differ from the
    printed decimal in the last place; comparing what ``"%.6f"`` prints is
    comparing exactly what a reader sees.
    """
    fmt = f"%.{decimals}f"
    return np.array([float(fmt % v) for v in np.ravel(values)]).reshape(np.shape(values))


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
                         bool(as_printed(mine) == value)))
    return pd.DataFrame(rows, columns=["table", "epoch", "optimizer", "paper",
                                       "reproduced", "match"])
