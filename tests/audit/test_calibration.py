"""The calibrated verdicts of the paper's stochastic tables (7-11).

The run-level test must hold its nominal false-positive rate: checked by
simulation on draws of a normal curve level at the seed counts used, and on
our own seeds (each seed in turn plays "the published run" against the
others). Reference values come from independent computations (SciPy's
two-sample t test, hand arithmetic), not from the module itself.
"""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from mamgd_paper.audit import calibration
from conftest import ROOT

TABLES = ROOT / "figures" / "tables"


def test_expected_outside_rate_is_two_over_n_plus_one():
    assert calibration.expected_outside_rate(5) == pytest.approx(1 / 3)
    assert calibration.expected_outside_rate(20) == pytest.approx(2 / 21)
    # ... which is what simulation of exchangeable draws gives
    rng = np.random.default_rng(0)
    draws = rng.normal(size=(200_000, 6))
    outside = (draws[:, 0] < draws[:, 1:].min(axis=1)) | (draws[:, 0] > draws[:, 1:].max(axis=1))
    assert outside.mean() == pytest.approx(1 / 3, abs=0.005)


def test_cell_positions_mid_rank_percentile_and_z():
    seeds = np.array([[1.0, 2, 3, 4, 5], [1.0, 2, 3, 4, 5], [1.0, 2, 3, 4, 5], [2.0, 2, 2, 2, 2]])
    percentile, z = calibration.cell_positions(seeds, [3.0, 6.0, 0.5, 2.0])
    assert percentile.tolist() == [50.0, 100.0, 0.0, 50.0]
    sd = math.sqrt(2.5)  # sample sd of 1..5
    assert z[0] == 0.0 and z[1] == pytest.approx(3 / sd) and z[2] == pytest.approx(-2.5 / sd)
    assert math.isnan(z[3])  # seeds that do not vary give no z


def test_prediction_t_is_the_pooled_two_sample_t_test_with_one_new_value():
    rng = np.random.default_rng(1)
    for n in (3, 5, 20):
        sample = rng.normal(size=n)
        new = rng.normal() * 3
        t, p = calibration.prediction_t(new, sample)
        reference = stats.ttest_ind([new], sample, equal_var=True)
        assert t == pytest.approx(reference.statistic)
        assert p == pytest.approx(reference.pvalue)
    with pytest.raises(ValueError, match="at least 3 seeds"):
        calibration.prediction_t(1.0, [1.0, 2.0])


def test_holm_adjusted_p_values():
    # sorted: 0.01 * 3 = 0.03; 0.03 * 2 = 0.06; 0.04 * 1 = 0.04 -> monotone 0.06
    assert calibration.holm([0.01, 0.04, 0.03]).tolist() == pytest.approx([0.03, 0.06, 0.06])
    assert calibration.holm([0.5, 0.9]).tolist() == [1.0, 1.0]  # 0.5 * 2, then monotone


@pytest.mark.parametrize("n", [5, 20])
def test_run_test_false_positive_rate_is_nominal_by_simulation(n):
    # Curves whose level varies between runs (a random shift) plus noise per
    # epoch; the published run is one more draw of the same process.
    rng = np.random.default_rng(n)
    trials, epochs, rejected = 4000, 15, 0
    shape = np.log(np.linspace(600, 1, epochs))
    for _ in range(trials):
        curves = np.exp(shape + rng.normal(0, 0.4, (n + 1, 1)) + rng.normal(0, 0.1, (n + 1, epochs)))
        _, p = calibration.run_test(curves[1:], curves[0])
        rejected += p < 0.05
    # 95% binomial interval around the nominal 5% at 4000 trials: about +-0.7%
    assert abs(rejected / trials - 0.05) < 0.01, rejected / trials


def test_detectable_shift_has_the_stated_power_by_simulation():
    n, level = 5, 0.05 / 14
    delta = calibration.detectable_shift(n, level)
    rng = np.random.default_rng(3)
    levels = rng.normal(size=(20000, n))
    new = rng.normal(size=20000) + delta
    t = (new - levels.mean(axis=1)) / (levels.std(axis=1, ddof=1) * math.sqrt(1 + 1 / n))
    power = np.mean(2 * stats.t.sf(np.abs(t), n - 1) < level)
    assert power == pytest.approx(calibration.POWER, abs=0.015)
    assert calibration.detectable_shift(20, level) < delta  # more seeds, smaller shifts


def _committed_tables():
    tables = {}
    for table in (7, 8, 10, 11):
        seeds, verdicts = (TABLES / f"table{table:02d}_seeds.csv",
                           TABLES / f"table{table:02d}_verdicts.csv")
        assert seeds.is_file() and verdicts.is_file(), f"Table {table}: tables missing"
        tables[table] = (pd.read_csv(seeds), pd.read_csv(verdicts))
    return tables


def test_false_positive_rate_on_our_own_seeds():
    rejected, trials = calibration.leave_one_out_rejections(_committed_tables())
    # 14 runs: Table 8's 3 x 5 seeds, the other 11 runs x 20 seeds
    assert trials == 3 * 5 + 11 * 20
    # Not more rejections than a 5% test gives 99% of the time.
    assert rejected <= stats.binom.ppf(0.99, trials, 0.05), (rejected, trials)


def test_every_run_of_the_committed_tables_gets_a_verdict():
    cells, runs = calibration.calibrate(_committed_tables())
    assert list(runs.columns) == calibration.RUN_COLUMNS
    assert len(runs) == 14
    assert set(runs["verdict"]) <= {"typical", "atypical"}
    assert (runs["p_adjusted"] >= runs["p_value"]).all()
    assert runs["expected_outside"].tolist() == pytest.approx(
        (runs["epochs"] * 2 / (runs["seeds"] + 1)).tolist())
    assert len(cells) == 75 + 30 + 60 + 60  # every published number of Tables 7, 8, 10, 11


def test_two_sample_test_holds_its_level_and_its_power():
    """Simulated runs (normal curve levels): the two-sample run test rejects a
    true null at about its level, and detects a difference of
    ``two_sample_detectable_shift`` standard deviations about 80% of the time."""
    rng = np.random.default_rng(7)
    n, m, level, reps = 20, 20, 0.05, 1500
    shift = calibration.two_sample_detectable_shift(n, m, level)
    assert 0.8 < shift < 1.1  # the textbook value for 20 + 20 at 5 %: about 0.9

    def curves(size, mean):
        levels = rng.normal(mean, 1.0, size)
        return np.exp(np.repeat(levels[:, None], 4, axis=1))  # 4 epochs of one level

    null = np.mean([calibration.two_sample_test(curves(n, 0), curves(m, 0))[1] < level
                    for _ in range(reps)])
    power = np.mean([calibration.two_sample_test(curves(n, shift), curves(m, 0))[1] < level
                     for _ in range(reps)])
    assert abs(null - level) < 0.02, null
    assert abs(power - 0.8) < 0.05, power
    with pytest.raises(ValueError, match="at least 2 runs"):
        calibration.two_sample_test(curves(1, 0), curves(5, 0))
