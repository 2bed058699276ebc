"""Each code-vs-paper difference of MAMGD on Tables 1-6, cell by cell (notebook 09, part 1).

Every switch setting of
:data:`mamgd_paper.experiments.ablation.switched.CONFIGURATIONS` runs the
paper's MAMGD column (paper k, learning rate 0.1, float32) and is compared
with the 95 published MAMGD cells (:func:`difference_study`); the other 365
cells of Tables 1-6 are the baselines' (:func:`baseline_matches`).
:func:`summarise_differences` counts the matches per setting and per table,
:func:`with_descriptions` adds the one-line description of each single
difference.

Paper: Sakovich et al., "MAMGD: Gradient-Based Optimization Method Using
Exponential Decay", Technologies 12(9):154, 2024, doi:10.3390/technologies12090154.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mamgd import functions as test_functions
from mamgd_paper.experiments.ablation.ablation import run_errors
from mamgd_paper.experiments.ablation.switched import (CONFIGURATIONS, COUNTERFACTUALS,
                                                       DIFFERENCES, mamgd_switched)
from mamgd_paper.paper import published as paper
from mamgd_paper.paper import registry

def difference_study(configurations=None, functions=test_functions.PAPER_FUNCTIONS):
    """Every switch setting on Tables 1-6, cell by cell (MAMGD column, paper k).

    Returns a long DataFrame ``configuration, switches, table, epoch, paper,
    code, value, match, change`` over the 95 published MAMGD cells, where
    ``code`` is the authors'-code value, ``value`` the switched rule's,
    ``match`` whether ``"%.6f" % value`` equals the paper and ``change`` is
    ``|value - code|``.
    """
    configurations = CONFIGURATIONS if configurations is None else configurations
    published = paper.load_paper_tables()
    published = published[(published["table"] <= 6) & (published["optimizer"] == "MAMGD")]
    rows = []
    for f in functions:
        cells = published[published["table"] == f.table]
        epochs = cells["epoch"].to_numpy()
        code = run_errors(mamgd_switched(0.1, k=f.paper_k), f)[epochs].astype(np.float64)
        for name, sw in configurations.items():
            with np.errstate(over="ignore", invalid="ignore"):
                err = run_errors(mamgd_switched(0.1, k=f.paper_k, switches=sw), f)
            value = err[epochs].astype(np.float64)
            rows.append(pd.DataFrame({
                "configuration": name, "switches": sw.label(), "table": f.table,
                "epoch": epochs, "paper": cells["loss"].to_numpy(), "code": code,
                "value": value, "match": paper.as_printed(value) == cells["loss"].to_numpy(),
                "change": np.abs(value - code),
            }))
    return pd.concat(rows, ignore_index=True)


def baseline_matches(functions=test_functions.PAPER_FUNCTIONS):
    """How many of the 365 non-MAMGD cells of Tables 1-6 the references match."""
    published = paper.load_paper_tables()
    published = published[(published["table"] <= 6) & (published["optimizer"] != "MAMGD")]
    matched = 0
    for f in functions:
        for column in f.optimizers:
            if column == "MAMGD":
                continue
            cells = published[(published["table"] == f.table)
                              & (published["optimizer"] == column)]
            err = run_errors(registry.paper_column(column, f), f)
            matched += int((paper.as_printed(err[cells["epoch"].to_numpy()])
                            == cells["loss"].to_numpy()).sum())
    return matched, len(published)


def summarise_differences(study, baseline_matched=365):
    """Per configuration: cells matching (of 460 and of 95), mean/max change.

    Returns ``(overall, per_table)``: ``overall`` has one row per configuration
    (``match_460, match_mamgd_95, mean_abs_change, max_abs_change``),
    ``per_table`` one row per configuration and table.
    """
    per_table = (study.groupby(["configuration", "table"], sort=False)
                 .agg(switches=("switches", "first"), cells=("match", "size"),
                      match=("match", "sum"), mean_abs_change=("change", "mean"),
                      max_abs_change=("change", "max"))
                 .reset_index())
    overall = (study.groupby("configuration", sort=False)
               .agg(switches=("switches", "first"), match_mamgd_95=("match", "sum"),
                    mean_abs_change=("change", "mean"), max_abs_change=("change", "max"))
               .reset_index())
    overall.insert(2, "match_460", overall["match_mamgd_95"] + int(baseline_matched))
    for frame in (overall, per_table):
        for col in frame.columns:
            if col in ("match", "match_mamgd_95", "match_460", "cells"):
                frame[col] = frame[col].astype(int)
    return overall, per_table


def describe_configuration(name):
    """The one-line description of a single-switch setting ``code+<switch>``.

    From :data:`~mamgd_paper.experiments.ablation.switched.DIFFERENCES` or
    :data:`~mamgd_paper.experiments.ablation.switched.COUNTERFACTUALS`; ``""``
    for every other setting (Algorithm 6 and its variants, the code itself).
    """
    if not name.startswith("code+"):
        return ""
    switch = name.split("+", 1)[-1]
    return DIFFERENCES.get(switch, COUNTERFACTUALS.get(switch, ""))


def with_descriptions(overall):
    """A copy of :func:`summarise_differences`' ``overall`` with a third column
    ``description`` (:func:`describe_configuration` of each configuration)."""
    out = overall.copy()
    out.insert(2, "description", [describe_configuration(c) for c in out["configuration"]])
    return out
