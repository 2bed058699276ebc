"""The equal-budget comparison, protocol 2 (mamgd_paper.experiments.equal_budget,
notebook 11; docs/protocol.md, section 7).

Golden values come from independent computations: Optuna's own QMCSampler for the
designs, one-start runs of ``mamgd.reference.run`` for the batched function runs,
hand-made tables for the verdicts. The statistics are tested in
``tests/core/test_stats.py`` and ``tests/experiments/test_equal_budget_statistics.py``,
the engine's network training in ``tests/engine/``, PostgreSQL
with a killed worker in ``tests/experiments/test_postgres.py``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest
from optuna.trial import TrialState

from mamgd_paper.experiments.equal_budget import (network_problems, objectives, problems,
                                                  protocol, results, studies, summary, table,
                                                  tuning, workers)
from mamgd_paper.experiments.equal_budget import __main__ as cli
from mamgd_paper.runner import execute

REPO = Path(__file__).resolve().parents[2]
REQUIRED = ["problem", "kind", "optimizer", "trials", "studies", "seeds", "horizon", "target",
            "metric", "median", "ci_low", "ci_high", "success_rate", "difference_vs_adam",
            "p_value", "p_adjusted", "verdict_vs_adam"]
ARMS = [protocol.BASELINE, protocol.REPLICATE, "RMSprop", "MAMGD"]


def _tiny(**kwargs):
    values = dict(quick=True, problems=["sphere", "rosenbrock"], arms=ARMS)
    values.update(kwargs)
    return problems.make_config(**values)


# --------------------------------------------------------------------------
# the design


@pytest.mark.parametrize("arm", [protocol.BASELINE, "MAMGD", protocol.REPLICATE])
def test_design_is_optunas_qmc_sampler(arm):
    """The design equals what Optuna's QMCSampler proposes after a default trial 0."""
    config = problems.make_config()
    points = studies.design(config, "sphere", arm, 3)
    assert len(points) == config.function_trials
    assert points[0] == protocol.default_setting(arm)
    space = protocol.search_space(arm)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sampler = optuna.samplers.QMCSampler(qmc_type="sobol", scramble=True,
                                             seed=config.study_seed("sphere", arm, 3))
        study = optuna.create_study(sampler=sampler)
        study.enqueue_trial(protocol.default_setting(arm))
        for number in range(config.function_trials):
            trial = study.ask()
            got = {name: trial.suggest_float(name, low, high, log=True)
                   for name, (low, high) in space.items()}
            if number == 0:
                study.tell(trial, 0.0)
            for name in space:
                assert got[name] == pytest.approx(points[number][name], rel=1e-12)


def test_studies_have_independent_seeds_and_starts():
    config = problems.make_config()
    seeds = {config.study_seed("sphere", arm, r) for arm in protocol.ARMS for r in range(14)}
    assert len(seeds) == 9 * 14
    a = objectives.start_points("rosenbrock", "tuning", 16, 0, 0)
    b = objectives.start_points("rosenbrock", "tuning", 16, 0, 1)
    c = objectives.start_points("rosenbrock", "heldout", 16, 0, 0)
    assert a.shape == (2, 16) and not np.allclose(a, b) and not np.allclose(a, c)
    np.testing.assert_array_equal(a, objectives.start_points("rosenbrock", "tuning", 16, 0, 0))
    assert config.tuning_seeds_of(0) != config.tuning_seeds_of(1)
    assert not set(config.rerun_seeds_of(0)) & set(config.tuning_seeds_of(0))


# --------------------------------------------------------------------------
# test-function runs


@pytest.mark.parametrize("arm", ["MAMGD", "AdaExp", "Adam", "SGD", "MAMGD (Algorithm 6)"])
def test_batched_function_run_equals_one_start_runs(arm):
    """Columns with different settings in one batch equal one-start runs of
    ``mamgd.reference.run`` with scalar hyperparameters, bit for bit."""
    function = problems.get_problem("rosenbrock").function
    starts = objectives.start_points("rosenbrock", "heldout", 3, 0, 0)
    rates, ks = np.array([1e-3, 0.05, 0.3]), np.array([1e-4, 0.0, 0.2])
    takes_k = protocol.takes_k(arm)
    out = objectives.function_outcomes("rosenbrock", arm, rates, ks if takes_k else None,
                                       starts, 50, targets=(1e-1, 1e-3))
    for j in range(3):
        optimizer = protocol.reference_optimizer(arm, rates[j], ks[j] if takes_k else None)
        x, state = starts[:, j].copy(), None
        state = optimizer.init(x)
        gaps = [function.value(x) - function.minimum]
        for _ in range(50):
            x, state = optimizer.update(x, np.array(function.gradient(x)), state)
            gaps.append(function.value(x) - function.minimum)
        gaps = np.array(gaps)
        assert out["final_gap"][j] == gaps[-1] or not np.isfinite(gaps[-1])
        for i, target in enumerate((1e-1, 1e-3)):
            hit = np.nonzero(gaps <= target)[0]
            assert out["steps"][i, j] == (hit[0] if hit.size else np.inf)


def test_tuning_scores_order_reached_before_failed():
    steps = np.array([10.0, 999.0, np.inf, np.inf, np.inf])
    gaps = np.array([1e-9, 1e-9, 1e-7, 1e-2, np.nan])
    scores = objectives.tuning_scores(steps, np.where(np.isfinite(gaps), gaps, np.inf), 1000)
    assert list(np.argsort(scores)) == [0, 1, 2, 3, 4]
    assert scores[2] == pytest.approx(2000.0) and scores[4] == pytest.approx(25000.0)


def test_config_validation():
    with pytest.raises(ValueError, match="function_studies must be a whole number >= 1"):
        problems.make_config(function_studies=0)
    with pytest.raises(ValueError, match="rerun_seeds must be a whole number >= 2"):
        problems.make_config(rerun_seeds=1)
    with pytest.raises(ValueError, match="unknown size"):
        problems.make_config(steps=3)
    with pytest.raises(ValueError, match="that includes 'Adam'"):
        problems.make_config(arms=["MAMGD"])
    with pytest.raises(ValueError, match="unknown: \\['nope'\\]"):
        problems.make_config(problems=["nope"])
    config = problems.make_config()
    assert (config.function_studies, config.function_trials, config.horizon) == (14, 16, 1000)
    assert (config.network_studies, config.network_trials, config.rerun_seeds) == (3, 8, 10)
    assert problems.Config.from_json(config.to_json()) == config


# --------------------------------------------------------------------------
# runs on a journal file


def _run(config, path, workers_count=0):
    return workers.run(config, storage=str(path), workers=workers_count)


def test_run_budget_and_resume(tmp_path):
    """Every tuning study holds exactly its design (trial 0 the default); a second
    call reads the same results back without running anything. (Two worker
    processes, one of them killed, give the single process's table:
    :func:`test_killed_local_worker_leaves_its_trials_to_the_other`.)"""
    config = _tiny()
    first = _run(config, tmp_path / "a.journal")
    counts = first.trials.groupby(["problem", "arm", "study"]).size()
    assert set(counts) == {config.function_trials} and len(counts) == 2 * len(ARMS) * 4
    assert (first.trials["design"] == 0).sum() == len(counts)
    defaults = first.trials[first.trials["design"] == 0]
    assert set(defaults.loc[defaults["arm"] == "RMSprop", "learning_rate"]) == {1e-3}
    size = (tmp_path / "a.journal").stat().st_size
    again = _run(config, tmp_path / "a.journal")
    pd.testing.assert_frame_equal(first.trials, again.trials)
    assert (tmp_path / "a.journal").stat().st_size == size


def test_killed_local_worker_leaves_its_trials_to_the_other(tmp_path):
    """Two worker processes; one is killed while it holds trials: the other fails
    them (their owner process is gone), Optuna's retry callback queues copies, and
    the run completes with exactly the budget and the table of one undisturbed
    process."""
    config = _tiny(problems=["rosenbrock_10d"], arms=[protocol.BASELINE, "MAMGD"],
                   function_trials=8, horizon=1500, tuning_starts=64)
    path = str(tmp_path / "k.journal")
    store = studies.open_storage(path)
    studies.open_run(config, store)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    command = [sys.executable, "-m", "mamgd_paper.experiments.equal_budget", "worker",
               "--storage", path, "--run", config.run_id]
    pair = [subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True) for _ in range(2)]
    deadline, victim = time.monotonic() + 120, None
    while victim is None and time.monotonic() < deadline:
        time.sleep(0.05)
        for name in optuna.study.get_all_study_names(store):
            if "/tune-" in name:
                study = optuna.load_study(study_name=name, storage=store)
                owners = {t.user_attrs.get("owner", "") for t in
                          study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))}
                victim = next((p for p in pair if any(o.endswith(f":{p.pid}")
                                                      for o in owners)), None)
                if victim is not None:
                    break
    assert victim is not None, "no worker ever held a trial"
    victim.send_signal(signal.SIGKILL)
    victim.communicate()
    survivor = pair[1] if victim is pair[0] else pair[0]
    _, err = survivor.communicate(timeout=300)
    assert survivor.returncode == 0, err[-3000:]
    done = results.collect(config, store)
    assert set(done.trials.groupby(["arm", "study"]).size()) == {8}
    assert done.studies["retried"].sum() >= 1
    clean = _run(config, tmp_path / "clean.journal")
    pd.testing.assert_frame_equal(table.results_table(done), table.results_table(clean))


def test_failing_trial_names_study_trial_and_error(tmp_path, monkeypatch):
    config = _tiny(problems=["sphere"], arms=[protocol.BASELINE])
    path = tmp_path / "f.journal"

    def boom(*args, **kwargs):
        raise ValueError("boom in the objective")

    monkeypatch.setattr(tuning, "tune_values", boom)
    messages = []
    for _ in range(studies.MAX_RETRY + 2):
        with pytest.raises(RuntimeError) as error:
            _run(config, path)
        messages.append(str(error.value))
    assert "boom in the objective" in messages[0] and "/tune-0 trials [" in messages[0]
    assert isinstance(error.value, workers.RunFailed)
    assert f"study 'equal-budget/{config.run_id}/sphere/Adam/tune-" in messages[-1]
    assert "boom in the objective" in messages[-1] and "retries used" in messages[-1]


def test_worker_without_the_data_stops_at_once(tmp_path, monkeypatch, capsys):
    config = _tiny(problems=["boston_housing"], arms=[protocol.BASELINE])
    path = str(tmp_path / "d.journal")
    studies.open_run(config, studies.open_storage(path))
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.delenv("MAMGD_DATA_DIR", raising=False)
    from mamgd_paper.datasets import files

    monkeypatch.setattr(files, "fetch", lambda name, data_dir=None: (_ for _ in ()).throw(
        files.DatasetUnavailableError(f"{name}: not in {data_dir}")))
    with pytest.raises(SystemExit, match="boston_housing needs .* The data folder here is "
                                         f"{empty}"):
        workers.run_worker(path, config.run_id, data_dir=str(empty))


def test_cli_status(tmp_path, capsys):
    config = _tiny(problems=["sphere"], arms=[protocol.BASELINE])
    path = str(tmp_path / "s.journal")
    _run(config, path)
    assert cli.main(["status", "--storage", path]) == 0
    out = capsys.readouterr().out.strip()
    assert out.startswith(f"equal-budget/{config.run_id}: 1/1 (problem, arm) groups finished")
    assert f"{4 * config.function_trials + 4} complete" in out


# --------------------------------------------------------------------------
# the table and its verdicts on hand-made results


def _hand_results(shift):
    """Results of one function with 10 studies: the other arm reaches the target
    ``shift`` steps sooner than Adam on every held-out start."""
    config = problems.make_config(problems=["sphere"], arms=[protocol.BASELINE, "SGD"],
                                  heldout_starts=4, function_studies=10)
    evaluations, rows = {}, []
    rng = np.random.default_rng(0)
    for r in range(10):
        base = rng.integers(100, 200, size=4).astype(float)
        for arm, steps in ((protocol.BASELINE, base), ("SGD", base - shift)):
            evaluations[("sphere", arm, r)] = {
                "steps": {f"{t:g}": steps.copy() for t in protocol.TARGETS},
                "final_gap": np.full(4, 1e-12)}
            rows.append({"problem": "sphere", "arm": arm, "study": r, "trials": 16,
                         "retried": 0, "best_design": 1, "best_learning_rate": 0.1,
                         "best_k": np.nan, "best_value": 1.0, "learning_rate_at_edge": False})
    return results.Results(config, pd.DataFrame(columns=results.TRIAL_COLUMNS),
                           pd.DataFrame(rows, columns=results.STUDY_COLUMNS), evaluations)


def test_table_verdicts_on_known_results():
    better = table.results_table(_hand_results(5))
    sgd = better[better["optimizer"] == "SGD"]
    assert list(sgd["verdict_vs_adam"]) == ["better", "better"]
    assert list(sgd["difference_vs_adam"]) == [1.0, 1.0]
    assert sgd["p_value"].iloc[0] == pytest.approx(2 / 1024)
    same = table.results_table(_hand_results(0))
    assert set(same.loc[same["optimizer"] == "SGD", "verdict_vs_adam"]) == {"equivalent"}
    assert set(same.loc[same["optimizer"] == "Adam", "verdict_vs_adam"]) == {""}
    assert list(better.columns[:len(REQUIRED)]) != [] and set(REQUIRED) <= set(better.columns)
    printed = table.printable(better)
    assert "inf" not in set(printed["median"]) and printed["verdict_vs_adam"].iloc[0] == ""


def test_answer_is_generated_from_the_table():
    frame = table.results_table(_hand_results(5))
    text = summary.answer(frame)
    assert "MAMGD was not part of this run" in text
    frame.loc[frame["optimizer"] == "SGD", "optimizer"] = "MAMGD"
    text = summary.answer(frame)
    assert text.startswith("Yes, more often than not: tuned alike, MAMGD (the authors' code) "
                           "against Adam is better on 1, worse on 0")
    assert "10 studies x 16 Sobol trials" in text and "Holm over all 2" in text


# --------------------------------------------------------------------------
# networks


def test_network_splits(monkeypatch):
    config = problems.make_config()
    data = network_problems.network_data("approximation", config)
    assert data.sizes() == {"train": 8000, "validation": 2000, "test": 9999}
    assert not np.isin(data.validation.x, data.train.x).any()
    from mamgd_paper.experiments.networks import tasks

    rng = np.random.default_rng(8)
    images = (rng.integers(0, 255, size=(600, 28, 28)), rng.integers(0, 10, size=600))
    tests_ = (rng.integers(0, 255, size=(50, 28, 28)), rng.integers(0, 10, size=50))
    monkeypatch.setattr(tasks.Task, "load", lambda self, data_dir=None: (images, tests_))
    mnist = network_problems.network_data("mnist", problems.make_config(mnist_images=256))
    assert mnist.sizes() == {"train": 256, "validation": 64, "test": 50}
    full = network_problems.network_data("mnist", problems.make_config(mnist_images=None))
    assert full.sizes() == {"train": 480, "validation": 120, "test": 50}


def test_epochs_to_target():
    curves = np.array([[3.0, 2.0, 0.5], [0.1, 0.1, 0.1], [5.0, np.inf, np.inf]])
    np.testing.assert_array_equal(network_problems.epochs_to_target(curves, 1.0),
                                  [3.0, 1.0, np.inf])


# --------------------------------------------------------------------------
# the notebook (smoke run)


@pytest.mark.slow
@pytest.mark.heavy
def test_quick_notebook(tmp_path, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    monkeypatch.setenv(protocol.STORAGE_ENV, str(tmp_path / "quick.journal"))
    names = ["sphere", "rosenbrock", "rastrigin", "approximation"]
    figures_dir = tmp_path / "figures"
    published = execute.execute(
        REPO / "notebooks" / "11_equal_budget.py", tmp_path / "11.ipynb", figures_dir,
        parameters={"quick": True, "problems": names, "workers": 1,
                    "arms": ["MAMGD", "Adam", protocol.REPLICATE]})
    got = {p.relative_to(figures_dir).as_posix() for p in published}
    expected = {f"tables/equal_budget.{ext}" for ext in ("csv", "tex", "md")}
    expected |= {"tables/equal_budget_trials.csv", "tables/equal_budget_studies.csv"}
    stems = ([protocol.PERFORMANCE_PROFILE_STEM, protocol.DATA_PROFILE_STEM]
             + [f"equal_budget_sensitivity_{p}" for p in names]
             + ["equal_budget_paths_rosenbrock", "equal_budget_paths_rastrigin"])
    expected |= {f"{stem}.{ext}" for stem in stems for ext in ("pdf", "png")}
    assert got == expected
    frame = pd.read_csv(figures_dir / "tables" / "equal_budget.csv", keep_default_na=False)
    assert set(REQUIRED) <= set(frame.columns)
    assert len(frame) == 3 * (2 * 3 + 1)
    assert set(frame["verdict_vs_adam"]) <= set(protocol.VERDICTS) | {""}
    assert set(frame.loc[frame["optimizer"] == "Adam", "verdict_vs_adam"]) == {""}


def test_worker_command_on_a_storage_without_a_run_says_so(tmp_path, capsys):
    from mamgd_paper.experiments.equal_budget import __main__ as cli

    with pytest.raises(SystemExit) as stop:
        cli.main(["worker", "--storage", str(tmp_path / "missing.journal")])
    assert "does not exist" in str(stop.value.code)
    assert not (tmp_path / "missing.journal").exists()
    (tmp_path / "empty.journal").touch()
    with pytest.raises(SystemExit) as stop:
        cli.main(["worker", "--storage", str(tmp_path / "empty.journal")])
    message = str(stop.value.code)
    assert "holds no equal-budget run" in message and "worker --new" in message
    with pytest.raises(SystemExit) as stop:
        cli.main(["status", "--storage", str(tmp_path / "empty.journal"), "--run", "nope"])
    assert "No equal-budget run 'nope'" in str(stop.value.code)
