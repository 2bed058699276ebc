"""The finding of the equal-budget comparison (notebook 11) as a section of REPORT.md.

:func:`equal_budget_comparison` takes the table ``tables/equal_budget.csv``
(``None`` when it is missing) and returns the Markdown body of the report's
section; :data:`SECTIONS` gives its title and table stem to
:mod:`mamgd_paper.audit.findings`.
"""

import pandas as pd

from mamgd_paper.audit import markdown
from mamgd_paper.experiments.equal_budget import protocol, summary
from mamgd_paper.paper import registry as reg


def equal_budget_comparison(table):
    """Notebook 11: the equal-budget comparison (docs/protocol.md, section 7)."""
    if table is None:
        return markdown.missing([protocol.TABLE_STEM], "notebook 11")
    table["verdict_vs_adam"] = table["verdict_vs_adam"].fillna("")
    table["defaults_verdict_vs_adam"] = table["defaults_verdict_vs_adam"].fillna("")
    lines = [f"**{summary.answer(table)}**", ""]
    counts = summary.verdict_counts(table).set_index("optimizer")
    defaults = summary.verdict_counts(table, column="defaults_verdict_vs_adam")
    defaults = defaults.set_index("optimizer")
    best = summary.best_share(table)
    best_defaults = summary.best_share(table, "defaults_")
    rows = []
    for label in counts.index:
        c, d = counts.loc[label], defaults.loc[label]
        rows.append({
            "optimizer": label,
            "tuned vs tuned Adam (better/worse/indist.)":
                f"{c['better']}/{c['worse']}/{c['indistinguishable']}",
            "defaults vs Adam's defaults": f"{d['better']}/{d['worse']}/{d['indistinguishable']}",
        })
    shares = pd.DataFrame(rows)
    shares["best on (share of problems, tuned)"] = [
        f"{best[label]:.2f}" for label in counts.index]
    shares["best on (defaults)"] = [f"{best_defaults[label]:.2f}" for label in counts.index]
    adam = pd.DataFrame([{
        "optimizer": protocol.BASELINE, "tuned vs tuned Adam (better/worse/indist.)": "--",
        "defaults vs Adam's defaults": "--",
        "best on (share of problems, tuned)": f"{best[protocol.BASELINE]:.2f}",
        "best on (defaults)": f"{best_defaults[protocol.BASELINE]:.2f}"}])
    lines += ["Every optimizer got the same number of seeded TPE trials per problem over its "
              "learning rate (and, for MAMGD and AdaExp, k in the same trials); tuned on "
              "tuning starts / a validation split, reported on held-out starts / the test "
              "split (re-run seeds). Verdict: paired bootstrap 95% interval of the mean "
              "difference to Adam excluding 0. Best on: rho(1) of the Dolan-More performance "
              "profile (`equal_budget_profile`).", "",
              markdown.table(pd.concat([adam, shares], ignore_index=True)), ""]
    mine = table[table["optimizer"] == reg.MAMGD].set_index("problem")
    base = table[table["optimizer"] == protocol.BASELINE].set_index("problem")
    per = []
    for problem in mine.index:
        m, a = mine.loc[problem], base.loc[problem]
        per.append({
            "problem": problem, "metric": m["metric"],
            "MAMGD [95% CI]": f"{m['mean']:.3g} [{m['ci_low']:.3g}, {m['ci_high']:.3g}]",
            "Adam [95% CI]": f"{a['mean']:.3g} [{a['ci_low']:.3g}, {a['ci_high']:.3g}]",
            "difference [95% CI]": (f"{m['difference_vs_adam']:.3g} "
                                    f"[{m['difference_ci_low']:.3g}, "
                                    f"{m['difference_ci_high']:.3g}]"),
            "verdict": m["verdict_vs_adam"],
            "MAMGD lr, k": f"{m['best_learning_rate']:.3g}, {m['best_k']:.3g}",
            "Adam lr": f"{a['best_learning_rate']:.3g}",
        })
    if per:
        lines += ["Tuned MAMGD (authors' code) against tuned Adam, per problem (lower is "
                  "better; functions: mean log10 optimality gap over the held-out starts):",
                  "", markdown.table(pd.DataFrame(per)), ""]
    return "\n".join(lines).rstrip()


#: The report's sections from this package: (title, function, {argument: table stem}).
SECTIONS = [
    ("Beyond the paper: does MAMGD beat Adam with the same tuning budget?",
     equal_budget_comparison, {"table": protocol.TABLE_STEM}),
]
