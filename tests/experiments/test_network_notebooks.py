"""Run the network notebook template (notebooks/network_task.py) for Tables
7-11 in quick mode through mamgd_paper.runner.execute.execute, as the Makefile does
for notebooks/executed/04_approximation.ipynb ... 08_boston_housing.ipynb
(``-p table N``), and check what it publishes and says.

The data come from $MAMGD_DATA_DIR (default: ../shared/data/keras next to the
checkout). imdb.npz is usually absent offline: the IMDB notebook must then
succeed and say "Table 9 not run". Downloads are pointed at an empty local
folder, so nothing touches the network.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest

from mamgd_paper.experiments.networks import describe, tasks, verdicts
from mamgd_paper.runner import execute
from mamgd_paper.paper.published import paper_table

ROOT = Path(__file__).resolve().parents[2]
SHARED_DATA = ROOT.parent / "shared" / "data" / "keras"
DATA_DIR = Path(os.environ.get("MAMGD_DATA_DIR") or SHARED_DATA).resolve()
TEMPLATE = ROOT / "notebooks" / "network_task.py"

# table: (executed notebook, figure slug, data file)
NOTEBOOKS = {
    7: ("04_approximation", "approximation", None),
    8: ("05_mnist", "mnist", "mnist.npz"),
    9: ("06_imdb", "imdb", "imdb.npz"),
    10: ("07_reuters", "reuters", "reuters.npz"),
    11: ("08_boston_housing", "boston_housing", "boston_housing.npz"),
}


def _execute(table, tmp_path, monkeypatch):
    name, slug, fname = NOTEBOOKS[table]
    if fname and fname != "imdb.npz" and not (DATA_DIR / fname).is_file():
        pytest.skip(f"{fname} not in {DATA_DIR}")
    origin = tmp_path / "empty-origin"
    origin.mkdir()
    monkeypatch.setenv("MAMGD_DATA_DIR", str(DATA_DIR))
    monkeypatch.setenv("MAMGD_DATA_ORIGIN", origin.as_uri())
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "3")
    figures = tmp_path / "figures"
    executed = tmp_path / f"{name}.ipynb"
    published = execute.execute(TEMPLATE, executed, figures,
                                parameters={"table": table, "quick": True, "seeds": 5})
    assert executed.is_file()
    text = _text_outputs(executed)
    task = tasks.TASKS[table]
    # the task's prose, written from its declaration
    assert f"## Table {table} and Figure {table}: {task.subject}" in text
    assert task.quick_data in text and task.paper_data in text
    return figures, executed, published, slug


def _text_outputs(executed):
    cells = json.loads(executed.read_text())["cells"]
    texts = []
    for cell in cells:
        for output in cell.get("outputs", []):
            texts.append("".join(output.get("text", "")))
            for key in ("text/markdown", "text/plain"):
                texts.append("".join(output.get("data", {}).get(key, "")))
    return "\n".join(texts)


@pytest.mark.slow
@pytest.mark.heavy
@pytest.mark.parametrize("table", [7, 8, 10, 11])
def test_network_notebook_quick(table, tmp_path, monkeypatch):
    figures, executed, published, slug = _execute(table, tmp_path, monkeypatch)
    tables = figures / "tables"
    stem = f"table{table:02d}"
    for suffix in ("", "_seeds", "_verdicts", "_summary", "_status"):
        for ext in (".csv", ".tex", ".md"):
            assert (tables / f"{stem}{suffix}{ext}").is_file(), f"{stem}{suffix}{ext}"
    for figure in (f"fig{table:02d}_{slug}", f"fig{table:02d}_{slug}_heldout"):
        for ext in (".pdf", ".png"):
            assert (figures / f"{figure}{ext}").stat().st_size > 1000
    # the paper's layout, the long seed table, the verdicts
    wide = pd.read_csv(tables / f"{stem}.csv")
    assert list(wide.columns) == list(paper_table(table).columns)
    assert list(wide["epoch"]) == [1, 2]
    seeds = pd.read_csv(tables / f"{stem}_seeds.csv")
    assert list(seeds.columns[:4]) == ["seed", "epoch", "optimizer", "loss"]
    assert "val_loss" in seeds.columns and set(seeds["seed"]) == {0}
    bands = pd.read_csv(tables / f"{stem}_verdicts.csv")
    assert set(bands["verdict"]) <= {"within-band", "outside-band"}
    assert len(bands) == 2 * (len(wide.columns) - 1)
    status = pd.read_csv(tables / f"{stem}_status.csv")
    assert status.loc[0, "status"] == "run" and bool(status.loc[0, "quick"])
    text = _text_outputs(executed)
    assert f"Table {table}: " in text
    if table in verdicts.PAPER_LOGGED_VALIDATION_ACCURACY:  # Reuters (IMDB: below)
        assert "authors_log" in text
    else:
        assert "authors_log" not in text


@pytest.mark.slow
def test_imdb_notebook_quick(tmp_path, monkeypatch):
    figures, executed, published, slug = _execute(9, tmp_path, monkeypatch)
    status = pd.read_csv(figures / "tables" / "table09_status.csv")
    if (DATA_DIR / "imdb.npz").is_file():
        assert status.loc[0, "status"] == "run"
        assert (figures / "tables" / "table09.csv").is_file()
        assert (figures / "fig09_imdb.png").is_file()
        assert "authors_log" in _text_outputs(executed)
        return
    assert status.loc[0, "status"] == "not run"
    assert "Table 9 not run: imdb.npz not available" in status.loc[0, "note"]
    assert sorted(p.name for p in published) == [
        "table09_status.csv", "table09_status.md", "table09_status.tex"]
    assert not list(figures.glob("fig09*"))
    assert "Table 9 not run: imdb.npz not available" in _text_outputs(executed)


def test_template_is_the_only_network_notebook_source():
    sources = sorted(p.name for p in (ROOT / "notebooks").glob("0[4-8]_*.py"))
    assert sources == [], "notebooks 04-08 are notebooks/network_task.py run per table"
    text = TEMPLATE.read_text()
    assert 'tags=["parameters"]' in text
    for name in ("table", "quick", "seed", "seeds", "figures_dir", "data_dir"):
        assert f"\n{name} = " in text, name
    assert "\ntable = 8 " in text  # opens usefully in Jupyter


@pytest.mark.parametrize("table", sorted(tasks.TASKS))
def test_describe_writes_the_prose_from_the_declaration(table):
    task = tasks.TASKS[table]
    intro = describe.describe(task)
    assert intro.startswith(f"## Table {table} and Figure {table}: {task.subject}\n")
    assert f"{task.epochs} epochs at batch size {task.batch_size}" in intro
    assert f"k = {task.k:.0e}".replace("e-0", "e-") in intro
    assert task.heldout in intro and task.quick_data in intro
    assert "`mamgd_paper.engine`" in intro and "engine_vs_keras_fit" in intro
    updates = -(-task.train_size // task.batch_size)
    assert f"Batch size {task.batch_size} means {updates} updates per epoch" in intro
    assert ("Without it this notebook still succeeds" in intro) == task.allow_missing
    figure = describe.describe(task, "figure")
    assert ("gives no y limits" in figure) == (task.ylim is None)
    heldout = describe.describe(task, "heldout")
    assert ("authors' run log" in heldout) == (table in verdicts.PAPER_LOGGED_VALIDATION_ACCURACY)
    assert task.comparison_note in describe.describe(task, "comparison")
    with pytest.raises(ValueError, match="part must be one of"):
        describe.describe(task, "nothing")


@pytest.mark.slow
@pytest.mark.parametrize("table", sorted(tasks.TASKS))
def test_declared_train_size_is_the_prepared_one(table):
    """``train_size`` (the prose's updates per epoch) matches the prepared data."""
    task = tasks.TASKS[table]
    _, _, fname = NOTEBOOKS[table]
    if fname and not (DATA_DIR / fname).is_file():
        pytest.skip(f"{fname} not in {DATA_DIR}")
    assert len(task.prepare(task.load(DATA_DIR)).train) == task.train_size
