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
# # The paper's network experiments (Tables 7-11)
#
# One notebook for the five network tasks: the parameter `table` picks the
# paper's table (7 approximation, 8 MNIST, 9 IMDB, 10 Reuters, 11 Boston
# housing). `make networks` runs it once per table into
# `notebooks/executed/04_approximation.ipynb` ... `08_boston_housing.ipynb`.
# Everything specific to a table (the paper's protocol, what is held out, the
# smoke run's sizes, the notes) is written from the table's declaration in
# `mamgd_paper/experiments/networks/tasks.py` (`tasks.TASKS[table]`), in words by
# `mamgd_paper/experiments/networks/describe.py` (`describe.describe`).

# %% tags=["parameters"]
table = 8  # the paper's table: 7, 8, 9, 10 or 11
quick = False  # smoke run: 1 seed, 2 epochs, a subset of the data (see below)
seed = 0  # first seed: the seeds are seed, seed + 1, ..., seed + seeds - 1
seeds = None  # number of seeds; None: the task's own (20; Table 8: 5)
figures_dir = None  # figures here, tables in figures_dir/tables; None: build/interactive/<table>/ (make passes figures/)
data_dir = None  # dataset folder (default: $MAMGD_DATA_DIR, else data/); Table 7 generates its data

# %%
from pathlib import Path

from IPython.display import Markdown, display

from mamgd_paper.core import parameters
from mamgd_paper.core.artifacts import display_figures
from mamgd_paper.experiments.networks import describe, outputs, tasks, training, verdicts
from mamgd_paper.experiments.networks import figures as network_figures
from mamgd_paper.paper.published import paper_table

parameters.choice("table", table, sorted(tasks.TASKS))
task = tasks.TASKS[table]
figures_dir = parameters.standard(task.stem, quick, seed, seeds, data_dir, figures_dir)
seeds = task.seeds if seeds is None else seeds
paper = paper_table(task.table)
display(Markdown(describe.describe(task)))
describe.protocol_frame(task)

# %% [markdown]
# ## Runs
#
# Without its data file a task whose declaration allows it (`allow_missing`)
# is not run: only a status note is written, and the notebook still succeeds.

# %%
result = training.run_experiment(task, seeds=seeds, first_seed=seed, quick=quick,
                                 data_dir=data_dir, allow_missing=task.allow_missing)
written = outputs.write_outputs(result, figures_dir)
if result.ran:
    print(outputs.status_line(result), "Split sizes:", result.sizes)
else:
    display(Markdown(f"**{outputs.status_line(result)}**"))
    print(result.detail)

# %% [markdown]
# ## The table: mean training loss over seeds (the paper's layout), then the published one

# %%
if result.ran:
    display(written["mean"])
paper

# %% [markdown]
# ## Every published number against our seed band

# %%
display(Markdown(describe.describe(task, "comparison")))
if result.ran:
    display(verdicts.comparison_frame(written["verdicts"]))

# %% [markdown]
# ## The figure

# %%
display(Markdown(describe.describe(task, "figure")))
if result.ran:
    figures = network_figures.save_task_figures(task, result.history, paper, figures_dir,
                                                close=False)
else:
    display(Markdown(f"Not drawn: {outputs.status_line(result)}"))

# %% [markdown]
# ## Held-out metrics (not in the paper)

# %%
display(Markdown(describe.describe(task, "heldout")))
if result.ran:
    display(written["summary"])
    logged = verdicts.logged_validation_comparison(result)
    if logged is not None:
        display(logged)

# %% [markdown]
# ## Verdict

# %%
display(Markdown(f"**{written['verdict']}**" if result.ran
                 else f"**{outputs.status_line(result)}** No verdict."))

# %% [markdown]
# ## Figures of this notebook
#
# Every figure it wrote, shown at reduced size (the PDF and 300-dpi PNG files
# are in `figures/`; captions in `figures/README.md`).

# %%
display_figures(Path(figures_dir).glob("*.png"));
