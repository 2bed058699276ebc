"""Notebooks 09 (curvature ablation) and 10 (from-scratch references), quick mode.

Each runs headlessly through :func:`mamgd_paper.runner.execute.execute` into a temporary
folder and must publish its figures and tables; quick mode must stay fast.
"""


import pandas as pd
import pytest

from mamgd_paper.experiments.ablation import ablation as A
from mamgd_paper.experiments.scratch import outputs as scratch_outputs
from conftest import ROOT



def _execute(tmp_path, name, **parameters):
    from mamgd_paper.runner.execute import execute

    output = tmp_path / f"{name}.ipynb"
    figures = tmp_path / "figures"
    published = execute(ROOT / "notebooks" / f"{name}.py", output, figures,
                        parameters={"quick": True, **parameters}, timeout=600)
    return figures, published


@pytest.mark.slow
@pytest.mark.heavy
def test_09_curvature_ablation_quick(tmp_path):
    figures, published = _execute(tmp_path, "09_curvature_ablation")
    for stem in (A.DIFFERENCES_STEM, A.FUNCTIONS_STEM, A.K_RANGE_STEM,
                 A.WARMUP_STEM, A.K_SPECIFICITY_STEM, A.NETWORKS_STEM):
        for suffix in ("pdf", "png"):
            assert (figures / f"{stem}.{suffix}").is_file(), stem
    tables = figures / "tables"
    for stem in (A.DIFFERENCES_STEM, A.DIFFERENCES_PER_TABLE_STEM,
                 A.DIFFERENCES_CELLS_STEM, A.FUNCTIONS_STEM, A.EFFECTS_STEM,
                 A.K_RANGE_STEM, A.WARMUP_STEM, A.K_SPECIFICITY_SUMMARY_STEM,
                 A.NETWORKS_STEM, A.STEP_LENGTH_STEM):
        for suffix in ("csv", "tex", "md"):
            assert (tables / f"{stem}.{suffix}").is_file(), stem
    overall = pd.read_csv(tables / "ablation_differences.csv").set_index("configuration")
    assert overall.loc["authors_code", "match_460"] == 460
    assert overall.loc["algorithm6", "match_mamgd_95"] == 0
    assert all(str(p).startswith(str(figures)) for p in published)


@pytest.mark.slow
@pytest.mark.heavy
def test_10_from_scratch_quick(tmp_path):
    from mamgd_paper.datasets import files

    if not files.is_available("mnist"):
        pytest.skip("mnist.npz not available (set MAMGD_DATA_DIR)")
    figures, published = _execute(
        tmp_path, "10_from_scratch", data_dir=str(files.resolve_data_dir()))
    for stem in (scratch_outputs.AMSGRAD_CONTOUR_STEM, scratch_outputs.BOWL_CONTOUR_STEM,
                 scratch_outputs.MNIST_STEM):
        for suffix in ("pdf", "png"):
            assert (figures / f"{stem}.{suffix}").is_file(), stem
    bowl = pd.read_csv(figures / "tables" / "scratch_bowl.csv").set_index("optimizer")
    assert 1e-6 < bowl.loc["AMSGrad (tutorial)", "f_final"] < 3e-6
    summary = pd.read_csv(figures / "tables" / "scratch_mnist_summary.csv")
    assert set(summary["optimizer"]) == {"numpy Adam", "Keras Adam", "numpy MAMGD",
                                         "numpy MAMGD (Algorithm 6)"}
