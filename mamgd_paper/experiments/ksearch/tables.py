"""Notebook 02's tables and sentences made from the k search and the k grid.

* :func:`search_report` -- ``k_search``: found k against the paper's k and the
  grid's best k, with the MAMGD error of each at the search step count;
  :func:`search_lines` says for each function whether the found k is better
  than, as good as or worse than the paper's (:data:`BETTER_BELOW`,
  :data:`WORSE_ABOVE`).
* :func:`found_k_table` -- ``tableNN_found_k``: the published MAMGD column,
  ours with the paper's k and ours with the found k.
* :func:`transfer_holds` -- ``k_transfer_summary``: does a k tuned at one
  step count hold at the others? :func:`transfer_lines` says it in words.
* :func:`write` -- :func:`mamgd_paper.core.artifacts.write_table` with the
  integer columns written as integers.
"""

from __future__ import annotations

import pandas as pd

from mamgd import functions as test_functions
from mamgd_paper.core import artifacts
from mamgd_paper.experiments.ksearch import search
from mamgd_paper.paper import published, registry

__all__ = ["BETTER_BELOW", "WORSE_ABOVE", "REPORT_COLUMNS", "search_report", "error_verdict",
           "search_lines", "found_k_table", "transfer_holds", "transfer_lines", "write"]

#: The found k is "better than" the paper's k when its error at the search step
#: count is below this fraction of the paper k's error, "worse than" above
#: :data:`WORSE_ABOVE`, else "as good as": errors within 0.1 % of each other
#: count as equal (the two errors are float32 values of a 6-decimal table).
BETTER_BELOW = 0.999
WORSE_ABOVE = 1.001

#: Columns of ``figures/tables/k_search.csv``, in order.
REPORT_COLUMNS = ["table", "function", "search_steps", "trials", "paper_k", "found_k",
                  "grid_best_k", "paper_k_error", "found_k_error", "grid_best_error"]


def search_report(summary, transfer):
    """The ``k_search`` table: :func:`search.search_summary` plus the grid's best.

    ``transfer``: :func:`sensitivity.transfer_summary`; its row at each function's
    search step count gives ``grid_best_k`` and ``grid_best_error`` (what an
    exhaustive 1-D search over the grid finds). Columns :data:`REPORT_COLUMNS`.
    """
    summary = summary.copy()
    at_search = transfer[transfer["steps"] == transfer["tuned_steps"]].set_index("function")
    summary["grid_best_k"] = summary["function"].map(at_search["best_k"])
    summary["grid_best_error"] = summary["function"].map(at_search["best_error"])
    return summary[REPORT_COLUMNS]


def error_verdict(ratio):
    """``"better than"``, ``"as good as"`` or ``"worse than"``: the found k's
    error over the paper k's error against :data:`BETTER_BELOW` / :data:`WORSE_ABOVE`."""
    if ratio < BETTER_BELOW:
        return "better than"
    return "worse than" if ratio > WORSE_ABOVE else "as good as"


def search_lines(report):
    """One Markdown bullet per row of :func:`search_report`: found k against the paper's."""
    lines = []
    for row in report.itertuples():
        ratio = row.found_k_error / row.paper_k_error
        lines.append(
            f"- Table {row.table} ({row.function}): paper k = {row.paper_k:.4g}, found k = "
            f"{row.found_k:.4g} (grid best {row.grid_best_k:.4g}); error at step "
            f"{row.search_steps}: {row.found_k_error:.3g} with the found k, "
            f"{error_verdict(ratio)} the paper's k ({row.paper_k_error:.3g}, ratio {ratio:.3g}).")
    return lines


def found_k_table(function, found_k):
    """Table N with the found k: the published MAMGD column and ours with both k.

    Rows: the table's even step counts 2, 4, ..., max. Columns ``epoch``,
    ``MAMGD (paper)`` (published), ``MAMGD (paper k)`` and ``MAMGD (found k)``
    (the float32 reference, :func:`search.mamgd_errors`).
    """
    function = test_functions.get(function)
    epochs = list(range(2, function.max_steps + 1, 2))
    paper_column = published.paper_table(function.table).set_index("epoch")[registry.MAMGD]
    with_paper_k = search.mamgd_errors(function, function.paper_k, function.max_steps)
    with_found_k = search.mamgd_errors(function, found_k, function.max_steps)
    return pd.DataFrame({
        "epoch": epochs,
        "MAMGD (paper)": paper_column.loc[epochs].to_numpy(),
        "MAMGD (paper k)": with_paper_k[epochs],
        "MAMGD (found k)": with_found_k[epochs],
    })


def transfer_holds(transfer, functions):
    """The ``k_transfer_summary`` table: the paper's k against the grid's best.

    For each function: the ratio of the paper k's error to the best grid
    error (``paper_k_over_best`` of :func:`sensitivity.transfer_summary`) at the
    step count k was tuned for, at the table's last step, and its worst value
    over the table's even step counts (with where it occurs).
    """
    rows = []
    for function in functions:
        function = test_functions.get(function)
        part = transfer[transfer["function"] == function.name].set_index("steps")
        tuned, last = function.search_steps, function.max_steps
        rows.append({
            "table": function.table, "function": function.name,
            "tuned_steps": tuned, "paper_k": function.paper_k,
            "best_k_at_tuned": part.loc[tuned, "best_k"],
            "paper_k_over_best_at_tuned": part.loc[tuned, "paper_k_over_best"],
            "last_steps": last, "best_k_at_last": part.loc[last, "best_k"],
            "paper_k_over_best_at_last": part.loc[last, "paper_k_over_best"],
            "worst_paper_k_over_best": part["paper_k_over_best"].max(),
            "worst_at_steps": int(part["paper_k_over_best"].idxmax()),
        })
    return pd.DataFrame(rows)


def transfer_lines(holds):
    """One Markdown bullet per row of :func:`transfer_holds`."""
    lines = []
    for row in holds.itertuples():
        lines.append(
            f"- Table {row.table} ({row.function}): error of the paper's k / best error on the "
            f"grid = {row.paper_k_over_best_at_tuned:.3g} at the tuned step {row.tuned_steps}, "
            f"{row.paper_k_over_best_at_last:.3g} at the last step {row.last_steps} (where the "
            f"best k is {row.best_k_at_last:.3g}, the paper's {row.paper_k:.3g}), and up to "
            f"{row.worst_paper_k_over_best:.3g} over the table's even steps (step "
            f"{row.worst_at_steps}).")
    return lines


def write(frame, directory, stem, decimals=6, caption=None):
    """:func:`mamgd_paper.core.artifacts.write_table` with the integer columns as
    objects, so that every format prints them as integers (not ``18.000000``)."""
    frame = frame.astype({c: object for c in frame.select_dtypes("integer").columns})
    return artifacts.write_table(frame, directory, stem, decimals=decimals, caption=caption)
