# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Table 10 and Figure 10: Reuters newswires
#
# The paper classifies Reuters newswires into 46 topics with a 10000-64-64-46
# network (ReLU, ReLU, softmax): the 10000 most frequent words as a multi-hot
# vector, one-hot labels, categorical cross-entropy, 20 epochs, batch 512. The
# first 1000 training newswires are the validation split, the other 7982 the
# training data. It reports the **training** loss per epoch of one unseeded run
# per optimizer: MAMGD (learning rate 1e-3, k = 1e-4, the authors' code's update
# rule), Adam and RMSprop (learning rate 1e-3, Keras defaults otherwise).
#
# Here the same protocol runs for `seeds` seeds (0 .. seeds-1, each with
# `keras.utils.set_random_seed` and deterministic TensorFlow ops; every optimizer
# of a seed starts from the same weights and sees the same batches). For every
# published number we say whether it lies inside our band [min, max] over the
# seeds, and how far outside if not. Beyond the paper, every run is evaluated
# after each epoch on the paper's validation split *and* on the 2246 test
# newswires. The multi-hot vectors are built per batch in float32 from the word
# indices, never as one big matrix.

# %% tags=["parameters"]
quick = False  # smoke run: 1 seed, 2 epochs, 800 training / 200 validation / 500 test
seed = 0  # first seed: the seeds are seed, seed + 1, ..., seed + seeds - 1
seeds = 5  # number of seeds
figures_dir = "../figures"  # figures here, tables in figures_dir/tables
data_dir = None  # dataset folder (default: $MAMGD_DATA_DIR, else data/)
verbose = None  # None: progress bars in Jupyter, quiet under Papermill; or 0/1/2

# %%
from IPython.display import Markdown, display

from mamgd import network_figures, networks
from mamgd.paper import paper_table

task = networks.REUTERS
paper = paper_table(task.table)
networks.protocol_frame(task)

# %% [markdown]
# ## Runs

# %%
result = networks.run_experiment(task, seeds=seeds, first_seed=seed, quick=quick,
                                 data_dir=data_dir, verbose=verbose)
outputs = networks.write_outputs(result, figures_dir)
print(networks.status_line(result), "Split sizes:", result.sizes)
networks.timing_frame(result)

# %% [markdown]
# ## Table 10: mean training loss over seeds (paper's layout) and the published one

# %%
display(outputs["mean"])
paper

# %% [markdown]
# Every published number against our seed band:

# %%
networks.comparison_frame(outputs["verdicts"])

# %% [markdown]
# ## Figure 10
#
# Lines: mean over seeds; shaded: min-max over seeds; open markers: the paper's
# numbers (the paper gives no y limits for this figure). The second figure shows
# validation loss and accuracy and the test accuracy.

# %%
figures = network_figures.save_task_figures(task, result.history, paper, figures_dir,
                                            close=False)

# %% [markdown]
# ## Held-out metrics (not in the paper)
#
# Final training loss, best validation accuracy over the epochs, and the test
# accuracy after the last epoch (2246 newswires never used for anything else).
# Mean and standard deviation over seeds.

# %%
outputs["summary"]

# %% [markdown]
# The authors' run log shows the final-epoch validation accuracy of their one run;
# here it is against our seeds:

# %%
networks.logged_validation_comparison(result)

# %% [markdown]
# ## Verdict

# %%
display(Markdown(f"**{outputs['verdict']}**"))

# %% [markdown]
# ## Figures of this notebook
#
# Every figure it wrote, shown at reduced size (the PDF and 300-dpi PNG files
# are in `figures/`; captions in `figures/README.md`).

# %%
from pathlib import Path as _Path

from mamgd.artifacts import display_figures

display_figures(_Path(figures_dir).glob("*.png"));
