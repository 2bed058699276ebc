"""A finished run read back from the storage: every trial and every evaluation.

:func:`collect` returns the :class:`Results` that the table, the statistics
and the figures are made from.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import optuna
import pandas as pd

from mamgd_paper.core import optuna_utils
from mamgd_paper.experiments.equal_budget import protocol, studies
from mamgd_paper.experiments.equal_budget.problems import Config


@dataclass
class Results:
    """Everything the tables and figures need, read back from the storage."""

    config: Config
    trials: pd.DataFrame
    tuned: dict
    defaults: dict


def trials_frame(study, problem, label):
    """The finished trials of one study: problem, optimizer, number, state,
    learning_rate, k, value (pruned trials: their last reported value)."""
    rows = []
    for t in optuna_utils.finished_trials(study):
        params = t.params
        if protocol.takes_k(label):
            k = 0.0 if params.get("k_zero") else params.get("k", np.nan)
        else:
            k = np.nan
        value = t.value
        if value is None and t.intermediate_values:
            value = t.intermediate_values[max(t.intermediate_values)]
        rows.append({"problem": problem, "optimizer": label, "number": t.number,
                     "state": t.state.name.lower(), "learning_rate": params["learning_rate"],
                     "k": k, "value": np.nan if value is None else float(value)})
    return pd.DataFrame(rows, columns=["problem", "optimizer", "number", "state",
                                       "learning_rate", "k", "value"])


def collect(config, storage):
    """Read every study of the run back: trials, tuned and default evaluations."""
    storage = studies.as_storage(storage)
    frames, tuned, defaults = [], {}, {}
    for problem in config.problem_list:
        for label in config.optimizers:
            name = studies.study_name(config, problem, label)
            try:
                study = optuna.load_study(study_name=name, storage=storage)
            except KeyError:
                raise RuntimeError(f"Study {name!r} is missing: the run is not finished.") from None
            attrs = study.user_attrs
            if "tuned" not in attrs or "defaults" not in attrs:
                raise RuntimeError(f"Study {name!r} has no results yet: the run is not finished.")
            frames.append(trials_frame(study, problem.name, label))
            tuned[(problem.name, label)] = attrs["tuned"]
            defaults[(problem.name, label)] = attrs["defaults"]
    return Results(config, pd.concat(frames, ignore_index=True), tuned, defaults)
