"""The training engine (mamgd_paper.engine): Keras semantics, batching, sparse inputs.

Golden values come from independent computations: Keras ``fit`` on the JAX
backend (the same model, initial weights and batches), the engine run on one
model alone, and the dense multi-hot product.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from mamgd_paper.engine import compiled, inputs
from mamgd_paper.experiments.networks import tasks, training
from mamgd_paper.experiments.networks.data import SequenceSet, Split, TaskData
from mamgd_paper.paper import registry


def _regression(n=103, d=13, seed=0):
    """Boston-like data: 103 rows (the last batch of 8 is a short one)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n + 40, d)).astype(np.float32)
    y = (x @ rng.normal(size=(d, 1)) + 3).astype(np.float32)
    return TaskData(Split(x[:n], y[:n]), Split(x[n:], y[n:]))


TASK = dataclasses.replace(tasks.BOSTON_HOUSING, epochs=3, batch_size=8)


def _fit_on_jax(task, data, spec, seed, epochs):
    """Keras ``fit`` on the JAX backend with the engine's initial weights and batches."""
    import keras

    keras.utils.set_random_seed(seed)
    model = task.build_model()
    model.compile(optimizer=spec.build(), loss=task.loss, metrics=list(task.metrics))
    orders = compiled.batch_orders(seed, epochs, len(data.train))
    rows = []
    for order in orders:
        fit = model.fit(data.train.x[order], data.train.y[order], batch_size=task.batch_size,
                        epochs=1, shuffle=False, verbose=0,
                        validation_data=(data.validation.x, data.validation.y))
        rows.append({name: values[0] for name, values in fit.history.items()})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("name", ["MAMGD", "Adam", "RMSprop"])
def test_one_model_equals_keras_fit_on_jax(name):
    """Same initial weights, same batches (a short last batch included): the
    per-epoch training loss and metric (averaged over the batches as Keras does)
    and the validation scores equal ``fit``'s to float32 rounding."""
    data = _regression()
    spec = TASK.optimizer(name)
    ours = compiled.train(TASK, data, [training.engine_run(spec, 3)])
    theirs = _fit_on_jax(TASK, data, spec, 3, TASK.epochs)
    for column in ("loss", "mae", "val_loss", "val_mae"):
        np.testing.assert_allclose(ours[column], theirs[column], rtol=1e-5, err_msg=column)
    assert ours["loss"].iloc[-1] < ours["loss"].iloc[0]


def test_a_run_does_not_depend_on_the_other_runs_of_its_call():
    """Bit for bit: one run alone, or at another position among other seeds and
    learning rates (the engine pads every call to a fixed number of models)."""
    data = _regression()
    spec = TASK.optimizer("MAMGD")
    run = training.engine_run(spec, 3)
    alone = compiled.train(TASK, data, [run])
    others = [dataclasses.replace(run, seed=s, learning_rate=lr)
              for s, lr in ((5, 1e-2), (6, 3e-3), (7, 1e-4))]
    mixed = compiled.train(TASK, data, others + [run] + others)
    pd.testing.assert_frame_equal(alone.drop(columns="run"),
                                  mixed[mixed["run"] == 3].drop(columns="run")
                                  .reset_index(drop=True), check_exact=True)


@pytest.mark.parametrize("label", [registry.MAMGD, registry.ADAEXP])
def test_per_model_k_and_learning_rate_in_one_program(label):
    """Runs with different k and learning rates trained in one compiled program
    equal each run trained alone, and the values take effect (results differ)."""
    data = _regression()
    settings = [(1e-3, 0.0), (1e-2, 1e-3), (3e-3, 0.5)]
    runs = [compiled.Run(2, label, lr, k) for lr, k in settings]
    together = compiled.train(TASK, data, runs)
    for index, run in enumerate(runs):
        alone = compiled.train(TASK, data, [run]).drop(columns="run")
        pd.testing.assert_frame_equal(
            alone, together[together["run"] == index].drop(columns="run").reset_index(drop=True),
            check_exact=True)
    finals = together.groupby("run")["loss"].last()
    assert finals.nunique() == len(runs)


def test_adaexp_with_k_zero_is_adam_in_the_engine():
    """AdaExp(k = 0) is Keras's Adam operation for operation (on JAX): the same bits."""
    data = _regression()
    adaexp = compiled.train(TASK, data, [compiled.Run(4, registry.ADAEXP, 1e-2, 0.0)])
    adam = compiled.train(TASK, data, [compiled.Run(4, registry.ADAM, 1e-2)])
    pd.testing.assert_frame_equal(adaexp, adam, check_exact=True)


def _bag_of_words(n, num_words=300, seed=0):
    rng = np.random.default_rng(seed)
    texts = [rng.integers(0, num_words, int(rng.integers(1, 60))).tolist() for _ in range(n)]
    return SequenceSet.from_sequences(texts, num_words)


def test_sparse_pages_are_the_multi_hot_rows():
    texts = _bag_of_words(50)
    rows = inputs.SparseRows.from_sequences(texts)
    np.testing.assert_array_equal(rows.dense(), texts.multi_hot())
    assert rows.page_count.min() >= 1 and rows.pages.shape[1] == inputs.PAGE


def test_sparse_first_layer_equals_the_dense_run():
    """Reuters' network on bag-of-words rows: the engine's page gather/segment-sum
    gives the dense multi-hot run's numbers up to the order of the additions."""
    n_train, n_val = 300, 100
    texts = _bag_of_words(n_train + n_val)
    labels = np.eye(46, dtype=np.float32)[np.random.default_rng(1).integers(0, 46, len(texts))]
    sparse = TaskData(Split(texts[:n_train], labels[:n_train]),
                      Split(texts[n_train:], labels[n_train:]))
    dense = TaskData(Split(texts[:n_train].multi_hot(), labels[:n_train]),
                     Split(texts[n_train:].multi_hot(), labels[n_train:]))
    task = dataclasses.replace(tasks.REUTERS, input_dim=300, epochs=4, batch_size=64)
    runs = [training.engine_run(task.optimizer("Adam"), 1)]
    a = compiled.train(task, sparse, runs)
    b = compiled.train(task, dense, runs)
    np.testing.assert_allclose(a["loss"], b["loss"], rtol=1e-5)
    np.testing.assert_allclose(a["val_loss"], b["val_loss"], rtol=1e-5)
    np.testing.assert_allclose(a["accuracy"], b["accuracy"], atol=1 / n_train + 1e-9)
    assert a["loss"].iloc[-1] < a["loss"].iloc[0]


def test_training_seeds_are_reproducible_and_labelled():
    data = _regression()
    task = dataclasses.replace(TASK, optimizers=TASK.optimizers[:2])
    first, _ = training.train_seeds(task, data, task.optimizers, [7, 8])
    again, _ = training.train_seeds(task, data, task.optimizers, [7, 8])
    pd.testing.assert_frame_equal(first, again, check_exact=True)
    assert list(first.columns[:3]) == ["seed", "optimizer", "epoch"]
    assert list(first.drop_duplicates(["seed", "optimizer"])[["seed", "optimizer"]]
                .itertuples(index=False, name=None)) == [
        (7, "MAMGD"), (7, "Adam"), (8, "MAMGD"), (8, "Adam")]
    # every optimizer of a seed starts from the same weights: epoch 1 differs by the update only
    assert not np.array_equal(first.loc[first["seed"] == 7, "loss"],
                              first.loc[first["seed"] == 8, "loss"])


def test_keras_on_another_backend_is_refused_with_the_fix():
    from conftest import run_python

    out = run_python(
        "import os; os.environ['KERAS_BACKEND'] = 'tensorflow'\n"
        "import keras\n"
        "from mamgd_paper.engine import backend\n"
        "try:\n    backend.use_jax()\nexcept backend.BackendError as e:\n    print(e)\n",
        env={"KERAS_BACKEND": "tensorflow"})
    assert "needs Keras's JAX backend" in out and "'tensorflow'" in out
