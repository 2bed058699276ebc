"""The problems of the equal-budget comparison and the configuration of a run.

:data:`PROBLEMS`: the paper's six test functions, Rosenbrock, Beale,
Rastrigin (2-D, 10-D), the chained Rosenbrock in 10-D, and the networks of
Tables 7 and 11. :class:`Config` holds everything that decides a run's
results; its hash names the run's studies (:attr:`Config.run_id`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from typing import Optional

import numpy as np
import pandas as pd

from mamgd import functions as test_functions
from mamgd_paper.experiments.equal_budget import protocol
from mamgd_paper.experiments.equal_budget.protocol import FUNCTION, NETWORK, OPTIMIZERS
from mamgd_paper.experiments.networks.tasks import TASKS


@dataclass(frozen=True)
class Problem:
    """One problem of the comparison: a test function or a network task."""

    name: str
    title: str
    kind: str
    function: object = None
    table: Optional[int] = None

    @property
    def task(self):
        """The :class:`mamgd_paper.experiments.networks.tasks.Task` of a network problem."""
        return TASKS[self.table]

    def metric(self, config):
        """What the table reports for this problem (lower is better)."""
        if self.kind == FUNCTION:
            return f"log10 gap after {config.steps} steps"
        return "test MSE" if self.table == 7 else "test MAE"

    def tuning_metric(self, config):
        """What the tuning objective is for this problem (the sensitivity plots' axis)."""
        if self.kind == FUNCTION:
            return f"mean log10 gap after {config.steps} steps (tuning starts)"
        return f"validation {'MSE' if self.table == 7 else 'MAE'}"


def _function_problem(function):
    return Problem(function.name, function.title, FUNCTION, function=function)


#: Every problem, in table order: the paper's six functions, Rosenbrock,
#: Beale, Rastrigin (2-D, 10-D), Rosenbrock 10-D, then Tables 7 and 11.
PROBLEMS = tuple(
    [_function_problem(f) for f in test_functions.ALL_FUNCTIONS + test_functions.ND_FUNCTIONS]
    + [Problem(TASKS[t].slug, f"Table {t}: {TASKS[t].title}", NETWORK,
               table=t) for t in (7, 11)]
)
PROBLEM_NAMES = tuple(p.name for p in PROBLEMS)
_BY_NAME = {p.name: p for p in PROBLEMS}
#: The two functions with a path gallery (a valley and a rugged one).
GALLERY_PROBLEMS = ("rosenbrock", "rastrigin")


def get_problem(name):
    """The :class:`Problem` called ``name``; a ``KeyError`` lists the known ones."""
    if isinstance(name, Problem):
        return name
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"Unknown problem {name!r}; known: {list(PROBLEM_NAMES)}.") from None


@dataclass(frozen=True)
class Config:
    """Everything that decides the results (hashed into the run's study names)."""

    seed: int = 0
    seeds: int = 5
    function_trials: int = 50
    network_trials: int = 20
    steps: int = 200
    tuning_starts: int = 16
    heldout_starts: int = 32
    network_epochs: Optional[int] = None
    problems: tuple = PROBLEM_NAMES
    optimizers: tuple = OPTIMIZERS
    quick: bool = False
    version: int = protocol.PROTOCOL_VERSION

    def trials(self, problem):
        """The budget of ``problem``: trials per optimizer."""
        return self.network_trials if get_problem(problem).kind == NETWORK else self.function_trials

    def epochs(self, problem):
        """Epochs of a network problem (the paper's, or ``network_epochs``)."""
        task = get_problem(problem).task
        return task.epochs if self.network_epochs is None else min(task.epochs, self.network_epochs)

    def final_seeds(self):
        """Seeds of the networks' re-runs: seed + 1, ..., seed + seeds (the
        trials all train with ``seed``)."""
        return [self.seed + 1 + i for i in range(self.seeds)]

    def to_json(self):
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text):
        values = json.loads(text)
        values["problems"] = tuple(values["problems"])
        values["optimizers"] = tuple(values["optimizers"])
        return cls(**values)

    @property
    def run_id(self):
        """``full-seed0-<hash>`` / ``quick-...``: names the run's studies."""
        digest = hashlib.sha256(self.to_json().encode()).hexdigest()[:8]
        return f"{'quick' if self.quick else 'full'}-seed{self.seed}-{digest}"

    @property
    def problem_list(self):
        return [get_problem(name) for name in self.problems]

    @property
    def has_networks(self):
        """Whether any problem of the run is a network."""
        return any(get_problem(p).kind == NETWORK for p in self.problems)


def _check_count(name, value, minimum=1):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be a whole number >= {minimum}, not {value!r}.")
    return int(value)


def make_config(quick=False, seed=0, seeds=5, function_trials=None, network_trials=None,
                steps=None, tuning_starts=None, heldout_starts=None, problems=None,
                optimizers=None):
    """The :class:`Config` of a run; ``None`` takes the full or quick default.

    Full: 50 trials per function problem, 20 per network problem, 200 steps,
    16 tuning and 32 held-out starts, the networks' paper epochs. Quick (a smoke
    run): 4 trials, 2 network trials, 20 steps, 4 tuning and 10 held-out
    starts, 1 seed, 3 epochs on a subset of the data.
    """
    if not isinstance(quick, bool):
        raise ValueError(f"quick must be True or False, not {quick!r}.")
    defaults = (dict(function_trials=4, network_trials=2, steps=20, tuning_starts=4,
                     heldout_starts=10) if quick else
                dict(function_trials=50, network_trials=20, steps=200, tuning_starts=16,
                     heldout_starts=32))
    given = dict(function_trials=function_trials, network_trials=network_trials, steps=steps,
                 tuning_starts=tuning_starts, heldout_starts=heldout_starts)
    values = {k: _check_count(k, v) if v is not None else defaults[k] for k, v in given.items()}
    if values["heldout_starts"] < 2:
        raise ValueError("heldout_starts must be >= 2 (a bootstrap interval needs two).")
    seeds = _check_count("seeds", seeds)
    if quick:
        seeds = 1
    problems = tuple(PROBLEM_NAMES if problems is None else problems)
    unknown = [p for p in problems if p not in _BY_NAME]
    if unknown or not problems:
        raise ValueError(f"problems must be a non-empty list of {list(PROBLEM_NAMES)}; "
                         f"unknown: {unknown}.")
    optimizers = tuple(OPTIMIZERS if optimizers is None else optimizers)
    if protocol.BASELINE not in optimizers or any(o not in OPTIMIZERS for o in optimizers):
        raise ValueError(f"optimizers must be a list of {list(OPTIMIZERS)} that includes "
                         f"{protocol.BASELINE!r} (every verdict is against it); "
                         f"got {list(optimizers)}.")
    order = {name: i for i, name in enumerate(PROBLEM_NAMES)}
    problems = tuple(sorted(dict.fromkeys(problems), key=order.get))
    rank = {name: i for i, name in enumerate(OPTIMIZERS)}
    optimizers = tuple(sorted(dict.fromkeys(optimizers), key=rank.get))
    return Config(seed=int(seed), seeds=seeds, problems=problems, optimizers=optimizers,
                  quick=quick, network_epochs=3 if quick else None, **values)


def config_frame(config):
    """The configuration as a two-column table (for the notebook)."""
    rows = [
        ("run", config.run_id),
        ("problems", ", ".join(config.problems)),
        ("optimizers", ", ".join(config.optimizers)),
        ("trials per optimizer", f"functions {config.function_trials}, networks "
                                 f"{config.network_trials} (TPE, seed {config.seed})"),
        ("search space", f"learning rate log-uniform [{protocol.LR_LOW:g}, "
                         f"{protocol.LR_HIGH:g}]; MAMGD and AdaExp also k_zero in "
                         f"{{False, True}}, else k log-uniform "
                         f"[{protocol.K_LOW:g}, {protocol.K_HIGH:g}]"),
        ("functions", f"{config.steps} steps, {config.tuning_starts} tuning starts, "
                      f"{config.heldout_starts} held-out starts, float64"),
        ("networks", f"tuned on the validation split, successive halving "
                     f"(eta {protocol.HALVING_ETA}); best setting re-run with seeds "
                     f"{config.final_seeds()}"),
        ("statistics", f"mean and {protocol.CONFIDENCE:.0%} percentile bootstrap "
                       f"({protocol.BOOTSTRAP_SAMPLES} resamples); verdict: paired bootstrap "
                       "interval of the mean difference to Adam"),
    ]
    return pd.DataFrame(rows, columns=["item", "value"])
