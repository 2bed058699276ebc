"""The table of the comparison: one row per (problem, optimizer).

:func:`results_table` builds ``figures/tables/equal_budget.csv`` (the columns
:data:`COLUMNS`; docs/protocol.md, section 7) from a run's
:class:`~mamgd_paper.experiments.equal_budget.results.Results`;
:func:`printable` formats it for the CSV, LaTeX and Markdown files.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mamgd_paper.experiments.equal_budget.protocol import BASELINE, FUNCTION
from mamgd_paper.experiments.equal_budget.statistics import (bootstrap_interval, paired_verdict,
                                                             statistic_rng)

#: Columns of figures/tables/equal_budget.csv (the first eleven are the protocol's).
COLUMNS = ["problem", "optimizer", "trials", "best_learning_rate", "best_k", "seeds", "metric",
           "mean", "ci_low", "ci_high", "verdict_vs_adam", "kind", "pruned_trials",
           "tuning_value", "difference_vs_adam", "difference_ci_low", "difference_ci_high",
           "reached_target", "median_steps_to_target", "diverged", "defaults_learning_rate",
           "defaults_k", "defaults_mean", "defaults_ci_low", "defaults_ci_high",
           "defaults_verdict_vs_adam"]


def _median_steps(steps):
    steps = np.asarray(steps, dtype=float)
    steps[steps < 0] = np.inf
    return float(np.median(steps))


def results_table(results):
    """One row per (problem, optimizer): see :data:`COLUMNS` and docs/protocol.md, section 7."""
    config, rows = results.config, []
    for problem in config.problem_list:
        base = results.tuned[(problem.name, BASELINE)]["values"]
        base_defaults = results.defaults[(problem.name, BASELINE)]["values"]
        part = results.trials[(results.trials["problem"] == problem.name)]
        for label in config.optimizers:
            tuned = results.tuned[(problem.name, label)]
            defaults = results.defaults[(problem.name, label)]
            mine = part[part["optimizer"] == label]
            complete = mine[mine["state"] == "complete"]
            mean, low, high = bootstrap_interval(
                tuned["values"], statistic_rng(config.seed, problem.name, label, "tuned"))
            d_mean, d_low, d_high = bootstrap_interval(
                defaults["values"], statistic_rng(config.seed, problem.name, label, "defaults"))
            row = {
                "problem": problem.name, "optimizer": label, "trials": len(mine),
                "best_learning_rate": tuned["learning_rate"],
                "best_k": np.nan if tuned["k"] is None else tuned["k"],
                "seeds": len(tuned["values"]), "metric": problem.metric(config),
                "mean": mean, "ci_low": low, "ci_high": high, "verdict_vs_adam": "",
                "kind": problem.kind, "pruned_trials": int((mine["state"] == "pruned").sum()),
                "tuning_value": float(complete["value"].min()),
                "difference_vs_adam": np.nan, "difference_ci_low": np.nan,
                "difference_ci_high": np.nan,
                "reached_target": np.nan, "median_steps_to_target": np.nan,
                "diverged": int(tuned["diverged"]),
                "defaults_learning_rate": defaults["learning_rate"],
                "defaults_k": np.nan if defaults["k"] is None else defaults["k"],
                "defaults_mean": d_mean, "defaults_ci_low": d_low, "defaults_ci_high": d_high,
                "defaults_verdict_vs_adam": "",
            }
            if problem.kind == FUNCTION:
                steps = np.asarray(tuned["steps_to_target"])
                row["reached_target"] = float((steps >= 0).mean())
                row["median_steps_to_target"] = _median_steps(steps)
            if label != BASELINE:
                verdict, diff, diff_low, diff_high = paired_verdict(
                    tuned["values"], base,
                    statistic_rng(config.seed, problem.name, label, "vs-adam"))
                row.update(verdict_vs_adam=verdict, difference_vs_adam=diff,
                           difference_ci_low=diff_low, difference_ci_high=diff_high)
                row["defaults_verdict_vs_adam"] = paired_verdict(
                    defaults["values"], base_defaults,
                    statistic_rng(config.seed, problem.name, label, "defaults-vs-adam"))[0]
            rows.append(row)
    return pd.DataFrame(rows, columns=COLUMNS)


def printable(table, digits=6):
    """``table`` with floats as ``%.{digits}g`` text and missing values empty
    (what the CSV, LaTeX and Markdown files show; the CSV reads back as numbers)."""
    out = table.copy()
    for column in out.columns:
        if pd.api.types.is_float_dtype(out[column]):
            out[column] = ["" if pd.isna(v) else f"%.{digits}g" % v for v in out[column]]
    return out.astype(object)
