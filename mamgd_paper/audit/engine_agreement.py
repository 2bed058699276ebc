"""Does the training engine train the paper's networks as Keras ``fit`` on TensorFlow does?

The notebooks train every network with the compiled engine
(:mod:`mamgd_paper.engine`: Keras on JAX, many models at once); the authors
trained with Keras ``fit`` on TensorFlow. For Tables 7, 8, 10 and 11 a
reference of ``fit`` runs on TensorFlow, one model at a time, is committed
(``figures/reference/keras_fit_tableNN.csv``, made once by
``make keras-reference``: :mod:`mamgd_paper.engine.keras_reference`). Per
table and optimizer, the engine's seeds (``tableNN_seeds.csv``) and the
reference's are compared by the two-sample version of the run-level test
(:func:`mamgd_paper.audit.calibration.two_sample_test`: each run's level, the
mean over epochs of log(training loss), Welch's t), Holm-corrected over all
runs at :data:`mamgd_paper.audit.calibration.ALPHA`: ``same`` (not shown to
differ) or ``differs``. The two never share a seed's initial weights or batch
order (different random generators), so only the distributions are compared.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from mamgd_paper.audit import calibration
from mamgd_paper.core.stats import holm
from mamgd_paper.experiments.networks.tasks import TASKS

#: The tables with a committed Keras ``fit`` reference.
TABLES = (7, 8, 10, 11)
#: Columns of ``engine_vs_keras_fit.csv``.
COLUMNS = ["table", "optimizer", "seeds_engine", "seeds_keras", "statistic", "p_value",
           "p_adjusted", "verdict"]
SAME, DIFFERS = "same", "differs"
#: The table's file stem.
STEM = "engine_vs_keras_fit"


def reference_path(figures_dir, table):
    """The committed reference of ``table`` under ``figures_dir``."""
    return Path(figures_dir) / "reference" / f"keras_fit_table{table:02d}.csv"


def _curves(frame, optimizer):
    part = frame[frame["optimizer"] == optimizer]
    return part.pivot(index="seed", columns="epoch", values="loss").sort_index(axis=1)


def compare(figures_dir):
    """The comparison table (:data:`COLUMNS`), the runs skipped and the paths read.

    A run is compared when both sides have at least 2 seeds with the same
    epochs; the others are returned as ``(table, optimizer, reason)``.
    """
    figures_dir = Path(figures_dir)
    rows, skipped, paths = [], [], []
    for table in TABLES:
        engine_path = figures_dir / "tables" / f"{TASKS[table].seeds_stem}.csv"
        reference = reference_path(figures_dir, table)
        if not (engine_path.is_file() and reference.is_file()):
            continue
        paths += [engine_path, reference]
        engine, keras_fit = pd.read_csv(engine_path), pd.read_csv(reference)
        for optimizer in dict.fromkeys(keras_fit["optimizer"]):
            ours, theirs = _curves(engine, optimizer), _curves(keras_fit, optimizer)
            if len(ours) < 2 or list(ours.columns) != list(theirs.columns):
                skipped.append((table, optimizer, f"{len(ours)} engine seed(s) of "
                                f"{len(ours.columns)} epochs"))
                continue
            t, p = calibration.two_sample_test(ours.to_numpy(), theirs.to_numpy())
            rows.append({"table": table, "optimizer": optimizer, "seeds_engine": len(ours),
                         "seeds_keras": len(theirs), "statistic": t, "p_value": p})
    frame = pd.DataFrame(rows, columns=COLUMNS[:6])
    frame["p_adjusted"] = holm(frame["p_value"]) if len(frame) else []
    frame["verdict"] = np.where(frame["p_adjusted"] < calibration.ALPHA, DIFFERS, SAME)
    return frame[COLUMNS], skipped, paths


def summary(frame):
    """What the report says: counts, the smallest p and the test's power."""
    if not len(frame):
        return None
    smallest = frame.sort_values("p_value", kind="stable").iloc[0]
    level = calibration.ALPHA / len(frame)
    shifts = {(int(r.seeds_engine), int(r.seeds_keras)): calibration.two_sample_detectable_shift(
        int(r.seeds_engine), int(r.seeds_keras), level) for r in frame.itertuples()}
    return {"runs": len(frame), "same": int((frame["verdict"] == SAME).sum()),
            "differs": [f"Table {r.table} {r.optimizer}" for r in frame.itertuples()
                        if r.verdict == DIFFERS],
            "smallest": {"run": f"Table {smallest['table']} {smallest['optimizer']}",
                         "p_value": float(smallest["p_value"]),
                         "p_adjusted": float(smallest["p_adjusted"])},
            "shifts": shifts, "alpha": calibration.ALPHA}
