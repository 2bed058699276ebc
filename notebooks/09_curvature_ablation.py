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
# `mamgd_paper.experiments.ablation.ablation.mamgd_switched`, in which each difference is a switch (all
# off = `reference.mamgd("authors_code")` bit for bit, the four of Algorithm 6
# on = `reference.mamgd("algorithm6")` bit for bit; `tests/test_ablation.py`),
# with the paper's start points and learning rate 0.1. The network part uses
# the Keras classes and `mamgd_paper.experiments.networks.networks` (same models, data, batches and
# initial weights per seed as the Tables 7-11 runs).

# %% tags=["parameters"]
quick = False
seed = 0
seeds = 5
figures_dir = None  # None: build/interactive/09_curvature_ablation/ (a hand run never touches figures/); make passes figures/
data_dir = None
# Where notebook 02's k-sensitivity table is read from (full runs need it).
tables_dir = "../figures/tables"
# Network tasks of the ablation (paper table numbers).
network_tables = [7, 11]

# %%
from pathlib import Path

import numpy as np
import pandas as pd

from mamgd_paper.experiments.ablation import ablation as A
from mamgd_paper.experiments.ablation import switched as SW
from mamgd_paper.experiments.ablation import figures as AF
from mamgd_paper.paper import registry as reg
from mamgd_paper.experiments.ksearch import search
from mamgd_paper.core.artifacts import save_figure, write_table
from mamgd_paper.core.formatting import significant
from mamgd_paper.experiments.networks import networks
from mamgd_paper.core import parameters
from mamgd import functions as F

figures_dir = parameters.standard("09_curvature_ablation", quick, seed, seeds, data_dir, figures_dir)
parameters.subset("network_tables", network_tables, sorted(networks.TASKS))
tables = figures_dir / "tables"
dpi = 100 if quick else 300  # PNG resolution (quick runs: smaller, faster)
pd.set_option("display.width", 160)
pd.set_option("display.max_columns", 20)


def show(frame, digits=4):
    """Print a table compactly (general format, ``digits`` significant digits)."""
    print(frame.to_string(index=False, float_format=lambda v: f"{v:.{digits}g}"))


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
study = A.difference_study()
baseline_matched, baseline_cells = A.baseline_matches()
assert (baseline_matched, baseline_cells) == (365, 365)
overall, per_table = A.summarise_differences(study, baseline_matched)
overall.insert(2, "description", [
    SW.DIFFERENCES.get(c.split("+", 1)[-1], SW.COUNTERFACTUALS.get(c.split("+", 1)[-1], ""))
    if c.startswith("code+") else "" for c in overall["configuration"]])
write_table(significant(overall), tables, A.DIFFERENCES_STEM, caption=(
    "Each code-vs-paper difference of MAMGD switched on alone (code+...), all four of "
    "Algorithm 6, and Algorithm 6 without one of them: published cells of Tables 1-6 "
    "still matched at 6 decimals (of 460, of the 95 MAMGD cells) and the mean/max "
    "absolute change of the MAMGD column against the authors' code."))
write_table(significant(per_table), tables, A.DIFFERENCES_PER_TABLE_STEM, caption=(
    "As ablation_differences, per table: MAMGD cells matched and mean/max absolute "
    "change of the MAMGD column."))
write_table(significant(study), tables, A.DIFFERENCES_CELLS_STEM, caption=(
    "Every published MAMGD cell of Tables 1-6 under every switch setting: the paper's "
    "value, the authors' code's, the switched rule's, whether it matches at 6 decimals "
    "and the absolute change."))
show(overall.drop(columns=["description"]))

# %%
fig = AF.plot_differences(per_table)
save_figure(fig, figures_dir, A.DIFFERENCES_STEM, dpi=dpi)

# %% [markdown]
# ## 2. The five optimizers (and the single effects) on the six functions
#
# `authors_code`, `algorithm6`, AdaExp, Adam and AMSGrad at the paper's k and
# learning rate 0.1, plus the authors' code with the curvature switched on,
# with Adam's square root, and with k = 0; and Algorithm 6 without its
# curvature term.

# %%
curves = A.function_errors()
summary = A.function_summary(curves)
effects = A.compare_pairs(curves, A.FUNCTION_EFFECTS)
write_table(significant(curves), tables, A.FUNCTION_CURVES_STEM, caption=(
    "Error after every step of each ablation optimizer on the six test functions "
    "(float32, learning rate 0.1, the paper's k)."))
write_table(significant(summary), tables, A.FUNCTIONS_STEM, caption=(
    "Ablation optimizers on the test functions: the error before, at and after the "
    "step the paper tuned k at (S), at the last step, the best error, and the largest "
    "error over the even / odd steps of the second half (the paper shows even steps "
    "only)."))
write_table(significant(effects), tables, A.EFFECTS_STEM, caption=(
    "Single effects on the test functions (paper k): error without and with the "
    "change at the search step and the last step; ratio < 1 means the change helps."))
show(effects[["effect", "function", "ratio_search_step", "ratio_last_step",
              "mean_log10_ratio"]])

# %%
fig = AF.plot_function_curves(curves)
save_figure(fig, figures_dir, A.FUNCTIONS_STEM, dpi=dpi)

# %% [markdown]
# With the tuned k (about 2.4 on Tables 1 and 2) the betas are practically 0
# from the third step on: m is g, sqrt(n) is |g|, and the code moves every
# coordinate by lr per step -- sign descent. The first step is only 0.032 lr
# (the warm-up, section 4). On the quadratic the start is 1.5 from the target,
# so after 16 steps the iterate sits next to the target and then jumps by lr
# back and forth: the even steps (which the paper prints) are tiny, the odd
# steps are lr^2 = 0.01.

# %%
step_lengths = A.step_length_summary()
write_table(significant(step_lengths), tables, A.STEP_LENGTH_STEM, caption=(
    "The authors' code at the paper's k (lr 0.1): step length / lr (mean over "
    "coordinates) at steps 1 and 2, the first step from which every step is at least "
    "0.95 lr (sign descent), and the median after the search step."))
show(step_lengths)
show(summary[summary["optimizer"] == reg.CODE][[
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
if quick:
    ks = np.concatenate([[0.0], np.geomspace(1e-3, 10, 21)])
else:
    ks = np.concatenate([[0.0], np.geomspace(1e-4, 10, 201)])
k_range = A.k_range_study(ks)
k_effects = A.k_range_effects(k_range)
write_table(significant(k_range), tables, A.K_RANGE_STEM, caption=(
    "Error at the search step and at the last step over a range of k (k = 0 and a "
    "log grid on [1e-4, 10]) for MAMGD (code, Algorithm 6, with/without curvature, "
    "with Adam's square root), AdaExp (float32 and float64), Adam and AMSGrad."))
write_table(significant(k_effects), tables, A.K_RANGE_EFFECTS_STEM, caption=(
    "Across the k grid: fraction of k values at which the change lowers the error "
    "(at the search step, at the last step) and the median error ratio at the last step."))
show(k_effects)

# %%
fig = AF.plot_k_range(k_range)
save_figure(fig, figures_dir, A.K_RANGE_STEM, dpi=dpi)

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
warm_ks = sorted({0.0, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 0.1, 1.0}
                 | {f.paper_k for f in F.PAPER_FUNCTIONS})
factors = pd.concat([A.warmup_factors(20000 if not quick else 2000, k) for k in
                     (0.0, 1e-5, 1e-4, 1e-3, 0.05340795593118066, 2.3810217518681194)],
                    ignore_index=True)
warm = A.warmup_summary(warm_ks)
write_table(significant(warm), tables, A.WARMUP_STEM, caption=(
    "The missing square root as a warm-up: step multipliers of lr at t = 1 (the code: "
    "(1 - b2^t)/(1 - b1^t); Adam: sqrt(1 - b2^t)/(1 - b1^t); ratio sqrt(1 - b2^t)) and "
    "the number of steps until the ratio reaches 0.5, 0.9, 0.99, per decay rate k."))
show(warm)

# %%
fig = AF.plot_warmup(factors[factors["t"] <= (20000 if not quick else 2000)], curves)
save_figure(fig, figures_dir, A.WARMUP_STEM, dpi=dpi)

# %% [markdown]
# ## 5. Is the tuned k specific to its step count?
#
# The error over a grid of (k, step). Notebook 02 (the k search) writes this
# grid as its sensitivity table; when that table is there it is used, else it
# is computed here with the same float32 rule, vectorised over k.

# %%
sensitivity_path = Path(tables_dir) / f"{search.SENSITIVITY_STEM}.csv"
sensitivity = None
if not quick:
    if not sensitivity_path.is_file():
        raise FileNotFoundError(
            f"{sensitivity_path} not found: it is notebook 02's k-sensitivity table; run "
            "notebook 02 first (`make reproduce` does), or pass quick=True.")
    sensitivity = pd.read_csv(sensitivity_path)
grids = {}
for f in F.PAPER_FUNCTIONS:
    if sensitivity is not None and f.name in set(sensitivity["function"]):
        grids[f.name] = A.sensitivity_errors(sensitivity, f)
    else:
        grid_ks = np.concatenate([[0.0], np.geomspace(1e-3, 10, 41 if quick else 401)])
        grids[f.name] = (grid_ks, A.grid_errors(f, grid_ks))
source = (f"notebook 02's sensitivity table {sensitivity_path.name}"
          if sensitivity is not None else "computed here (mamgd_paper.experiments.ablation.ablation.grid_errors)")
print("k grid source:", source)
spec = pd.concat([A.k_specificity(f, *grids[f.name][:1], errors=grids[f.name][1])
                  for f in F.PAPER_FUNCTIONS], ignore_index=True)
spec_summary = A.k_specificity_summary(spec)
spec_summary.insert(0, "grid_source", source)
write_table(significant(spec), tables, A.K_SPECIFICITY_STEM, caption=(
    "Per function and step N: the best k on the grid, its error, the paper's k's error "
    "and regret (error / best error), and its percentile among the grid."))
write_table(significant(spec_summary), tables, A.K_SPECIFICITY_SUMMARY_STEM, caption=(
    f"Is the tuned k specific to its step count? Grid: {source}. Regret = error of the "
    "paper's k / best error on the grid at that step; rise_after_search = error at the "
    "last step / error at the search step."))
show(spec_summary.drop(columns=["grid_source"]))

# %%
fig = AF.plot_k_specificity(grids, spec)
save_figure(fig, figures_dir, A.K_SPECIFICITY_STEM, dpi=dpi)

# %% [markdown]
# ## 6. The network tasks
#
# `authors_code`, `algorithm6`, AdaExp, Adam and AMSGrad, plus the authors'
# code with the curvature switched on, with Adam's square root, and with
# k = 0 (Keras: `mamgd_paper.experiments.ablation.ablation.keras_optimizer`, equal to the NumPy rule bit
# for bit on the test functions), on the paper's network tasks `network_tables`
# (Table 7: y = x^2 + x - 1, 15 epochs, batch 32; Table 11: Boston housing, 20
# epochs, batch 1), every optimizer with the same initial weights and batches
# per seed, learning rate 1e-3 and the table's k. Quick mode: one seed, one
# epoch, a data subset and four optimizers.

# %%
configs = A.NETWORK_CONFIGS
run_tables = list(network_tables)
if quick:
    configs = tuple(c for c in configs if c in (
        reg.CODE, reg.ALGORITHM6_LABEL, reg.CODE_CURVATURE, reg.ADAM))
    run_tables = run_tables[:1]
histories, notes = [], []
for table in run_tables:
    history, info = A.network_ablation(
        table, seeds=list(range(seed, seed + (1 if quick else int(seeds)))), configs=configs,
        epochs=1 if quick else None, quick=quick, data_dir=data_dir,
        cache_dir=networks.HISTORY_CACHE)  # runs shared with notebooks 04 and 08
    if history is None:
        notes.append(f"Table {table} task not run: {info['reason']}")
        continue
    histories.append(history)
    # The notes go into a table caption: no run time there, so it stays byte-stable.
    notes.append(f"Table {table} task: {info['task']}, {info['epochs']} epochs, batch "
                 f"{info['batch_size']}, k = {info['k']:g}, seeds {info['seeds']}, "
                 f"sizes {info['sizes']}")
print("\n".join(notes))

# %%
if histories:
    net_history = pd.concat(histories, ignore_index=True)
    net_summary = A.network_summary(net_history)
    write_table(significant(net_history), tables, A.NETWORKS_HISTORY_STEM, caption=(
        "Network ablation: every table, seed, optimizer and epoch (training and "
        "validation loss and metrics)."))
    write_table(significant(net_summary), tables, A.NETWORKS_STEM, caption=(
        "Network ablation: final training loss over seeds (mean, min, max), final "
        "validation loss, relative change of the mean against the authors' code and "
        "the seeds on which the optimizer ends below it. " + " ".join(notes)))
    show(net_summary)
    fig = AF.plot_networks(net_history)
    save_figure(fig, figures_dir, A.NETWORKS_STEM, dpi=dpi)

# %% [markdown]
# ## 7. The answers, in numbers

# %%
def ratio_line(effect):
    d = effects[effects["effect"] == effect]
    helps_s = int((d["ratio_search_step"] < 1).sum())
    helps_n = int((d["ratio_last_step"] < 1).sum())
    return (f"{effect}: lowers the error on {helps_s}/6 functions at the search step, "
            f"{helps_n}/6 at the last step; error ratio (with/without) at the last step "
            + ", ".join(f"{r.function} {r.ratio_last_step:.3g}" for r in d.itertuples()))


for effect in A.FUNCTION_EFFECTS:
    print(ratio_line(effect))
if histories:
    for r in net_summary.itertuples():
        print(f"Table {r.table} task, {r.optimizer}: final training loss "
              f"{r.final_loss_mean:.4g} ({100 * r.change_vs_reference:+.1f}% vs the "
              f"authors' code, below it on {r.wins_vs_reference}/{r.n_seeds} seeds)")

# %% [markdown]
# ## Figures of this notebook
#
# Every figure it wrote, shown at reduced size (the PDF and 300-dpi PNG files
# are in `figures/`; captions in `figures/README.md`).

# %%
from pathlib import Path as _Path

from mamgd_paper.core.artifacts import display_figures

display_figures(_Path(figures_dir).glob("*.png"));
