"""Tests of mamgd_paper.experiments.networks: the protocol of Tables 7-11, data preparation,
determinism, verdict logic, the IMDB pipeline and its "not run" path.

Real data are read from $MAMGD_DATA_DIR, falling back to ../shared/data/keras
next to the checkout; tests that need a missing file are skipped. Nothing here
downloads: MAMGD_DATA_ORIGIN points to an empty local folder where a download
could be attempted.
"""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mamgd_paper.experiments.networks import outputs, tasks, training, verdicts
from mamgd_paper.experiments.networks.data import (SequenceSet, Split, TaskData, approximation_data,
                                                   multi_hot)
from mamgd_paper.paper import registry
from mamgd_paper.paper.published import OUTSIDE, WITHIN, band_verdict, paper_table

from conftest import run_python

ROOT = Path(__file__).resolve().parents[2]
SHARED_DATA = ROOT.parent / "shared" / "data" / "keras"
DATA_DIR = Path(os.environ.get("MAMGD_DATA_DIR") or SHARED_DATA).resolve()
PROTOCOL = ROOT.parent / "shared" / "paper" / "PROTOCOL.md"

# docs/protocol.md, section 4, typed out: (layers, loss, metrics, epochs, batch, k,
# baselines, y limits, input dimension).
FACTS = {
    7: (((64, "relu"), (32, "relu"), (1, None)), "mse", (), 15, 32, 1e-4,
        ("Adam", "Adagrad", "RMSprop", "SGD"), (0, 2.5), 1),
    8: (((512, "relu"), (10, "softmax")), "categorical_crossentropy", ("accuracy",),
        10, 128, 1e-5, ("Adam", "RMSprop"), (0, 0.5), 784),
    9: (((16, "relu"), (16, "relu"), (1, "sigmoid")), "binary_crossentropy",
        ("accuracy",), 20, 512, 1e-3, ("Adam", "Adagrad", "RMSprop"), None, 10000),
    10: (((64, "relu"), (64, "relu"), (46, "softmax")), "categorical_crossentropy",
         ("accuracy",), 20, 512, 1e-4, ("Adam", "RMSprop"), None, 10000),
    11: (((64, "relu"), (64, "relu"), (1, None)), "mse", ("mae",), 20, 1, 1e-6,
         ("Adam", "RMSprop"), (0, 20), 13),
}


@pytest.fixture
def no_download(tmp_path, monkeypatch):
    """Any download attempt goes to an empty local folder (fails at once)."""
    origin = tmp_path / "empty-origin"
    origin.mkdir()
    monkeypatch.setenv("MAMGD_DATA_ORIGIN", origin.as_uri())
    return origin


def require(fname):
    if not (DATA_DIR / fname).is_file():
        pytest.skip(f"{fname} not in {DATA_DIR}")
    return DATA_DIR


# --------------------------------------------------------------------------
# Protocol facts


@pytest.mark.parametrize("table", sorted(FACTS))
def test_protocol_facts(table):
    layers, loss, metrics, epochs, batch, k, baselines, ylim, input_dim = FACTS[table]
    task = tasks.TASKS[table]
    assert task.table == task.figure == table
    assert tuple((layer.units, layer.activation) for layer in task.layers) == layers
    assert (task.loss, task.metrics, task.epochs, task.batch_size) == (loss, metrics, epochs, batch)
    assert task.input_dim == input_dim
    assert task.ylim == ylim
    assert task.k == k
    assert task.optimizer_names == ["MAMGD", *baselines]
    # the paper's column names and order
    assert task.optimizer_names == list(paper_table(table).columns[1:])
    mamgd = task.optimizer("MAMGD").arguments
    assert mamgd == {"learning_rate": 1e-3, "k": k, "variant": "authors_code"}
    for name in baselines:
        spec = task.optimizer(name)
        assert (spec.cls, spec.arguments) == (name, {"learning_rate": 1e-3})


@pytest.mark.parametrize("table", sorted(FACTS))
def test_built_model_and_optimizers(table):
    import keras

    import mamgd

    task = tasks.TASKS[table]
    model = task.build_model()
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    assert len(dense) == len(model.layers)
    assert [(d.units, d.get_config()["activation"]) for d in dense] == [
        (units, activation or "linear") for units, activation in FACTS[table][0]]
    assert model.input_shape == (None, task.input_dim)
    opt = task.optimizer("MAMGD").build()
    assert isinstance(opt, mamgd.MAMGD)
    assert (opt.variant, opt.k, opt.beta_1, opt.beta_2, opt.epsilon) == (
        "authors_code", FACTS[table][5], 0.9, 0.999, 1e-7)
    assert float(opt.learning_rate) == pytest.approx(1e-3)
    for name in FACTS[table][6]:
        built = task.optimizer(name).build()
        default = getattr(keras.optimizers, name)(learning_rate=1e-3)
        assert type(built) is type(default)
        config, expected = built.get_config(), default.get_config()
        config.pop("name"), expected.pop("name")  # Keras numbers repeated names
        assert config == expected


def _protocol_rows():
    if not PROTOCOL.is_file():
        pytest.skip(f"{PROTOCOL} not found")
    text = PROTOCOL.read_text()
    section = text[text.index("## 4."):text.index("## 5.")]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 7 and cells[0].isdigit():
            rows[int(cells[0])] = cells
    return section, rows


def test_protocol_md_agrees():
    """The same facts, read from the paper notes next to the checkout (test data
    outside the repository; skipped where absent)."""
    section, rows = _protocol_rows()
    assert sorted(rows) == sorted(FACTS)
    losses = {"MSE": "mse", "categorical CE": "categorical_crossentropy",
              "binary CE": "binary_crossentropy", "MSE (metric MAE)": "mse"}
    for table, cells in rows.items():
        task = tasks.TASKS[table]
        layers = []
        for part in cells[3].split(","):
            words = part.split()
            layers.append((int(words[0]), words[1] if len(words) > 1 else None))
        assert tuple((layer.units, layer.activation) for layer in task.layers) == tuple(layers)
        assert losses[cells[4]] == task.loss
        epochs, batch = re.match(r"(\d+), (\d+)", cells[5]).groups()
        assert (int(epochs), int(batch)) == (task.epochs, task.batch_size)
        lr, k = re.match(r"lr ([\d.e-]+), k ([\d.e-]+)", cells[6]).groups()
        assert (float(lr), float(k)) == (1e-3, task.k)
    baselines = re.search(r"Baselines per table: (.*?)\. Figure", section, re.S).group(1)
    for chunk in baselines.replace("\n", " ").split(";"):
        table, names = chunk.split(":")
        names = [n.strip() for n in names.split(",")]
        assert tasks.TASKS[int(table)].optimizer_names == ["MAMGD", *names]
    limits = re.search(r"Figure y limits: (.*?)\.\n", section, re.S).group(1)
    found = {int(t): (float(a), float(b))
             for t, a, b in re.findall(r"(\d+): \[([\d.]+), ([\d.]+)\]", limits)}
    assert found == {t: tasks.TASKS[t].ylim for t in found}
    assert {t for t in tasks.TASKS if tasks.TASKS[t].ylim} == set(found)


# --------------------------------------------------------------------------
# Data preparation


def test_approximation_data():
    data = tasks.APPROXIMATION.prepare(approximation_data())
    assert data.sizes() == {"train": 10000, "validation": 9999}
    x, y = data.train.x[:, 0], data.train.y[:, 0]
    assert data.train.x.dtype == np.float32 and data.train.y.dtype == np.float32
    assert (x[0], x[-1]) == (-10.0, 10.0)
    grid = np.linspace(-10, 10, 10000)  # evenly spaced, computed in float64
    np.testing.assert_array_equal(x, grid.astype(np.float32))
    np.testing.assert_array_equal(y, (grid**2 + grid - 1).astype(np.float32))
    # held-out points lie strictly between training points
    assert not np.isin(data.validation.x, data.train.x).any()


def test_mnist_splits():
    data_dir = require("mnist.npz")
    task = tasks.MNIST
    data = task.prepare(task.load(data_dir))
    assert data.sizes() == {"train": 60000, "validation": 10000}
    assert data.train.x.shape == (60000, 784) and data.train.x.dtype == np.float32
    assert 0.0 == data.train.x.min() and data.train.x.max() == 1.0
    assert data.train.y.shape == (60000, 10) and data.train.y.dtype == np.float32
    np.testing.assert_array_equal(data.train.y.sum(axis=1), 1)
    (_, y_train), (_, y_test) = task.load(data_dir)
    np.testing.assert_array_equal(data.validation.y.argmax(axis=1), y_test)


def test_reuters_splits():
    data_dir = require("reuters.npz")
    task = tasks.REUTERS
    raw = task.load(data_dir)
    data = task.prepare(raw)
    assert data.sizes() == {"train": 7982, "validation": 1000, "test": 2246}
    (x_train, y_train), (x_test, y_test) = raw
    # validation = the first 1000 training newswires, training = the rest
    for split, rows in ((data.validation, range(0, 1000)), (data.train, range(1000, 8982))):
        got = split.x.sequences()
        for j in (0, 1, len(got) - 1):
            np.testing.assert_array_equal(got[j], x_train[rows[j]])
    np.testing.assert_array_equal(data.validation.y.argmax(axis=1), y_train[:1000])
    assert data.train.y.shape == (7982, 46) and data.train.y.dtype == np.float32
    assert data.train.x.num_words == 10000 and data.train.x.values.dtype == np.int32
    batch_x, batch_y = next(iter(data.validation.dataset(512)))
    assert batch_x.dtype.name == "float32" and tuple(batch_x.shape) == (512, 10000)
    np.testing.assert_array_equal(batch_x.numpy(), multi_hot(x_train[:512], 10000))


def test_boston_splits():
    data_dir = require("boston_housing.npz")
    task = tasks.BOSTON_HOUSING
    raw = task.load(data_dir)
    data = task.prepare(raw)
    assert data.sizes() == {"train": 404, "validation": 102}
    assert data.train.x.dtype == np.float32 and data.validation.x.dtype == np.float32
    np.testing.assert_allclose(data.train.x.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(data.train.x.std(axis=0), 1, atol=1e-5)
    (x_train, y_train), (x_test, y_test) = raw
    mean, std = x_train.mean(axis=0), x_train.std(axis=0)  # training statistics only
    np.testing.assert_array_equal(data.validation.x, ((x_test - mean) / std).astype(np.float32))
    np.testing.assert_array_equal(data.validation.y[:, 0], y_test.astype(np.float32))


def test_multi_hot_is_float32():
    seqs = [[1, 5, 5, 9], [], [0, 2]]
    matrix = multi_hot(seqs, 10)
    assert matrix.dtype == np.float32
    np.testing.assert_array_equal(matrix.sum(axis=1), [3, 0, 2])
    assert multi_hot(seqs, 10, dtype="uint8").dtype == np.uint8
    with pytest.raises(ValueError, match="float32 or smaller"):
        multi_hot(seqs, 10, dtype="float64")
    bag = SequenceSet.from_sequences(seqs, 10)
    assert bag.values.dtype == np.int32 and len(bag) == 3
    np.testing.assert_array_equal(bag.multi_hot(), matrix)
    np.testing.assert_array_equal(bag[1:].multi_hot(), matrix[1:])
    with pytest.raises(ValueError, match="num_words"):
        SequenceSet.from_sequences([[3, 12]], 10)


# --------------------------------------------------------------------------
# Synthetic IMDB (same structure: lists of word indices) and the "not run" path


def synthetic_imdb(n_train=10300, n_test=300, num_words=10000, seed=0):
    """Lists of word indices like keras.datasets.imdb.load_data(num_words=10000):
    each review starts with 1 (start), words 2 (OOV) .. 9999, repeats allowed;
    labels 0/1 (int64). The label shifts the word distribution so it is learnable."""
    rng = np.random.default_rng(seed)

    def part(n):
        labels = rng.integers(0, 2, n)
        reviews = []
        for label in labels:
            length = int(rng.integers(5, 40))
            low, high = (2, 6000) if label else (4000, num_words)
            reviews.append([1] + rng.integers(low, high, length).tolist())
        return np.array(reviews, dtype=object), labels.astype(np.int64)

    return part(n_train), part(n_test)


def test_imdb_pipeline_on_synthetic_data():
    raw = synthetic_imdb()
    data = tasks.IMDB.prepare(raw)
    assert data.sizes() == {"train": 300, "validation": 10000, "test": 300}
    (x_train, y_train), (x_test, y_test) = raw
    # the paper's split: first 10000 = validation, the rest = training
    np.testing.assert_array_equal(data.validation.x.sequences()[0], x_train[0])
    np.testing.assert_array_equal(data.train.x.sequences()[0], x_train[10000])
    np.testing.assert_array_equal(data.train.y[:, 0], y_train[10000:])
    assert data.train.y.dtype == np.float32
    # the batches the model sees: float32 multi-hot, equal to the paper's vectorisation
    xs = [x.numpy() for x, _ in data.train.dataset(128)]
    assert {x.dtype for x in xs} == {np.dtype("float32")}
    np.testing.assert_array_equal(np.concatenate(xs), multi_hot(x_train[10000:], 10000))
    # a shuffled epoch is a permutation of the rows
    ys = np.concatenate([y.numpy() for _, y in data.train.dataset(128, shuffle=True, seed=3)])
    np.testing.assert_array_equal(np.sort(ys[:, 0]), np.sort(data.train.y[:, 0]))
    # one short run through the whole runner: every held-out column is there
    small = dataclasses.replace(data, validation=data.validation[:500])
    result = training.run_experiment(tasks.IMDB, seeds=1, epochs=2, data=small)
    history = result.history
    assert list(history.columns) == ["seed", "epoch", "optimizer", "loss", "accuracy",
                                     "val_loss", "val_accuracy", "test_loss",
                                     "test_accuracy"]
    assert len(history) == 2 * 4 and history.notna().all().all()
    assert history.groupby("optimizer")["loss"].last().lt(0.7).all()
    summary = verdicts.summary_table(history, tasks.IMDB)
    assert list(summary["optimizer"]) == ["MAMGD", "Adam", "Adagrad", "RMSprop"]
    last = history[history["epoch"] == 2].set_index("optimizer")
    np.testing.assert_allclose(summary.set_index("optimizer")["test_accuracy_mean"],
                               last.loc[summary["optimizer"], "test_accuracy"])


IMDB_MEMORY_CODE = """
import dataclasses
import resource
import numpy as np
from mamgd_paper.experiments.networks import tasks, training
rng = np.random.default_rng(0)

def part(n):  # IMDB's size: 25000 reviews of ~240 words, indices < 10000
    reviews = np.empty(n, dtype=object)
    for i in range(n):
        reviews[i] = [1] + rng.integers(2, 10000, int(rng.integers(10, 470))).tolist()
    return reviews, rng.integers(0, 2, n)

data = tasks.IMDB.prepare((part(25000), part(25000)))
task = dataclasses.replace(tasks.IMDB, optimizers=tasks.IMDB.optimizers[:1])
result = training.run_experiment(task, seeds=1, epochs=1, data=data)
assert result.history.notna().all().all()
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


@pytest.mark.slow
@pytest.mark.heavy
def test_imdb_full_size_stays_far_below_4_gb():
    """The whole IMDB pipeline (25000 + 25000 reviews, training on 15000,
    validation on 10000 and test on 25000 multi-hot rows) on data of IMDB's
    size: the peak resident memory of the process stays under 4 GB (a float64
    multi-hot copy of the data alone would take 4 GB)."""
    peak_kb = int(run_python(IMDB_MEMORY_CODE).split()[-1])
    assert peak_kb < 4 * 1024**2, f"peak RSS {peak_kb / 1024**2:.2f} GB"


def test_imdb_not_run_when_file_absent(tmp_path, no_download):
    empty = tmp_path / "data"
    empty.mkdir()
    result = training.run_experiment(tasks.IMDB, seeds=5, data_dir=empty, allow_missing=True)
    assert not result.ran and result.history is None
    line = outputs.status_line(result)
    assert line.startswith("Table 9 not run: imdb.npz not available")
    assert str(empty) not in line  # no machine-specific path in the committed note
    out = tmp_path / "figures"
    outputs.write_outputs(result, out)
    files = sorted(p.name for p in (out / "tables").iterdir())
    assert files == ["table09_status.csv", "table09_status.md", "table09_status.tex"]
    status = pd.read_csv(out / "tables" / "table09_status.csv")
    assert status.loc[0, "status"] == "not run"
    assert "Table 9 not run: imdb.npz not available" in status.loc[0, "note"]
    assert "Table 9 not run: imdb.npz not available" in (out / "tables" / "table09_status.md").read_text()
    # without allow_missing the loader's error surfaces
    from mamgd_paper.datasets.files import DatasetUnavailableError

    with pytest.raises(DatasetUnavailableError):
        training.run_experiment(tasks.IMDB, seeds=1, data_dir=empty)


# --------------------------------------------------------------------------
# Determinism


def _tiny():
    """A two-epoch, 60-row version of the Boston protocol (batch 4)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 13)).astype(np.float32)
    y = (x @ rng.normal(size=(13, 1)) + 20).astype(np.float32)
    data = TaskData(train=Split(x[:40], y[:40]), validation=Split(x[40:], y[40:]))
    task = dataclasses.replace(tasks.BOSTON_HOUSING, epochs=2, batch_size=4,
                               optimizers=tasks.BOSTON_HOUSING.optimizers[:2])
    return task, data


TINY_CODE = """
import sys
sys.path[:0] = ["tests", "tests/experiments"]
from test_networks import _tiny
from mamgd_paper.experiments.networks import tasks, training
task, data = _tiny()
print(training.run_experiment(task, seeds=1, first_seed=7, data=data)
      .history.to_csv(float_format="%.17g"))
"""


def test_one_seed_is_bit_reproducible():
    task, data = _tiny()
    first = training.run_experiment(task, seeds=1, first_seed=7, data=data).history
    again = training.run_experiment(task, seeds=1, first_seed=7, data=data).history
    pd.testing.assert_frame_equal(first, again, check_exact=True)
    other = training.run_experiment(task, seeds=1, first_seed=8, data=data).history
    assert not np.array_equal(first["loss"], other["loss"])
    # a fresh process gives the same bytes
    assert run_python(TINY_CODE) == first.to_csv(float_format="%.17g") + "\n"



# --------------------------------------------------------------------------
# Seed statistics and verdicts


@pytest.mark.parametrize("paper, low, high, verdict, distance", [
    (0.5, 0.4, 0.6, WITHIN, 0.0),
    (0.4, 0.4, 0.6, WITHIN, 0.0),  # edges count as inside
    (0.6, 0.4, 0.6, WITHIN, 0.0),
    (0.3, 0.4, 0.6, OUTSIDE, 0.1),
    (0.75, 0.4, 0.6, OUTSIDE, 0.15),
    (0.123456, 0.1234564, 0.2, WITHIN, 0.0),  # equal as printed with 6 decimals
    (0.123456, 0.1234566, 0.2, OUTSIDE, 0.0000006),
    (2.0, 2.0, 2.0, WITHIN, 0.0),  # a single seed: a point band
])
def test_band_verdict(paper, low, high, verdict, distance):
    got_verdict, got_distance = band_verdict(paper, low, high)
    assert got_verdict == verdict
    assert got_distance == pytest.approx(distance, abs=1e-12)


def _history_around_paper(table, offsets, seeds=(0, 1, 2)):
    """A long history whose seed values are paper + offset[seed] (per cell)."""
    published = paper_table(table)
    rows = []
    for seed in seeds:
        for record in published.itertuples(index=False):
            for name, value in zip(published.columns[1:], record[1:]):
                rows.append({"seed": seed, "epoch": record[0], "optimizer": name,
                             "loss": value + offsets(seed, record[0], name)})
    return pd.DataFrame(rows)


def test_band_verdicts_on_hand_made_bands():
    # seeds at paper - 0.01, paper, paper + 0.01: every number inside
    history = _history_around_paper(8, lambda seed, epoch, name: 0.01 * (seed - 1))
    bands = verdicts.band_verdicts(history, 8)
    assert len(bands) == 30 and (bands["verdict"] == WITHIN).all()
    assert (bands["distance"] == 0).all()
    assert list(bands.columns[:8]) == ["epoch", "optimizer", "paper", "mean", "seed_min",
                                       "seed_max", "verdict", "distance"]
    np.testing.assert_allclose(bands["mean"], bands["paper"], atol=1e-12)
    sentence = verdicts.verdict_sentence(bands, 8, 3)
    assert sentence.startswith("Table 8: 30 of 30 published numbers inside our 3-seed band")

    # Adam's band lies 0.002 .. 0.004 above the paper at epochs 1-3 only
    def shift(seed, epoch, name):
        return 0.002 * (seed + 1) if (name == "Adam" and epoch <= 3) else 0.01 * (seed - 1)

    bands = verdicts.band_verdicts(_history_around_paper(8, shift), 8)
    outside = bands[bands["verdict"] == OUTSIDE]
    assert sorted(zip(outside["optimizer"], outside["epoch"])) == [("Adam", 1), ("Adam", 2),
                                                                    ("Adam", 3)]
    np.testing.assert_allclose(outside["distance"], 0.002, rtol=1e-6)
    sentence = verdicts.verdict_sentence(bands, 8, 3)
    assert sentence.startswith("Table 8: 27 of 30 published numbers inside our 3-seed band")
    assert "Adam 7/10" in sentence and "the other 3 lie outside by at most 0.002" in sentence


def test_mean_table_matches_paper_layout():
    history = _history_around_paper(7, lambda seed, epoch, name: float(seed))
    wide = verdicts.mean_table(history, tasks.APPROXIMATION)
    published = paper_table(7)
    assert list(wide.columns) == list(published.columns)
    np.testing.assert_allclose(wide.iloc[:, 1:].to_numpy(),
                               published.iloc[:, 1:].to_numpy() + 1.0, rtol=1e-12)
    stats = verdicts.seed_statistics(history)
    assert (stats["n_seeds"] == 3).all()
    np.testing.assert_allclose(stats["std"], 1.0)


def test_summary_table():
    rows = []
    for seed in (0, 1):
        for epoch, (loss, val) in enumerate([(1.0, 0.5), (0.5, 0.7), (0.25, 0.6)], start=1):
            rows.append({"seed": seed, "epoch": epoch, "optimizer": "MAMGD",
                         "loss": loss + seed, "accuracy": 0.0, "val_loss": 0.0,
                         "val_accuracy": val + 0.1 * seed, "test_loss": 0.0,
                         "test_accuracy": 0.8 + 0.1 * seed})
    summary = verdicts.summary_table(pd.DataFrame(rows), tasks.REUTERS).iloc[0]
    assert summary["n_seeds"] == 2
    assert summary["final_train_loss_mean"] == pytest.approx(0.75)
    assert summary["best_val_accuracy_mean"] == pytest.approx(0.75)  # max over epochs
    assert summary["test_accuracy_mean"] == pytest.approx(0.85)  # final epoch
    assert summary["test_accuracy_std"] == pytest.approx(np.std([0.8, 0.9], ddof=1))


def test_outputs_written(tmp_path):
    history = _history_around_paper(11, lambda seed, epoch, name: 0.5 * (seed - 1))
    history["mae"] = 1.0
    history["val_loss"] = 2.0
    history["val_mae"] = 3.0 - 0.01 * history["epoch"]
    result = training.Experiment(tasks.BOSTON_HOUSING, [0, 1, 2], 20, False, "run", history=history)
    out = outputs.write_outputs(result, tmp_path)
    for stem in ("table11", "table11_seeds", "table11_verdicts", "table11_summary",
                 "table11_status"):
        for suffix in (".csv", ".tex", ".md"):
            assert (tmp_path / "tables" / f"{stem}{suffix}").is_file()
    wide = pd.read_csv(tmp_path / "tables" / "table11.csv")
    assert list(wide.columns) == list(paper_table(11).columns)
    assert out["verdict"].startswith("Table 11: 60 of 60 published numbers inside")
    summary = out["summary"].set_index("optimizer")
    assert summary.loc["Adam", "best_val_mae_mean"] == pytest.approx(2.8)  # min MAE
    assert summary.loc["Adam", "test_mae_mean"] == pytest.approx(2.8)  # final epoch
