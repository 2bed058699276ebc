"""Every published number against our reproduction: one verdict per number.

:func:`compare` reads the tables the notebooks wrote under ``figures/tables``
and gives the 765-row comparison of Tables 1-11 (columns :data:`COLUMNS`);
:func:`verdict_counts` counts its verdicts per table.

Verdicts (the rules are :func:`mamgd_paper.paper.published.exact_verdict` and
:func:`~mamgd_paper.paper.published.band_verdict`)
----------------------------------------------------------------------------
``exact``
    Tables 1-6: our value printed with ``"%.6f"`` is the published number.
``mismatch``
    Tables 1-6, not exact (``distance`` = |ours - paper|). Never expected.
``within-band`` / ``outside-band``
    Tables 7-11 (unseeded in the paper): the published number against the
    band [min, max] of our seeds, compared as printed with 6 decimals
    (inclusive); ``distance`` is 0 inside, else the distance to the nearest
    band edge. Recomputed here from ``paper``, ``seed_min`` and ``seed_max``
    of ``tableNN_verdicts.csv`` and checked against that file's verdict.
``not-run``
    No reproduced value (the input table is missing, e.g. the dataset is
    absent, or the epoch was not run); ``reason`` says why, from the network
    notebook's ``tableNN_status`` file when there is one.
"""

import re
from pathlib import Path

import numpy as np
import pandas as pd

from mamgd import functions
from mamgd_paper.experiments.functions import tables as function_experiments
from mamgd_paper.experiments.networks.tasks import TASKS
from mamgd_paper.paper import published as paper_module
from mamgd_paper.paper.published import (FUNCTION_TABLES, NOT_RUN, OUTSIDE, VERDICTS,
                                         band_verdict, exact_verdict, printed)

#: Columns of the comparison; paper_vs_reproduced.csv adds ``seed_percentile``
#: and ``seed_z`` for Tables 7-11 (:func:`mamgd_paper.audit.calibration.cell_positions`).
COLUMNS = ["table", "epoch", "optimizer", "paper", "reproduced", "seed_min", "seed_max",
           "verdict", "distance", "reason"]


class InconsistentInput(ValueError):
    """An input table contradicts itself or the published numbers."""


def shown_path(path, figures_dir):
    """``path`` relative to the figures folder's parent (stable across working dirs)."""
    path, base = Path(path), Path(figures_dir).parent
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def _clean(text):
    return re.sub(r"\s+", " ", str(text)).strip()


def status_reason(tables_dir, table):
    """The reason a table was not run, from its status file (or ``None``).

    Looks for ``tableNN_status.csv`` (a ``reason`` or ``note`` column),
    ``.txt`` or ``.md`` (the whole text) in ``tables_dir``.
    """
    task = TASKS.get(int(table))
    if task is None:
        return None
    stem = Path(tables_dir) / task.status_stem
    csv_path = stem.with_suffix(".csv")
    if csv_path.is_file():
        frame = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
        for column in ("reason", "note", "status"):
            if column in frame.columns and len(frame) and frame[column].iloc[0].strip():
                return _clean(frame[column].iloc[0])
        return _clean(csv_path.read_text(encoding="utf-8"))
    for suffix in (".txt", ".md"):
        path = stem.with_suffix(suffix)
        if path.is_file():
            text = _clean(path.read_text(encoding="utf-8"))
            if text:
                return text
    return None


def _status_row(tables_dir, table):
    task = TASKS.get(int(table))
    path = Path(tables_dir) / f"{task.status_stem}.csv" if task else None
    if path is None or not path.is_file():
        return None
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    return frame.iloc[0].to_dict() if len(frame) else None


def _row(table, epoch, optimizer, paper, reproduced=np.nan, seed_min=np.nan,
         seed_max=np.nan, verdict=NOT_RUN, distance=np.nan, reason=""):
    return {"table": int(table), "epoch": int(epoch), "optimizer": optimizer,
            "paper": float(paper), "reproduced": float(reproduced),
            "seed_min": float(seed_min), "seed_max": float(seed_max), "verdict": verdict,
            "distance": float(distance), "reason": reason}


def _function_rows(table, published, tables_dir, figures_dir, inputs):
    stem = function_experiments.table_stem(functions.get(int(table)))
    path = Path(tables_dir) / f"{stem}.csv"
    shown = shown_path(path, figures_dir)
    if not path.is_file():
        reason = status_reason(tables_dir, table) or f"not run: {shown} missing"
        return [_row(table, r.epoch, r.optimizer, r.loss, reason=reason)
                for r in published.itertuples()]
    inputs.append(path)
    ours = pd.read_csv(path)
    if "epoch" not in ours.columns:
        raise InconsistentInput(f"{shown} has no 'epoch' column: {list(ours.columns)}")
    ours = ours.set_index("epoch")
    rows = []
    for r in published.itertuples():
        if r.optimizer not in ours.columns:
            rows.append(_row(table, r.epoch, r.optimizer, r.loss,
                             reason=f"not run: no {r.optimizer} column in {shown}"))
            continue
        if r.epoch not in ours.index:
            rows.append(_row(table, r.epoch, r.optimizer, r.loss,
                             reason=f"not run: epoch {r.epoch} not in {shown}"))
            continue
        value = float(ours.loc[r.epoch, r.optimizer])
        verdict, distance = exact_verdict(r.loss, value)
        rows.append(_row(table, r.epoch, r.optimizer, r.loss, reproduced=value,
                         verdict=verdict, distance=distance))
    return rows


def _network_rows(table, published, tables_dir, figures_dir, inputs):
    path = Path(tables_dir) / f"{TASKS[int(table)].verdicts_stem}.csv"
    shown = shown_path(path, figures_dir)
    if not path.is_file():
        reason = status_reason(tables_dir, table)
        status = _status_row(tables_dir, table)
        if reason is None or (status and status.get("status", "").strip() == "run"):
            reason = f"not run: {shown} missing" + (f" ({reason})" if reason else "")
        return [_row(table, r.epoch, r.optimizer, r.loss, reason=reason)
                for r in published.itertuples()]
    inputs.append(path)
    ours = pd.read_csv(path)
    needed = {"epoch", "optimizer", "paper", "mean", "seed_min", "seed_max"}
    if not needed <= set(ours.columns):
        raise InconsistentInput(f"{shown} lacks columns {sorted(needed - set(ours.columns))}")
    if ours.duplicated(["epoch", "optimizer"]).any():
        raise InconsistentInput(f"{shown} has duplicate (epoch, optimizer) rows")
    ours = ours.set_index(["epoch", "optimizer"])
    rows = []
    for r in published.itertuples():
        key = (r.epoch, r.optimizer)
        if key not in ours.index:
            rows.append(_row(table, r.epoch, r.optimizer, r.loss, reason=(
                f"not run: epoch {r.epoch} of {r.optimizer} not in {shown} (a quick run?)")))
            continue
        band = ours.loc[key]
        if printed(band["paper"]) != printed(r.loss):
            raise InconsistentInput(
                f"{shown}, epoch {r.epoch}, {r.optimizer}: paper value {band['paper']} "
                f"differs from the published {r.loss}")
        low, high = float(band["seed_min"]), float(band["seed_max"])
        if not low <= float(band["mean"]) <= high:
            raise InconsistentInput(
                f"{shown}, epoch {r.epoch}, {r.optimizer}: mean {band['mean']} outside "
                f"[{low}, {high}]")
        verdict, distance = band_verdict(r.loss, low, high)
        if "verdict" in ours.columns and str(band["verdict"]) != verdict:
            raise InconsistentInput(
                f"{shown}, epoch {r.epoch}, {r.optimizer}: the file says "
                f"{band['verdict']!r}, recomputed from paper {r.loss}, band [{low}, {high}]: "
                f"{verdict!r}")
        if "distance" in ours.columns and abs(float(band["distance"]) - distance) > 2e-6:
            raise InconsistentInput(
                f"{shown}, epoch {r.epoch}, {r.optimizer}: distance {band['distance']} vs "
                f"recomputed {distance}")
        rows.append(_row(table, r.epoch, r.optimizer, r.loss, reproduced=band["mean"],
                         seed_min=low, seed_max=high, verdict=verdict, distance=distance))
    return rows


def compare(figures_dir, inputs=None):
    """The 765-row comparison of every published number (see the module doc).

    ``inputs`` (a list) collects the paths of the files that were read.
    """
    figures_dir = Path(figures_dir)
    tables_dir = figures_dir / "tables"
    inputs = [] if inputs is None else inputs
    published = paper_module.load_paper_tables()
    rows = []
    for table, part in published.groupby("table", sort=True):
        table = int(table)
        reader = _function_rows if table in FUNCTION_TABLES else _network_rows
        rows += reader(table, part, tables_dir, figures_dir, inputs)
    frame = pd.DataFrame(rows, columns=COLUMNS)
    order = published.reset_index()[["table", "epoch", "optimizer", "index"]]
    frame = frame.merge(order, on=["table", "epoch", "optimizer"]).sort_values("index")
    return frame.drop(columns="index").reset_index(drop=True)


def verdict_counts(frame):
    """Per table: cells and the count of each verdict, plus the largest distance
    outside the band and the not-run reason."""
    titles = paper_module.load_paper_tables().groupby("table")["title"].first()
    rows = []
    for table, part in frame.groupby("table", sort=True):
        counts = part["verdict"].value_counts()
        outside = part[part["verdict"] == OUTSIDE]
        reasons = list(dict.fromkeys(part.loc[part["verdict"] == NOT_RUN, "reason"]))
        rows.append({
            "table": int(table), "title": titles[table], "cells": int(len(part)),
            **{v: int(counts.get(v, 0)) for v in VERDICTS},
            "max_distance_outside": float(outside["distance"].max()) if len(outside)
            else np.nan,
            "not_run_reason": "; ".join(reasons),
        })
    total = {"table": "all", "title": "Tables 1-11", "cells": int(len(frame)),
             **{v: int((frame["verdict"] == v).sum()) for v in VERDICTS},
             "max_distance_outside": float(frame.loc[frame["verdict"] == OUTSIDE,
                                                     "distance"].max())
             if (frame["verdict"] == OUTSIDE).any() else np.nan,
             "not_run_reason": ""}
    return pd.DataFrame(rows + [total])

