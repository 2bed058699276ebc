"""The ablation on the paper's network tasks (notebook 09, part 6).

The ablation's optimizers (:data:`NETWORK_CONFIGS`, Keras) are trained with
:mod:`mamgd_paper.experiments.networks` (the same models, data,
batches, initial weights per seed and determinism as the Tables 7-11 runs):
:func:`network_ablation` for one task, :func:`run_tables` for several with
the notebook's quick plan (:func:`run_plan`), :func:`network_summary` and
:func:`network_lines` for the outcome.

Paper: Sakovich et al., "MAMGD: Gradient-Based Optimization Method Using
Exponential Decay", Technologies 12(9):154, 2024, doi:10.3390/technologies12090154.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mamgd_paper.experiments.networks import tasks, training
from mamgd_paper.paper import registry

#: The network ablation's optimizers (registry labels; lr 1e-3, k = the table's MAMGD k).
NETWORK_CONFIGS = (registry.CODE, registry.ALGORITHM6_LABEL, registry.ADAEXP, registry.ADAM,
                   registry.AMSGRAD, registry.CODE_CURVATURE, registry.CODE_SQRT, registry.CODE_K0)


def network_ablation(table=7, seeds=(0,), configs=NETWORK_CONFIGS, epochs=None,
                     quick=False, data_dir=None, data=None):
    """Train the ablation's optimizers on one of the paper's network tasks.

    Uses :mod:`mamgd_paper.experiments.networks` (the same models, data, batches, initial weights
    per seed and determinism as the Tables 7-11 runs). Returns ``(history,
    info)``: the long history (``table, seed, optimizer, epoch`` + the task's
    columns) and a dict with the task, epochs, k, sizes and seconds; history is
    ``None`` and ``info["reason"]`` set when the data are not available.
    """
    task = tasks.TASKS[int(table)]
    epochs = (min(task.epochs, tasks.QUICK_EPOCHS) if quick else task.epochs) \
        if epochs is None else int(epochs)
    info = {"table": task.table, "task": task.title, "k": task.k, "epochs": epochs,
            "seeds": list(seeds), "batch_size": task.batch_size, "seconds": {}}
    if data is None:
        status = task.is_available(data_dir)  # (available, reason[, detail])
        if not status[0]:
            info["reason"] = status[1]
            return None, info
        data = task.prepare(task.load(data_dir), quick=quick)
    info["sizes"] = data.sizes()
    specs = [tasks.OptimizerSpec(label, (("learning_rate", tasks.LEARNING_RATE),
                                            ("k", task.k)))
             for label in configs]
    history, info["seconds"] = training.train_seeds(task, data, specs, [int(s) for s in seeds],
                                                    epochs)
    history.insert(0, "table", task.table)
    return history, info


def network_summary(history, reference=registry.CODE):
    """Per table and optimizer: final-epoch training and validation loss over seeds.

    Columns ``table, optimizer, n_seeds, final_loss_mean, final_loss_min,
    final_loss_max, final_val_loss_mean, change_vs_reference`` (relative
    change of the mean final training loss against ``reference``) and
    ``wins_vs_reference`` (seeds whose final training loss is below the
    reference's for the same seed).
    """
    rows = []
    for table, runs in history.groupby("table", sort=False):
        last = runs[runs["epoch"] == runs["epoch"].max()]
        ref = last[last["optimizer"] == reference].set_index("seed")["loss"]
        for name, group in last.groupby("optimizer", sort=False):
            per_seed = group.set_index("seed")["loss"]
            common = per_seed.index.intersection(ref.index)
            rows.append({
                "table": int(table), "optimizer": name, "n_seeds": int(len(group)),
                "final_loss_mean": float(group["loss"].mean()),
                "final_loss_min": float(group["loss"].min()),
                "final_loss_max": float(group["loss"].max()),
                "final_val_loss_mean": float(group["val_loss"].mean()),
                "change_vs_reference": float(group["loss"].mean() / ref.mean() - 1)
                if len(ref) else np.nan,
                "wins_vs_reference": int((per_seed[common] < ref[common]).sum()),
            })
    return pd.DataFrame(rows)


#: The optimizers of a quick run (a subset of :data:`NETWORK_CONFIGS`, kept in its order).
QUICK_CONFIGS = (registry.CODE, registry.ALGORITHM6_LABEL, registry.CODE_CURVATURE,
                 registry.ADAM)
#: Epochs of a quick run (full runs: each task's own epochs).
QUICK_RUN_EPOCHS = 1


def run_plan(tables, seed=0, seeds=5, quick=False):
    """What notebook 09 trains: ``(tables, seeds, configs, epochs)``.

    Full runs: every table of ``tables``, seeds ``seed .. seed + seeds - 1``,
    :data:`NETWORK_CONFIGS` and each task's epochs (``None``). Quick runs: the
    first table, one seed, :data:`QUICK_CONFIGS` and :data:`QUICK_RUN_EPOCHS`.
    """
    tables = list(tables)
    if quick:
        configs = tuple(c for c in NETWORK_CONFIGS if c in QUICK_CONFIGS)
        return tables[:1], [int(seed)], configs, QUICK_RUN_EPOCHS
    return tables, list(range(int(seed), int(seed) + int(seeds))), NETWORK_CONFIGS, None


def run_tables(tables, seed=0, seeds=5, quick=False, data_dir=None):
    """:func:`network_ablation` on every task of :func:`run_plan`.

    Returns ``(histories, notes)``: the history of every task that ran, and
    one note per task (what ran, or why not). The notes carry no run time,
    so a caption made of them stays byte-stable.
    """
    run, seed_list, configs, epochs = run_plan(tables, seed, seeds, quick)
    histories, notes = [], []
    for table in run:
        history, info = network_ablation(table, seeds=seed_list, configs=configs,
                                         epochs=epochs, quick=quick, data_dir=data_dir)
        if history is None:
            notes.append(f"Table {table} task not run: {info['reason']}")
            continue
        histories.append(history)
        notes.append(f"Table {table} task: {info['task']}, {info['epochs']} epochs, batch "
                     f"{info['batch_size']}, k = {info['k']:g}, seeds {info['seeds']}, "
                     f"sizes {info['sizes']}")
    return histories, notes


def network_lines(summary):
    """One sentence per row of :func:`network_summary`: final loss, change and wins."""
    return [f"Table {r.table} task, {r.optimizer}: final training loss "
            f"{r.final_loss_mean:.4g} ({100 * r.change_vs_reference:+.1f}% vs the "
            f"authors' code, below it on {r.wins_vs_reference}/{r.n_seeds} seeds)"
            for r in summary.itertuples()]
