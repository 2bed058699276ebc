"""The table of the comparison: one row per (problem, arm, target).

:func:`results_table` builds ``figures/tables/equal_budget.csv`` (the columns
:data:`COLUMNS`; docs/protocol.md, section 7) from a run's
:class:`~mamgd_paper.experiments.equal_budget.results.Results`:

* **the outcome of a held-out unit** (a start point of a function, a re-run
  seed of a network): functions, the steps to reach the row's target (``inf``:
  not reached) with the final gap as tie-break; networks, the final test
  metric (``inf``: diverged);
* **over studies**: each study's median over its units, then the median of
  the studies' medians with its exact order-statistic interval
  (``ci_low``, ``ci_high``, ``ci_coverage``) and their range
  (``study_min``, ``study_max``);
* **against Adam**: per study r the win score W_r, the share of study r's
  units on which the arm is better than Adam's study r minus the share on
  which it is worse (units paired); ``difference_vs_adam`` is their mean,
  ``p_value`` the exact two-sided sign-flip test over studies,
  ``p_equivalence`` the TOST with margin ``EQUIVALENCE_MARGIN``; both are
  adjusted by Holm's step-down correction over the whole family of rows
  (``p_adjusted``, ``p_equivalence_adjusted``) and give ``verdict_vs_adam``.

:func:`printable` formats it for the CSV, LaTeX and Markdown files (``inf``
is written ``inf``; no sentinel number anywhere).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mamgd_paper.core import stats
from mamgd_paper.experiments.equal_budget import network_problems, protocol
from mamgd_paper.experiments.equal_budget import statistics as comparison
from mamgd_paper.experiments.equal_budget.protocol import BASELINE, FUNCTION, TARGETS

#: Columns of figures/tables/equal_budget.csv.
COLUMNS = ["problem", "kind", "optimizer", "trials", "studies", "seeds", "horizon", "target",
           "metric", "median", "ci_low", "ci_high", "ci_coverage", "study_min", "study_max",
           "success_rate", "failures", "median_final", "median_epochs_to_target",
           "difference_vs_adam", "p_value", "p_adjusted", "p_equivalence",
           "p_equivalence_adjusted", "min_p", "verdict_vs_adam", "best_learning_rate",
           "learning_rate_at_edge"]


def unit_outcomes(results, problem, arm, target):
    """Per study, the units' outcomes and tie-breaks: a list of ``(outcome, tiebreak)``."""
    config, out = results.config, []
    for r in range(config.studies(problem)):
        evaluation = results.evaluations[(problem.name, arm, r)]
        if problem.kind == FUNCTION:
            out.append((evaluation["steps"][f"{target:g}"], evaluation["final_gap"]))
        else:
            out.append((np.where(evaluation["diverged"], np.inf, evaluation["test"]), None))
    return out


def _row(results, problem, arm, target):
    config = results.config
    outcomes = unit_outcomes(results, problem, arm, target)
    medians = np.array([np.median(o) for o, _ in outcomes])
    median, low, high, coverage = stats.median_interval(medians)
    cells = np.concatenate([o for o, _ in outcomes])
    mine = results.studies[(results.studies["problem"] == problem.name)
                           & (results.studies["arm"] == arm)]
    row = {"problem": problem.name, "kind": problem.kind, "optimizer": arm,
           "trials": config.trials(problem), "studies": config.studies(problem),
           "seeds": len(outcomes[0][0]),
           "horizon": config.horizon if problem.kind == FUNCTION else config.epochs(problem),
           "target": target, "metric": problem.metric(config, target),
           "median": median, "ci_low": low, "ci_high": high, "ci_coverage": coverage,
           "study_min": float(medians.min()), "study_max": float(medians.max()),
           "best_learning_rate": float(np.median(mine["best_learning_rate"])),
           "learning_rate_at_edge": int(mine["learning_rate_at_edge"].sum())}
    if problem.kind == FUNCTION:
        finals = np.concatenate([t for _, t in outcomes])
        row.update(success_rate=float(np.isfinite(cells).mean()),
                   failures=int((~np.isfinite(cells)).sum()),
                   median_final=float(np.median(finals)), median_epochs_to_target=np.nan)
    else:
        epochs = np.concatenate([
            network_problems.epochs_to_target(results.evaluations[(problem.name, arm, r)]
                                              ["test_epochs"], target)
            for r in range(config.studies(problem))])
        row.update(success_rate=float(np.isfinite(epochs).mean()),
                   failures=int((~np.isfinite(cells)).sum()),
                   median_final=float(np.median(cells)),
                   median_epochs_to_target=float(np.median(epochs)))
    return row


def win_by_study(results, problem, arm, target):
    """W_r for every study r: the arm against Adam on study r's paired units."""
    mine = unit_outcomes(results, problem, arm, target)
    base = unit_outcomes(results, problem, BASELINE, target)
    return np.array([stats.win_scores(a, b, ta, tb).mean()
                     for (a, ta), (b, tb) in zip(mine, base)])


def results_table(results):
    """One row per (problem, arm, target): see :data:`COLUMNS` and the module doc."""
    config, rows = results.config, []
    for problem in config.problem_list:
        targets = TARGETS if problem.kind == FUNCTION else (
            protocol.NETWORK_TARGETS[problem.table],)
        for target in targets:
            for arm in config.arms:
                row = _row(results, problem, arm, target)
                row.update(difference_vs_adam=np.nan, p_value=np.nan, p_equivalence=np.nan,
                           min_p=np.nan, verdict_vs_adam="")
                if arm != BASELINE:
                    wins = win_by_study(results, problem, arm, target)
                    row.update(difference_vs_adam=float(wins.mean()),
                               p_value=stats.sign_flip_test(wins),
                               p_equivalence=stats.tost_sign_flip(
                                   wins, protocol.EQUIVALENCE_MARGIN),
                               min_p=stats.sign_flip_min_p(len(wins)))
                rows.append(row)
    table = pd.DataFrame(rows)
    table["p_adjusted"] = stats.holm(table["p_value"].to_numpy(float))
    table["p_equivalence_adjusted"] = stats.holm(
        table["p_equivalence"].to_numpy(float))
    compared = table["optimizer"] != BASELINE
    table.loc[compared, "verdict_vs_adam"] = [
        comparison.verdict(p, q, effect, protocol.ALPHA)
        for p, q, effect in zip(table.loc[compared, "p_adjusted"],
                                table.loc[compared, "p_equivalence_adjusted"],
                                table.loc[compared, "difference_vs_adam"])]
    return table[COLUMNS]


def printable(table, digits=6):
    """``table`` with floats as ``%.{digits}g`` text (``inf`` kept, missing values
    empty): what the CSV, LaTeX and Markdown files show."""
    out = table.copy()
    for column in out.columns:
        if pd.api.types.is_float_dtype(out[column]):
            out[column] = ["" if pd.isna(v) else "inf" if np.isinf(v) and v > 0
                           else f"%.{digits}g" % v for v in out[column]]
    return out.astype(object)


def unit_steps(results, target):
    """Steps to ``target`` of every held-out run of the test functions: a
    DataFrame, one row per (problem, study, start), one column per arm (inf:
    not reached); the data profiles' input."""
    config, frames = results.config, []
    for problem in config.problem_list:
        if problem.kind != FUNCTION:
            continue
        columns = {}
        for arm in config.arms:
            columns[arm] = np.concatenate([o for o, _ in unit_outcomes(results, problem, arm,
                                                                       target)])
        frame = pd.DataFrame(columns)
        frame.insert(0, "problem", problem.name)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True).drop(columns="problem")
