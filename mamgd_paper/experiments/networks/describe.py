"""The prose and the protocol table of a task's notebook (notebooks/network_task.py).

:func:`describe` writes the Markdown of each part of the notebook from the
task's declaration (:class:`mamgd_paper.experiments.networks.tasks.Task`:
its protocol fields and its prose fields); :func:`protocol_frame` is the
protocol as a two-column table.
"""

from __future__ import annotations

import pandas as pd

from mamgd_paper.experiments.networks.tasks import LEARNING_RATE, QUICK_EPOCHS, QUICK_SEEDS
from mamgd_paper.experiments.networks.verdicts import PAPER_LOGGED_VALIDATION_ACCURACY
from mamgd_paper.paper import registry


def protocol_frame(task, sizes=None):
    """The task's protocol as a two-column table (for the notebooks)."""
    layers = ", ".join(f"{layer.units} {layer.activation or 'linear'}"
                       for layer in task.layers)
    rows = [
        ("table / figure", f"Table {task.table}, Figure {task.figure}"),
        ("data", task.dataset or "generated (y = x^2 + x - 1)"),
        ("protocol", task.protocol),
        ("model", f"Sequential Dense: input {task.input_dim} -> {layers}"),
        ("loss", task.loss + (f" (metrics: {', '.join(task.metrics)})" if task.metrics else "")),
        ("epochs, batch", f"{task.epochs}, {task.batch_size}"),
    ]
    for spec in task.optimizers:
        arguments = ", ".join(f"{k}={v!r}" for k, v in spec.kwargs)
        rows.append((f"optimizer {spec.name}", f"{spec.cls}({arguments})"))
    rows.append(("held-out (not in the paper)", task.heldout))
    if sizes:
        rows.append(("split sizes", ", ".join(f"{k} {v}" for k, v in sizes.items())))
    rows.append(("trained by", "mamgd_paper.engine: all seeds and optimizers in compiled "
                               "batches (Keras on JAX, stateless API)"))
    return pd.DataFrame(rows, columns=["item", "value"])



_LOSS_NAMES = {"mse": "mean squared error",
               "categorical_crossentropy": "categorical cross-entropy",
               "binary_crossentropy": "binary cross-entropy"}
_METRIC_NAMES = {"mae": "MAE", "mse": "MSE", "accuracy": "accuracy"}
_ACTIVATION_NAMES = {"relu": "ReLU", None: "linear"}


def _power(value):
    """``1e-3`` rather than ``0.001``."""
    return f"{value:.0e}".replace("e-0", "e-").replace("e+0", "e")


def _names(names):
    names = list(names)
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _metric_name(task, metric):
    if metric == "loss":
        return "MSE" if task.loss == "mse" else "loss"
    return _METRIC_NAMES.get(metric, metric)


def _describe_intro(task):
    units = (task.input_dim, *(layer.units for layer in task.layers))
    architecture = "-".join(str(n) for n in units)
    activations = ", ".join(_ACTIVATION_NAMES.get(layer.activation, layer.activation)
                            for layer in task.layers)
    metrics = (f" (metric: {_names(_metric_name(task, m) for m in task.metrics)})"
               if task.metrics else "")
    mamgd = task.optimizer(registry.MAMGD).arguments
    baselines = [spec.name for spec in task.optimizers if spec.name != registry.MAMGD]
    paragraphs = [
        f"## Table {task.table} and Figure {task.figure}: {task.subject or task.title}",
        f"The paper trains a {architecture} network ({activations}) on {task.paper_data}, "
        f"with the {_LOSS_NAMES.get(task.loss, task.loss)} loss{metrics}, {task.epochs} "
        f"epochs at batch size {task.batch_size}, and reports the **training** "
        f"{_metric_name(task, 'loss')} per epoch of one unseeded run per optimizer: MAMGD "
        f"(learning rate {_power(mamgd['learning_rate'])}, k = {_power(task.k)}, the "
        f"authors' code's update rule), {_names(baselines)} (learning rate "
        f"{_power(LEARNING_RATE)}, Keras defaults otherwise). {task.paper_note}".rstrip(),
        "Here the same protocol runs for `seeds` seeds (`seed`, `seed + 1`, ..., each "
        "with `keras.utils.set_random_seed` and deterministic TensorFlow ops; every "
        "optimizer of a seed starts from the same weights and sees the same batches). "
        "For every published number we say whether it lies inside our band [min, max] "
        "over the seeds, and how far outside if not. Beyond the paper, every run is "
        f"evaluated after each epoch on held-out data: {task.heldout}",
    ]
    if dict(task.load_kwargs).get("num_words"):
        paragraphs.append(
            "The multi-hot vectors are never built: the first Dense layer sums the rows of "
            "its kernel at each text's word indices (the same product up to the order of "
            "the additions), so the run stays small and fast.")
    updates = -(-task.train_size // task.batch_size)
    paragraphs.append(
        f"Batch size {task.batch_size} means {updates} updates per epoch. Every seed and "
        "optimizer is trained by the project's compiled engine (`mamgd_paper.engine`): the "
        "paper's Keras model and the optimizer classes through Keras's stateless API under "
        "`jax.jit`, many models at once. It equals Keras `fit` on one model (a test), and "
        "its seeds are compared in distribution with Keras `fit` on TensorFlow, the authors' "
        "backend, in the report (`engine_vs_keras_fit`).")
    if task.allow_missing:
        from mamgd_paper.datasets import files

        fname = files.REGISTRY[task.dataset].fname
        paragraphs.append(
            f"`{fname}` is downloaded by `mamgd_paper.datasets` on a connected machine (or "
            "read from `data_dir` / `$MAMGD_DATA_DIR`). Without it this notebook still "
            f"succeeds and says that Table {task.table} was not run; no number is made up.")
    paragraphs.append(
        f"Smoke run (`quick=True`): {QUICK_SEEDS} seed, {QUICK_EPOCHS} epochs, "
        f"{task.quick_data}.")
    return paragraphs


def _describe_comparison(task):
    return [f"Every published number of Table {task.table} against our seed band "
            f"(inside: the number as printed lies in [min, max] over the seeds). "
            f"{task.comparison_note}".rstrip()]


def _describe_figure(task):
    if task.ylim is None:
        limits = "The paper gives no y limits for this figure."
    else:
        low, high = task.ylim
        limits = f"The y axis is the paper's [{low:g}, {high:g}]."
    return [f"Figure {task.figure}. Lines: mean over seeds; shaded: min-max over seeds; "
            f"open markers: the paper's numbers. {limits} {task.ylim_note}".rstrip()
            + f" The second figure shows {task.heldout_figure}."]


def _describe_heldout(task):
    metric = _metric_name(task, task.heldout_metric)
    text = (f"Per optimizer, mean and standard deviation over seeds of the final training "
            f"loss, the best validation {metric} over the epochs and the test {metric} "
            f"after the last epoch. {task.summary_note}".rstrip())
    paragraphs = [text]
    if task.table in PAPER_LOGGED_VALIDATION_ACCURACY:
        paragraphs.append("The authors' run log shows the final-epoch validation accuracy "
                          "of their one run; below it is against our seeds.")
    return paragraphs


_DESCRIPTIONS = {"intro": _describe_intro, "comparison": _describe_comparison,
                 "figure": _describe_figure, "heldout": _describe_heldout}


def describe(task, part="intro"):
    """Markdown prose of ``task``'s notebook, from its declaration.

    ``part``: ``"intro"`` (heading, the paper's protocol, what this project
    adds and holds out, notes, the smoke run's sizes), ``"comparison"`` (the
    published numbers against the band), ``"figure"`` (how to read the figures,
    the y limits) or ``"heldout"`` (the held-out summary).
    """
    if part not in _DESCRIPTIONS:
        raise ValueError(f"part must be one of {sorted(_DESCRIPTIONS)}, not {part!r}.")
    return "\n\n".join(_DESCRIPTIONS[part](task))
