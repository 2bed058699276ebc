"""The equal-budget comparison (mamgd_paper.experiments.equal_budget, notebook 11; docs/protocol.md, section 7).

Golden values come from independent computations: hand arithmetic, Keras's
own SGD, single-start runs of ``mamgd.reference.run``, an exhaustive
enumeration of bootstrap resamples, successive halving worked out by hand. The
quick notebook run is the smoke test; PostgreSQL and multi-process workers are
in ``tests/experiments/test_postgres.py``. The test functions (Rastrigin, the chained
Rosenbrock) are tested in ``tests/library/test_functions.py``, SGD with momentum in
``tests/library/test_reference.py``.
"""

from __future__ import annotations

import itertools
import os
import socket
import threading
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest

from mamgd_paper.core import optuna_utils, stats
from mamgd_paper.experiments.equal_budget import (network_problems, objectives, problems,
                                                  protocol, results, statistics, studies,
                                                  summary, tuning, workers)
from mamgd_paper.experiments.equal_budget.table import printable, results_table
from mamgd_paper.experiments.equal_budget import __main__ as cli
from mamgd_paper.runner import execute
from mamgd_paper.paper import registry
from mamgd import functions as test_functions
from mamgd import reference

REPO = Path(__file__).resolve().parents[2]
REQUIRED = ["problem", "optimizer", "trials", "best_learning_rate", "best_k", "seeds",
            "metric", "mean", "ci_low", "ci_high", "verdict_vs_adam"]


# --------------------------------------------------------------------------
# optimizers


def test_default_settings():
    assert protocol.default_setting(registry.SGD) == (0.01, None)
    assert protocol.default_setting(registry.ADAM) == (0.001, None)
    assert protocol.default_setting(registry.MAMGD) == (0.001, 1e-4)
    assert protocol.keras_optimizer(registry.SGD, 0.1).momentum == 0.9


# --------------------------------------------------------------------------
# the function objective


def test_start_points():
    tuning = objectives.start_points("rosenbrock", "tuning", 16, seed=0)
    heldout = objectives.start_points("rosenbrock", "heldout", 32, seed=0)
    assert tuning.shape == (2, 16) and heldout.shape == (2, 32)
    (x0, x1), (y0, y1) = test_functions.ROSENBROCK.domain
    for points in (tuning, heldout):
        assert (points[0] >= x0).all() and (points[0] <= x1).all()
        assert (points[1] >= y0).all() and (points[1] <= y1).all()
    assert not np.isin(tuning, heldout).any()
    assert np.array_equal(tuning, objectives.start_points("rosenbrock", "tuning", 16, seed=0))
    assert not np.array_equal(tuning, objectives.start_points("rosenbrock", "tuning", 16, seed=1))
    with pytest.raises(ValueError, match="role"):
        objectives.start_points("rosenbrock", "test", 3)


@pytest.mark.parametrize("label", protocol.OPTIMIZERS)
def test_vectorised_run_equals_single_runs(label):
    """Every column of the batched run is the run from that start alone."""
    problem = problems.get_problem("beale")
    starts = objectives.start_points(problem, "heldout", 3, seed=2)
    k = 0.05 if protocol.takes_k(label) else None
    gaps = objectives.function_run(problem, label, 0.01, k, starts, 25)
    for column in range(3):
        optimizer = protocol.reference_optimizer(label, 0.01, k, dtype=np.float64)
        with np.errstate(all="ignore"):
            path = reference.run(optimizer, test_functions.BEALE, start=starts[:, column],
                                 steps=25, dtype=np.float64)
            expected = np.array([test_functions.BEALE.value(p) for p in path])
        # equal up to the last bits of NumPy's array-vs-scalar powers (v**3)
        np.testing.assert_allclose(gaps[:, column], expected, rtol=1e-9, equal_nan=True)


def test_gap_scores_and_steps_to_target():
    gaps = np.array([0.0, 1e-15, 1e-3, np.nan, np.inf, 1e20, -1e-17])
    assert np.array_equal(objectives.gap_scores(gaps), [-12, -12, -3, 12, 12, 12, -12])
    history = np.array([[1.0, 1.0, 1.0], [1e-7, 0.5, 1.0], [1e-9, 1e-6, 1.0]])
    assert list(objectives.steps_to_target(history)) == [1, 2, -1]


# --------------------------------------------------------------------------
# pruning, statistics


def test_successive_halving_by_hand():
    """Six trials, each reporting one constant value for 20 epochs; rungs at 2, 6, 18.

    With n trials at a rung (this one included) the best max(1, n // 3) go on:
    trial 0 (5) is alone; 1 (3) is the best of 2; 2 (4) is not the best of 3:
    pruned at epoch 2; 3 (1) is the best of 4; 4 (2) is not the best of 5:
    pruned at 2; 5 (1.5) is among the best 2 of 6 at epoch 2, but at epoch 6
    only trials 0, 1 and 3 reached it: not the best of 4, pruned at 6.
    """
    values = [5.0, 3.0, 4.0, 1.0, 2.0, 1.5]

    def objective(trial):
        for epoch in range(1, 21):
            trial.report(values[trial.number], epoch)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return values[trial.number]

    study = optuna.create_study()
    studies.fill_study(study, objective, len(values), pruner=tuning.halving_pruner())
    trials = optuna_utils.finished_trials(study)
    assert [t.state.name for t in trials] == ["COMPLETE", "COMPLETE", "PRUNED", "COMPLETE",
                                              "PRUNED", "PRUNED"]
    assert [max(t.intermediate_values) for t in trials] == [20, 20, 2, 20, 2, 6]


def test_bootstrap_interval_matches_exact_enumeration():
    values = np.array([1.0, 2.0, 4.0, 9.0, 3.0])
    # every one of the 5^5 resamples is equally likely: the exact distribution of the mean
    means = np.array([np.mean(c) for c in itertools.product(values, repeat=5)])
    mean, low, high = stats.bootstrap_interval(values, np.random.default_rng(0), samples=400000)
    assert mean == pytest.approx(3.8)
    # each bound is a 2.5 % / 97.5 % quantile of the exact distribution (to sampling error)
    assert (means <= low + 1e-9).mean() >= 0.025 - 0.002
    assert (means < low - 1e-9).mean() <= 0.025 + 0.002
    assert (means >= high - 1e-9).mean() >= 0.025 - 0.002
    assert (means > high + 1e-9).mean() <= 0.025 + 0.002
    exact = np.quantile(means, [0.025, 0.975], method="inverted_cdf")
    assert (low, high) == pytest.approx(tuple(exact), abs=1e-12)  # (1.8, 6.6)
    same = stats.bootstrap_interval([4.0] * 5, np.random.default_rng(1))
    assert same == (4.0, 4.0, 4.0)


def test_paired_verdicts():
    rng = np.random.default_rng(0)
    base = rng.normal(size=20)
    assert statistics.paired_verdict(base - 1, base, rng) == ("better", -1.0, -1.0, -1.0)
    assert statistics.paired_verdict(base + 0.5, base, rng)[0] == "worse"
    noise = np.array([0.3, -0.3] * 10)
    verdict, mean, low, high = statistics.paired_verdict(base + noise, base, rng)
    assert verdict == "indistinguishable" and low < 0 < high and mean == pytest.approx(0)
    with pytest.raises(ValueError, match="differ in size"):
        statistics.paired_verdict([1, 2], [1, 2, 3], rng)


def test_performance_profile_by_hand():
    costs = pd.DataFrame([[1.0, 2.0], [4.0, 2.0], [3.0, 3.0]], columns=["a", "b"])
    ratios = statistics.performance_ratios(costs)
    assert ratios.to_numpy().tolist() == [[1, 2], [2, 1], [1, 1]]
    profile = statistics.performance_profile(ratios, [1.0, 1.5, 2.0])
    assert profile["a"].tolist() == pytest.approx([2 / 3, 2 / 3, 1.0])
    assert profile["b"].tolist() == pytest.approx([2 / 3, 2 / 3, 1.0])
    with pytest.raises(ValueError, match="positive costs"):
        statistics.performance_ratios(pd.DataFrame([[0.0, 1.0]]))


# --------------------------------------------------------------------------
# configuration


def test_config_validation():
    config = problems.make_config()
    assert len(config.problems) == 13 and config.optimizers == protocol.OPTIMIZERS
    assert config.trials("sphere") == 50 and config.trials("boston_housing") == 20
    assert config.epochs("approximation") == 15 and config.final_seeds() == [1, 2, 3, 4, 5]
    assert problems.Config.from_json(config.to_json()) == config
    quick = problems.make_config(quick=True, seeds=5)
    assert quick.seeds == 1 and quick.run_id.startswith("quick-seed0-")
    assert quick.run_id != config.run_id
    with pytest.raises(ValueError, match="seeds must be a whole number >= 1"):
        problems.make_config(seeds=0)
    with pytest.raises(ValueError, match="unknown: \\['moon'\\]"):
        problems.make_config(problems=["sphere", "moon"])
    with pytest.raises(ValueError, match="includes 'Adam'"):
        problems.make_config(optimizers=[registry.MAMGD])
    with pytest.raises(ValueError, match="heldout_starts must be >= 2"):
        problems.make_config(heldout_starts=1)
    # order and duplicates do not change the run
    assert (problems.make_config(problems=["sphere", "booth", "sphere"]).run_id
            == problems.make_config(problems=["booth", "sphere"]).run_id)


def test_work_items_network_first():
    config = problems.make_config(problems=["sphere", "boston_housing", "rastrigin_10d"],
                            optimizers=[registry.ADAM, registry.SGD])
    items = workers.work_items(config)
    assert len(items) == 3 * 2 * 2 and len(set(items)) == len(items)
    assert items[0] == ("boston_housing", registry.ADAM, "tuned")
    assert items[4][0] == "rastrigin_10d"  # then the higher-dimensional functions


# --------------------------------------------------------------------------
# studies


def _tiny(**kwargs):
    options = dict(problems=["sphere", "rosenbrock"], optimizers=[registry.MAMGD, registry.ADAM],
                   function_trials=8, steps=30, tuning_starts=4, heldout_starts=10)
    options.update(kwargs)
    return problems.make_config(**options)


def test_fill_resumes_to_the_same_study():
    config = _tiny()
    objective = tuning.make_objective(config, "rosenbrock", registry.MAMGD)
    whole = optuna.create_study()
    studies.fill_study(whole, objective, 8, seed=3)
    part = optuna.create_study()
    studies.fill_study(part, objective, 5, seed=3)
    studies.fill_study(part, objective, 8, seed=3)
    assert ([(t.params, t.value) for t in optuna_utils.finished_trials(whole)]
            == [(t.params, t.value) for t in optuna_utils.finished_trials(part)])
    assert len(whole.trials) == 8


@pytest.mark.parametrize("sampler", ["tpe", "design"])
def test_shared_study_has_exactly_the_budget(tmp_path, sampler):
    storage = optuna_utils.open_storage(str(tmp_path / "s.journal"))
    config = _tiny()
    objective = tuning.make_objective(config, "sphere", registry.MAMGD)
    if sampler == "design":
        study = studies.open_design_study(storage, "s", registry.MAMGD, 12, seed=4)
    else:
        study = optuna.create_study(storage=storage, study_name="s")
    threads = [threading.Thread(target=studies.fill_study, args=(study, objective, 12),
                                kwargs=dict(seed=4, worker_index=i, sampler=sampler, shared=True))
               for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    finished = optuna_utils.finished_trials(study)
    assert len(finished) == 12
    assert not study.get_trials(states=(optuna.trial.TrialState.RUNNING,
                                        optuna.trial.TrialState.WAITING))
    for trial in finished:  # every value is the objective at the trial's point
        fixed = optuna.trial.FixedTrial(trial.params)
        assert objective(fixed) == trial.value
    if sampler == "design":
        points = studies.design_points(registry.MAMGD, 12, seed=4)
        assert sorted(map(repr, (t.params for t in finished))) == sorted(
            repr({k: p[k] for k in ("learning_rate", "k_zero", "k") if k in p}) for p in points)


def test_run_is_reproducible_and_table_is_sound(tmp_path):
    config = _tiny()
    first = workers.run(config, storage=str(tmp_path / "a.journal"), workers=0)
    second = workers.run(config, storage=str(tmp_path / "b.journal"), workers=0)
    table = results_table(first)
    pd.testing.assert_frame_equal(table, results_table(second))
    pd.testing.assert_frame_equal(first.trials, second.trials)
    assert list(table.columns[:len(REQUIRED)]) == REQUIRED
    assert (table.groupby("problem")["trials"].nunique() == 1).all()
    assert (table["trials"] == 8).all() and (table["seeds"] == 10).all()
    adam = table["optimizer"] == registry.ADAM
    assert (table.loc[adam, "verdict_vs_adam"] == "").all()
    assert table.loc[~adam, "verdict_vs_adam"].isin(["better", "worse", "indistinguishable"]).all()
    assert table.loc[adam, "best_k"].isna().all() and table.loc[~adam, "best_k"].notna().all()
    assert ((table["ci_low"] <= table["mean"]) & (table["mean"] <= table["ci_high"])).all()
    # the best setting is the best trial, and its held-out value the mean of its scores
    for row in table.itertuples():
        trials = first.trials[(first.trials["problem"] == row.problem)
                              & (first.trials["optimizer"] == row.optimizer)]
        best = trials.sort_values(["value", "number"]).iloc[0]
        assert row.best_learning_rate == best["learning_rate"]
        starts = objectives.start_points(row.problem, "heldout", 10, config.seed)
        gaps = objectives.function_run(row.problem, row.optimizer, row.best_learning_rate,
                               None if np.isnan(row.best_k) else row.best_k, starts, 30)
        assert row.mean == pytest.approx(float(np.mean(np.log10(np.clip(gaps[-1], 1e-12, 1e12)))))
    # a second run on the same storage finds everything done and reads the same results
    again = workers.run(config, storage=str(tmp_path / "a.journal"), workers=0)
    pd.testing.assert_frame_equal(results_table(again), table)


def test_requeue_failed_and_dead_items(tmp_path):
    config = _tiny(problems=["sphere"], optimizers=[registry.ADAM])
    storage = optuna_utils.open_storage(str(tmp_path / "q.journal"))
    queue = workers.open_queue(config, storage)
    items = workers.queue_state(queue)["waiting"]
    assert len(items) == 2
    dead = optuna_utils.claim_waiting(storage, queue._study_id, f"{socket.gethostname()}:999999999")
    alive = optuna_utils.claim_waiting(storage, queue._study_id, f"elsewhere:{os.getpid()}")
    assert dead is not None and alive is not None
    assert workers.requeue(queue, workers.dead_local_owner) == [dead.user_attrs["item"]]
    state = workers.queue_state(queue)
    assert [t.user_attrs["item"] for t in state["waiting"]] == [dead.user_attrs["item"]]
    assert [t.user_attrs["item"] for t in state["running"]] == [alive.user_attrs["item"]]
    # the same configuration finds its queue; another one is refused under the same name
    assert workers.open_queue(config, storage).study_name == queue.study_name


def test_results_table_on_known_values():
    config = _tiny(problems=["sphere"], optimizers=[registry.MAMGD, registry.ADAM],
                   heldout_starts=4)
    trials = pd.DataFrame([
        {"problem": "sphere", "optimizer": label, "number": n, "state": "complete",
         "learning_rate": 0.1, "k": 0.0 if label == registry.MAMGD else np.nan,
         "value": float(n)} for label in config.optimizers for n in range(8)])
    tuned = {("sphere", registry.MAMGD): {"learning_rate": 0.1, "k": 0.0,
                                         "values": [-5.0, -6.0, -7.0, -8.0],
                                         "steps_to_target": [3, 5, -1, 7], "diverged": 0},
             ("sphere", registry.ADAM): {"learning_rate": 0.2, "k": None,
                                        "values": [-4.0, -5.0, -6.0, -7.0],
                                        "steps_to_target": [-1, -1, -1, 9], "diverged": 1}}
    defaults = {key: dict(value, values=[1.0, 1.0, 1.0, 1.0]) for key, value in tuned.items()}
    table = results_table(results.Results(config, trials, tuned, defaults)).set_index("optimizer")
    mamgd, adam = table.loc[registry.MAMGD], table.loc[registry.ADAM]
    assert mamgd["mean"] == -6.5 and adam["mean"] == -5.5
    assert (mamgd["verdict_vs_adam"], mamgd["difference_vs_adam"]) == ("better", -1.0)
    assert (mamgd["difference_ci_low"], mamgd["difference_ci_high"]) == (-1.0, -1.0)
    assert mamgd["reached_target"] == 0.75 and mamgd["median_steps_to_target"] == 6.0
    assert adam["reached_target"] == 0.25 and adam["median_steps_to_target"] == np.inf
    assert mamgd["defaults_verdict_vs_adam"] == "indistinguishable"
    assert mamgd["best_k"] == 0.0 and np.isnan(adam["best_k"]) and adam["diverged"] == 1
    assert mamgd["trials"] == 8 and mamgd["metric"] == "log10 gap after 30 steps"
    text = summary.answer(table.reset_index())
    assert text.startswith("Yes, more often than not") and "better than tuned Adam on 1 of 1" in text
    printed = printable(table.reset_index())
    assert printed.loc[1, "best_k"] == "" and printed.loc[0, "best_k"] == "0"


# --------------------------------------------------------------------------
# networks


def _boston_or_skip():
    try:
        return network_problems.network_data("boston_housing", quick=True)
    except Exception as error:  # the dataset file is not available here
        pytest.skip(f"boston_housing.npz not available: {error}")


def test_network_splits():
    data = network_problems.network_data("approximation")
    assert data.sizes() == {"train": 8000, "validation": 2000, "test": 9999}
    assert not np.isin(data.validation.x, data.train.x).any()
    try:
        boston = network_problems.network_data("boston_housing")
    except Exception as error:
        pytest.skip(f"boston_housing.npz not available: {error}")
    assert boston.sizes() == {"train": 323, "validation": 81, "test": 102}
    assert np.allclose(boston.train.x.mean(axis=0), 0, atol=1e-5)
    assert np.allclose(boston.train.x.std(axis=0), 1, atol=1e-4)


def test_network_training_is_seeded_and_prunable():
    from mamgd_paper.experiments.networks import training

    data = _boston_or_skip()
    training.configure_determinism()
    seen = []

    def stop_after_first(epoch, value):
        seen.append((epoch, value))
        return True

    pruned = network_problems.train_network("boston_housing", data, registry.ADAM, 1e-3, None, seed=3,
                              epochs=2, on_epoch=stop_after_first)
    assert pruned["epochs"] == 1 and pruned["stopped"] and seen[0][0] == 1
    again = network_problems.train_network("boston_housing", data, registry.ADAM, 1e-3, None, seed=3,
                             epochs=1)
    assert again["validation"] == seen[0][1] == pruned["validation"]
    assert again["test"] == pruned["test"] and np.isfinite(again["test"])


# --------------------------------------------------------------------------
# the notebook (smoke run)


@pytest.mark.slow
def test_quick_notebook(tmp_path, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    monkeypatch.setenv(protocol.STORAGE_ENV, str(tmp_path / "quick.journal"))
    problems = ["sphere", "rosenbrock", "rastrigin"]
    try:
        network_problems.network_data("boston_housing", quick=True)
        problems.append("boston_housing")
    except Exception:
        pass
    figures_dir = tmp_path / "figures"
    published = execute.execute(
        REPO / "notebooks" / "11_equal_budget.py", tmp_path / "11.ipynb", figures_dir,
        parameters={"quick": True, "seeds": 5, "problems": problems, "workers": 1,
                    "optimizers": [registry.MAMGD, registry.ADAM]})
    names = {p.relative_to(figures_dir).as_posix() for p in published}
    expected = {f"tables/equal_budget.{ext}" for ext in ("csv", "tex", "md")}
    expected |= {"tables/equal_budget_trials.csv"}
    stems = (["equal_budget_profile"] + [f"equal_budget_sensitivity_{p}" for p in problems]
             + ["equal_budget_paths_rosenbrock", "equal_budget_paths_rastrigin"])
    expected |= {f"{stem}.{ext}" for stem in stems for ext in ("pdf", "png")}
    assert names == expected
    table = pd.read_csv(figures_dir / "tables" / "equal_budget.csv", keep_default_na=False)
    assert list(table.columns[:len(REQUIRED)]) == REQUIRED
    assert len(table) == 2 * len(problems)
    assert (table.groupby("problem")["trials"].nunique() == 1).all()
    assert set(table.loc[table["optimizer"] == registry.ADAM, "verdict_vs_adam"]) == {""}


# --------------------------------------------------------------------------
# infrastructure


def test_sgd_runs_with_momentum():
    optimizer = protocol.reference_optimizer(registry.SGD, 0.1)
    assert optimizer.name == "sgd_momentum" and optimizer.hyperparams["momentum"] == 0.9


def test_tuning_metric_names():
    config = _tiny()
    assert (problems.get_problem("sphere").tuning_metric(config)
            == "mean log10 gap after 30 steps (tuning starts)")
    assert problems.get_problem("approximation").tuning_metric(config) == "validation MSE"
    assert problems.get_problem("boston_housing").tuning_metric(config) == "validation MAE"


def test_default_storage_rule(monkeypatch):
    from mamgd_paper.core import paths

    monkeypatch.delenv(protocol.STORAGE_ENV, raising=False)
    assert studies.default_storage() == str(paths.DATA / "equal_budget.journal")
    assert studies.default_storage(quick=True) == str(paths.DATA / "equal_budget-quick.journal")
    monkeypatch.setenv(protocol.STORAGE_ENV, "sqlite:///x.db")
    assert studies.default_storage(quick=True) == "sqlite:///x.db"
    assert studies.storage_argument("sqlite:///x.db") == "sqlite:///x.db"
    assert Path(studies.storage_argument("rel.journal")).is_absolute()


def test_cli_status_and_requeue(tmp_path, capsys):
    config = _tiny(problems=["sphere"], optimizers=[registry.ADAM])
    storage = str(tmp_path / "cli.journal")
    workers.open_queue(config, optuna_utils.open_storage(storage))
    assert cli.main(["status", "--storage", storage]) == 0
    assert cli.main(["requeue", "--storage", storage]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (f"equal-budget/{config.run_id}/queue: 0/2 items done, 0 running (-), "
                      "2 waiting, 0 failed")
    assert out[1] == "requeued: [0, 1]"


def test_boston_splits_on_synthetic_houses(monkeypatch):
    """The Table 11 splits and their standardisation, on made-up data of the real shapes."""
    from mamgd_paper.experiments.networks import tasks

    rng = np.random.default_rng(11)
    raw = ((rng.normal(5, 3, size=(404, 13)), rng.normal(20, 5, size=404)),
           (rng.normal(5, 3, size=(102, 13)), rng.normal(20, 5, size=102)))
    monkeypatch.setattr(tasks.Task, "load", lambda self, data_dir=None: raw)
    (x, y), (x_test, y_test) = raw
    for quick, n_fit in ((False, 323), (True, 100)):
        data = network_problems.network_data("boston_housing", quick=quick)
        assert data.sizes() == {"train": n_fit, "validation": 81, "test": 102}
        mean, std = x[:n_fit].mean(axis=0), x[:n_fit].std(axis=0)
        np.testing.assert_array_equal(data.train.x, ((x[:n_fit] - mean) / std).astype(np.float32))
        np.testing.assert_array_equal(data.validation.x,
                                      ((x[323:] - mean) / std).astype(np.float32))
        np.testing.assert_array_equal(data.test.x, ((x_test - mean) / std).astype(np.float32))
        np.testing.assert_array_equal(data.validation.y, y[323:, None].astype(np.float32))
        assert data.test.y.shape == (102, 1) and data.train.y.dtype == np.float32
