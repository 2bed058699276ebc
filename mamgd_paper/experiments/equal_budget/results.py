"""A finished run read back from the storage: every trial, every study, every evaluation.

:func:`collect` returns the :class:`Results` that the tables, the statistics
and the figures are made from. Rows are sorted by (problem, arm, study,
design), so nothing depends on the order in which workers finished.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import optuna
import pandas as pd
from optuna.trial import TrialState

from mamgd_paper.experiments.equal_budget import protocol, studies
from mamgd_paper.experiments.equal_budget.problems import Config

TRIAL_COLUMNS = ["problem", "arm", "study", "design", "learning_rate", "k", "value"]
STUDY_COLUMNS = ["problem", "arm", "study", "trials", "retried", "best_design",
                 "best_learning_rate", "best_k", "best_value", "learning_rate_at_edge"]


@dataclass
class Results:
    """Everything the tables and figures need, read back from the storage."""

    config: Config
    trials: pd.DataFrame
    studies: pd.DataFrame
    evaluations: dict


def _load(storage, name):
    try:
        return optuna.load_study(study_name=name, storage=storage)
    except KeyError:
        raise RuntimeError(f"Study {name!r} is missing: the run is not finished.") from None


def _complete(study):
    trials = {}
    for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        trials.setdefault(t.user_attrs["design"], t)
    return [trials[d] for d in sorted(trials)]


def collect(config, storage):
    """Read every study of the run back (an unfinished run is an error)."""
    storage = studies.open_storage(storage)
    trial_rows, study_rows, evaluations = [], [], {}
    for problem in config.problem_list:
        for arm in config.arms:
            low, high = protocol.search_space(arm)["learning_rate"]
            for r in range(config.studies(problem)):
                tuned = _load(storage, studies.study_name(config, problem, arm, r))
                complete = _complete(tuned)
                if len(complete) != config.trials(problem):
                    raise RuntimeError(f"Study {tuned.study_name!r} has {len(complete)} of "
                                       f"{config.trials(problem)} trials: not finished.")
                for t in complete:
                    trial_rows.append({"problem": problem.name, "arm": arm, "study": r,
                                       "design": t.user_attrs["design"],
                                       "learning_rate": t.params["learning_rate"],
                                       "k": t.params.get("k", np.nan), "value": t.value})
                best = studies.best_trial(tuned)
                evaluation = _load(storage, studies.study_name(config, problem, arm, r, "eval"))
                units = _complete(evaluation)
                expected = 1 if problem.kind == protocol.FUNCTION else config.rerun_seeds
                if len(units) != expected:
                    raise RuntimeError(f"Study {evaluation.study_name!r} has {len(units)} of "
                                       f"{expected} evaluations: not finished.")
                all_trials = tuned.get_trials(deepcopy=False)
                study_rows.append({
                    "problem": problem.name, "arm": arm, "study": r,
                    "trials": len(complete),
                    "retried": sum(t.state == TrialState.FAIL for t in all_trials),
                    "best_design": best.user_attrs["design"],
                    "best_learning_rate": best.params["learning_rate"],
                    "best_k": best.params.get("k", np.nan), "best_value": best.value,
                    "learning_rate_at_edge": protocol.at_edge(best.params["learning_rate"],
                                                              low, high)})
                if problem.kind == protocol.FUNCTION:
                    attrs = units[0].user_attrs
                    evaluations[(problem.name, arm, r)] = {
                        "steps": {k: np.asarray(v, float) for k, v in attrs["steps"].items()},
                        "final_gap": np.asarray(attrs["final_gap"], float)}
                else:
                    evaluations[(problem.name, arm, r)] = {
                        "seeds": [u.user_attrs["seed"] for u in units],
                        "test": np.asarray([u.user_attrs["test"] for u in units], float),
                        "test_epochs": np.asarray([u.user_attrs["test_epochs"] for u in units],
                                                  float),
                        "diverged": np.asarray([u.user_attrs["diverged"] for u in units])}
    trials = pd.DataFrame(trial_rows, columns=TRIAL_COLUMNS)
    return Results(config, trials, pd.DataFrame(study_rows, columns=STUDY_COLUMNS), evaluations)
