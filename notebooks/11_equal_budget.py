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
# # Beyond the paper: does MAMGD beat Adam when every optimizer gets the same tuning budget?
#
# The paper tuned MAMGD's decay rate k with Optuna (100 trials per function) and ran
# Adam, RMSprop, Adagrad and SGD at one fixed learning rate. Here every optimizer is
# tuned alike, as optimizer benchmarks do it (DeepOBS; Schmidt, Schneider & Hennig,
# "Descending through a Crowded Valley", ICML 2021). The protocol is
# docs/protocol.md, section 7:
#
# * **8 optimizers**: MAMGD (authors' code and Algorithm 6), AdaExp, Adam, AMSGrad,
#   RMSprop, Adagrad, SGD with momentum 0.9; betas and epsilons at their defaults.
# * **Equal budget**: within a problem, every optimizer gets the same number of trials
#   of the same seeded TPE sampler over its learning rate (log-uniform, 1e-5 to 10).
#   MAMGD and AdaExp tune k in the *same* trials (a flag for k = 0, else k log-uniform
#   on [1e-6, 10]). The networks get fewer trials and a successive-halving pruner,
#   applied alike to all.
# * **Tune on one thing, report another**: test functions are tuned on random start
#   points and reported on held-out ones (log10 of the optimality gap after a fixed
#   number of steps, and the steps to reach a gap of 1e-6); the networks are tuned on
#   a validation split and their best setting is re-run with fresh seeds and reported
#   on the test split.
# * **Problems**: the paper's six functions, Rosenbrock, Beale, Rastrigin in 2-D and
#   10-D, Rosenbrock in 10-D, and the networks of Tables 7 and 11.
# * **Statistics**: mean and 95% percentile-bootstrap interval over the held-out
#   starts or seeds; verdict against Adam from a paired bootstrap interval of the
#   mean difference (better / worse when it excludes 0); a performance profile.
# * **One-shot row**: every optimizer at its defaults, no tuning (`defaults_*` columns).
#
# The trials live in Optuna studies in a storage that any number of worker processes
# fill, on this machine or others (`python -m mamgd_paper.experiments.equal_budget worker --storage
# URL`; see `mamgd_paper/experiments/equal_budget/workers.py`). Running this notebook again with the storage
# in place runs only what is missing.

# %% tags=["parameters"]
quick = False  # smoke run: few trials, few steps, 3 epochs on a subset of the network data
seed = 0  # seeds the samplers, the start points and the networks (re-runs: seed+1, ...)
seeds = 5  # network re-runs of each best setting (quick: 1)
figures_dir = None  # None: build/interactive/11_equal_budget/ (a hand run never touches figures/); make passes figures/
data_dir = None  # dataset folder (default: $MAMGD_DATA_DIR, else data/)
workers = 2  # worker processes started here (0: run the items in this process)
storage = None  # journal file or SQLAlchemy URL; None: $MAMGD_EQUAL_BUDGET_STORAGE, else data/equal_budget.journal
function_trials = None  # trials per optimizer on each function (None: 50; quick 4)
network_trials = None  # trials per optimizer on each network (None: 20; quick 2)
problems = None  # None: all 13; or a list of problem names
optimizers = None  # None: all 8; or a list of registry labels (must include "Adam")

# %%
from mamgd_paper.core import parameters

figures_dir = parameters.standard("11_equal_budget", quick, seed, seeds, data_dir, figures_dir)
workers = parameters.integer("workers", workers, minimum=0)
storage = parameters.optional_path("storage", storage)
function_trials = parameters.optional_positive_int("function_trials", function_trials)
network_trials = parameters.optional_positive_int("network_trials", network_trials)

from mamgd_paper.experiments.equal_budget import problems as problem_set
from mamgd_paper.experiments.equal_budget import protocol

if problems is not None:
    problems = parameters.subset("problems", problems, problem_set.PROBLEM_NAMES)
if optimizers is not None:
    optimizers = parameters.subset("optimizers", optimizers, protocol.OPTIMIZERS)

# %%
import pandas as pd
from IPython.display import Markdown, display

from mamgd_paper.core import artifacts
from mamgd_paper.core import plotting
from mamgd_paper.experiments.equal_budget import figures, objectives, studies, summary
from mamgd_paper.experiments.equal_budget import workers as worker_queue
from mamgd_paper.experiments.equal_budget.table import printable, results_table

config = problem_set.make_config(quick=quick, seed=seed, seeds=seeds,
                                 function_trials=function_trials, network_trials=network_trials,
                                 problems=problems, optimizers=optimizers)
tables_dir = figures_dir / "tables"
dpi = 100 if quick else artifacts.PNG_DPI
problem_set.config_frame(config)

# %% [markdown]
# ## Run (or resume) the studies
#
# Every (problem, optimizer) is one Optuna study; the work items (tune one study and
# re-run its best setting, or run one optimizer's defaults) are taken from a queue by
# the worker processes, the longest first. One study is filled by one worker at a time,
# so the results do not depend on the number of workers.

# %%
results = worker_queue.run(config, storage=storage, workers=workers, data_dir=data_dir)
kind = "SQLAlchemy URL" if "://" in studies.storage_argument(storage, quick) else "journal file"
print(f"run {config.run_id}: {len(results.trials)} trials in {len(results.tuned)} studies "
      f"({kind} storage)")

# %% [markdown]
# ## The table
#
# One row per problem and optimizer (`figures/tables/equal_budget.csv`, `.tex`, `.md`):
# the trials of the budget (`pruned_trials` of them stopped early), the best setting,
# then on held-out data its mean, the 95% bootstrap interval and the verdict against
# Adam (paired bootstrap interval of the mean difference, `difference_*`). Functions:
# `mean` is the mean log10 optimality gap over the held-out starts, `reached_target` the
# share of starts reaching a gap of 1e-6 and `median_steps_to_target` the median step
# at which they do (inf: fewer than half do). Networks: the test metric over the
# re-run seeds. `defaults_*`: the same for the one-shot default setting, its verdict
# against Adam at its defaults.

# %%
table = results_table(results)
artifacts.write_table(
    printable(table), tables_dir, protocol.TABLE_STEM,
    caption=(f"Equal tuning budget ({config.function_trials} trials per optimizer on the "
             f"functions, {config.network_trials} on the networks, seeded TPE): per problem "
             "and optimizer the tuned setting, the held-out mean with its 95% bootstrap "
             "interval and the verdict against Adam (paired bootstrap interval of the mean "
             "difference); defaults_*: the one-shot default setting."))
artifacts.write_text(tables_dir / f"{protocol.TRIALS_STEM}.csv",
                     results.trials.to_csv(index=False, float_format="%.9g",
                                           lineterminator="\n"))
shown = table[["problem", "optimizer", "trials", "best_learning_rate", "best_k", "seeds",
               "mean", "ci_low", "ci_high", "verdict_vs_adam", "defaults_mean"]]
with pd.option_context("display.float_format", "{:.4g}".format, "display.max_rows", 200):
    display(shown)

# %% [markdown]
# ## The answer

# %%
counts = summary.verdict_counts(table)
display(Markdown(f"**{summary.answer(table)}**"))
counts

# %% [markdown]
# The same counts on the functions and on the networks alone, and the one-shot
# defaults against Adam at its defaults:

# %%
parts = {"functions": summary.verdict_counts(table, protocol.FUNCTION),
         "networks": summary.verdict_counts(table, protocol.NETWORK),
         "defaults": summary.verdict_counts(table, column="defaults_verdict_vs_adam")}
for name, part in parts.items():
    display(Markdown(f"**{name}**"))
    display(part)

# %% [markdown]
# ## Performance profile
#
# For every optimizer s, rho_s(tau) is the share of problems on which its cost is
# within a factor tau of the best optimizer's (Dolan & Moré 2002). The cost is the
# held-out mean: on the functions 10^(mean log10 gap), so log10 tau counts orders of
# magnitude; on the networks the mean test metric. rho_s(1), where each curve
# starts, is the share of problems on which s is the best. Left: tuned with the equal
# budget; right: the defaults.

# %%
writer = plotting.FigureWriter(figures_dir, dpi=dpi)
writer.submit(protocol.PROFILE_STEM, figures.profile_figure, table)
shares = {"tuned": summary.best_share(table), "defaults": summary.best_share(table, "defaults_")}
display(Markdown("Share of problems on which each optimizer is the best (ties count for "
                 "all tied): " + "; ".join(
                     f"{label} {shares['tuned'][label]:.2f} (defaults "
                     f"{shares['defaults'][label]:.2f})" for label in config.optimizers)))

# %% [markdown]
# ## Learning-rate sensitivity
#
# Per problem, every trial of every optimizer: its tuning objective (functions: mean
# log10 gap on the tuning starts; networks: the validation metric after the last epoch,
# or at the epoch a pruned trial stopped) against its learning rate. MAMGD and AdaExp
# also vary k, so their points scatter more.

# %%
for problem in config.problem_list:
    part = results.trials[results.trials["problem"] == problem.name]
    network = problem.kind == protocol.NETWORK
    writer.submit(f"{protocol.SENSITIVITY_PREFIX}{problem.name}", figures.sensitivity_figure,
                  part, problem.name, problem.tuning_metric(config), network,
                  title=problem.title, cap=protocol.NETWORK_CAP if network else None)

# %% [markdown]
# ## A gallery: every optimizer at its own tuned setting
#
# For Rosenbrock's valley and Rastrigin's rugged landscape, one panel per optimizer:
# its paths at its tuned setting from the function's start point (thick) and from
# three held-out starts (thin), with the optimality gap at the end of the thick path.

# %%
for name in problem_set.GALLERY_PROBLEMS:
    if name in config.problems:
        problem = problem_set.get_problem(name)
        writer.submit(f"{protocol.PATHS_PREFIX}{name}", figures.gallery_figure, name,
                      objectives.gallery_paths(results, name),
                      title=f"{problem.title}: {config.steps} steps at each optimizer's "
                            f"tuned setting")
writer.close()
print(f"{len(writer.saved)} figure files written")

# %% [markdown]
# ## Figures of this notebook

# %%
from mamgd_paper.core.artifacts import display_figures

display_figures(sorted(figures_dir.glob("equal_budget_*.png")));
