"""Golden tests of Tables 1-6 (Keras optimizers) and the notebook-01 helpers.

* all 460 published cells of Tables 1-6 equal ``reproduce_table`` printed to
  6 decimals;
* the comparison catches a deliberately perturbed cell (and a missing row or
  column), and :func:`check_comparisons` raises naming it;
* the per-step curves (Keras) equal the float32 NumPy reference at every step,
  so figures, curves and trajectories drawn from either are the same numbers.
"""

import numpy as np
import pandas as pd
import pytest

from mamgd_paper.paper import registry
from mamgd_paper.experiments.functions import tables as fe
from mamgd import functions, reference
from mamgd_paper.paper import published as paper

#: Published cells per table (Table 5 has 20 rows, Table 6 no SGD column).
CELLS = {1: 75, 2: 75, 3: 75, 4: 75, 5: 100, 6: 60}


@pytest.fixture(scope="module")
def reproduced():
    """``{table: (curves, table)}`` for the six paper functions (Keras, ~3 s)."""
    return {f.table: fe.reproduce(f) for f in functions.PAPER_FUNCTIONS}


def test_all_460_cells_match_the_paper(reproduced):
    comparisons = pd.concat(
        [paper.compare_exact(number, table) for number, (_, table) in reproduced.items()],
        ignore_index=True)
    assert comparisons.groupby("table").size().to_dict() == CELLS
    assert len(comparisons) == 460
    mismatches = comparisons[~comparisons["match"]]
    assert mismatches.empty, mismatches.to_string()
    assert fe.check_comparisons(comparisons) == 460


@pytest.mark.parametrize("function", functions.PAPER_FUNCTIONS, ids=lambda f: f.name)
def test_reproduce_table_is_the_paper_layout(function, reproduced):
    curves, table = reproduced[function.table]
    assert list(table.columns) == ["epoch", *function.optimizers]
    assert list(table["epoch"]) == list(range(2, function.max_steps + 1, 2))
    assert list(curves.index) == list(range(function.max_steps + 1))
    pd.testing.assert_frame_equal(table, fe.reproduce_table(function))


def test_a_perturbed_cell_is_caught(reproduced):
    _, table = reproduced[4]
    perturbed = table.copy()
    row = perturbed.index[perturbed["epoch"] == 10][0]
    perturbed.loc[row, "Adagrad"] = perturbed.loc[row, "Adagrad"] + 1.1e-6
    comparison = paper.compare_exact(4, perturbed)
    bad = comparison[~comparison["match"]]
    assert list(zip(bad["epoch"], bad["optimizer"])) == [(10, "Adagrad")]
    with pytest.raises(fe.TableMismatch, match=r"(?s)1 of 75 cells .*Table 4, epoch 10, Adagrad"):
        fe.check_comparisons(comparison)


def test_a_last_digit_is_enough(reproduced):
    # 6 decimals, as printed: a change below half a unit of the last digit is
    # invisible, one that changes the printed digit is a mismatch.
    _, table = reproduced[1]
    value = float(table.loc[0, "MAMGD"])
    published = paper.paper_table(1).loc[0, "MAMGD"]
    assert f"{value:.6f}" == f"{published:.6f}"
    changed = table.astype({"MAMGD": float})
    changed.loc[0, "MAMGD"] = published + 1e-6
    assert not paper.compare_exact(1, changed)["match"].iloc[0]


def test_missing_rows_or_columns_are_errors(reproduced):
    _, table = reproduced[5]
    with pytest.raises(ValueError, match="lacks columns"):
        paper.compare_exact(5, table.drop(columns="SGD"))
    with pytest.raises(ValueError, match="lacks epochs"):
        paper.compare_exact(5, table[table["epoch"] != 40])


@pytest.mark.parametrize("function", functions.PAPER_FUNCTIONS, ids=lambda f: f.name)
def test_keras_curves_equal_the_numpy_reference(function, reproduced):
    curves, _ = reproduced[function.table]
    for column in function.optimizers:
        optimizer = registry.paper_column(column, function, dtype=np.float32)
        path = reference.run(optimizer, function, steps=function.max_steps, dtype=np.float32)
        np.testing.assert_array_equal(fe.trajectory_errors(function, path),
                                      curves[column].to_numpy(), err_msg=column)


def test_side_by_side(reproduced):
    _, table = reproduced[6]
    frame = fe.side_by_side(paper.paper_table(6), table)
    assert list(frame.columns.get_level_values(0).unique()) == ["MAMGD", "Adam", "Adagrad",
                                                                "RMSprop"]
    assert list(frame.columns.get_level_values(1)[:2]) == ["paper", "ours"]
    assert (frame.xs("paper", axis=1, level=1).to_numpy()
            == frame.xs("ours", axis=1, level=1).to_numpy()).all()


def test_parity_shows_the_limit_cycle(reproduced):
    curves, _ = reproduced[1]
    parity = fe.parity_summary(curves).set_index("optimizer")
    assert parity.loc["MAMGD", "max_even"] < 1e-7
    assert 0.0099 < parity.loc["MAMGD", "max_odd"] < 0.0100  # 0.1 away from the minimiser
    assert parity.loc["MAMGD", "odd_over_even"] > 1e5
    assert parity.loc["Adagrad", "odd_over_even"] == pytest.approx(1.0, rel=0.1)


def test_file_names_are_stable():
    assert [fe.figure_stem(f) for f in functions.PAPER_FUNCTIONS] == [
        "fig01_quadratic", "fig02_sphere", "fig03_three_hump_camel", "fig04_matyas",
        "fig05_booth", "fig06_himmelblau"]
    assert fe.table_stem(functions.BOOTH) == "table05"
    assert fe.curves_stem(functions.HIMMELBLAU) == "curves06"
    assert fe.PAPER_FIGURE_YLIM == {3: (0.0, 1.0), 4: (0.0, 1.0), 6: (0.0, 1.0)}
