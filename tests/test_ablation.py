"""mamgd_paper.experiments.ablation.ablation: the switched MAMGD rule and the ablation's measurements.

The anchor: every switch off is ``reference.mamgd("authors_code")`` bit for
bit, the four switches of Algorithm 6 on are ``reference.mamgd("algorithm6")``
bit for bit; the Keras counterpart equals the NumPy rule.
"""

import math

import numpy as np
import pytest

from mamgd_paper.core import artifacts, formatting
from mamgd_paper.paper import registry as reg
from mamgd_paper.experiments.ablation import ablation as A
from mamgd_paper.experiments.ablation import switched as SW
from mamgd import functions as F
from mamgd import reference as R

KS = (0.0, 1e-3, 0.05, 0.7, 2.3810217518681194)


@pytest.mark.parametrize("f", F.ALL_FUNCTIONS, ids=lambda f: f.name)
def test_switches_off_is_authors_code_and_on_is_algorithm6(f):
    for k in KS:
        for switches, variant in ((SW.AUTHORS_CODE, "authors_code"),
                                  (SW.ALGORITHM6, "algorithm6")):
            with np.errstate(all="ignore"):
                ours = R.run(SW.mamgd_switched(0.1, k=k, switches=switches), f, None, 40)
                ref = R.run(R.mamgd(0.1, k=k, variant=variant), f, None, 40)
            np.testing.assert_array_equal(ours, ref, err_msg=f"{f.name} k={k} {variant}")


@pytest.mark.parametrize("seed", [0, 1])
def test_bit_for_bit_on_a_vector_problem(seed):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(8, 5)).astype(np.float32)
    b = rng.normal(size=8).astype(np.float32)
    grad = lambda x: a.T @ (a @ x - b)  # noqa: E731
    for switches, variant in ((SW.AUTHORS_CODE, "authors_code"), (SW.ALGORITHM6, "algorithm6")):
        ours = R.run(SW.mamgd_switched(0.01, k=1e-3, switches=switches), grad,
                     np.zeros(5), 200)
        ref = R.run(R.mamgd(0.01, k=1e-3, variant=variant), grad, np.zeros(5), 200)
        np.testing.assert_array_equal(ours, ref)


def test_configurations():
    assert SW.CONFIGURATIONS["authors_code"] == SW.AUTHORS_CODE
    assert SW.CONFIGURATIONS["algorithm6"] == SW.ALGORITHM6
    assert set(SW.ALGORITHM6.on()) == {"decay_exponent", "correction_form", "epsilon",
                                      "curvature"}
    for name in SW.DIFFERENCES:
        assert SW.CONFIGURATIONS[f"code+{name}"].on() == (name,)
    assert SW.AUTHORS_CODE.label() == "none"


def test_correction_form_alone_only_rounds():
    # the bias correction on the moments is the same rule as the code's step
    # factor in exact arithmetic (epsilon kept in place): float32 rounding only
    for f in F.PAPER_FUNCTIONS:
        code = A.run_errors(SW.mamgd_switched(0.1, k=f.paper_k), f)
        form = A.run_errors(SW.mamgd_switched(0.1, k=f.paper_k,
                                             switches=SW.CONFIGURATIONS["code+correction_form"]),
                            f)
        np.testing.assert_allclose(form, code, rtol=1e-4, atol=1e-6)
    f = F.BOOTH
    form64 = A.run_errors(SW.mamgd_switched(0.1, k=f.paper_k, switches=SW.CONFIGURATIONS[
        "code+correction_form"]), f, dtype=np.float64)
    code64 = A.run_errors(SW.mamgd_switched(0.1, k=f.paper_k), f, dtype=np.float64)
    np.testing.assert_allclose(form64, code64, rtol=1e-12, atol=1e-14)


def test_live_curvature_breaks_table_1():
    # docs/protocol.md, section 1: with a live curvature term Table 1, N = 2 is 2.0176,
    # not the published 1.959703 -- the code's previous-step slots start at 0
    f = F.QUADRATIC
    zero = A.run_errors(SW.mamgd_switched(0.1, k=f.paper_k, switches=SW.CONFIGURATIONS[
        "code+curvature_from_zero"]), f, 2)
    assert f"{zero[2]:.4f}" == "2.0176"
    live = A.run_errors(SW.mamgd_switched(0.1, k=f.paper_k, switches=SW.CONFIGURATIONS[
        "code+curvature"]), f, 2)
    assert f"{live[2]:.6f}" not in ("1.959703", f"{zero[2]:.6f}")


def test_difference_study_counts():
    study = A.difference_study({name: SW.CONFIGURATIONS[name] for name in (
        "authors_code", "code+correction_form", "code+curvature", "algorithm6")})
    matched, cells = A.baseline_matches()
    assert (matched, cells) == (365, 365)
    overall, per_table = A.summarise_differences(study, matched)
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
    for f in (F.BOOTH, F.THREE_HUMP_CAMEL):
        for switches in (SW.AUTHORS_CODE, SW.ALGORITHM6):
            grid = A.grid_errors(f, ks, switches=switches)
            single = np.stack([A.run_errors(SW.mamgd_switched(0.1, k=k, switches=switches), f)
                               for k in ks])
            np.testing.assert_allclose(grid, single, rtol=1e-5, atol=1e-7)


def test_warmup_factors_and_length():
    w = A.warmup_factors(3, k=0.0)
    assert w["mamgd"].iloc[0] == pytest.approx(0.001 / 0.1)
    assert w["adam"].iloc[0] == pytest.approx(math.sqrt(0.001) / 0.1)
    np.testing.assert_allclose(w["ratio"], np.sqrt(1 - 0.999 ** w["t"]))
    # sqrt(1 - 0.999^t) >= 0.5  <=>  t >= log(0.75) / log(0.999) = 287.4
    assert A.warmup_length(0.0, 0.5) == 288
    assert A.warmup_length(1e-4, 0.5) < A.warmup_length(1e-5, 0.5) < 288
    summary = A.warmup_summary([0.0, 1e-4])
    assert list(summary["steps_to_0.5"]) == [288, A.warmup_length(1e-4, 0.5)]


def test_tuned_k_is_sign_descent_on_the_quadratic():
    ratio = A.step_over_lr(F.QUADRATIC)[:, 0]
    # step 1: lr (1 - b2)/(1 - b1) * (1 - b1) g / (sqrt(1 - b2) |g|) = sqrt(1 - b2) lr
    assert ratio[0] == pytest.approx(math.sqrt(1 - 0.999), rel=1e-4)
    assert np.all(np.abs(ratio[2:] - 1) < 1e-3)
    errors = A.run_errors(SW.mamgd_switched(0.1, k=F.QUADRATIC.paper_k), F.QUADRATIC)
    assert errors[18] < 1e-7 and errors[17] > 5e-3 and errors[19] > 5e-3
    summary = A.step_length_summary([F.QUADRATIC])
    assert summary["first_step_all_ge_0.95"].iloc[0] == 2  # step 2 is 0.969 lr


def test_function_errors_effects_and_summary():
    curves = A.function_errors(functions=(F.QUADRATIC,))
    assert set(curves["optimizer"]) == set(A.FUNCTION_OPTIMIZERS)
    effects = A.compare_pairs(curves, A.FUNCTION_EFFECTS, functions=(F.QUADRATIC,))
    e = effects.set_index("effect")
    assert e.loc["curvature (code)", "ratio_search_step"] > 1e3  # the term hurts here
    assert e.loc["decay (MAMGD code, k = 0 -> paper k)", "ratio_search_step"] < 1e-6
    summary = A.function_summary(curves, functions=(F.QUADRATIC,)).set_index("optimizer")
    code = summary.loc[reg.CODE]
    assert code["max_error_odd_steps_second_half"] > 1e4 * code[
        "max_error_even_steps_second_half"]


def test_k_range_and_specificity():
    ks = np.array([0.0, 0.1, 1.0, 2.5])
    k_range = A.k_range_study(ks, functions=(F.QUADRATIC,))
    assert len(k_range) == len(ks) * (len(A.K_RANGE_CONFIGS) + 4)
    effects = A.k_range_effects(k_range)
    assert set(effects["effect"]) >= {"curvature (code)", "curvature (Algorithm 6)"}
    spec = A.k_specificity(F.QUADRATIC, np.geomspace(1e-2, 10, 30))
    assert (spec["regret_tuned"] >= 1 - 1e-12).all()  # the tuned k is part of the grid
    assert np.isnan(spec["k_best"].iloc[0])  # step 1 does not depend on k
    summary = A.k_specificity_summary(spec, functions=(F.QUADRATIC,))
    assert summary["search_step"].iloc[0] == 18
    assert summary["regret_search_step"].iloc[0] == pytest.approx(1.0)
    # a long sensitivity table (notebook 02's layout) gives the same grid back
    import pandas as pd

    ks2 = np.array([0.1, 2.0], dtype=np.float32)
    grid = A.grid_errors(F.QUADRATIC, ks2)
    frame = pd.DataFrame({"function": "quadratic", "k": np.tile(ks2, 30),
                          "steps": np.repeat(np.arange(1, 31), 2),
                          "error": grid[:, 1:].T.reshape(-1)})
    back_ks, back = A.sensitivity_errors(frame, F.QUADRATIC)
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
    from mamgd_paper.experiments.functions import tables as FE

    f = F.BOOTH
    for name in ("authors_code", "algorithm6", "code+curvature_from_zero", "code+adam_sqrt",
                 "code+listing_betas", "code+epsilon"):
        sw = SW.CONFIGURATIONS[name]
        ref = A.run_errors(SW.mamgd_switched(0.1, k=f.paper_k, switches=sw), f, 20)
        opt = SW.keras_optimizer(sw, learning_rate=0.1, k=f.paper_k)
        ker = FE.trajectory_errors(f, FE.keras_trajectory(opt, f, 20))
        if keras.backend.backend() in ("tensorflow", "jax"):
            np.testing.assert_array_equal(ref, ker, err_msg=name)
        else:
            np.testing.assert_allclose(ref, ker, rtol=1e-5, atol=1e-7, err_msg=name)


def test_keras_switched_is_the_package_mamgd(keras):
    from mamgd import MAMGD
    from mamgd_paper.experiments.functions import tables as FE

    f = F.THREE_HUMP_CAMEL
    for variant, sw in (("authors_code", SW.AUTHORS_CODE), ("algorithm6", SW.ALGORITHM6)):
        a = FE.keras_trajectory(MAMGD(0.1, k=f.paper_k, variant=variant), f, 15)
        b = FE.keras_trajectory(SW.keras_optimizer(sw, learning_rate=0.1, k=f.paper_k), f, 15)
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_network_ablation_smoke(keras):
    from mamgd_paper.experiments.networks import networks

    task = networks.TASKS[7]
    data = task.prepare(task.load(), quick=True)
    small = networks.TaskData(train=data.train[:256], validation=data.validation[:64])
    configs = (reg.CODE, reg.CODE_CURVATURE)
    assert set(configs) <= set(A.NETWORK_CONFIGS)
    history, info = A.network_ablation(7, seeds=[0], configs=configs, epochs=2, data=small)
    assert info["k"] == 1e-4 and info["epochs"] == 2
    assert len(history) == 2 * len(configs)
    assert np.isfinite(history["loss"]).all()
    summary = A.network_summary(history).set_index("optimizer")
    assert summary.loc[reg.CODE, "change_vs_reference"] == 0
    assert summary["n_seeds"].eq(1).all()


def test_switched_optimizer_config_round_trips_its_switches():
    """get_config names the switches (the run cache keys on the config, and a
    saved model must restore the same rule)."""
    from mamgd_paper.experiments.ablation.switched import AUTHORS_CODE, SwitchedMAMGD

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
