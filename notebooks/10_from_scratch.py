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
#    loop is `mamgd_paper.experiments.scratch.scratch`), with Keras's built-in Adam from the same initial
#    weights and the same minibatches, and then with the from-scratch MAMGD.

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

import numpy as np
import pandas as pd

from mamgd_paper.experiments.functions import figures as mfig
from mamgd_paper.paper import registry as reg
from mamgd_paper.experiments.scratch import scratch as S
from mamgd_paper.core.artifacts import save_figure, write_table
from mamgd_paper.core.formatting import significant
from mamgd_paper.core import parameters
from mamgd import reference as R

figures_dir = parameters.standard("10_from_scratch", quick, seed, seeds, data_dir, figures_dir)
parameters.positive_int("epochs", epochs)
parameters.positive_int("batch_size", batch_size)
parameters.positive_number("learning_rate", learning_rate)
parameters.positive_number("mamgd_k", mamgd_k)
tables = figures_dir / "tables"
dpi = 100 if quick else 300  # PNG resolution (quick runs: smaller, faster)


def show(frame, digits=4):
    print(frame.to_string(index=False, float_format=lambda v: f"{v:.{digits}g}"))


# %% [markdown]
# ## 1. AMSGrad from scratch on the bowl
#
# The start is the tutorial's: `lo + rand(2) * (hi - lo)` from NumPy's legacy
# generator seeded with 1 (`np.random.RandomState(1)`, what `np.random.seed(1)`
# seeds), i.e. (-0.16596, 0.44065). Arithmetic in float64 like the tutorial.

# %%
start = S.tutorial_start()
bowl = S.bowl()
tutorial_path = S.bowl_run(R.amsgrad_tutorial(alpha=S.TUTORIAL_ALPHA), start)
tutorial_f = bowl.value(tutorial_path.T)
print(f"start {start}, f(start) = {tutorial_f[0]:.6g}")
print(f"after {S.TUTORIAL_ITERATIONS} iterations: x = {tutorial_path[-1]}, "
      f"f = {tutorial_f[-1]:.3g} (the tutorial: about 2e-6)")
assert 1e-6 < tutorial_f[-1] < 3e-6

# %%
fig = mfig.contour_paths(bowl, {reg.TUTORIAL_AMSGRAD: tutorial_path}, title=(
    f"AMSGrad from scratch on f = x^2 + y^2: {S.TUTORIAL_ITERATIONS} iterations, alpha "
    f"{S.TUTORIAL_ALPHA}, final f = {tutorial_f[-1]:.2g}"))
save_figure(fig, figures_dir, S.AMSGRAD_CONTOUR_STEM, dpi=dpi)

# %% [markdown]
# ## 2. Every optimizer of `mamgd.reference` from the same start
#
# Learning rates: for each optimizer the rate of the grid 0.001, 0.003, 0.01,
# 0.03, 0.1, 0.3 with the smallest f after 100 iterations (the tutorial's
# AMSGrad keeps its 0.007). MAMGD and AdaExp use k = 2.377, the paper's k for
# this function (Table 2). The table states every rate.

# %%
rates = S.choose_learning_rates(start=start)
paths = {name: S.bowl_run(S.bowl_optimizer(name, lr), start) for name, lr in rates.items()}
bowl_results = S.bowl_table(paths, rates)
write_table(significant(bowl_results), tables, S.BOWL_STEM, caption=(
    "Every optimizer of mamgd.reference on the AMSGrad tutorial's bowl f = x^2 + y^2 from "
    "its start (NumPy seed 1), 100 iterations, float64; learning rate: the best of "
    "0.001-0.3 (the tutorial's AMSGrad: its alpha 0.007); MAMGD and AdaExp k = 2.377."))
show(bowl_results)

# %%
fig = mfig.contour_paths(bowl, paths, title=(
    "Every optimizer of mamgd.reference on the bowl, 100 iterations from the tutorial's "
    "start (learning rates in tables/scratch_bowl.md)"))
save_figure(fig, figures_dir, S.BOWL_CONTOUR_STEM, dpi=dpi)

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
train, test = S.mnist_arrays(data_dir, subset=2000 if quick else None)
run_epochs = 1 if quick else int(epochs)
run_seeds = list(range(seed, seed + (1 if quick else int(seeds))))
print(f"train {train[0].shape}, validation {test[0].shape}; {run_epochs} epochs, batch "
      f"{batch_size}, lr {learning_rate}, seeds {run_seeds}")
history = S.mnist_runs(train, test, seeds=run_seeds, epochs=run_epochs,
                       batch_size=int(batch_size), learning_rate=float(learning_rate),
                       k=float(mamgd_k))
summary = S.mnist_summary(history)
write_table(significant(history), tables, S.MNIST_STEM, caption=(
    f"Softmax network on MNIST per seed and epoch: training loss and accuracy (averaged "
    f"over the epoch's batches, as Keras reports them) and validation (test set) loss "
    f"and accuracy; lr {learning_rate}, batch {batch_size}, MAMGD k {mamgd_k:g}."))
write_table(significant(summary, 6), tables, S.MNIST_SUMMARY_STEM, caption=(
    f"Softmax network on MNIST after {run_epochs} epoch(s): accuracies (percent) over "
    f"{len(run_seeds)} seed(s) beside the course report's (scratch 92.18% training; "
    "Keras 92.71% training, 92.64% validation)."))
show(summary)

# %%
numpy_adam = history[history["optimizer"] == reg.NUMPY_ADAM].reset_index(drop=True)
keras_adam = history[history["optimizer"] == reg.KERAS_ADAM].reset_index(drop=True)
gap = (numpy_adam[["loss", "accuracy", "val_loss", "val_accuracy"]]
       - keras_adam[["loss", "accuracy", "val_loss", "val_accuracy"]]).abs().max()
print("largest |numpy Adam - Keras Adam| over seeds and epochs:")
print(gap.to_string())

# %%
fig = S.plot_mnist(history)
save_figure(fig, figures_dir, S.MNIST_STEM, dpi=dpi)

# %% [markdown]
# ## Figures of this notebook
#
# Every figure it wrote, shown at reduced size (the PDF and 300-dpi PNG files
# are in `figures/`; captions in `figures/README.md`).

# %%
from pathlib import Path as _Path

from mamgd_paper.core.artifacts import display_figures

display_figures(_Path(figures_dir).glob("*.png"));
