"""mamgd_paper.experiments.ablation: the switched MAMGD rule and the ablation's measurements.

The anchor: every switch off is ``reference.mamgd("authors_code")`` bit for
bit, the four switches of Algorithm 6 on are ``reference.mamgd("algorithm6")``
bit for bit; the Keras counterpart equals the NumPy rule.
"""

import math

import numpy as np
import pytest

from mamgd import functions
from mamgd import reference
from mamgd_paper.core import formatting
from mamgd_paper.experiments.ablation import (ablation, differences, k_range, network_runs,
                                              switched, warmup)
from mamgd_paper.experiments.ablation.ablation import run_errors
from mamgd_paper.experiments.ablation.switched import (ALGORITHM6, AUTHORS_CODE, CONFIGURATIONS,
                                                       mamgd_switched)
from mamgd_paper.paper import registry

KS = (0.0, 1e-3, 0.05, 0.7, functions.QUADRATIC.paper_k)


@pytest.mark.parametrize("f", functions.ALL_FUNCTIONS, ids=lambda f: f.name)
def test_switches_off_is_authors_code_and_on_is_algorithm6(f):
    for k in KS:
        for switches, variant in ((AUTHORS_CODE, "authors_code"),
                                  (ALGORITHM6, "algorithm6")):
            with np.errstate(all="ignore"):
                ours = reference.run(mamgd_switched(0.1, k=k, switches=switches), f, None, 40)
                ref = reference.run(reference.mamgd(0.1, k=k, variant=variant), f, None, 40)
            np.testing.assert_array_equal(ours, ref, err_msg=f"{f.name} k={k} {variant}")


@pytest.mark.parametrize("seed", [0, 1])
def test_bit_for_bit_on_a_vector_problem(seed):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(8, 5)).astype(np.float32)
    b = rng.normal(size=8).astype(np.float32)
    grad = lambda x: a.T @ (a @ x - b)  # noqa: E731
    for switches, variant in ((AUTHORS_CODE, "authors_code"), (ALGORITHM6, "algorithm6")):
        ours = reference.run(mamgd_switched(0.01, k=1e-3, switches=switches), grad,
                     np.zeros(5), 200)
        ref = reference.run(reference.mamgd(0.01, k=1e-3, variant=variant), grad, np.zeros(5), 200)
        np.testing.assert_array_equal(ours, ref)


def test_configurations():
    assert CONFIGURATIONS["authors_code"] == AUTHORS_CODE
    assert CONFIGURATIONS["algorithm6"] == ALGORITHM6
    assert set(ALGORITHM6.on()) == {"decay_exponent", "correction_form", "epsilon",
                                      "curvature"}
    for name in switched.DIFFERENCES:
        assert CONFIGURATIONS[f"code+{name}"].on() == (name,)
    assert AUTHORS_CODE.label() == "none"


def test_correction_form_alone_only_rounds():
    # the bias correction on the moments is the same rule as the code's step
    # factor in exact arithmetic (epsilon kept in place): float32 rounding only
    for f in functions.PAPER_FUNCTIONS:
        code = run_errors(mamgd_switched(0.1, k=f.paper_k), f)
        form = run_errors(mamgd_switched(0.1, k=f.paper_k,
                                             switches=CONFIGURATIONS["code+correction_form"]),
                            f)
        np.testing.assert_allclose(form, code, rtol=1e-4, atol=1e-6)
    f = functions.BOOTH
    form64 = run_errors(mamgd_switched(0.1, k=f.paper_k, switches=CONFIGURATIONS[
        "code+correction_form"]), f, dtype=np.float64)
    code64 = run_errors(mamgd_switched(0.1, k=f.paper_k), f, dtype=np.float64)
    np.testing.assert_allclose(form64, code64, rtol=1e-12, atol=1e-14)


def test_live_curvature_breaks_table_1():
    # docs/protocol.md, section 1: with a live curvature term Table 1, N = 2 is 2.0176,
    # not the published 1.959703 -- the code's previous-step slots start at 0
    f = functions.QUADRATIC
    zero = run_errors(mamgd_switched(0.1, k=f.paper_k, switches=CONFIGURATIONS[
        "code+curvature_from_zero"]), f, 2)
    assert f"{zero[2]:.4f}" == "2.0176"
    live = run_errors(mamgd_switched(0.1, k=f.paper_k, switches=CONFIGURATIONS[
        "code+curvature"]), f, 2)
    assert f"{live[2]:.6f}" not in ("1.959703", f"{zero[2]:.6f}")


def test_difference_study_counts():
    study = differences.difference_study({name: CONFIGURATIONS[name] for name in (
        "authors_code", "code+correction_form", "code+curvature", "algorithm6")})
    matched, cells = differences.baseline_matches()
    assert (matched, cells) == (365, 365)
    overall, per_table = differences.summarise_differences(study, matched)
    overall = overall.set_index("configuration")
    assert overall.loc["authors_code", "match_460"] == 460
    assert overall.loc["authors_code", "max_abs_change"] == 0
    assert overall.loc["code+correction_form", "match_mamgd_95"] == 95
    assert overall.loc["code+correction_form", "max_abs_change"] < 1e-6
    assert overall.loc["code+curvature", "match_mamgd_95"] == 0
    assert overall.loc["algorithm6", "match_mamgd_95"] == 0
    assert per_table["cells"].groupby(per_table["configuration"]).sum().eq(95).all()


def test_grid_errors_equal_single_runs():
    ks = np.array([0.0, 0.01, 0.3, 2.0])
    for f in (functions.BOOTH, functions.THREE_HUMP_CAMEL):
        for switches in (AUTHORS_CODE, ALGORITHM6):
            grid = ablation.grid_errors(f, ks, switches=switches)
            single = np.stack([run_errors(mamgd_switched(0.1, k=k, switches=switches), f)
                               for k in ks])
            np.testing.assert_allclose(grid, single, rtol=1e-5, atol=1e-7)


def test_warmup_factors_and_length():
    w = warmup.warmup_factors(3, k=0.0)
    assert w["mamgd"].iloc[0] == pytest.approx(0.001 / 0.1)
    assert w["adam"].iloc[0] == pytest.approx(math.sqrt(0.001) / 0.1)
    np.testing.assert_allclose(w["ratio"], np.sqrt(1 - 0.999 ** w["t"]))
    # sqrt(1 - 0.999^t) >= 0.5  <=>  t >= log(0.75) / log(0.999) = 287.4
    assert warmup.warmup_length(0.0, 0.5) == 288
    assert warmup.warmup_length(1e-4, 0.5) < warmup.warmup_length(1e-5, 0.5) < 288
    summary = warmup.warmup_summary([0.0, 1e-4])
    assert list(summary["steps_to_0.5"]) == [288, warmup.warmup_length(1e-4, 0.5)]


def test_tuned_k_is_sign_descent_on_the_quadratic():
    ratio = ablation.step_over_lr(functions.QUADRATIC)[:, 0]
    # step 1: lr (1 - b2)/(1 - b1) * (1 - b1) g / (sqrt(1 - b2) |g|) = sqrt(1 - b2) lr
    assert ratio[0] == pytest.approx(math.sqrt(1 - 0.999), rel=1e-4)
    assert np.all(np.abs(ratio[2:] - 1) < 1e-3)
    errors = run_errors(mamgd_switched(0.1, k=functions.QUADRATIC.paper_k), functions.QUADRATIC)
    assert errors[18] < 1e-7 and errors[17] > 5e-3 and errors[19] > 5e-3
    summary = ablation.step_length_summary([functions.QUADRATIC])
    assert summary["first_step_all_ge_0.95"].iloc[0] == 2  # step 2 is 0.969 lr


def test_function_errors_effects_and_summary():
    curves = ablation.function_errors(functions=(functions.QUADRATIC,))
    assert set(curves["optimizer"]) == set(ablation.FUNCTION_OPTIMIZERS)
    effects = ablation.compare_pairs(curves, ablation.FUNCTION_EFFECTS,
                                     functions=(functions.QUADRATIC,))
    e = effects.set_index("effect")
    assert e.loc["curvature (code)", "ratio_search_step"] > 1e3  # the term hurts here
    assert e.loc["decay (MAMGD code, k = 0 -> paper k)", "ratio_search_step"] < 1e-6
    summary = ablation.function_summary(curves, functions=(functions.QUADRATIC,))
    summary = summary.set_index("optimizer")
    code = summary.loc[registry.CODE]
    assert code["max_error_odd_steps_second_half"] > 1e4 * code[
        "max_error_even_steps_second_half"]


def test_k_range_and_specificity():
    ks = np.array([0.0, 0.1, 1.0, 2.5])
    study = k_range.k_range_study(ks, functions=(functions.QUADRATIC,))
    assert len(study) == len(ks) * (len(k_range.K_RANGE_CONFIGS) + 4)
    effects = k_range.k_range_effects(study)
    assert set(effects["effect"]) >= {"curvature (code)", "curvature (Algorithm 6)"}
    spec = k_range.k_specificity(functions.QUADRATIC, np.geomspace(1e-2, 10, 30))
    assert (spec["regret_tuned"] >= 1 - 1e-12).all()  # the tuned k is part of the grid
    assert np.isnan(spec["k_best"].iloc[0])  # step 1 does not depend on k
    summary = k_range.k_specificity_summary(spec, functions=(functions.QUADRATIC,))
    assert summary["search_step"].iloc[0] == 18
    assert summary["regret_search_step"].iloc[0] == pytest.approx(1.0)
    # a long sensitivity table (notebook 02's layout) gives the same grid back
    import pandas as pd

    ks2 = np.array([0.1, 2.0], dtype=np.float32)
    grid = ablation.grid_errors(functions.QUADRATIC, ks2)
    frame = pd.DataFrame({"function": "quadratic", "k": np.tile(ks2, 30),
                          "steps": np.repeat(np.arange(1, 31), 2),
                          "error": grid[:, 1:].T.reshape(-1)})
    back_ks, back = k_range.sensitivity_errors(frame, functions.QUADRATIC)
    np.testing.assert_array_equal(back[:, 1:], grid[:, 1:])
    np.testing.assert_allclose(back_ks, ks2)


def test_significant_formats_floats_only():
    import pandas as pd

    out = formatting.significant(pd.DataFrame({"a": [1.5e-12, 2.0], "b": [1, 2], "c": ["x", "y"]}))
    assert list(out["a"]) == ["1.5e-12", "2"] and list(out["b"]) == [1, 2]


@pytest.fixture(scope="module")
def keras():
    return pytest.importorskip("keras")


def test_keras_switched_equals_numpy(keras):
    from mamgd_paper.experiments.functions import tables

    f = functions.BOOTH
    for name in ("authors_code", "algorithm6", "code+curvature_from_zero", "code+adam_sqrt",
                 "code+listing_betas", "code+epsilon"):
        sw = CONFIGURATIONS[name]
        ref = run_errors(mamgd_switched(0.1, k=f.paper_k, switches=sw), f, 20)
        opt = switched.keras_optimizer(sw, learning_rate=0.1, k=f.paper_k)
        ker = tables.trajectory_errors(f, tables.keras_trajectory(opt, f, 20))
        if keras.backend.backend() == "tensorflow":
            np.testing.assert_array_equal(ref, ker, err_msg=name)
        else:  # XLA's float32 exp and pow (JAX) are not correctly rounded
            np.testing.assert_allclose(ref, ker, rtol=1e-5, atol=1e-7, err_msg=name)


def test_keras_switched_is_the_package_mamgd(keras):
    from mamgd import MAMGD
    from mamgd_paper.experiments.functions import tables

    f = functions.THREE_HUMP_CAMEL
    for variant, sw in (("authors_code", AUTHORS_CODE), ("algorithm6", ALGORITHM6)):
        a = tables.keras_trajectory(MAMGD(0.1, k=f.paper_k, variant=variant), f, 15)
        b = tables.keras_trajectory(switched.keras_optimizer(sw, learning_rate=0.1, k=f.paper_k),
                                    f, 15)
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_network_ablation_smoke(keras):
    from mamgd_paper.experiments.networks import data as network_data
    from mamgd_paper.experiments.networks import tasks

    task = tasks.TASKS[7]
    data = task.prepare(task.load(), quick=True)
    small = network_data.TaskData(train=data.train[:256], validation=data.validation[:64])
    configs = (registry.CODE, registry.CODE_CURVATURE)
    assert set(configs) <= set(network_runs.NETWORK_CONFIGS)
    history, info = network_runs.network_ablation(7, seeds=[0], configs=configs, epochs=2,
                                                  data=small)
    assert info["k"] == 1e-4 and info["epochs"] == 2
    assert len(history) == 2 * len(configs)
    assert np.isfinite(history["loss"]).all()
    summary = network_runs.network_summary(history).set_index("optimizer")
    assert summary.loc[registry.CODE, "change_vs_reference"] == 0
    assert summary["n_seeds"].eq(1).all()


def test_switched_optimizer_config_round_trips_its_switches():
    """get_config names the switches (the run cache keys on the config, and a
    saved model must restore the same rule)."""
    from mamgd_paper.experiments.ablation.switched import SwitchedMAMGD

    switches = AUTHORS_CODE.replace(adam_sqrt=True, listing_betas=True)
    original = SwitchedMAMGD(learning_rate=0.01, k=0.2, switches=switches)
    config = original.get_config()
    restored = SwitchedMAMGD.from_config(config)
    assert restored.switches == switches
    assert restored.get_config() == config
    other = SwitchedMAMGD(learning_rate=0.01, k=0.2,
                          switches=AUTHORS_CODE.replace(curvature=True)).get_config()
    assert {k: v for k, v in other.items() if k != "name"} != {
        k: v for k, v in config.items() if k != "name"}


def _effects_frame():
    import pandas as pd

    return pd.DataFrame({
        "effect": ["a", "a", "a", "b"],
        "function": ["quadratic", "sphere", "booth", "quadratic"],
        "ratio_search_step": [0.5, 2.0, 0.999, 1.0],
        "ratio_last_step": [0.25, 0.5, 3.0, 0.0012345],
    })


def test_effect_counts_and_line():
    effects = _effects_frame()
    assert ablation.effect_counts(effects, "a") == (3, 2, 2)
    assert ablation.effect_counts(effects, "b") == ablation.EffectCount(1, 0, 1)
    assert ablation.effect_counts(effects, "none") == (0, 0, 0)
    assert ablation.effect_line(effects, "b") == (
        "b: lowers the error on 0/1 functions at the search step, 1/1 at the last step; "
        "error ratio (with/without) at the last step quadratic 0.00123")
    assert ablation.effect_line(effects, "a").endswith("quadratic 0.25, sphere 0.5, booth 3")


def test_configuration_descriptions():
    assert differences.describe_configuration("code+curvature") == switched.DIFFERENCES[
        "curvature"]
    assert differences.describe_configuration("code+adam_sqrt") == switched.COUNTERFACTUALS[
        "adam_sqrt"]
    assert differences.describe_configuration("algorithm6-curvature") == ""
    assert differences.describe_configuration("authors_code") == ""
    import pandas as pd

    overall = pd.DataFrame({"configuration": ["authors_code", "code+epsilon"],
                            "switches": ["none", "epsilon"], "match_460": [460, 365]})
    described = differences.with_descriptions(overall)
    assert list(described.columns) == ["configuration", "switches", "description", "match_460"]
    assert list(described["description"]) == ["", switched.DIFFERENCES["epsilon"]]
    assert "description" not in overall.columns


def test_k_grids():
    full, quick = k_range.k_range_grid(), k_range.k_range_grid(quick=True)
    assert full.shape == (202,) and quick.shape == (22,)
    assert full[0] == 0.0 and full[1] == pytest.approx(1e-4) and full[-1] == pytest.approx(10)
    assert quick[1] == pytest.approx(1e-3) and quick[-1] == pytest.approx(10)
    # log-uniform: 200 intervals over five decades
    np.testing.assert_allclose(np.diff(np.log10(full[1:])), 5 / 200)


def test_specificity_grids_and_sensitivity_file(tmp_path):
    import pandas as pd

    assert k_range.read_sensitivity(tmp_path, quick=True) is None
    with pytest.raises(FileNotFoundError, match="run notebook 02 first"):
        k_range.read_sensitivity(tmp_path)
    grids = k_range.specificity_grids(None, quick=True, functions=(functions.QUADRATIC,))
    ks, errors = grids["quadratic"]
    assert ks.shape == (42,) and errors.shape == (42, functions.QUADRATIC.max_steps + 1)
    assert k_range.grid_source(None).startswith("computed here")
    frame = pd.DataFrame({"function": "quadratic", "k": [0.5, 0.5], "steps": [1, 2],
                          "error": [1.0, 0.5]})
    assert k_range.grid_source(frame) == "notebook 02's sensitivity table k_sensitivity.csv"
    back_ks, back = k_range.specificity_grids(frame, functions=(functions.QUADRATIC,))[
        "quadratic"]
    np.testing.assert_array_equal(back_ks, [0.5])
    np.testing.assert_array_equal(back[0, 1:], [1.0, 0.5])
    spec, summary = k_range.specificity_tables(grids, "here", functions=(functions.QUADRATIC,))
    assert len(spec) == functions.QUADRATIC.max_steps
    assert list(summary.columns[:2]) == ["grid_source", "function"]
    assert summary["grid_source"].iloc[0] == "here"


def test_warmup_ks_and_steps():
    # the paper's k of Tables 1-6 (Tables 3 and 1 for the figure's two largest)
    assert warmup.FACTOR_KS[-2:] == (0.05340795593118066, 2.3810217518681194)
    ks = warmup.summary_ks()
    assert len(ks) == 8 + 6 and ks == sorted(ks)
    assert {0.0, 1.0, 0.027338692996177527, 2.377131029618243} <= set(ks)
    assert warmup.factor_steps() == 20000 and warmup.factor_steps(quick=True) == 2000
    curves = warmup.factor_curves(quick=True)
    assert len(curves) == 2000 * len(warmup.FACTOR_KS)
    assert list(curves["k"].unique()) == list(warmup.FACTOR_KS)


def test_network_run_plan_and_lines():
    tables, seeds, configs, epochs = network_runs.run_plan([7, 11], seed=2, seeds=3)
    assert (tables, seeds, configs, epochs) == ([7, 11], [2, 3, 4], network_runs.NETWORK_CONFIGS,
                                                None)
    tables, seeds, configs, epochs = network_runs.run_plan([11, 7], seed=2, seeds=3, quick=True)
    assert (tables, seeds, epochs) == ([11], [2], 1)
    assert configs == (registry.CODE, registry.ALGORITHM6_LABEL, registry.ADAM,
                       registry.CODE_CURVATURE)  # the order of NETWORK_CONFIGS
    import pandas as pd

    summary = pd.DataFrame({"table": [7], "optimizer": ["Adam"], "final_loss_mean": [0.012345],
                            "change_vs_reference": [-0.1234], "wins_vs_reference": [4],
                            "n_seeds": [5]})
    assert network_runs.network_lines(summary) == [
        "Table 7 task, Adam: final training loss 0.01235 (-12.3% vs the authors' code, "
        "below it on 4/5 seeds)"]
