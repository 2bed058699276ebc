"""The test-function notebooks (01-03) run headlessly through Papermill.

Each notebook runs in quick mode through :func:`mamgd_paper.runner.execute.execute`
into a temporary folder; the test checks the files it publishes (and, for
notebook 01, that the published tables equal the paper at 6 decimals: the
notebook itself raises on any mismatch). A failing notebook must leave the
previous outputs untouched. The figure writer gives the same bytes whatever
the number of worker processes.
"""

import hashlib
import json
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from mamgd import functions
from mamgd_paper.runner import execute
from mamgd_paper.paper import published as paper
from mamgd_paper.experiments.ksearch import search

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"


@pytest.fixture(autouse=True)
def headless(monkeypatch, tmp_path):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "3")
    monkeypatch.setenv("PYTHONHASHSEED", "0")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    # never touch the repository's data/studies.journal
    monkeypatch.setenv(search.STORAGE_ENV, str(tmp_path / "default-studies.journal"))


def _run(name, tmp_path, **parameters):
    figures_dir = tmp_path / "figures"
    executed = tmp_path / "executed" / f"{name}.ipynb"
    published = execute.execute(NOTEBOOKS / f"{name}.py", executed, figures_dir,
                                  parameters={"quick": True, "seeds": 5, **parameters})
    assert executed.exists()
    return figures_dir, {p.relative_to(figures_dir).as_posix() for p in published}, executed


def _text_outputs(executed):
    notebook = json.loads(executed.read_text())
    texts = []
    for cell in notebook["cells"]:
        for output in cell.get("outputs", []):
            if "text" in output:
                texts.append("".join(output["text"]))
            for key in ("text/plain", "text/markdown"):
                if key in output.get("data", {}):
                    texts.append("".join(output["data"][key]))
    return "\n".join(texts)


@pytest.mark.slow
def test_notebook_01_tables_and_figures(tmp_path):
    figures_dir, published, executed = _run("01_test_functions", tmp_path)
    expected = set()
    for f in functions.PAPER_FUNCTIONS:
        n = f"{f.table:02d}"
        expected |= {f"tables/table{n}.{ext}" for ext in ("csv", "tex", "md")}
        expected |= {f"tables/curves{n}.csv", f"fig{n}_{f.name}.pdf", f"fig{n}_{f.name}.png"}
    assert published == expected
    cells = 0
    for f in functions.PAPER_FUNCTIONS:
        table = pd.read_csv(figures_dir / "tables" / f"table{f.table:02d}.csv")
        assert list(table.columns) == ["epoch", *f.optimizers]
        comparison = paper.compare_exact(f.table, table)
        assert comparison["match"].all()
        cells += len(comparison)
        curves = pd.read_csv(figures_dir / "tables" / f"curves{f.table:02d}.csv")
        assert list(curves["step"]) == list(range(f.max_steps + 1))
        tex = (figures_dir / "tables" / f"table{f.table:02d}.tex").read_text()
        assert "\\toprule" in tex and f"{table.iloc[0, 1]:.6f}" in tex
    assert cells == 460
    assert "All 460 published cells of Tables 1-6 are reproduced exactly" in _text_outputs(executed)


@pytest.mark.slow
def test_notebook_02_k_search(tmp_path):
    storage = tmp_path / "studies.journal"
    figures_dir, published, executed = _run("02_decay_search", tmp_path, storage=str(storage))
    slugs = [f.name for f in functions.PAPER_FUNCTIONS]
    expected = {f"k_sensitivity.{ext}" for ext in ("pdf", "png")}
    expected |= {f"optuna_{kind}_{s}.{ext}" for kind in ("history", "slice") for s in slugs
                 for ext in ("pdf", "png")}
    for stem in ["k_search", "k_transfer_summary"] + [f"table{i:02d}_found_k" for i in range(1, 7)]:
        expected |= {f"tables/{stem}.{ext}" for ext in ("csv", "tex", "md")}
    expected |= {"tables/k_sensitivity.csv", "tables/k_transfer.csv"}
    assert published == expected
    summary = pd.read_csv(figures_dir / "tables" / "k_search.csv")
    assert list(summary["function"]) == slugs
    assert (summary["trials"] == 20).all()
    for row in summary.itertuples():
        study = search.open_study(row.function, storage)
        assert len(search.completed_trials(study)) == 20
        assert abs(search.found_k(study) - row.found_k) < 5e-7
    sensitivity = pd.read_csv(figures_dir / "tables" / "k_sensitivity.csv")
    assert list(sensitivity.columns) == ["table", "function", "k", "steps", "error"]
    assert set(sensitivity["function"]) == set(slugs)
    found = pd.read_csv(figures_dir / "tables" / "table05_found_k.csv")
    assert list(found["epoch"]) == list(range(2, 41, 2))


@pytest.mark.slow
def test_notebook_03_trajectories(tmp_path):
    figures_dir, published, _ = _run("03_trajectories", tmp_path)
    expected = {f"traj_{s}.{ext}" for s in ("sphere", "himmelblau", "rosenbrock")
                for ext in ("pdf", "png")}
    expected |= {"tables/trajectories.csv"}
    expected |= {f"tables/trajectory_summary.{ext}" for ext in ("csv", "tex", "md")}
    assert published == expected
    paths = pd.read_csv(figures_dir / "tables" / "trajectories.csv")
    assert set(paths["optimizer"]) == {"MAMGD", "MAMGD (Algorithm 6)", "AdaExp", "Adam",
                                       "AMSGrad", "Adagrad", "RMSprop", "SGD"}
    assert paths.groupby(["function", "optimizer"]).size().loc["rosenbrock"].eq(101).all()


def test_a_failing_notebook_publishes_nothing(tmp_path):
    source = tmp_path / "broken.py"
    source.write_text(textwrap.dedent('''\
        # %% tags=["parameters"]
        quick = False
        seed = 0
        seeds = 5
        figures_dir = "../figures"
        data_dir = None

        # %%
        from pathlib import Path
        tables = Path(figures_dir) / "tables"
        tables.mkdir(parents=True, exist_ok=True)
        (tables / "table01.csv").write_text("epoch,MAMGD\\n2,9.999999\\n")
        (Path(figures_dir) / "fig01_quadratic.png").write_bytes(b"new")

        # %%
        raise AssertionError("1 of 75 cells differ from the paper")
        '''))
    figures_dir = tmp_path / "figures"
    (figures_dir / "tables").mkdir(parents=True)
    previous_table = "epoch,MAMGD\n2,1.959703\n"
    (figures_dir / "tables" / "table01.csv").write_text(previous_table)
    executed = tmp_path / "executed" / "broken.ipynb"
    executed.parent.mkdir()
    executed.write_text("previous run")
    with pytest.raises(execute.NotebookFailed, match="cells differ from the paper"):
        execute.execute(source, executed, figures_dir, parameters={"quick": True})
    assert (figures_dir / "tables" / "table01.csv").read_text() == previous_table
    assert not (figures_dir / "fig01_quadratic.png").exists()
    assert sorted(p.name for p in figures_dir.rglob("*")) == ["table01.csv", "tables"]
    assert executed.read_text() == "previous run"
    assert executed.with_suffix(".failed.ipynb").exists()


def _digests(directory):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(Path(directory).iterdir())}


def test_figure_files_are_byte_identical_across_runs_and_workers(tmp_path):
    from mamgd_paper.core import plotting
    from mamgd_paper.experiments.functions import figures
    from mamgd_paper.experiments.trajectories import trajectories

    curves = pd.DataFrame({"MAMGD": [1.0, 0.5, 1e-9], "Adam": [1.0, 0.7, 0.2]})
    curves.index.name = "step"
    published = pd.DataFrame({"epoch": [2], "MAMGD": [0.0], "Adam": [0.2]})
    paths = trajectories.optimizer_paths("himmelblau", steps=8)
    runs = []
    for run, processes in enumerate((1, 2, 2)):
        directory = tmp_path / f"run{run}"
        with plotting.FigureWriter(directory, processes=processes) as writer:
            writer.submit("errors", figures.error_figure, curves, published, ylim=(0, 1),
                          title="Figure 1")
            writer.submit("paths", figures.contour_paths, functions.HIMMELBLAU, paths,
                          title="Himmelblau")
        runs.append(_digests(directory))
    assert set(runs[0]) == {"errors.pdf", "errors.png", "paths.pdf", "paths.png"}
    assert runs[0] == runs[1] == runs[2]


def test_figure_writer_reraises_worker_errors(tmp_path):
    from mamgd_paper.core import plotting
    from mamgd_paper.experiments.ksearch import figures

    with pytest.raises(ValueError, match="log-uniform"):
        with plotting.FigureWriter(tmp_path, processes=2) as writer:
            writer.submit("bad", figures.sensitivity_figure,
                          [{"ks": [1.0, 2.0, 5.0], "errors": [[1.0, 1.0, 1.0]] * 3}])
    assert not list(tmp_path.glob("bad*"))


def test_trajectory_selection_titles_and_ending_lines():
    from mamgd_paper.experiments.trajectories import trajectories

    quick = trajectories.selected_functions(quick=True)
    assert [f.name for f in quick] == ["sphere", "himmelblau", "rosenbrock"]
    assert trajectories.selected_functions() == list(functions.ALL_FUNCTIONS)
    assert trajectories.selected_functions(["booth"], quick=True) == [functions.BOOTH]
    assert trajectories.figure_stem("booth") == "traj_booth"
    # Booth: Table 5 (40 steps), the paper's k = 0.1992; Rosenbrock: no table, 100 steps, k 0.1
    assert trajectories.figure_title("booth") == (
        "Booth function: 40 steps, learning rate 0.1, k = 0.1992")
    assert trajectories.figure_title("rosenbrock").endswith(
        ": 100 steps, learning rate 0.1, k = 0.1")
    summary = pd.DataFrame({
        "function": ["a", "a", "b", "b"], "optimizer": ["Adam", "SGD", "Adam", "SGD"],
        "steps": [30, 30, 40, 40], "error_final": [0.5, 0.001234, float("nan"), 2.0],
        "diverged": [False, False, True, False]})
    assert trajectories.ending_lines(summary) == [
        "- a: closest to the target after 30 steps is SGD (error 0.00123)",
        "- b: closest to the target after 40 steps is SGD (error 2)",
        "- diverged (non-finite after the last step): Adam on b"]
    assert trajectories.ending_lines(summary[~summary["diverged"]])[-1].endswith(": none")
