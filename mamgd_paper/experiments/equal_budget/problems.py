"""The problems of the equal-budget comparison and the configuration of a run.

:data:`PROBLEMS`: the paper's six test functions, Rosenbrock, Beale,
Rastrigin (2-D, 10-D), the chained Rosenbrock in 10-D, and the networks of
Tables 7, 11 and 8 (MNIST, a declared subset). :class:`Config` holds everything that decides a run's
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
from mamgd_paper.experiments.equal_budget.protocol import FUNCTION, NETWORK
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

    @property
    def metric_name(self):
        """Networks: the test metric (lower is better)."""
        return {7: "MSE", 8: "error rate", 11: "MAE"}[self.table]

    def metric(self, config, target=None):
        """What a row of the table reports for this problem (lower is better)."""
        if self.kind == FUNCTION:
            return f"steps to gap <= {target:g} (horizon {config.horizon})"
        return f"final test {self.metric_name} after {config.epochs(self)} epochs"

    def tuning_metric(self, config):
        """What the tuning objective is (the sensitivity plots' axis)."""
        if self.kind == FUNCTION:
            return (f"mean tuning score, gap target {protocol.PRIMARY_TARGET:g} "
                    f"(steps; > {config.horizon}: not reached)")
        return f"validation {self.metric_name}, mean of {config.tuning_seeds} seeds"


def _function_problem(function):
    return Problem(function.name, function.title, FUNCTION, function=function)


#: The network tables of the comparison: two regressions and the paper's
#: minibatch classification task on MNIST (a declared subset, :class:`Config`).
NETWORK_TABLES = (7, 11, 8)

#: Every problem, in table order: the paper's six functions, Rosenbrock,
#: Beale, Rastrigin (2-D, 10-D), Rosenbrock 10-D, then Tables 7, 11 and 8.
PROBLEMS = tuple(
    [_function_problem(f) for f in test_functions.ALL_FUNCTIONS + test_functions.ND_FUNCTIONS]
    + [Problem(TASKS[t].slug, f"Table {t}: {TASKS[t].title}", NETWORK,
               table=t) for t in NETWORK_TABLES]
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
    function_studies: int = 14
    network_studies: int = 3
    function_trials: int = 16
    network_trials: int = 8
    horizon: int = 1000
    tuning_starts: int = 16
    heldout_starts: int = 32
    tuning_seeds: int = 2
    rerun_seeds: int = 10
    mnist_images: Optional[int] = 1024
    mnist_epochs: Optional[int] = 3
    network_epochs: Optional[int] = None
    problems: tuple = PROBLEM_NAMES
    arms: tuple = protocol.ARMS
    quick: bool = False
    version: int = protocol.PROTOCOL_VERSION
    #: What trains the networks (part of the hash: a journal filled by another
    #: trainer, the NumPy one of before, is never resumed with this one's values).
    trainer: str = "mamgd_paper.engine"
    #: The search ranges (protocol.LR_RANGE, K_RANGE) as text: part of the hash,
    #: so a widened range gives new studies instead of the old results.
    ranges: str = json.dumps({"learning_rate": protocol.LR_RANGE, "k": protocol.K_RANGE},
                             sort_keys=True)

    def kind(self, problem):
        return get_problem(problem).kind

    def trials(self, problem):
        """The budget of one study of ``problem``: trials per study, trial 0 the default."""
        return self.network_trials if self.kind(problem) == NETWORK else self.function_trials

    def studies(self, problem):
        """Independent tuning studies per (problem, arm)."""
        return self.network_studies if self.kind(problem) == NETWORK else self.function_studies

    def epochs(self, problem):
        """Epochs of a network problem: the paper's, MNIST's declared subset
        (``mnist_epochs``), or ``network_epochs`` (quick)."""
        problem = get_problem(problem)
        epochs = problem.task.epochs
        if problem.table == 8 and self.mnist_epochs is not None:
            epochs = min(epochs, self.mnist_epochs)
        return epochs if self.network_epochs is None else min(epochs, self.network_epochs)

    def study_seed(self, problem, arm, study):
        """The sampler seed of study ``study`` of (``problem``, ``arm``): its own
        stream, so the A/A arm's studies are independent of Adam's."""
        state = np.random.SeedSequence([self.seed, protocol.stream_key(get_problem(problem).name),
                                        protocol.stream_key(arm), int(study)])
        return int(state.generate_state(1)[0])

    def tuning_seeds_of(self, study):
        """Training seeds of study ``study``'s trials (shared by every arm: paired)."""
        base = 1000 * (self.seed + 1) + 10 * int(study)
        return [base + i for i in range(self.tuning_seeds)]

    def rerun_seeds_of(self, study):
        """Fresh seeds of study ``study``'s re-runs (shared by every arm: paired)."""
        base = 1000 * (self.seed + 1) + 500 + 20 * int(study)
        return [base + i for i in range(self.rerun_seeds)]

    def to_json(self):
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text):
        values = json.loads(text)
        values["problems"] = tuple(values["problems"])
        values["arms"] = tuple(values["arms"])
        return cls(**values)

    @property
    def run_id(self):
        """``full-seed0-<hash>`` / ``quick-...``: names the run's studies."""
        digest = hashlib.sha256(self.to_json().encode()).hexdigest()[:8]
        return f"{'quick' if self.quick else 'full'}-v{self.version}-seed{self.seed}-{digest}"

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


#: The quick (smoke) run's sizes; the full run's are the Config defaults.
QUICK = dict(function_studies=4, network_studies=2, function_trials=4, network_trials=3,
             horizon=60, tuning_starts=4, heldout_starts=6, tuning_seeds=2, rerun_seeds=2,
             mnist_images=256, mnist_epochs=1, network_epochs=2)


def make_config(quick=False, seed=0, problems=None, arms=None, **sizes):
    """The :class:`Config` of a run; a size not given takes the full or quick default.

    Sizes: ``function_studies``, ``network_studies``, ``function_trials``,
    ``network_trials``, ``horizon``, ``tuning_starts``, ``heldout_starts``,
    ``tuning_seeds``, ``rerun_seeds`` (whole numbers >= 1), ``mnist_images``
    and ``mnist_epochs`` (``None``: the full MNIST training set and the
    paper's 10 epochs). Bad values raise a ``ValueError`` that names them.
    """
    if not isinstance(quick, bool):
        raise ValueError(f"quick must be True or False, not {quick!r}.")
    defaults = dataclasses.asdict(Config())
    if quick:
        defaults.update(QUICK)
    known = set(QUICK) - {"network_epochs"}
    unknown = sorted(set(sizes) - known)
    if unknown:
        raise ValueError(f"unknown size(s) {unknown}; known: {sorted(known)}.")
    values = {}
    for name in known:
        value = sizes.get(name)
        if value is None:
            values[name] = defaults[name]
        else:
            values[name] = _check_count(name, value, 2 if name.endswith("_starts") or
                                        name.endswith("_seeds") else 1)
    for name in ("mnist_images", "mnist_epochs"):
        if name in sizes and sizes[name] is None:
            values[name] = None
    problems = tuple(PROBLEM_NAMES if problems is None else problems)
    unknown = [p for p in problems if p not in _BY_NAME]
    if unknown or not problems:
        raise ValueError(f"problems must be a non-empty list of {list(PROBLEM_NAMES)}; "
                         f"unknown: {unknown}.")
    arms = tuple(protocol.ARMS if arms is None else arms)
    if protocol.BASELINE not in arms or any(a not in protocol.ARMS for a in arms):
        raise ValueError(f"arms must be a list of {list(protocol.ARMS)} that includes "
                         f"{protocol.BASELINE!r} (every verdict is against it); "
                         f"got {list(arms)}.")
    order = {name: i for i, name in enumerate(PROBLEM_NAMES)}
    problems = tuple(sorted(dict.fromkeys(problems), key=order.get))
    rank = {name: i for i, name in enumerate(protocol.ARMS)}
    arms = tuple(sorted(dict.fromkeys(arms), key=rank.get))
    return Config(seed=int(seed), problems=problems, arms=arms, quick=quick,
                  network_epochs=defaults["network_epochs"], **values)


def config_frame(config):
    """The configuration as a two-column table (for the notebook and the report)."""
    def ranges(arm_list):
        return "; ".join(f"{arm} [{low:g}, {high:g}]" for arm in arm_list
                         for low, high in [protocol.LR_RANGE[protocol.optimizer_of(arm)]])

    rows = [
        ("run", config.run_id),
        ("problems", ", ".join(config.problems)),
        ("arms", ", ".join(config.arms)),
        ("search", f"Optuna QMCSampler (scrambled Sobol, seeded per study); trial 0 = the "
                   f"default setting; learning rate log-uniform ({ranges(config.arms)}); "
                   f"MAMGD and AdaExp also k log-uniform {list(protocol.K_RANGE)}"),
        ("budget", f"functions: {config.function_studies} studies x {config.function_trials} "
                   f"trials per arm; networks: {config.network_studies} studies x "
                   f"{config.network_trials} trials"),
        ("functions", f"horizon {config.horizon} steps, float64; targets "
                      f"{', '.join(f'{t:g}' for t in protocol.TARGETS)} (primary "
                      f"{protocol.PRIMARY_TARGET:g}); {config.tuning_starts} tuning and "
                      f"{config.heldout_starts} held-out starts per study"),
        ("networks", f"each trial scored on the mean validation metric of "
                     f"{config.tuning_seeds} seeds, no pruning; the best setting re-run on "
                     f"{config.rerun_seeds} fresh seeds per study; MNIST: "
                     f"{config.mnist_images or 'all'} training images, "
                     f"{config.epochs('mnist')} epochs"),
        ("statistics", f"per study a paired win score against Adam; exact sign-flip test over "
                       f"studies; Holm over the family at {protocol.ALPHA:g}; "
                       f"TOST margin {protocol.EQUIVALENCE_MARGIN:g}"),
    ]
    return pd.DataFrame(rows, columns=["item", "value"])
