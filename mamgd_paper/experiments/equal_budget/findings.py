"""The finding of the equal-budget comparison (notebook 11) as a section of REPORT.md.

:func:`equal_budget_comparison` takes the table ``tables/equal_budget.csv``
(``None`` when it is missing) and returns the Markdown body of the report's
section; :data:`SECTIONS` gives its title and table stem to
:mod:`mamgd_paper.audit.findings`.
"""

import numpy as np
import pandas as pd

from mamgd_paper.audit import markdown
from mamgd_paper.experiments.equal_budget import protocol, summary
from mamgd_paper.paper import registry as reg


def _fmt(value):
    value = float(value)
    return "inf" if np.isinf(value) else f"{value:.3g}"


def equal_budget_comparison(table):
    """Notebook 11: the equal-budget comparison (docs/protocol.md, section 7)."""
    if table is None:
        return markdown.missing([protocol.TABLE_STEM], "notebook 11")
    table = table.copy()
    table["verdict_vs_adam"] = table["verdict_vs_adam"].fillna("")
    lines = [f"**{summary.answer(table)}**", ""]
    rows = summary.primary_rows(table)
    counts = summary.verdict_counts(rows)
    lines += ["Verdicts against Adam on the primary rows (functions: steps to the gap "
              f"{protocol.PRIMARY_TARGET:g}; networks: the final test metric), per arm:", "",
              markdown.table(counts), ""]
    wrong, total = summary.false_positives(table)
    lines += [f"A/A check over every row of the table (both targets): Adam (replicate) is "
              f"better or worse than Adam on {wrong} of {total} rows; the family has "
              f"{int((table['optimizer'] != protocol.BASELINE).sum())} comparisons, all "
              f"corrected together (Holm, family-wise error rate {protocol.ALPHA:g}).", ""]
    edge = table.drop_duplicates(["problem", "optimizer"])
    edge = edge[edge["learning_rate_at_edge"] > 0]
    if len(edge):
        lines += ["Studies whose best learning rate lies in the outer 5% of the range: " +
                  ", ".join(f"{r.optimizer} on {r.problem} ({int(r.learning_rate_at_edge)} "
                            f"of {int(r.studies)})" for r in edge.itertuples()) + ".", ""]
    else:
        lines += ["No study's best learning rate lies in the outer 5% of its range.", ""]
    per = []
    for arm in (reg.MAMGD, reg.MAMGD_ALGORITHM6, protocol.REPLICATE):
        mine = rows[rows["optimizer"] == arm].set_index("problem")
        base = rows[rows["optimizer"] == protocol.BASELINE].set_index("problem")
        for problem in mine.index:
            m, a = mine.loc[problem], base.loc[problem]
            per.append({
                "problem": problem, "arm": arm, "metric": m["metric"],
                "median [CI]": f"{_fmt(m['median'])} [{_fmt(m['ci_low'])}, {_fmt(m['ci_high'])}]",
                "Adam median [CI]": (f"{_fmt(a['median'])} [{_fmt(a['ci_low'])}, "
                                     f"{_fmt(a['ci_high'])}]"),
                "success (arm / Adam)": f"{m['success_rate']:.2f} / {a['success_rate']:.2f}",
                "win score": f"{m['difference_vs_adam']:+.2f}",
                "p (Holm)": f"{m['p_adjusted']:.3g}",
                "verdict": m["verdict_vs_adam"],
            })
    if per:
        lines += ["MAMGD (authors' code), Algorithm 6 and the A/A arm against Adam, per problem "
                  "(median over studies of each study's median, exact order-statistic "
                  "interval; win score: share of paired units better minus worse):", "",
                  markdown.table(pd.DataFrame(per)), ""]
    return "\n".join(lines).rstrip()


#: The report's sections from this package: (title, function, {argument: table stem}).
SECTIONS = [
    ("Beyond the paper: does MAMGD beat Adam with the same tuning budget?",
     equal_budget_comparison, {"table": protocol.TABLE_STEM}),
]
