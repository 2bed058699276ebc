"""mamgd_paper.audit: one verdict per published number, REPORT.md, determinism, atomicity.

The inputs are hand-made in a temporary figures folder: Tables 1-6 from the
published numbers themselves (exact), with one cell changed (mismatch) and
one file missing (not-run); band verdict files for Tables 7, 8 and 11 (within,
outside, and epochs missing as in a quick run); Table 9 missing with a status
file, Table 10 missing without one.
"""

import json
import os

import numpy as np
import pandas as pd
import pytest

from mamgd_paper.paper import published
from mamgd_paper.audit import calibration, compare, environment, render
from mamgd_paper.audit.__main__ import main
from mamgd_paper.runner import manifest

PUBLISHED = published.load_paper_tables()


def _wide(table):
    return published.paper_table(table)


def _verdict_file(tables, table, shift=0.0, width=0.01, epochs=None, verdict_override=None):
    """A tableNN_verdicts.csv whose band is [paper + shift - width, paper + shift + width]."""
    part = PUBLISHED[PUBLISHED["table"] == table]
    if epochs is not None:
        part = part[part["epoch"].isin(epochs)]
    rows = []
    for r in part.itertuples():
        low, high = r.loss + shift - width, r.loss + shift + width
        verdict, distance = published.band_verdict(r.loss, low, high)
        rows.append({"epoch": r.epoch, "optimizer": r.optimizer, "paper": r.loss,
                     "mean": (low + high) / 2, "seed_min": low, "seed_max": high,
                     "verdict": verdict_override or verdict, "distance": distance})
    frame = pd.DataFrame(rows)
    frame.to_csv(tables / f"table{table:02d}_verdicts.csv", index=False, float_format="%.6f")
    return frame


@pytest.fixture()
def figures(tmp_path):
    figures = tmp_path / "figures"
    tables = figures / "tables"
    tables.mkdir(parents=True)
    for table in range(1, 6):  # Table 6 missing
        wide = _wide(table)
        if table == 3:  # one cell off by 2e-6
            wide.loc[wide["epoch"] == 4, "Adam"] += 2e-6
        wide.to_csv(tables / f"table{table:02d}.csv", index=False, float_format="%.6f")
    _verdict_file(tables, 7)  # every number inside its band
    _verdict_file(tables, 8, shift=0.05)  # every number 0.04 below the band
    _verdict_file(tables, 11, epochs=range(1, 3))  # a quick run: epochs 1-2 only
    pd.DataFrame([{"table": 9, "status": "not run", "seeds": 0, "epochs": 0, "quick": False,
                   "note": "Table 9 not run: imdb.npz not available (offline)",
                   "verdict": ""}]).to_csv(tables / "table09_status.csv", index=False)
    executed = tmp_path / "executed"
    executed.mkdir()
    for name, duration in (("01_test_functions.ipynb", 12.5), ("09_x.ipynb", 30.25)):
        nb = {"cells": [], "metadata": {"papermill": {
            "duration": duration, "parameters": {"quick": False, "seed": 0, "seeds": 5,
                                                 "figures_dir": "/tmp/staging-xyz"}}},
              "nbformat": 4, "nbformat_minor": 5}
        (executed / name).write_text(json.dumps(nb))
    (executed / "02_broken.failed.ipynb").write_text("{}")
    return figures


def _run(figures, data_dir=None):
    return render.write_report(figures, figures.parent / "executed",
                           data_dir or figures.parent / "no-data")


def test_verdict_rules():
    assert published.exact_verdict(1.959703, 1.9597034) == ("exact", 0.0)
    assert published.exact_verdict(1.959703, 1.9597026) == ("exact", 0.0)
    verdict, distance = published.exact_verdict(1.959703, 1.959705)
    assert verdict == "mismatch" and distance == pytest.approx(2e-6)
    assert published.exact_verdict(1.0, float("nan"))[0] == "mismatch"
    assert published.band_verdict(0.5, 0.4, 0.6) == ("within-band", 0.0)
    # compared as printed: 0.1000004 prints 0.100000, so 0.100000 is inside
    assert published.band_verdict(0.1, 0.1000004, 0.2) == ("within-band", 0.0)
    verdict, distance = published.band_verdict(0.7, 0.4, 0.6)
    assert verdict == "outside-band" and distance == pytest.approx(0.1)
    verdict, distance = published.band_verdict(0.1, 0.25, 0.6)
    assert verdict == "outside-band" and distance == pytest.approx(0.15)


def test_one_row_per_published_number_with_every_verdict(figures):
    result = _run(figures)
    frame = pd.read_csv(figures / "tables" / "paper_vs_reproduced.csv")
    assert len(frame) == 765 == len(PUBLISHED)
    assert list(frame.columns) == compare.COLUMNS + calibration.CELL_COLUMNS
    # no tableNN_seeds.csv here: no position among seeds, and no run verdicts
    assert frame[calibration.CELL_COLUMNS].isna().all().all()
    assert set(frame["verdict"]) == set(published.VERDICTS)
    # the same order as the published table
    assert (frame[["table", "epoch", "optimizer"]].to_numpy()
            == PUBLISHED[["table", "epoch", "optimizer"]].to_numpy()).all()
    by_table = frame.groupby("table")["verdict"].value_counts().unstack(fill_value=0)
    assert by_table.loc[1, "exact"] == 75 and by_table.loc[5, "exact"] == 100
    assert by_table.loc[3, "exact"] == 74 and by_table.loc[3, "mismatch"] == 1
    assert by_table.loc[6, "not-run"] == 60
    assert by_table.loc[7, "within-band"] == 75
    assert by_table.loc[8, "outside-band"] == 30
    assert by_table.loc[9, "not-run"] == 80 and by_table.loc[10, "not-run"] == 60
    assert by_table.loc[11, "within-band"] == 6 and by_table.loc[11, "not-run"] == 54
    mismatch = frame[frame["verdict"] == "mismatch"].iloc[0]
    assert (mismatch["table"], mismatch["epoch"], mismatch["optimizer"]) == (3, 4, "Adam")
    assert mismatch["distance"] == pytest.approx(2e-6, abs=1e-9)
    outside = frame[frame["verdict"] == "outside-band"]
    assert np.allclose(outside["distance"], 0.04, atol=2e-6)
    assert (frame.loc[frame["verdict"].isin(["exact", "within-band"]), "distance"] == 0).all()
    reasons = frame[frame["verdict"] == "not-run"].groupby("table")["reason"].first()
    assert reasons[9] == "Table 9 not run: imdb.npz not available (offline)"
    assert reasons[10] == "not run: figures/tables/table10_verdicts.csv missing"
    assert reasons[6] == "not run: figures/tables/table06.csv missing"
    assert "not in figures/tables/table11_verdicts.csv" in reasons[11]
    assert frame.loc[frame["verdict"] == "not-run", "reproduced"].isna().all()
    exact = frame[frame["table"] <= 6]
    assert exact["seed_min"].isna().all()
    band = frame[frame["verdict"] == "within-band"]
    assert (band["seed_min"] <= band["reproduced"]).all()
    assert (band["reproduced"] <= band["seed_max"]).all()
    counts = result["counts"].set_index("table")
    assert counts.loc["all", "cells"] == 765
    assert counts.loc["all", ["exact", "mismatch", "within-band", "outside-band",
                              "not-run"]].sum() == 765


def test_report_markdown(figures):
    _run(figures)
    text = (figures / "REPORT.md").read_text()
    first = text.splitlines()[0]
    assert "generated" in first and "do not edit" in first
    for needle in ("## 1. Every published number", "## 2. Findings", "## 3. Environment",
                   "## 4. Notebook run times", "tensorflow", "keras", "numpy", "pandas",
                   "matplotlib", "optuna", "papermill", "cores", "mnist.npz",
                   "01_test_functions.ipynb", "30", "seeds=5",
                   "Not available: tables/ablation_effects.csv"):
        assert needle in text, needle
    assert "/tmp/staging-xyz" not in text  # the staging folder is not a parameter
    assert "02_broken" not in text
    summary = (figures / "tables" / "report_summary.md").read_text()
    assert "| 3: Three-hump camel function | 75 | 74 exact, 1 mismatch |" in summary
    assert "All 765 published numbers" in summary
    for suffix in ("csv", "tex", "md"):
        assert (figures / "tables" / f"paper_vs_reproduced_summary.{suffix}").is_file()


def test_deterministic_and_atomic(figures, monkeypatch):
    outputs = [figures / "REPORT.md", figures / "tables" / "paper_vs_reproduced.csv",
               figures / "tables" / "report_summary.md",
               figures / "tables" / "paper_vs_reproduced_summary.tex"]
    _run(figures)
    first = [p.read_bytes() for p in outputs]
    _run(figures)
    assert [p.read_bytes() for p in outputs] == first
    # a failure while computing leaves every previous output untouched
    (figures / "tables" / "table07_verdicts.csv").unlink()

    def broken():
        raise RuntimeError("boom")

    monkeypatch.setattr(environment, "environment", broken)
    with pytest.raises(RuntimeError):
        _run(figures)
    assert [p.read_bytes() for p in outputs] == first
    leftovers = [p for p in figures.rglob("*") if p.name.endswith(".tmp")]
    assert not leftovers


def test_inconsistent_input_is_refused(figures):
    _verdict_file(figures / "tables", 7, verdict_override="outside-band")
    with pytest.raises(compare.InconsistentInput, match="recomputed"):
        _run(figures)
    assert main(["--figures-dir", str(figures), "--executed-dir",
                    str(figures.parent / "executed")]) == 1


def test_status_reason_from_text_files(tmp_path):
    (tmp_path / "table10_status.md").write_text("Table 10 not run:\n reuters.npz missing\n")
    assert compare.status_reason(tmp_path, 10) == "Table 10 not run: reuters.npz missing"
    (tmp_path / "table08_status.txt").write_text("no data")
    assert compare.status_reason(tmp_path, 8) == "no data"
    assert compare.status_reason(tmp_path, 7) is None


def test_findings_are_read_from_the_ablation_tables(figures):
    tables = figures / "tables"
    pd.DataFrame([
        {"effect": "curvature (code)", "function": "quadratic", "ratio_search_step": 10.0,
         "ratio_last_step": 2.0},
        {"effect": "curvature (code)", "function": "sphere", "ratio_search_step": 20.0,
         "ratio_last_step": 0.5},
    ]).to_csv(tables / "ablation_effects.csv", index=False)
    pd.DataFrame([{"k": 0.0, "mamgd_t1": 0.01, "adam_t1": 0.316, "ratio_t1": 0.0316,
                   "steps_to_0.5": 288, "steps_to_0.9": 1660, "steps_to_0.99": 3916}]
                 ).to_csv(tables / "ablation_warmup.csv", index=False)
    _run(figures)
    text = (figures / "REPORT.md").read_text()
    assert "lower with the term on 0/2 functions at the tuned step S and on 1/2" in text
    assert "after 288 steps and 90% after 1660" in text


def test_report_records_its_files_in_the_figure_manifest(figures):
    manifest.write(figures, {"fig01_quadratic.png": "01_test_functions",
                             "REPORT.md": "report", "tables/old_report_table.csv": "report"})
    _run(figures)
    assert manifest.read(figures) == {
        "fig01_quadratic.png": "01_test_functions", "REPORT.md": "report",
        "tables/paper_vs_reproduced.csv": "report", "tables/report_summary.md": "report",
        **{f"tables/{stem}.{suffix}": "report"
           for stem in ("paper_vs_reproduced_summary", "paper_runs", "engine_vs_keras_fit")
           for suffix in ("csv", "tex", "md")}}


def test_scratch_finding_text():
    from mamgd_paper.experiments.scratch import findings

    bowl = pd.DataFrame([
        {"optimizer": "AMSGrad (tutorial)", "learning_rate": 0.007, "f_final": 1.6e-6},
        {"optimizer": "Adam", "learning_rate": 0.3, "f_final": 2.5e-9}])
    text = findings.references(bowl, None)
    assert text.splitlines() == [
        "- AMSGrad from scratch on the bowl (100 iterations, alpha 0.007): final f = 1.6e-06 "
        "(the tutorial: about 2e-6).",
        "- Every optimizer of mamgd.reference from the same start (final f after 100 "
        "iterations, learning rate): Adam 2.5e-09 (lr 0.3).",
        "*Not available: tables/scratch_mnist_summary.csv not found (run notebook 10).*"]


def test_findings_sections_read_their_tables_and_record_them(tmp_path):
    from mamgd_paper.audit import findings

    pd.DataFrame([{"k": 0.0, "mamgd_t1": 0.01, "adam_t1": 0.316, "ratio_t1": 0.0316,
                   "steps_to_0.5": 288, "steps_to_0.9": 1660, "steps_to_0.99": 3916}]
                 ).to_csv(tmp_path / "ablation_warmup.csv", index=False)
    inputs = []
    sections = dict(findings.sections(tmp_path, inputs))
    assert len(sections) == 8
    assert sections["The exponential decay of the betas"] == (
        "*Not available: tables/ablation_effects.csv not found (run notebook 09).*")
    assert "(ratio 0.0316); with k = 0 it reaches half of Adam's step after 288 steps" in (
        sections["The missing square root is a learning-rate warm-up"])
    assert inputs == [tmp_path / "ablation_warmup.csv"]


def test_command_line(figures, capsys):
    assert main(["--figures-dir", str(figures), "--executed-dir",
                    str(figures.parent / "executed"), "--data-dir",
                    str(figures.parent / "nothing")]) == 0
    assert "765 published numbers" in capsys.readouterr().out
    assert (figures / "REPORT.md").is_file()


def test_dataset_checksums_of_present_files(tmp_path):
    from mamgd_paper.datasets import files

    directory, frame = environment.dataset_checksums(tmp_path)
    assert set(frame["status"]) == {"absent"}
    src = files.resolve_data_dir(os.environ.get("MAMGD_DATA_DIR"))
    if (src / "boston_housing.npz").is_file():
        directory, frame = environment.dataset_checksums(src)
        row = frame.set_index("dataset").loc["boston_housing"]
        assert row["status"] == "verified (Keras's file)"
        assert row["sha256"] == files.REGISTRY["boston_housing"].sha256


def test_committed_report_is_what_make_report_writes(tmp_path):
    """The committed REPORT.md and the report's tables are what ``make report``
    writes from the committed artefacts (figures/ and the executed notebooks):
    a stale report (hashes of earlier notebooks, old counts) fails here."""
    import shutil

    from conftest import ROOT

    figures = tmp_path / "figures"
    shutil.copytree(ROOT / "figures", figures)
    executed = tmp_path / "notebooks" / "executed"
    shutil.copytree(ROOT / "notebooks" / "executed", executed)
    data_dir = os.environ.get("MAMGD_DATA_DIR")
    arguments = ["--figures-dir", str(figures), "--executed-dir", str(executed)]
    assert main(arguments + (["--data-dir", data_dir] if data_dir else [])) == 0
    written = ["REPORT.md", "tables/paper_vs_reproduced.csv", "tables/paper_runs.csv",
               "tables/engine_vs_keras_fit.csv", "tables/report_summary.md",
               "tables/paper_vs_reproduced_summary.csv"]
    for name in written:
        assert (figures / name).read_bytes() == (ROOT / "figures" / name).read_bytes(), name
