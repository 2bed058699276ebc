"""What a task's notebook writes: its tables under ``figures/tables`` and its status line."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from mamgd_paper.core.artifacts import write_table
from mamgd_paper.experiments.networks.verdicts import (band_verdicts, mean_table, summary_table,
                                                       verdict_sentence)


def status_line(result):
    """One line saying what was run (or why not)."""
    task = result.task
    if not result.ran:
        return f"Table {task.table} not run: {result.reason}"
    mode = "quick smoke run" if result.quick else "paper protocol"
    return (f"Table {task.table} run ({mode}): {len(result.seeds)} seed(s) "
            f"{result.seeds[0]}..{result.seeds[-1]}, {result.epochs} epochs, "
            f"optimizers {', '.join(task.optimizer_names)}.")


def write_outputs(result, figures_dir):
    """Write every table of ``result`` under ``figures_dir/tables`` (csv, tex, md).

    Always ``tableNN_status``; when run also ``tableNN`` (mean training loss,
    paper layout), ``tableNN_seeds`` (long), ``tableNN_verdicts`` and
    ``tableNN_summary``. Returns a dict of DataFrames (and the verdict).
    """
    task = result.task
    tables = Path(figures_dir) / "tables"
    stem = task.stem
    out = {}
    if result.ran:
        n = len(result.seeds)
        out["mean"] = mean_table(result.history, task)
        out["seeds"] = result.history
        out["verdicts"] = band_verdicts(result.history, task.table)
        out["summary"] = summary_table(result.history, task)
        out["verdict"] = verdict_sentence(out["verdicts"], task.table, n)
        write_table(out["mean"], tables, stem, caption=(
            f"Table {task.table} ({task.title}): training loss per epoch, mean over "
            f"{n} seed(s), MAMGD k = {task.k:g}."))
        write_table(out["seeds"], tables, task.seeds_stem, caption=(
            f"Table {task.table} ({task.title}): every seed, epoch and optimizer; "
            f"training and held-out metrics. {task.heldout}"))
        write_table(out["verdicts"], tables, task.verdicts_stem, caption=(
            f"Table {task.table}: each published number against our {n}-seed band."))
        write_table(out["summary"], tables, task.summary_stem, caption=(
            f"Table {task.table} ({task.title}): final training loss, best validation "
            f"{task.heldout_metric}, test {task.heldout_metric}; mean and std over "
            f"{n} seed(s). {task.heldout}"))
    out["status"] = pd.DataFrame([{
        "table": task.table, "status": result.status,
        "seeds": len(result.seeds) if result.ran else 0,
        "epochs": result.epochs if result.ran else 0,
        "quick": result.quick,
        "note": status_line(result),
        "verdict": out.get("verdict", ""),
    }])
    write_table(out["status"], tables, task.status_stem,
                caption=f"Table {task.table}: what was run.")
    return out
