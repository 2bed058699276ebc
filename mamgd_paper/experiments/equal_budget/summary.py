"""What the table says: verdict counts, best shares and the answer in one sentence.

All of it reads the table of :func:`mamgd_paper.experiments.equal_budget.table.results_table`
(or the committed ``figures/tables/equal_budget.csv``): notebook 11 and the
audit report (``mamgd_paper.audit``) both use it.
"""

from __future__ import annotations

import pandas as pd

from mamgd_paper.experiments.equal_budget.protocol import (BASELINE, BETTER, FUNCTION,
                                                           INDISTINGUISHABLE, NETWORK, WORSE)
from mamgd_paper.experiments.equal_budget.statistics import cost, performance_ratios
from mamgd_paper.paper import registry


def verdict_counts(table, kind=None, column="verdict_vs_adam"):
    """Per optimizer (not Adam): how many problems are better / worse / indistinguishable."""
    rows = []
    part = table if kind is None else table[table["kind"] == kind]
    for label in dict.fromkeys(part["optimizer"]):
        if label == BASELINE:
            continue
        verdicts = part.loc[part["optimizer"] == label, column]
        rows.append({"optimizer": label, BETTER: int((verdicts == BETTER).sum()),
                     WORSE: int((verdicts == WORSE).sum()),
                     INDISTINGUISHABLE: int((verdicts == INDISTINGUISHABLE).sum()),
                     "problems": int(len(verdicts))})
    return pd.DataFrame(rows, columns=["optimizer", BETTER, WORSE, INDISTINGUISHABLE,
                                       "problems"])


def profile_costs(table, prefix=""):
    """Problems x optimizers costs (:func:`~mamgd_paper.experiments.equal_budget.statistics.cost`)
    for the performance profile; ``prefix="defaults_"``: of the one-shot defaults."""
    problems = list(dict.fromkeys(table["problem"]))
    labels = list(dict.fromkeys(table["optimizer"]))
    means = table.set_index(["problem", "optimizer"])[f"{prefix}mean"]
    return pd.DataFrame([[cost(p, float(means[(p, o)])) for o in labels] for p in problems],
                        index=pd.Index(problems, name="problem"),
                        columns=pd.Index(labels, name="optimizer"))


def best_share(table, prefix=""):
    """Per optimizer, the share of problems on which it has the lowest mean
    (rho(1) of the profile; ties count for every optimizer tied)."""
    ratios = performance_ratios(profile_costs(table, prefix))
    return (ratios <= 1.0).mean(axis=0)


def answer(table):
    """The answer in one sentence, with the numbers (README and REPORT.md)."""
    counts = verdict_counts(table).set_index("optimizer")
    problems = table["problem"].nunique()
    trials = table.groupby("kind")["trials"].max()
    budget = " and ".join(f"{int(trials[k])} trials per {k} problem" for k in (FUNCTION, NETWORK)
                          if k in trials.index)
    if registry.MAMGD not in counts.index:
        return f"MAMGD was not part of this run ({problems} problems, {budget})."
    c = counts.loc[registry.MAMGD]
    lead = ("Yes, more often than not" if c[BETTER] > c[WORSE]
            else "No" if c[BETTER] < c[WORSE] else "Not clearly")
    text = (f"{lead}: with the same budget for every optimizer ({budget}, seeded TPE, "
            f"held-out evaluation), tuned MAMGD is better than tuned Adam on {c[BETTER]} of "
            f"{problems} problems, worse on {c[WORSE]} and indistinguishable on "
            f"{c[INDISTINGUISHABLE]} (paired bootstrap 95% interval of the mean difference)")
    others = [f"{label} {int(counts.loc[label, BETTER])}/{int(counts.loc[label, WORSE])}/"
              f"{int(counts.loc[label, INDISTINGUISHABLE])}"
              for label in counts.index if label != registry.MAMGD]
    if others:
        text += ("; better/worse/indistinguishable against Adam for the others: "
                 + ", ".join(others))
    return text + "."
