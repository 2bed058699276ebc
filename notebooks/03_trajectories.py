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
# # Optimizer paths on the test functions
#
# Every optimizer of the companion -- MAMGD as the authors' code runs it and as
# the paper's Algorithm 6 prints it, AdaExp (the paper's Algorithm 7), Adam,
# AMSGrad, Adagrad, RMSprop and SGD -- from each test function's start point,
# drawn on a contour plot of the function in the style of the from-scratch
# AMSGrad tutorial (docs/protocol.md, section 5): contour of f over the function's
# domain, each path as a line with a marker per step, the start (gold star)
# and every global minimiser (white cross) marked. A second panel zooms on
# the region the paths cover.
#
# Protocol of Tables 1-6: learning rate 0.1, Keras defaults otherwise, float32;
# MAMGD (both variants) and AdaExp use the function's published k (Rosenbrock
# and Beale have none and use k = 0.1). Steps: the table's length (30, Booth
# 40); 100 for Rosenbrock and Beale. The runs use the NumPy reference
# optimizers (`mamgd.reference`, bit for bit the Keras ones).

# %% tags=["parameters"]
quick = False  # quick: three functions only, PNGs at 100 dpi
seed = 0  # unused: the runs are deterministic
seeds = 5  # unused here
figures_dir = None  # None: build/interactive/03_trajectories/ (a hand run never touches figures/); make passes figures/
data_dir = None  # unused here
function_names = None  # None: the six paper functions plus Rosenbrock and Beale

# %%
import pandas as pd
from IPython.display import Markdown, display

from mamgd import functions
from mamgd_paper.core import artifacts, parameters, plotting
from mamgd_paper.experiments.functions import figures
from mamgd_paper.experiments.trajectories import trajectories

figures_dir = parameters.standard("03_trajectories", quick, seed, seeds, data_dir, figures_dir)
if function_names is not None:
    parameters.subset("function_names", function_names, [f.name for f in functions.ALL_FUNCTIONS])
tables_dir = figures_dir / "tables"
dpi = artifacts.png_dpi(quick)
selected = trajectories.selected_functions(function_names, quick)
writer = plotting.FigureWriter(figures_dir, dpi=dpi)  # two worker processes save the figures

# %% [markdown]
# ## Paths and figures

# %%
summaries, frames = [], []
for function in selected:
    paths = trajectories.optimizer_paths(function)
    writer.submit(trajectories.figure_stem(function), figures.contour_paths, function, paths,
                  title=trajectories.figure_title(function))
    summaries.append(trajectories.path_summary(function, paths))
    frames.append(trajectories.paths_frame(function, paths))
summary = pd.concat(summaries, ignore_index=True)
writer.close()  # waits for the figures; re-raises any error
display(Markdown("\n".join(f"- {f.title}: `figures/{trajectories.figure_stem(f)}.pdf` / `.png`"
                           for f in selected)))

# %% [markdown]
# ## Where each optimizer ends
#
# Final point, f there and the paper's error (mean squared distance to the
# target point) after the last step; `figures/tables/trajectories.csv` has
# every point of every path (9 significant digits: exact float32).

# %%
paths_table = pd.concat(frames, ignore_index=True)
artifacts.write_text(tables_dir / "trajectories.csv",
                     paths_table.to_csv(index=False, float_format="%.9g", lineterminator="\n"))
artifacts.write_table(
    summary.astype({"steps": object, "diverged": object}), tables_dir, "trajectory_summary",
    decimals=12, caption="Final point of each optimizer path (learning rate 0.1, float32).")
with pd.option_context("display.float_format", "{:.4g}".format, "display.max_rows", 80):
    display(summary)

# %%
display(Markdown("\n".join(trajectories.ending_lines(summary))))

# %% [markdown]
# ## Figures of this notebook
#
# Every figure it wrote, shown at reduced size (the PDF and 300-dpi PNG files
# are in `figures/`; captions in `figures/README.md`).

# %%
from pathlib import Path as _Path

from mamgd_paper.core.artifacts import display_figures

display_figures(_Path(figures_dir).glob("*.png"));
