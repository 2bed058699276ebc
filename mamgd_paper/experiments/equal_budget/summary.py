"""What the table says: verdict counts, the A/A check and the answer in one paragraph.

Everything here reads the table of
:func:`mamgd_paper.experiments.equal_budget.table.results_table` (or the
committed ``figures/tables/equal_budget.csv``): notebook 11, the README's
results block and REPORT.md all use it, so no count is typed by hand.
"""

from __future__ import annotations

import pandas as pd

from mamgd_paper.experiments.equal_budget import protocol
from mamgd_paper.experiments.equal_budget.protocol import (BASELINE, FUNCTION, NETWORK,
                                                           PRIMARY_TARGET, REPLICATE, VERDICTS)
from mamgd_paper.paper import registry


def primary_rows(table):
    """The rows that carry the answer: the functions at the primary target, every network."""
    functions = (table["kind"] == FUNCTION) & (table["target"].astype(float) == PRIMARY_TARGET)
    return table[functions | (table["kind"] == NETWORK)]


def verdict_counts(table, kind=None):
    """Per arm (not Adam): how many rows of ``table`` are better / worse /
    equivalent / inconclusive (``kind``: only the functions or the networks)."""
    part = table if kind is None else table[table["kind"] == kind]
    rows = []
    for arm in dict.fromkeys(part["optimizer"]):
        if arm == BASELINE:
            continue
        verdicts = part.loc[part["optimizer"] == arm, "verdict_vs_adam"]
        rows.append({"optimizer": arm, **{v: int((verdicts == v).sum()) for v in VERDICTS},
                     "rows": int(len(verdicts))})
    return pd.DataFrame(rows, columns=["optimizer", *VERDICTS, "rows"])


def false_positives(table):
    """The A/A check: rows where Adam (replicate) came out better or worse than Adam."""
    aa = table[table["optimizer"] == REPLICATE]
    return int(aa["verdict_vs_adam"].isin([protocol.BETTER, protocol.WORSE]).sum()), len(aa)


def conditions(table):
    """The conditions of the verdicts, from the table's own columns."""
    def values(kind, column):
        part = table.loc[table["kind"] == kind, column]
        return sorted(set(int(v) for v in part)) if len(part) else []

    def one(items):
        return "/".join(str(v) for v in items)

    functions = table["kind"] == FUNCTION
    targets = sorted(set(float(v) for v in table.loc[functions, "target"]))
    text = []
    if functions.any():
        text.append(f"test functions: {one(values(FUNCTION, 'studies'))} studies x "
                    f"{one(values(FUNCTION, 'trials'))} Sobol trials per optimizer (trial 0 the "
                    f"default), {one(values(FUNCTION, 'seeds'))} held-out starts per study, "
                    f"horizon {one(values(FUNCTION, 'horizon'))} steps, targets "
                    f"{', '.join(f'{t:g}' for t in targets)} (steps to target, not reached "
                    f"= failure)")
    if (table["kind"] == NETWORK).any():
        text.append(f"networks: {one(values(NETWORK, 'studies'))} studies x "
                    f"{one(values(NETWORK, 'trials'))} trials, {one(values(NETWORK, 'seeds'))} "
                    f"re-run seeds per study, final test metric (diverged = failure)")
    text.append(f"exact sign-flip test over studies on the paired win score, "
                f"Holm over all {int((table['optimizer'] != BASELINE).sum())} "
                f"comparisons at {protocol.ALPHA:g}, equivalence margin "
                f"{protocol.EQUIVALENCE_MARGIN:g} (TOST)")
    return "; ".join(text)


def answer(table):
    """The answer in one paragraph, with its numbers and conditions (README, REPORT.md)."""
    rows = primary_rows(table)
    counts = verdict_counts(rows).set_index("optimizer")
    problems = rows["problem"].nunique()

    def describe(arm):
        c = counts.loc[arm]
        return (f"better on {c['better']}, worse on {c['worse']}, equivalent on "
                f"{c['equivalent']} and inconclusive on {c['inconclusive']}")

    if registry.MAMGD not in counts.index:
        return f"MAMGD was not part of this run ({problems} problems)."
    c = counts.loc[registry.MAMGD]
    lead = ("Yes, more often than not" if c["better"] > c["worse"]
            else "No" if c["better"] < c["worse"] else "Not clearly")
    text = (f"{lead}: tuned alike, MAMGD (the authors' code) against Adam is "
            f"{describe(registry.MAMGD)} of {problems} problems")
    if registry.MAMGD_ALGORITHM6 in counts.index:
        text += f"; Algorithm 6 is {describe(registry.MAMGD_ALGORITHM6)}"
    wrong, total = false_positives(rows)
    if total:
        text += (f". A/A check: Adam tuned again with independent studies is better or worse "
                 f"than Adam on {wrong} of {total} problems")
    networks = rows[(rows["kind"] == NETWORK) & (rows["optimizer"] != BASELINE)]
    if len(networks):
        smallest = float(networks["min_p"].min())
        text += (f". On the networks no verdict can reach significance: with "
                 f"{int(networks['studies'].min())} studies the smallest attainable p is "
                 f"{smallest:.3g}")
    return text + f" ({conditions(table)})."
