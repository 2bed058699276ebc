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
# # Beyond the paper: does MAMGD beat Adam when every optimizer is tuned alike?
#
# The paper tuned MAMGD's decay rate k with Optuna and ran Adam, RMSprop, Adagrad and
# SGD at one fixed learning rate. Here every optimizer is tuned alike, in the manner of
# the optimizer-benchmark literature (DeepOBS; Schmidt, Schneider & Hennig, "Descending
# through a Crowded Valley"; AlgoPerf). The protocol (version 2) is docs/protocol.md,
# section 7; in short:
#
# * **Arms**: MAMGD (authors' code and Algorithm 6), AdaExp, Adam, AMSGrad, RMSprop,
#   Adagrad, SGD with momentum 0.9, and **Adam (replicate)**: Adam tuned a second time
#   with independent studies, compared with Adam like every other arm (the A/A check).
# * **Replicated quasi-random search**: per (problem, arm) several independent studies,
#   each the same number of trials: trial 0 the default setting, then scrambled Sobol
#   points (Optuna's QMCSampler) over the learning rate and, for MAMGD and AdaExp, k.
# * **Metrics that do not saturate**: test functions run 1,000 steps; the outcome of a
#   held-out start is the number of steps to reach an optimality gap of 1e-8 (and 1e-4),
#   a start that never does is a failure. Networks: the final test metric over fresh
#   re-run seeds; a diverged run is a failure.
# * **Statistics**: per study a paired win score against Adam, an exact sign-flip test
#   over studies, Holm's correction over the whole family, TOST equivalence; verdicts
#   `better`, `worse`, `equivalent`, `inconclusive`.
# * **Batched**: all trials of a study are known in advance and run together (test
#   functions: one NumPy array per batch; networks: many models per NumPy step).
#
# The trials live in Optuna studies that any number of workers fill, on this machine or
# others (`python -m mamgd_paper.experiments.equal_budget worker --storage URL`).
# Running this notebook again with the storage in place runs only what is missing.

# %% tags=["parameters"]
quick = False  # smoke run: few studies, trials, steps and epochs, a subset of the data
seed = 0  # seeds the designs, the start points and the networks
seeds = 5  # not used here (make passes it to every notebook): re-run seeds are rerun_seeds
figures_dir = None  # None: build/interactive/11_equal_budget/ (a hand run never touches figures/); make passes figures/
data_dir = None  # dataset folder (default: $MAMGD_DATA_DIR, else data/)
workers = None  # worker processes started here (0: in this process); None: $MAMGD_EQUAL_BUDGET_WORKERS (make's WORKERS), else 2
storage = None  # journal file or SQLAlchemy URL; None: $MAMGD_EQUAL_BUDGET_STORAGE (make's STORAGE), else data/equal_budget.journal
function_studies = None  # studies per (function, arm) (None: 14; quick 4)
network_studies = None  # studies per (network, arm) (None: 3; quick 2)
rerun_seeds = None  # fresh seeds per network study (None: 10; quick 2)
mnist_images = 1024  # MNIST training images (None: the full set, 48000 + 12000 validation)
problems = None  # None: all 14; or a list of problem names
arms = None  # None: all 9; or a list of arms (must include "Adam")

# %%
from mamgd_paper.core import parameters

figures_dir = parameters.standard("11_equal_budget", quick, seed, seeds, data_dir, figures_dir)
# make passes WORKERS and STORAGE in the environment, not as parameters: they change how
# the studies are filled, not the results, and a URL may hold a password
workers = parameters.integer("workers", parameters.from_environment(
    "workers", workers, "MAMGD_EQUAL_BUDGET_WORKERS", 2), minimum=0)
storage = parameters.optional_path("storage", storage)
function_studies = parameters.optional_positive_int("function_studies", function_studies)
network_studies = parameters.optional_positive_int("network_studies", network_studies)
rerun_seeds = parameters.optional_positive_int("rerun_seeds", rerun_seeds)
mnist_images = parameters.optional_positive_int("mnist_images", mnist_images)

from mamgd_paper.experiments.equal_budget import problems as problem_set
from mamgd_paper.experiments.equal_budget import protocol

if problems is not None:
    problems = parameters.subset("problems", problems, problem_set.PROBLEM_NAMES)
if arms is not None:
    arms = parameters.subset("arms", arms, protocol.ARMS)

# %%
import pandas as pd
from IPython.display import Markdown, display

from mamgd_paper.core import artifacts, plotting
from mamgd_paper.experiments.equal_budget import figures, objectives, studies, summary
from mamgd_paper.experiments.equal_budget import table as results_tables
from mamgd_paper.experiments.equal_budget import workers as run_workers

sizes = {"function_studies": function_studies, "network_studies": network_studies,
         "rerun_seeds": rerun_seeds}
if not quick:
    sizes["mnist_images"] = mnist_images
config = problem_set.make_config(quick=quick, seed=seed, problems=problems, arms=arms,
                                 **sizes)
tables_dir = figures_dir / "tables"
dpi = 100 if quick else artifacts.PNG_DPI
problem_set.config_frame(config)

# %% [markdown]
# ## Run (or resume) the studies
#
# Each worker reads the run's configuration from the storage, takes every waiting trial
# of one (problem, arm) at a time and evaluates them in one batch; a trial's value
# depends on its setting and its study only, so the results do not depend on the number
# of workers.

# %%
results = run_workers.run(config, storage=storage, workers=workers, data_dir=data_dir)
kind = "SQLAlchemy URL" if "://" in studies.storage_argument(storage, quick) else "journal file"
print(f"run {config.run_id}: {len(results.trials)} trials in {len(results.studies)} tuning "
      f"studies ({kind} storage)")

# %% [markdown]
# ## The table
#
# One row per problem, arm and target (`figures/tables/equal_budget.csv`, `.tex`, `.md`).
# `median`: the median over studies of each study's median outcome (functions: steps to
# the target, `inf` when fewer than half of the starts reach it; networks: the final test
# metric), `ci_low`/`ci_high` its exact order-statistic interval, `study_min`/`study_max`
# the spread between studies; `success_rate` and `failures` over all held-out units;
# `difference_vs_adam` the mean win score (share of paired units better than Adam minus
# share worse), `p_value` its sign-flip test over studies, `p_adjusted` after
# Holm's correction over the family, `p_equivalence*` the TOST.
# `figures/tables/equal_budget_studies.csv`: every study's best setting;
# `equal_budget_trials.csv`: every trial.

# %%
table = results_tables.results_table(results)
artifacts.write_table(
    results_tables.printable(table), tables_dir, protocol.TABLE_STEM,
    caption=("Equal tuning budget, protocol 2: per problem, arm and target the median over "
             "studies with its exact interval, the success rate and the verdict against "
             "Adam (exact sign-flip test over studies on the paired win score, "
             "Holm over the family, TOST margin "
             f"{protocol.EQUIVALENCE_MARGIN:g})."))
# (how many trials were retried depends on the workers' history, so it is not written)
for stem, frame in ((protocol.STUDIES_STEM, results.studies.drop(columns="retried")),
                    (protocol.TRIALS_STEM, results.trials)):
    artifacts.write_text(tables_dir / f"{stem}.csv",
                         frame.to_csv(index=False, float_format="%.9g", lineterminator="\n"))
shown = table[["problem", "optimizer", "target", "median", "ci_low", "ci_high",
               "success_rate", "difference_vs_adam", "p_adjusted", "verdict_vs_adam"]]
with pd.option_context("display.float_format", "{:.4g}".format, "display.max_rows", 300):
    display(shown)

# %% [markdown]
# ## The answer

# %%
display(Markdown(f"**{summary.answer(table)}**"))
summary.verdict_counts(summary.primary_rows(table))

# %% [markdown]
# Every row of the table (both targets of the functions), by kind, and the A/A check:

# %%
for kind in (protocol.FUNCTION, protocol.NETWORK):
    display(Markdown(f"**{kind}s**"))
    display(summary.verdict_counts(table, kind))
wrong, total = summary.false_positives(table)
display(Markdown(f"A/A: Adam (replicate) is better or worse than Adam on {wrong} of "
                 f"{total} rows."))

# %% [markdown]
# ## Search ranges
#
# A study whose best learning rate lies in the outer 5% (log scale) of its optimizer's
# range says the range may bind; the protocol widens such ranges before the final run.

# %%
edges = results.studies.groupby(["arm", "problem"])["learning_rate_at_edge"].sum()
edges = edges[edges > 0].reset_index()
edges if len(edges) else Markdown("No study's best learning rate is at the edge of its range.")

# %% [markdown]
# ## Performance and data profiles (test functions)
#
# Dolan-Moré performance profiles on the median steps to each target (a failure never
# counts as solved) and Moré-Wild data profiles: the share of all held-out runs that
# reach the target within a budget of kappa steps. The networks are not in the
# profiles: their metrics have other units.

# %%
writer = plotting.FigureWriter(figures_dir, dpi=dpi)
writer.submit(protocol.PERFORMANCE_PROFILE_STEM, figures.performance_profile_figure, table)
unit_steps = {target: results_tables.unit_steps(results, target)
              for target in protocol.TARGETS}
writer.submit(protocol.DATA_PROFILE_STEM, figures.data_profile_figure, unit_steps,
              config.horizon)

# %% [markdown]
# ## Learning-rate sensitivity
#
# Per problem, every trial of every arm and study: its tuning objective against its
# learning rate; each study's best trial drawn large.

# %%
for problem in config.problem_list:
    writer.submit(f"{protocol.SENSITIVITY_PREFIX}{problem.name}", figures.sensitivity_figure,
                  results.trials[results.trials["problem"] == problem.name],
                  results.studies[results.studies["problem"] == problem.name],
                  problem.name, problem.tuning_metric(config), title=problem.title)

# %% [markdown]
# ## A gallery: every arm at its own tuned setting
#
# For Rosenbrock's valley and Rastrigin's rugged landscape, one panel per arm at the best
# setting of its study 0: its paths from the function's start point (thick) and from
# three held-out starts (thin).

# %%
for name in problem_set.GALLERY_PROBLEMS:
    if name in config.problems:
        problem = problem_set.get_problem(name)
        writer.submit(f"{protocol.PATHS_PREFIX}{name}", figures.gallery_figure, name,
                      objectives.gallery_paths(results, name),
                      title=f"{problem.title}: {config.horizon} steps at each arm's tuned "
                            "setting")
writer.close()
print(f"{len(writer.saved)} figure files written")

# %% [markdown]
# ## Figures of this notebook

# %%
from mamgd_paper.core.artifacts import display_figures

display_figures(sorted(figures_dir.glob("equal_budget_*.png")));
