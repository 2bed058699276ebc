# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     notebook_metadata_filter: -jupytext.text_representation.format_version,-jupytext.text_representation.jupytext_version
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # The k search: MAMGD's decay rate tuned with Optuna, and how well it transfers
#
# The paper tuned MAMGD's decay rate k for each test function with Optuna
# (docs/protocol.md, section 3): k uniform on [0, 10], 100 trials, objective the MAMGD
# error after the function's "k-search step" count (18, 14 or 22 steps),
# default sampler, no seed. Its k values (Tables 1-6) therefore cannot be
# re-derived exactly. Here the same search runs
#
# * with the objective evaluated by the float32 NumPy reference of MAMGD
#   (`mamgd.reference`, the same numbers as the Keras optimizer: see
#   `tests/test_search.py`);
# * with a seeded TPE sampler, re-seeded before every trial from
#   (seed, completed trials), so that a study interrupted and resumed ends
#   exactly where an uninterrupted one would;
# * in a real Optuna storage (default: the journal file `data/studies.journal`,
#   any RDB URL such as `sqlite:///data/studies.sqlite3` works too): running
#   this notebook again loads the studies and runs only missing trials.
#
# Then: found k against the paper's k, the tables the found k gives, Optuna's
# own plots, and a map of the error against k and the step count, which shows
# whether a k tuned at one step count holds at the others.
#
# Every trial runs the NumPy reference optimizer (no Keras training here).

# %% tags=["parameters"]
quick = False  # quick: 20 trials per study, coarse k grid, PNGs at 100 dpi
seed = 0  # seeds the TPE sampler
seeds = 5  # unused here
figures_dir = None  # None: build/interactive/02_decay_search/ (a hand run never touches figures/); make passes figures/
data_dir = None  # unused here
storage = None  # journal file or RDB URL; None: $MAMGD_STUDY_STORAGE, else data/studies.journal
#   (quick: data/studies-quick.journal)
n_trials = None  # None: 100 (the paper's), 20 in quick mode
per_decade = None  # k-grid points per decade of the sensitivity map; None: 40 (quick: 8)

# %%
from pathlib import Path

import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from mamgd import functions
from mamgd_paper.core import artifacts
from mamgd_paper.experiments.functions import figures
from mamgd_paper.paper import published as paper
from mamgd_paper.core import parameters
from mamgd_paper.paper import registry
from mamgd_paper.experiments.ksearch import search

figures_dir = parameters.standard("02_decay_search", quick, seed, seeds, data_dir, figures_dir)
parameters.optional_positive_int("n_trials", n_trials)
parameters.optional_positive_int("per_decade", per_decade)
tables_dir = figures_dir / "tables"
dpi = 100 if quick else artifacts.PNG_DPI
n_trials = n_trials or (20 if quick else search.N_TRIALS)
per_decade = per_decade or (8 if quick else 40)
storage = storage or search.default_storage(quick)
paper_functions = functions.PAPER_FUNCTIONS
writer = figures.FigureWriter(figures_dir, dpi=dpi)  # two worker processes save the figures


def with_int_text(frame):
    """``frame`` with its integer columns as objects (Markdown prints them as integers)."""
    return frame.astype({c: object for c in frame.select_dtypes("integer").columns})


# %% [markdown]
# ## Run (or resume) the six studies
#
# One study per function, one worker each; the six run concurrently in
# threads on one storage object (the storage syncs every write to disk, and
# the threads overlap those waits). Several processes can also fill a study
# together: `python -m mamgd_paper.experiments.ksearch.search worker --function sphere --worker-index 1`
# (see `mamgd_paper.experiments.ksearch.search`).

# %%
studies = search.run_search(paper_functions, storage=storage, n_trials=n_trials, seed=seed)
summary = search.search_summary(studies)
for name, study in studies.items():
    # a stored study must still agree with today's objective (fails loudly otherwise)
    best = search.objective_value(name, search.found_k(study))
    assert best == study.best_value, (name, best, study.best_value)
print(f"storage: {storage if '://' in str(storage) else Path(storage).name}; "
      f"{n_trials} trials per study, seed {seed}")
display(summary)

# %% [markdown]
# ## Found k against the paper's k
#
# `paper_k_error` is MAMGD's error at the search step count with the paper's
# k, `found_k_error` with ours (the study's best value). `grid_best_k` is the
# best k on a fine grid (below), i.e. what an exhaustive 1-D search finds.

# %%
ks = search.k_grid(per_decade)
grids = {f.name: search.sensitivity_grid(f, ks) for f in paper_functions}
found = dict(zip(summary["function"], summary["found_k"]))
transfer = search.transfer_summary(grids, ks, found)
at_search = transfer[transfer["steps"] == transfer["tuned_steps"]].set_index("function")
summary["grid_best_k"] = summary["function"].map(at_search["best_k"])
summary["grid_best_error"] = summary["function"].map(at_search["best_error"])
report = summary[["table", "function", "search_steps", "trials", "paper_k", "found_k",
                  "grid_best_k", "paper_k_error", "found_k_error", "grid_best_error"]]
artifacts.write_table(
    with_int_text(report), tables_dir, search.SEARCH_STEM, decimals=12,
    caption=(f"Optuna k search ({n_trials} TPE trials, seed {seed}, k uniform on [0, 10]): "
             "found k against the paper's k, MAMGD error at the search step count."))
with pd.option_context("display.float_format", "{:.4g}".format):
    display(report)

# %%
lines = []
for row in report.itertuples():
    ratio = row.found_k_error / row.paper_k_error
    verdict = ("better than" if ratio < 0.999 else "worse than" if ratio > 1.001 else "as good as")
    lines.append(
        f"- Table {row.table} ({row.function}): paper k = {row.paper_k:.4g}, found k = "
        f"{row.found_k:.4g} (grid best {row.grid_best_k:.4g}); error at step {row.search_steps}: "
        f"{row.found_k_error:.3g} with the found k, {verdict} the paper's k "
        f"({row.paper_k_error:.3g}, ratio {ratio:.3g}).")
display(Markdown("\n".join(lines)))

# %% [markdown]
# ## Sensitivity: the error against k and the step count
#
# MAMGD's error after every step count 1..N for every k of a log grid
# (1e-3 to 10, plus k = 0), computed at once by the float32 reference
# vectorised over k. White dots: the best k at each step count; dashed: the
# paper's k; dotted: the found k; the horizontal line: the step count the
# search tuned k for. The data are `figures/tables/k_sensitivity.csv`
# (columns table, function, k, steps, error; k and error with 9 significant
# digits, so they read back as the exact float32 values).

# %%
panels = [dict(title=f"Table {f.table}: {f.title}", ks=ks[1:], errors=grids[f.name][:, 1:],
               paper_k=f.paper_k, found_k=found[f.name], search_steps=f.search_steps)
          for f in paper_functions]
writer.submit(search.SENSITIVITY_STEM, figures.sensitivity_figure, panels)
sensitivity = search.sensitivity_frame(grids, ks)
artifacts.write_text(tables_dir / f"{search.SENSITIVITY_STEM}.csv",
                     sensitivity.to_csv(index=False, float_format="%.9g", lineterminator="\n"))
artifacts.write_text(tables_dir / f"{search.TRANSFER_STEM}.csv",
                     transfer.to_csv(index=False, float_format="%.9g", lineterminator="\n"))
print(f"{search.SENSITIVITY_STEM}.csv: {len(sensitivity)} rows ({len(ks)} k values)")

# %% [markdown]
# ## Optuna's own plots
#
# Optimisation history and slice plot of each study (log y), from
# `optuna.visualization.matplotlib` (drawn in the background by the figure
# writer's worker processes while the next cells run).

# %%
for function in paper_functions:
    trials = studies[function.name].get_trials(deepcopy=False)
    for kind in figures.OPTUNA_PLOTS:
        writer.submit(f"optuna_{kind}_{function.name}", figures.optuna_figure, kind, trials,
                      title=function.title)

# %% [markdown]
# ## The tables the found k gives
#
# The baselines' columns do not depend on k; only MAMGD's does. Per table: the
# published MAMGD column, ours with the paper's k (equal at 6 decimals, see
# notebook 01) and ours with the found k.

# %%
for function in paper_functions:
    epochs = list(range(2, function.max_steps + 1, 2))
    published = paper.paper_table(function.table).set_index("epoch")[registry.MAMGD]
    with_paper_k = search.mamgd_errors(function, function.paper_k, function.max_steps)
    with_found_k = search.mamgd_errors(function, found[function.name], function.max_steps)
    table = pd.DataFrame({
        "epoch": epochs,
        "MAMGD (paper)": published.loc[epochs].to_numpy(),
        "MAMGD (paper k)": with_paper_k[epochs],
        "MAMGD (found k)": with_found_k[epochs],
    })
    artifacts.write_table(
        with_int_text(table), tables_dir, f"table{function.table:02d}_found_k",
        caption=(f"{function.title}: MAMGD error with the paper's k = {function.paper_k:.6g} "
                 f"and with the k found here = {found[function.name]:.6g}."))
    display(Markdown(f"### Table {function.table}: {function.title}"))
    display(table.style.format("{:.6f}", subset=table.columns[1:]).hide(axis="index"))

# %% [markdown]
# ## Does a k tuned at one step count hold at the others?
#
# For each function: the error of the paper's k at the tuned step count and at
# the table's last step, each against the best error any k of the grid reaches
# at that step count (`k_transfer.csv` has every even step count).

# %%
rows = []
for function in paper_functions:
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
holds = pd.DataFrame(rows)
artifacts.write_table(
    with_int_text(holds), tables_dir, search.TRANSFER_SUMMARY_STEM, decimals=4,
    caption=("Error of MAMGD with the paper's k divided by the best error over a k grid, "
             "at the step count k was tuned for and at the table's last step."))
with pd.option_context("display.float_format", "{:.4g}".format):
    display(holds)

# %%
lines = []
for row in holds.itertuples():
    lines.append(
        f"- Table {row.table} ({row.function}): error of the paper's k / best error on the grid "
        f"= {row.paper_k_over_best_at_tuned:.3g} at the tuned step {row.tuned_steps}, "
        f"{row.paper_k_over_best_at_last:.3g} at the last step {row.last_steps} (where the best "
        f"k is {row.best_k_at_last:.3g}, the paper's {row.paper_k:.3g}), and up to "
        f"{row.worst_paper_k_over_best:.3g} over the table's even steps (step "
        f"{row.worst_at_steps}).")
display(Markdown("\n".join(lines)))

# %% [markdown]
# The best k moves with the step count along narrow valleys (the white dots):
# for small k the valleys are where the decaying betas make the iterate land
# on the minimiser at exactly that step; for large k (the quadratic and the
# sphere, k ~ 2.4) MAMGD is sign-gradient descent with step 0.1 and the error
# alternates between even and odd step counts. A k tuned to the error at a
# single step count therefore says little about the error at another one.

# %%
writer.close()  # waits for the figures; re-raises any error
print(f"{len(writer.saved)} figure files written")

# %% [markdown]
# ## Figures of this notebook
#
# Every figure it wrote, shown at reduced size (the PDF and 300-dpi PNG files
# are in `figures/`; captions in `figures/README.md`).

# %%
from pathlib import Path as _Path

from mamgd_paper.core.artifacts import display_figures

display_figures(_Path(figures_dir).glob("*.png"));
