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
# # 09 The curvature-term ablation
#
# The published numbers come from the authors' code, the paper prints
# Algorithm 6 (docs/protocol.md, sections 1 and 2). They differ in five places:
# the decay exponent (`exp(-k t)` vs `exp(-k (t-1))`), the form of the bias
# correction, the placement of epsilon, undecayed betas in the printed
# listing's moment updates, and the curvature term, which the code computes
# but which is identically zero there. This notebook measures what each of
# them does, and answers three questions with numbers:
#
# 1. Does the live curvature term help or hurt?
# 2. What does the exponential decay of the betas do?
# 3. What does the missing square root in the bias correction do (a
#    learning-rate warm-up)?
#
# and a fourth: is the tuned k specific to the step count it was tuned at?
#
# Everything on the test functions uses the float32 NumPy rule
# `mamgd_paper.experiments.ablation.switched.mamgd_switched`, in which each
# difference is a switch (all off = `reference.mamgd("authors_code")` bit for
# bit, the four of Algorithm 6 on = `reference.mamgd("algorithm6")` bit for
# bit; `tests/experiments/test_ablation.py`), with the paper's start points and learning
# rate 0.1. The network part uses the Keras classes and
# `mamgd_paper.experiments.networks` (same models, data, batches and initial
# weights per seed as the Tables 7-11 runs). The computations are in the
# modules of `mamgd_paper.experiments.ablation`; this notebook calls them and
# writes their tables and figures.

# %% tags=["parameters"]
quick = False
seed = 0
seeds = None  # number of network seeds; None: 20
figures_dir = None  # None: build/interactive/09_curvature_ablation/ (a hand run never touches figures/); make passes figures/
data_dir = None
# Where notebook 02's k-sensitivity table is read from (full runs need it).
tables_dir = "../figures/tables"
# Network tasks of the ablation (paper table numbers).
network_tables = [7, 11]

# %%
import pandas as pd

from mamgd_paper.core import parameters
from mamgd_paper.core.artifacts import png_dpi, save_figure, show_table, write_table
from mamgd_paper.core.formatting import significant
from mamgd_paper.experiments.ablation import (ablation, differences, figures, k_range,
                                              network_runs, warmup)
from mamgd_paper.experiments.networks import tasks
from mamgd_paper.paper import registry

figures_dir = parameters.standard("09_curvature_ablation", quick, seed, seeds, data_dir,
                                  figures_dir)
parameters.subset("network_tables", network_tables, sorted(tasks.TASKS))
seeds = 20 if seeds is None else seeds
tables = figures_dir / "tables"
dpi = png_dpi(quick)  # PNG resolution (quick runs: smaller, faster)
pd.set_option("display.width", 160)
pd.set_option("display.max_columns", 20)

# %% [markdown]
# ## 1. Each code-vs-paper difference on Tables 1-6
#
# Starting from the authors' code, one difference at a time is switched to
# the paper's side, then all four of Algorithm 6 at once, then Algorithm 6
# without each of them. `correction_form` moves the bias correction onto the
# moments but keeps epsilon where the code has it, so in exact arithmetic it
# changes nothing (only float32 rounding). `listing_betas` (the undecayed betas
# the printed listing shows in the moment updates) is measured alone and on top
# of Algorithm 6, whose text (and `reference.mamgd("algorithm6")`) uses the
# decayed ones. Two variants that neither side has are added: the curvature
# with previous-step slots that start at 0 (the code with its slots read before
# they are overwritten: it gives the 2.0176 for Table 1, N = 2 of docs/protocol.md,
# section 1), and
# Adam's square root in the bias correction, on the code and on Algorithm 6.

# %%
study = differences.difference_study()
baseline_matched, baseline_cells = differences.baseline_matches()
assert (baseline_matched, baseline_cells) == (365, 365)
overall, per_table = differences.summarise_differences(study, baseline_matched)
overall = differences.with_descriptions(overall)
write_table(significant(overall), tables, ablation.DIFFERENCES_STEM, caption=(
    "Each code-vs-paper difference of MAMGD switched on alone (code+...), all four of "
    "Algorithm 6, and Algorithm 6 without one of them: published cells of Tables 1-6 "
    "still matched at 6 decimals (of 460, of the 95 MAMGD cells) and the mean/max "
    "absolute change of the MAMGD column against the authors' code."))
write_table(significant(per_table), tables, ablation.DIFFERENCES_PER_TABLE_STEM, caption=(
    "As ablation_differences, per table: MAMGD cells matched and mean/max absolute "
    "change of the MAMGD column."))
write_table(significant(study), tables, ablation.DIFFERENCES_CELLS_STEM, caption=(
    "Every published MAMGD cell of Tables 1-6 under every switch setting: the paper's "
    "value, the authors' code's, the switched rule's, whether it matches at 6 decimals "
    "and the absolute change."))
show_table(overall.drop(columns=["description"]))

# %%
fig = figures.plot_differences(per_table)
save_figure(fig, figures_dir, ablation.DIFFERENCES_STEM, dpi=dpi)

# %% [markdown]
# ## 2. The five optimizers (and the single effects) on the six functions
#
# `authors_code`, `algorithm6`, AdaExp, Adam and AMSGrad at the paper's k and
# learning rate 0.1, plus the authors' code with the curvature switched on,
# with Adam's square root, and with k = 0; and Algorithm 6 without its
# curvature term.

# %%
curves = ablation.function_errors()
summary = ablation.function_summary(curves)
effects = ablation.compare_pairs(curves, ablation.FUNCTION_EFFECTS)
write_table(significant(curves), tables, ablation.FUNCTION_CURVES_STEM, caption=(
    "Error after every step of each ablation optimizer on the six test functions "
    "(float32, learning rate 0.1, the paper's k)."))
write_table(significant(summary), tables, ablation.FUNCTIONS_STEM, caption=(
    "Ablation optimizers on the test functions: the error before, at and after the "
    "step the paper tuned k at (S), at the last step, the best error, and the largest "
    "error over the even / odd steps of the second half (the paper shows even steps "
    "only)."))
write_table(significant(effects), tables, ablation.EFFECTS_STEM, caption=(
    "Single effects on the test functions (paper k): error without and with the "
    "change at the search step and the last step; ratio < 1 means the change helps."))
show_table(effects[["effect", "function", "ratio_search_step", "ratio_last_step",
              "mean_log10_ratio"]])

# %%
fig = figures.plot_function_curves(curves)
save_figure(fig, figures_dir, ablation.FUNCTIONS_STEM, dpi=dpi)

# %% [markdown]
# With the tuned k (about 2.4 on Tables 1 and 2) the betas are practically 0
# from the third step on: m is g, sqrt(n) is |g|, and the code moves every
# coordinate by lr per step -- sign descent. The first step is only 0.032 lr
# (the warm-up, section 4). On the quadratic the start is 1.5 from the target,
# so after 16 steps the iterate sits next to the target and then jumps by lr
# back and forth: the even steps (which the paper prints) are tiny, the odd
# steps are lr^2 = 0.01.

# %%
step_lengths = ablation.step_length_summary()
write_table(significant(step_lengths), tables, ablation.STEP_LENGTH_STEM, caption=(
    "The authors' code at the paper's k (lr 0.1): step length / lr (mean over "
    "coordinates) at steps 1 and 2, the first step from which every step is at least "
    "0.95 lr (sign descent), and the median after the search step."))
show_table(step_lengths)
show_table(summary[summary["optimizer"] == registry.CODE][[
    "function", "search_step", "error_before_search_step", "error_search_step",
    "error_after_search_step", "max_error_even_steps_second_half",
    "max_error_odd_steps_second_half"]])

# %% [markdown]
# ## 3. A range of k
#
# AdaExp is also run in float64: for large k its decayed beta_2 is ~0, and its
# Keras-form update v + (g^2 - v)(1 - b2) then cancels catastrophically in
# float32 (see `mamgd.reference.adaexp`), which shows as spikes of the float32
# curve at k of about 2 and more.

# %%
ks = k_range.k_range_grid(quick)
k_study = k_range.k_range_study(ks)
k_effects = k_range.k_range_effects(k_study)
write_table(significant(k_study), tables, ablation.K_RANGE_STEM, caption=(
    "Error at the search step and at the last step over a range of k (k = 0 and a "
    "log grid on [1e-4, 10]) for MAMGD (code, Algorithm 6, with/without curvature, "
    "with Adam's square root), AdaExp (float32 and float64), Adam and AMSGrad."))
write_table(significant(k_effects), tables, ablation.K_RANGE_EFFECTS_STEM, caption=(
    "Across the k grid: fraction of k values at which the change lowers the error "
    "(at the search step, at the last step) and the median error ratio at the last step."))
show_table(k_effects)

# %%
fig = figures.plot_k_range(k_study)
save_figure(fig, figures_dir, ablation.K_RANGE_STEM, dpi=dpi)

# %% [markdown]
# ## 4. The missing square root: a learning-rate warm-up
#
# Adam's step is lr sqrt(1 - b2^t)/(1 - b1^t) m/sqrt(v); the code's (and
# Algorithm 6's) is lr (1 - b2^t)/(1 - b1^t) m/sqrt(n): sqrt(1 - b2^t) times
# Adam's. At t = 1 that is sqrt(1 - 0.999) = 0.032 (the first step is 0.032 lr
# per coordinate instead of lr); with k = 0 the factor reaches 0.5 only after
# 288 steps. The decay shortens the warm-up: with the functions' large k it is
# over after two steps, with the networks' k = 1e-4 after ~50.

# %%
factors = warmup.factor_curves(quick)
warm = warmup.warmup_summary(warmup.summary_ks())
write_table(significant(warm), tables, ablation.WARMUP_STEM, caption=(
    "The missing square root as a warm-up: step multipliers of lr at t = 1 (the code: "
    "(1 - b2^t)/(1 - b1^t); Adam: sqrt(1 - b2^t)/(1 - b1^t); ratio sqrt(1 - b2^t)) and "
    "the number of steps until the ratio reaches 0.5, 0.9, 0.99, per decay rate k."))
show_table(warm)

# %%
fig = figures.plot_warmup(factors, curves)
save_figure(fig, figures_dir, ablation.WARMUP_STEM, dpi=dpi)

# %% [markdown]
# ## 5. Is the tuned k specific to its step count?
#
# The error over a grid of (k, step). Notebook 02 (the k search) writes this
# grid as its sensitivity table; when that table is there it is used, else it
# is computed here with the same float32 rule, vectorised over k.

# %%
sensitivity = k_range.read_sensitivity(tables_dir, quick)  # None in quick runs
grids = k_range.specificity_grids(sensitivity, quick)
source = k_range.grid_source(sensitivity)
print("k grid source:", source)
spec, spec_summary = k_range.specificity_tables(grids, source)
write_table(significant(spec), tables, ablation.K_SPECIFICITY_STEM, caption=(
    "Per function and step N: the best k on the grid, its error, the paper's k's error "
    "and regret (error / best error), and its percentile among the grid."))
write_table(significant(spec_summary), tables, ablation.K_SPECIFICITY_SUMMARY_STEM, caption=(
    f"Is the tuned k specific to its step count? Grid: {source}. Regret = error of the "
    "paper's k / best error on the grid at that step; rise_after_search = error at the "
    "last step / error at the search step."))
show_table(spec_summary.drop(columns=["grid_source"]))

# %%
fig = figures.plot_k_specificity(grids, spec)
save_figure(fig, figures_dir, ablation.K_SPECIFICITY_STEM, dpi=dpi)

# %% [markdown]
# ## 6. The network tasks
#
# `authors_code`, `algorithm6`, AdaExp, Adam and AMSGrad, plus the authors'
# code with the curvature switched on, with Adam's square root, and with
# k = 0 (Keras: `mamgd_paper.experiments.ablation.switched.keras_optimizer`,
# equal to the NumPy rule bit for bit on the test functions), on the paper's
# network tasks `network_tables`
# (Table 7: y = x^2 + x - 1, 15 epochs, batch 32; Table 11: Boston housing, 20
# epochs, batch 1), every optimizer with the same initial weights and batches
# per seed, learning rate 1e-3 and the table's k. Quick mode: one seed, one
# epoch, a data subset and four optimizers.

# %%
histories, notes = network_runs.run_tables(network_tables, seed, seeds, quick,
                                           data_dir=data_dir)
print("\n".join(notes))

# %%
if histories:
    net_history = pd.concat(histories, ignore_index=True)
    net_summary = network_runs.network_summary(net_history)
    write_table(significant(net_history), tables, ablation.NETWORKS_HISTORY_STEM, caption=(
        "Network ablation: every table, seed, optimizer and epoch (training and "
        "validation loss and metrics)."))
    write_table(significant(net_summary), tables, ablation.NETWORKS_STEM, caption=(
        "Network ablation: final training loss over seeds (mean, min, max), final "
        "validation loss, relative change of the mean against the authors' code and "
        "the seeds on which the optimizer ends below it. " + " ".join(notes)))
    show_table(net_summary)
    fig = figures.plot_networks(net_history)
    save_figure(fig, figures_dir, ablation.NETWORKS_STEM, dpi=dpi)

# %% [markdown]
# ## 7. The answers, in numbers

# %%
for effect in ablation.FUNCTION_EFFECTS:
    print(ablation.effect_line(effects, effect))
if histories:
    print("\n".join(network_runs.network_lines(net_summary)))

# %% [markdown]
# ## Figures of this notebook
#
# Every figure it wrote, shown at reduced size (the PDF and 300-dpi PNG files
# are in `figures/`; captions in `figures/README.md`).

# %%
from pathlib import Path as _Path

from mamgd_paper.core.artifacts import display_figures

display_figures(_Path(figures_dir).glob("*.png"));
