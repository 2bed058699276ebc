"""The equal-budget comparison's statistics
(mamgd_paper.experiments.equal_budget.statistics): Dolan-More performance
profiles, More-Wild data profiles and the verdict against Adam, on tables
worked out by hand."""

import numpy as np
import pandas as pd
import pytest

from mamgd_paper.experiments.equal_budget import statistics
from mamgd_paper.experiments.equal_budget.statistics import (BETTER, EQUIVALENT, INCONCLUSIVE,
                                                             WORSE)

INF = np.inf

#: p3 every solver failed (dropped); C failed p1, B failed p4.
COSTS = pd.DataFrame({"A": [1.0, 4.0, INF, 3.0],
                      "B": [2.0, 2.0, INF, INF],
                      "C": [INF, 8.0, INF, 3.0]},
                     index=pd.Index(["p1", "p2", "p3", "p4"], name="problem"))


def test_performance_ratios_by_hand():
    ratios, dropped = statistics.performance_ratios(COSTS)
    assert dropped == ["p3"]
    assert ratios.index.tolist() == ["p1", "p2", "p4"]
    expected = pd.DataFrame({"A": [1.0, 2.0, 1.0], "B": [2.0, 1.0, INF], "C": [INF, 4.0, 1.0]},
                            index=ratios.index)
    pd.testing.assert_frame_equal(ratios, expected)
    assert statistics.RATIO_FAILURE == INF


def test_performance_profile_by_hand():
    taus = [0.5, 1.0, 2.0, 4.0, 1e6, INF]
    profile = statistics.performance_profile(COSTS, taus)
    assert profile.index.name == "tau" and profile.index.tolist() == taus
    assert profile.columns.tolist() == ["A", "B", "C"]
    expected = np.array([[0, 0, 0],
                         [2, 1, 1],     # tau = 1: the problems each solver was best on
                         [3, 2, 1],
                         [3, 2, 2],
                         [3, 2, 2],
                         [3, 2, 2]]) / 3  # n_p = 3: p3 dropped
    np.testing.assert_allclose(profile.to_numpy(), expected)
    # a solver that failed somewhere never reaches 1, not even at tau = inf
    assert profile.loc[INF, "B"] < 1 and profile.loc[INF, "C"] < 1
    assert profile.attrs["dropped_problems"] == ("p3",)
    assert profile.attrs["problems"] == 3


def test_performance_profile_with_every_problem_failed():
    profile = statistics.performance_profile(COSTS.loc[["p3"]], [1.0, 2.0])
    assert profile.isna().all().all()
    assert profile.attrs == {"dropped_problems": ("p3",), "problems": 0}


def test_performance_profile_rejects_bad_costs():
    for bad in (0.0, -1.0, np.nan):
        costs = COSTS.copy()
        costs.loc["p1", "A"] = bad
        with pytest.raises(ValueError):
            statistics.performance_profile(costs, [1.0])
    with pytest.raises(ValueError, match="taus"):
        statistics.performance_profile(COSTS, [1.0, np.nan])


STEPS = pd.DataFrame({"A": [10.0, INF, INF, 0.0],
                      "B": [20.0, 5.0, INF, 100.0]},
                     index=pd.MultiIndex.from_tuples(
                         [("rosenbrock", 0), ("rosenbrock", 1), ("rastrigin", 0),
                          ("rastrigin", 1)], names=["problem", "start"]))


def test_data_profile_by_hand():
    budgets = [0, 5, 10, 50, 100, INF]
    profile = statistics.data_profile(STEPS, budgets)
    assert profile.index.name == "budget" and profile.index.tolist() == budgets
    expected = np.array([[1, 0],
                         [1, 1],
                         [2, 1],
                         [2, 2],
                         [2, 3],
                         [2, 3]]) / 4  # the unit every solver failed stays in n_u
    np.testing.assert_allclose(profile.to_numpy(), expected)
    assert profile.columns.tolist() == ["A", "B"]


def test_data_profile_rejects_bad_steps():
    for bad in (-1.0, np.nan):
        steps = STEPS.copy()
        steps.iloc[0, 0] = bad
        with pytest.raises(ValueError):
            statistics.data_profile(steps, [10])


@pytest.mark.parametrize("p, p_equivalence, effect, expected", [
    (0.01, 0.01, 0.3, BETTER),
    (0.01, 0.90, 0.3, BETTER),
    (0.01, 0.90, -0.3, WORSE),
    (0.01, 0.01, -0.3, WORSE),
    (0.01, 0.01, 0.0, EQUIVALENT),     # significant but no direction
    (0.01, 0.90, 0.0, INCONCLUSIVE),
    (0.20, 0.01, 0.3, EQUIVALENT),
    (0.20, 0.01, -0.3, EQUIVALENT),
    (0.20, 0.90, 0.3, INCONCLUSIVE),
    (0.20, 0.90, -0.3, INCONCLUSIVE),
    (0.05, 0.05, 0.3, INCONCLUSIVE),   # the level is strict: p < alpha
    (np.nan, np.nan, 0.3, INCONCLUSIVE),
    (0.01, 0.01, np.nan, EQUIVALENT),
])
def test_verdict_truth_table(p, p_equivalence, effect, expected):
    assert statistics.verdict(p, p_equivalence, effect) == expected


def test_verdict_alpha():
    assert statistics.verdict(0.07, 0.5, 1.0, alpha=0.1) == BETTER
    assert statistics.verdict(0.07, 0.5, 1.0) == INCONCLUSIVE
    assert set(statistics.VERDICTS) == {BETTER, WORSE, EQUIVALENT, INCONCLUSIVE}
    with pytest.raises(ValueError, match="alpha"):
        statistics.verdict(0.01, 0.01, 1.0, alpha=0.0)
