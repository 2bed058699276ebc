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
# # 10 From-scratch references
#
# Two from-scratch references that docs/protocol.md, section 5 lists beside the
# paper, redone with this package's NumPy oracles (`mamgd.reference`):
#
# 1. **AMSGrad from scratch** (a NumPy tutorial): f = x^2 + y^2 on
#    [-1, 1]^2, a random start (NumPy seed 1), 100 iterations, alpha 0.007,
#    beta_1 0.9 decayed as beta_1^t inside the first-moment update, beta_2
#    0.99; the tutorial ends near f = 2e-6. Then every optimizer of
#    `mamgd.reference` from the same start.
# 2. **Adam from scratch** (a course report): a NumPy "softmax network" on
#    MNIST. In the report that is a single dense layer with a softmax output
#    (multinomial logistic regression, 784 -> 10), trained with a hand-written
#    Adam (92.18% training accuracy, final loss 0.2810) beside Keras's Adam on
#    the same set-up (92.71% training, 92.64% validation accuracy). Here the
#    same network is trained with `mamgd.reference.adam` (the NumPy training
#    loop is `mamgd_paper.experiments.scratch.softmax`), with Keras's built-in
#    Adam from the same initial weights and the same minibatches, and then with
#    the from-scratch MAMGD.

# %% tags=["parameters"]
quick = False
seed = 0
seeds = 5
figures_dir = None  # None: build/interactive/10_from_scratch/ (a hand run never touches figures/); make passes figures/
data_dir = None
# MNIST settings (the course report's are not all known; these are stated).
epochs = 10
batch_size = 128
learning_rate = 1e-3
mamgd_k = 1e-5  # the paper's MAMGD k for MNIST (Table 8)

# %%
from pathlib import Path

from mamgd_paper.core import parameters
from mamgd_paper.core.artifacts import display_figures, png_dpi, save_figure, show_table
from mamgd_paper.experiments.scratch import bowl, figures, mnist, outputs

figures_dir = parameters.standard("10_from_scratch", quick, seed, seeds, data_dir, figures_dir)
parameters.positive_int("epochs", epochs)
parameters.positive_int("batch_size", batch_size)
parameters.positive_number("learning_rate", learning_rate)
parameters.positive_number("mamgd_k", mamgd_k)
tables = figures_dir / "tables"
dpi = png_dpi(quick)  # PNG resolution (quick runs: smaller, faster)

# %% [markdown]
# ## 1. AMSGrad from scratch on the bowl
#
# The start is the tutorial's: `lo + rand(2) * (hi - lo)` from NumPy's legacy
# generator seeded with 1 (`np.random.RandomState(1)`, what `np.random.seed(1)`
# seeds), i.e. (-0.16596, 0.44065). Arithmetic in float64 like the tutorial.

# %%
start = bowl.tutorial_start()
the_bowl = bowl.bowl()
tutorial_path, tutorial_f = bowl.tutorial_run(start)
print(f"start {start}, f(start) = {tutorial_f[0]:.6g}")
print(f"after {bowl.TUTORIAL_ITERATIONS} iterations: x = {tutorial_path[-1]}, "
      f"f = {tutorial_f[-1]:.3g} (the tutorial: about 2e-6)")
assert 1e-6 < tutorial_f[-1] < 3e-6

# %%
fig = figures.amsgrad_contour(the_bowl, tutorial_path, tutorial_f)
save_figure(fig, figures_dir, outputs.AMSGRAD_CONTOUR_STEM, dpi=dpi)

# %% [markdown]
# ## 2. Every optimizer of `mamgd.reference` from the same start
#
# Learning rates: for each optimizer the rate of the grid 0.001, 0.003, 0.01,
# 0.03, 0.1, 0.3 with the smallest f after 100 iterations (the tutorial's
# AMSGrad keeps its 0.007). MAMGD and AdaExp use k = 2.377, the paper's k for
# this function (Table 2). The table states every rate.

# %%
rates = bowl.choose_learning_rates(start=start)
paths = bowl.bowl_paths(rates, start)
bowl_results = bowl.bowl_table(paths, rates)
outputs.write_bowl_table(bowl_results, tables)
show_table(bowl_results)

# %%
fig = figures.bowl_contour(the_bowl, paths)
save_figure(fig, figures_dir, outputs.BOWL_CONTOUR_STEM, dpi=dpi)

# %% [markdown]
# ## 3. The softmax network on MNIST: from-scratch Adam vs Keras's Adam
#
# Network: 784 -> 10, softmax, categorical cross-entropy; Glorot-uniform
# kernel and zero bias from a seeded NumPy generator, the same weights given
# to Keras. Inputs /255, one-hot labels; the 10000 test images are the
# validation data. Training: learning rate `learning_rate` (1e-3), batch
# `batch_size` (128), `epochs` (10) epochs, one seeded shuffle per epoch shared
# by all optimizers; `seeds` seeds. Quick mode: one epoch on the first 2000
# training images. The MAMGD run uses k = 1e-5 (the paper's MNIST value).

# %%
subset, run_epochs, run_seeds = mnist.run_plan(quick, seed, seeds, epochs)
train, test = mnist.mnist_arrays(data_dir, subset=subset)
print(f"train {train[0].shape}, validation {test[0].shape}; {run_epochs} epochs, batch "
      f"{batch_size}, lr {learning_rate}, seeds {run_seeds}")
history = mnist.mnist_runs(train, test, seeds=run_seeds, epochs=run_epochs,
                           batch_size=int(batch_size), learning_rate=float(learning_rate),
                           k=float(mamgd_k))
summary = mnist.mnist_summary(history)
outputs.write_mnist_tables(history, summary, tables, learning_rate, batch_size, mamgd_k)
show_table(summary)

# %%
print("largest |numpy Adam - Keras Adam| over seeds and epochs:")
print(mnist.adam_gap(history).to_string())

# %%
fig = figures.plot_mnist(history)
save_figure(fig, figures_dir, outputs.MNIST_STEM, dpi=dpi)

# %% [markdown]
# ## Figures of this notebook
#
# Every figure it wrote, shown at reduced size (the PDF and 300-dpi PNG files
# are in `figures/`; captions in `figures/README.md`).

# %%
display_figures(Path(figures_dir).glob("*.png"));
