"""The "Findings" of REPORT.md: each experiment's sections, fed with the tables they read.

The text of every finding lives with its experiment, in a ``findings`` module
that lists its sections in ``SECTIONS`` as ``(title, function, {argument:
table stem})``. :func:`sections` reads each named table from
``figures/tables/<stem>.csv`` (``None`` when it does not exist), calls the
function and returns the sections in the report's order; every table read is
recorded as an input of the report.
"""

from pathlib import Path

import pandas as pd

from mamgd_paper.experiments.ablation import findings as ablation_findings
from mamgd_paper.experiments.equal_budget import findings as equal_budget_findings
from mamgd_paper.experiments.scratch import findings as scratch_findings

#: The experiments whose findings the report shows, in the report's order.
SOURCES = (ablation_findings, scratch_findings, equal_budget_findings)


class TableReader:
    """Reads the tables of ``tables_dir``, appending each file it read to ``used``."""

    def __init__(self, tables_dir, used):
        self.dir, self.used = Path(tables_dir), used

    def get(self, stem):
        """``<stem>.csv`` as a data frame (read afresh on each call), or ``None``."""
        path = self.dir / f"{stem}.csv"
        if not path.is_file():
            return None
        self.used.append(path)
        return pd.read_csv(path)


def sections(tables_dir, inputs, sources=SOURCES):
    """``[(title, markdown body), ...]`` of every finding of ``sources``.

    ``inputs`` (a list) collects the paths of the tables that were read.
    """
    reader = TableReader(tables_dir, inputs)
    out = []
    for source in sources:
        for title, function, stems in source.SECTIONS:
            out.append((title, function(**{name: reader.get(stem)
                                            for name, stem in stems.items()})))
    return out
