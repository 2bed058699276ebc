"""Notebook 10's tables (under ``figures/tables``) and the file stems of its outputs.

The report reads the tables by these stems.
"""

from __future__ import annotations

from mamgd_paper.core.artifacts import write_table
from mamgd_paper.core.formatting import significant

#: File stems of notebook 10's tables (under figures/tables) and figures (under
#: figures/).
AMSGRAD_CONTOUR_STEM = "scratch_amsgrad_contour"
BOWL_STEM = "scratch_bowl"
BOWL_CONTOUR_STEM = "scratch_bowl_contour"
MNIST_STEM = "scratch_mnist"
MNIST_SUMMARY_STEM = "scratch_mnist_summary"


def write_bowl_table(results, tables):
    """Write :func:`mamgd_paper.experiments.scratch.bowl.bowl_table`'s ``results``
    as ``scratch_bowl`` (9 significant digits) under ``tables``."""
    return write_table(significant(results), tables, BOWL_STEM, caption=(
        "Every optimizer of mamgd.reference on the AMSGrad tutorial's bowl f = x^2 + y^2 from "
        "its start (NumPy seed 1), 100 iterations, float64; learning rate: the best of "
        "0.001-0.3 (the tutorial's AMSGrad: its alpha 0.007); MAMGD and AdaExp k = 2.377."))


def write_mnist_tables(history, summary, tables, learning_rate, batch_size, mamgd_k):
    """Write the MNIST runs: every seed and epoch (``history`` of
    :func:`mamgd_paper.experiments.scratch.mnist.mnist_runs`, 9 significant
    digits) as ``scratch_mnist`` and the final epoch (``summary`` of
    :func:`mamgd_paper.experiments.scratch.mnist.mnist_summary`, 6 digits) as
    ``scratch_mnist_summary``; the captions state the settings."""
    epochs = int(history["epoch"].max())
    n_seeds = int(history["seed"].nunique())
    write_table(significant(history), tables, MNIST_STEM, caption=(
        f"Softmax network on MNIST per seed and epoch: training loss and accuracy (averaged "
        f"over the epoch's batches, as Keras reports them) and validation (test set) loss "
        f"and accuracy; lr {learning_rate}, batch {batch_size}, MAMGD k {mamgd_k:g}."))
    write_table(significant(summary, 6), tables, MNIST_SUMMARY_STEM, caption=(
        f"Softmax network on MNIST after {epochs} epoch(s): accuracies (percent) over "
        f"{n_seeds} seed(s) beside the course report's (scratch 92.18% training; "
        "Keras 92.71% training, 92.64% validation)."))
