"""Equal tuning budget: does MAMGD beat Adam when every optimizer is tuned alike?

The paper tuned MAMGD's decay rate with Optuna and ran every other optimizer at
one fixed learning rate. This module runs the comparison the way optimizer
benchmarks do it (Schmidt, Schneider & Hennig, "Descending through a Crowded
Valley -- Benchmarking Deep Learning Optimizers", ICML 2021; the DeepOBS
protocol of Schneider, Balles & Hennig, ICLR 2019): the protocol is
docs/protocol.md, section 7. In short:

* **Optimizers** (:data:`OPTIMIZERS`): MAMGD (authors' code and Algorithm 6),
  AdaExp, Adam, AMSGrad, RMSprop, Adagrad, SGD with momentum 0.9; betas,
  epsilons and the rest at their defaults.
* **Equal budget**: per problem, every optimizer gets the same number of trials
  of the same seeded sampler (Optuna's TPE, re-seeded before trial n from
  ``(seed, n)``) over its learning rate, log-uniform on [1e-5, 10]. MAMGD and
  AdaExp tune k *in the same trials*: a flag ``k_zero`` (k = 0) or k
  log-uniform on [1e-6, 10]. Networks get fewer trials and a successive-halving
  pruner (:func:`keeps_going`), the same for every optimizer.
* **Tune on one thing, report another**: test functions are tuned on a set of
  random start points and reported on held-out ones (the log10 of the
  optimality gap after a fixed step count, and the steps to reach a target
  gap); networks are tuned on a validation split and reported on the test
  split, re-run with fresh seeds.
* **Statistics**: mean and 95 % percentile-bootstrap interval over the
  held-out starts or seeds; the verdict against Adam is a *paired* bootstrap
  interval of the difference of means (:func:`paired_verdict`); a
  Dolan-More performance profile (Dolan & More, "Benchmarking optimization
  software with performance profiles", Math. Programming 91, 2002;
  :func:`performance_profile`).

Studies and workers
-------------------
Each (problem, optimizer) is one Optuna study in an Optuna storage: by default
the journal file ``data/equal_budget.journal`` (``-quick`` for quick runs),
or any SQLAlchemy URL (``postgresql://user@host/db``, ``sqlite:///x.db``). The
work is a queue of items -- tune one study and re-run its best setting, or run
one optimizer's defaults -- kept as WAITING trials of a queue study; any number
of worker processes, on one machine or many (``python -m mamgd_paper.experiments.equal_budget.equal_budget
worker --storage URL``), take items with Optuna's atomic WAITING -> RUNNING
transition. One study is filled by one worker at a time, trial after trial,
so every study, and every table made from them, is the same whatever the
number of workers (``tests/test_postgres.py``).

:func:`fill_study` also lets several workers fill *one* study: the study then
holds exactly the budgeted number of trials; with the seeded TPE sampler which
trial proposes what depends on timing, while with ``sampler="design"`` (a
seeded set of points fixed before any trial runs) the evaluated points, hence
the best result, are those of a single worker.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import math
import os
import socket
import subprocess
import sys
import tempfile
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, Optional

import numpy as np
import optuna
import pandas as pd
from optuna.trial import TrialState

from mamgd_paper.experiments.equal_budget import benchmark_functions
from mamgd_paper.experiments.networks import networks
from mamgd_paper.core import paths
from mamgd_paper.paper import registry
from mamgd_paper.experiments.ksearch import search
from mamgd import functions as test_functions
from mamgd import reference
from mamgd.optimizers import DEFAULT_K as MAMGD_DEFAULT_K

# ---------------------------------------------------------------------------
# Protocol constants
# ---------------------------------------------------------------------------

#: Bump when an objective or a result changes meaning: runs get new study names.
PROTOCOL_VERSION = 1

#: The eight optimizers, in table and legend order (registry labels).
OPTIMIZERS = (registry.MAMGD, registry.MAMGD_ALGORITHM6, registry.ADAEXP, registry.ADAM,
              registry.AMSGRAD, registry.RMSPROP, registry.ADAGRAD, registry.SGD)
#: The baseline of every verdict.
BASELINE = registry.ADAM
#: SGD runs with heavy-ball momentum (Keras's ``SGD(momentum=0.9)``).
SGD_MOMENTUM = 0.9

#: Learning-rate search range (log-uniform), the same for every optimizer.
LR_LOW, LR_HIGH = 1e-5, 10.0
#: k search range (log-uniform) of MAMGD and AdaExp, when the flag k_zero is off.
K_LOW, K_HIGH = 1e-6, 10.0

#: The one-shot row: Keras's default learning rates (SGD 0.01, the others 1e-3)
#: and the library's default k.
DEFAULT_LEARNING_RATE = {label: 1e-3 for label in OPTIMIZERS}
DEFAULT_LEARNING_RATE[registry.SGD] = 1e-2
DEFAULT_K = MAMGD_DEFAULT_K

#: Test functions: the optimality gap f(x) - f* is clipped to [FLOOR, CAP]
#: before its log10 is taken (a non-finite value, a diverged run, counts as CAP).
GAP_FLOOR, GAP_CAP = 1e-12, 1e12
#: Steps-to-target: the first step at which the gap is <= this.
TARGET_GAP = 1e-6
#: Networks: a non-finite or larger test metric counts as this (diverged).
NETWORK_CAP = 1e12

#: Bootstrap resamples and confidence level of every interval.
BOOTSTRAP_SAMPLES = 10000
CONFIDENCE = 0.95
#: Successive halving on the networks: rungs at MIN_EPOCHS * ETA^i epochs;
#: a trial passes a rung when it is in the best 1/ETA of the trials there.
HALVING_ETA = 3
HALVING_MIN_EPOCHS = 2

#: Verdicts of an optimizer against Adam (lower metric is better everywhere).
BETTER, WORSE, INDISTINGUISHABLE = "better", "worse", "indistinguishable"

#: File stems (figures/ and figures/tables/).
TABLE_STEM = "equal_budget"
TRIALS_STEM = "equal_budget_trials"
PROFILE_STEM = "equal_budget_profile"
SENSITIVITY_PREFIX = "equal_budget_sensitivity_"
PATHS_PREFIX = "equal_budget_paths_"

#: Environment variable overriding the default storage (also the notebook's).
STORAGE_ENV = "MAMGD_EQUAL_BUDGET_STORAGE"
#: Prefix of every study name.
STUDY_PREFIX = "equal-budget"

FUNCTION, NETWORK = "function", "network"

_quiet = False
#: Set in worker processes started by :func:`run`: the pid of that parent.
_PARENT_PID = None


def _check_parent():
    """Stop a worker whose starter is gone (a killed notebook leaves no workers behind)."""
    if _PARENT_PID is not None and os.getppid() != _PARENT_PID:
        raise SystemExit(f"worker {os.getpid()}: the process that started it is gone; "
                         "stopping (the item is queued again by the next run)")


def _quiet_optuna():
    global _quiet
    if not _quiet:
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        _quiet = True


# ---------------------------------------------------------------------------
# Optimizers
# ---------------------------------------------------------------------------


class MomentumState(NamedTuple):
    count: np.ndarray
    velocity: np.ndarray


def sgd_momentum(learning_rate=0.01, momentum=SGD_MOMENTUM, *, dtype=None):
    """SGD with heavy-ball momentum as ``keras.optimizers.SGD(momentum=...)`` (Keras 3).

    v <- v momentum - g lr;  theta <- theta + v  (v starts at 0; not Nesterov).

    A :class:`mamgd.reference.Optimizer` (``mamgd.reference.sgd`` has no
    momentum); same operation order as Keras, so float32 runs agree bit for bit
    (``tests/test_equal_budget.py``).
    """

    def init(params):
        dt = reference.resolve_dtype(dtype, params)
        return MomentumState(reference.counter(0), np.zeros(np.shape(params), dt))

    def update(params, grads, state):
        dt = reference.resolve_dtype(dtype, params)
        theta = reference.as_array(params, dt)
        g = reference.as_array(grads, dt)
        lr = reference.as_scalar(learning_rate, dt)
        mu = reference.as_scalar(momentum, dt)
        velocity = state.velocity * mu - g * lr
        theta = theta + velocity
        return theta, MomentumState(reference.counter(int(state.count) + 1), velocity)

    return reference.Optimizer("sgd_momentum", init, update,
                               dict(learning_rate=learning_rate, momentum=momentum))


def takes_k(label):
    """Whether optimizer ``label`` has a decay rate k (MAMGD, AdaExp)."""
    return registry.get(label).takes_k


def reference_optimizer(label, learning_rate, k=None, dtype=np.float64):
    """The NumPy reference optimizer of ``label`` as this comparison runs it."""
    if label == registry.SGD:
        return sgd_momentum(learning_rate, SGD_MOMENTUM, dtype=dtype)
    return registry.reference_optimizer(label, learning_rate, k, dtype=dtype)


def keras_optimizer(label, learning_rate, k=None):
    """The Keras optimizer of ``label`` as this comparison runs it."""
    extra = {"momentum": SGD_MOMENTUM} if label == registry.SGD else {}
    return registry.keras_optimizer(label, learning_rate, k, **extra)


def default_setting(label):
    """``(learning_rate, k)`` of the one-shot row (k ``None`` for optimizers without one)."""
    return DEFAULT_LEARNING_RATE[label], (DEFAULT_K if takes_k(label) else None)


# ---------------------------------------------------------------------------
# Problems
# ---------------------------------------------------------------------------


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
        """The :class:`mamgd_paper.experiments.networks.networks.Task` of a network problem."""
        return networks.TASKS[self.table]

    def metric(self, config):
        """What the table reports for this problem (lower is better)."""
        if self.kind == FUNCTION:
            return f"log10 gap after {config.steps} steps"
        return "test MSE" if self.table == 7 else "test MAE"


def _function_problem(function):
    return Problem(function.name, function.title, FUNCTION, function=function)


#: Every problem, in table order: the paper's six functions, Rosenbrock,
#: Beale, Rastrigin (2-D, 10-D), Rosenbrock 10-D, then Tables 7 and 11.
PROBLEMS = tuple(
    [_function_problem(f) for f in test_functions.ALL_FUNCTIONS]
    + [_function_problem(f) for f in (benchmark_functions.RASTRIGIN,
                                      benchmark_functions.RASTRIGIN_10D,
                                      benchmark_functions.ROSENBROCK_10D)]
    + [Problem(networks.TASKS[t].slug, f"Table {t}: {networks.TASKS[t].title}", NETWORK,
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


# ---------------------------------------------------------------------------
# Configuration
# ---------------------------------------------------------------------------


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
    version: int = PROTOCOL_VERSION

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
    if BASELINE not in optimizers or any(o not in OPTIMIZERS for o in optimizers):
        raise ValueError(f"optimizers must be a list of {list(OPTIMIZERS)} that includes "
                         f"{BASELINE!r} (every verdict is against it); got {list(optimizers)}.")
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
        ("search space", f"learning rate log-uniform [{LR_LOW:g}, {LR_HIGH:g}]; MAMGD and "
                         f"AdaExp also k_zero in {{False, True}}, else k log-uniform "
                         f"[{K_LOW:g}, {K_HIGH:g}]"),
        ("functions", f"{config.steps} steps, {config.tuning_starts} tuning starts, "
                      f"{config.heldout_starts} held-out starts, float64"),
        ("networks", f"tuned on the validation split, successive halving (eta {HALVING_ETA}); "
                     f"best setting re-run with seeds {config.final_seeds()}"),
        ("statistics", f"mean and {CONFIDENCE:.0%} percentile bootstrap ({BOOTSTRAP_SAMPLES} "
                       "resamples); verdict: paired bootstrap interval of the mean "
                       "difference to Adam"),
    ]
    return pd.DataFrame(rows, columns=["item", "value"])


# ---------------------------------------------------------------------------
# Test-function objective
# ---------------------------------------------------------------------------


def _key(text):
    return zlib.crc32(str(text).encode("utf-8"))


def start_points(problem, role, count, seed=0):
    """``count`` start points of ``problem`` as a ``(dim, count)`` float64 array.

    Uniform in the function's domain, from a generator seeded with
    ``(seed, crc32(problem name), role)``; ``role`` is ``"tuning"`` or
    ``"heldout"``, so the two sets are independent draws.
    """
    problem = get_problem(problem)
    if role not in ("tuning", "heldout"):
        raise ValueError(f"role must be 'tuning' or 'heldout', not {role!r}.")
    function = problem.function
    rng = np.random.default_rng(np.random.SeedSequence(
        [int(seed), _key(problem.name), 0 if role == "tuning" else 1]))
    low = np.array([lo for lo, _ in function.domain])
    high = np.array([hi for _, hi in function.domain])
    return rng.uniform(low, high, size=(int(count), function.dim)).T.copy()


def function_run(problem, label, learning_rate, k, starts, steps, keep_path=False):
    """Run one optimizer from every start point at once (float64 NumPy reference).

    ``starts`` is ``(dim, n)``; the optimizer treats the array as one
    parameter tensor and every update is elementwise, so each column is an
    independent run. Returns the optimality gap f(x_s) - f* after every step
    s = 0..steps, shape ``(steps + 1, n)`` (and the path, ``(steps + 1, dim,
    n)``, with ``keep_path``).
    """
    function = get_problem(problem).function
    optimizer = reference_optimizer(label, learning_rate, k, dtype=np.float64)
    x = np.array(starts, dtype=np.float64, copy=True)
    state = optimizer.init(x)
    gaps = np.empty((int(steps) + 1, x.shape[1]))
    path = np.empty((int(steps) + 1,) + x.shape) if keep_path else None
    with np.errstate(all="ignore"):
        gaps[0] = function.value(x) - function.minimum
        if keep_path:
            path[0] = x
        for step in range(1, int(steps) + 1):
            parts = function.gradient(x)
            if any(np.shape(g) != x.shape[1:] for g in parts):
                parts = [np.broadcast_to(g, x.shape[1:]) for g in parts]
            gradient = np.stack(parts)
            x, state = optimizer.update(x, gradient, state)
            gaps[step] = function.value(x) - function.minimum
            if keep_path:
                path[step] = x
    return (gaps, path) if keep_path else gaps


def gap_scores(gaps):
    """log10 of the gaps clipped to [GAP_FLOOR, GAP_CAP] (non-finite -> GAP_CAP)."""
    gaps = np.asarray(gaps, dtype=np.float64)
    clipped = np.where(np.isfinite(gaps), np.clip(gaps, GAP_FLOOR, GAP_CAP), GAP_CAP)
    return np.log10(clipped)


def steps_to_target(gaps, target=TARGET_GAP):
    """Per run (column), the first step whose gap is <= ``target``; -1 if none."""
    reached = np.asarray(gaps) <= target
    first = np.argmax(reached, axis=0)
    return np.where(reached.any(axis=0), first, -1)


def function_objective(problem, label, learning_rate, k, config):
    """The tuning objective: the mean score over the tuning starts."""
    starts = start_points(problem, "tuning", config.tuning_starts, config.seed)
    gaps = function_run(problem, label, learning_rate, k, starts, config.steps)
    return float(gap_scores(gaps[-1]).mean())


def function_evaluation(problem, label, learning_rate, k, config):
    """A setting on the held-out starts: per start, score and steps to target."""
    starts = start_points(problem, "heldout", config.heldout_starts, config.seed)
    gaps = function_run(problem, label, learning_rate, k, starts, config.steps)
    final = gaps[-1]
    return {
        "learning_rate": float(learning_rate), "k": None if k is None else float(k),
        "values": [float(v) for v in gap_scores(final)],
        "steps_to_target": [int(v) for v in steps_to_target(gaps)],
        "diverged": int((~np.isfinite(final) | (final > GAP_CAP)).sum()),
    }


# ---------------------------------------------------------------------------
# Network objective
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class NetworkData:
    """Training, validation (tuning) and test (reporting) splits of a network problem."""

    train: object
    validation: object
    test: object

    def sizes(self):
        return {"train": len(self.train), "validation": len(self.validation),
                "test": len(self.test)}


def _column(values):
    return np.asarray(values, dtype=np.float32).reshape(-1, 1)


def network_data(problem, quick=False, data_dir=None):
    """The splits of a network problem (tuning never sees the test split).

    * Table 7: the paper's 10000 grid points y = x^2 + x - 1; every 5th point
      (index = 2 mod 5) is the validation split, the other 8000 the training
      set; the test split is the 9999 midpoints of the grid.
    * Table 11: Keras's 404 training houses, the last 81 (20 %) the validation
      split, the first 323 the training set; the features are standardised
      with the mean and std of those 323; the test split is the 102 test houses.

    ``quick``: every 10th grid point (Table 7) or the first 100 training houses
    (Table 11).
    """
    problem = get_problem(problem)
    Split = networks.Split
    if problem.table == 7:
        (x, y), (x_mid, y_mid) = networks.approximation_data()
        if quick:
            x, y, x_mid, y_mid = x[::10], y[::10], x_mid[::10], y_mid[::10]
        validation = np.arange(len(x)) % 5 == 2
        return NetworkData(Split(_column(x[~validation]), _column(y[~validation])),
                           Split(_column(x[validation]), _column(y[validation])),
                           Split(_column(x_mid), _column(y_mid)))
    if problem.table == 11:
        (x_train, y_train), (x_test, y_test) = problem.task.load(data_dir)
        n_validation = int(round(0.2 * len(x_train)))
        x_fit, y_fit = x_train[:-n_validation], y_train[:-n_validation]
        x_val, y_val = x_train[-n_validation:], y_train[-n_validation:]
        if quick:
            x_fit, y_fit = x_fit[:100], y_fit[:100]
        mean, std = x_fit.mean(axis=0), x_fit.std(axis=0)
        scale = lambda v: ((v - mean) / std).astype(np.float32)  # noqa: E731
        return NetworkData(Split(scale(x_fit), _column(y_fit)),
                           Split(scale(x_val), _column(y_val)),
                           Split(scale(x_test), _column(y_test)))
    raise ValueError(f"No network split for {problem.name!r}.")


def split_metric(problem, model, split):
    """The problem's metric of ``model`` on ``split``: MSE (Table 7) or MAE (Table 11).

    The model predicts the whole split in one float32 call; the mean is taken
    in float64. Non-finite or larger than :data:`NETWORK_CAP` -> the cap.
    """
    prediction = np.asarray(model(split.x, training=False), dtype=np.float64)
    error = prediction - np.asarray(split.y, dtype=np.float64)
    with np.errstate(all="ignore"):
        value = float(np.mean(error * error) if get_problem(problem).table == 7
                      else np.mean(np.abs(error)))
    return value if math.isfinite(value) and value <= NETWORK_CAP else NETWORK_CAP


def train_network(problem, data, label, learning_rate, k, seed, epochs, on_epoch=None):
    """Train the problem's model (the paper's layers, loss and batch size) once.

    ``keras.utils.set_random_seed(seed)`` precedes the model, so every
    optimizer and setting of a seed starts from the same weights and sees the
    same batches (TensorFlow's op determinism is switched on by the caller,
    :func:`mamgd_paper.experiments.networks.networks.configure_determinism`). After every epoch the
    validation metric is computed and passed to ``on_epoch(epoch, value)``;
    when that returns ``True`` (pruned), or the training loss is not finite,
    training stops. Returns ``{"epochs", "validation", "test", "train_loss",
    "stopped"}`` (the test metric after the last epoch trained).
    """
    import keras

    problem = get_problem(problem)
    task = problem.task
    keras.utils.set_random_seed(int(seed))
    model = task.build_model()
    model.compile(optimizer=keras_optimizer(label, learning_rate, k), loss=task.loss,
                  steps_per_execution=int(task.steps_per_execution), jit_compile=False)
    record = {"epochs": 0, "validation": NETWORK_CAP, "train_loss": float("nan"),
              "stopped": False}

    class Epochs(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            loss = float((logs or {}).get("loss", float("nan")))
            record["epochs"], record["train_loss"] = epoch + 1, loss
            record["validation"] = split_metric(problem, self.model, data.validation)
            stop = not math.isfinite(loss)
            if on_epoch is not None and on_epoch(epoch + 1, record["validation"]):
                stop = True
            if stop:
                record["stopped"] = True
                self.model.stop_training = True

    model.fit(data.train.dataset(task.batch_size, shuffle=True, seed=int(seed)),
              epochs=int(epochs), verbose=0, shuffle=False, callbacks=[Epochs()])
    record["test"] = split_metric(problem, model, data.test)
    keras.backend.clear_session(free_memory=True)
    return record


def halving_rungs(epochs, min_epochs=HALVING_MIN_EPOCHS, eta=HALVING_ETA):
    """Epochs at which successive halving compares trials: min * eta^i < epochs."""
    rungs, rung = [], int(min_epochs)
    while rung < int(epochs):
        rungs.append(rung)
        rung *= int(eta)
    return rungs


def keeps_going(value, others, eta=HALVING_ETA):
    """Successive halving's decision at one rung (lower is better).

    ``others``: the values that the study's earlier finished trials had at
    this rung. With n values in all (this one included) the best
    max(1, floor(n / eta)) go on; this trial goes on when fewer than that many
    earlier values are strictly below its own. The first trial always goes on.
    """
    others = [float(v) for v in others]
    keep = max(1, (len(others) + 1) // int(eta))
    return sum(v < float(value) for v in others) < keep


# ---------------------------------------------------------------------------
# Storage and studies
# ---------------------------------------------------------------------------


def default_storage(quick=False):
    """``$MAMGD_EQUAL_BUDGET_STORAGE``, else ``data/equal_budget.journal``
    (``data/equal_budget-quick.journal`` for quick runs)."""
    name = "equal_budget-quick.journal" if quick else "equal_budget.journal"
    return os.environ.get(STORAGE_ENV) or str(paths.DATA / name)


def storage_argument(storage, quick=False):
    """``storage`` as a string every worker process can open the same way.

    ``None``: :func:`default_storage`. A URL is kept; a journal file path is made
    absolute (workers may run in another folder).
    """
    if storage is None:
        storage = default_storage(quick)
    if isinstance(storage, optuna.storages.BaseStorage):
        raise ValueError("Pass the storage as a URL or a journal file path, so that worker "
                         "processes can open it too.")
    text = str(storage)
    return text if "://" in text else str(Path(text).resolve())


def open_storage(storage):
    """An Optuna storage from a URL or journal path (:func:`mamgd_paper.experiments.ksearch.search.open_storage`)."""
    _quiet_optuna()
    return search.open_storage(storage)


def study_name(config, problem, label):
    """``equal-budget/<run>/<problem>/<optimizer>``."""
    return f"{STUDY_PREFIX}/{config.run_id}/{get_problem(problem).name}/{label}"


def queue_name(run_id):
    return f"{STUDY_PREFIX}/{run_id}/queue"


def _load_or_create(storage, name, sampler=None):
    try:
        return optuna.load_study(study_name=name, storage=storage, sampler=sampler)
    except KeyError:
        return optuna.create_study(storage=storage, study_name=name, direction="minimize",
                                   sampler=sampler, load_if_exists=True)


def tpe_sampler(seed, stream, finished, trials, constant_liar=False):
    """Optuna's TPE sampler, seeded from ``(seed, stream, finished trials)``.

    Trial n of a study filled by one worker (stream 0) therefore proposes the
    same point in every run with the same seed and history. The first
    ``max(3, trials // 5)`` trials are random (TPE's start-up phase).
    """
    state = np.random.SeedSequence([int(seed), int(stream), int(finished)]).generate_state(1)
    return optuna.samplers.TPESampler(seed=int(state[0]), n_startup_trials=max(3, trials // 5),
                                      constant_liar=constant_liar)


def suggest(trial, label):
    """The searched setting of ``label`` in ``trial``: ``(learning_rate, k)``."""
    learning_rate = trial.suggest_float("learning_rate", LR_LOW, LR_HIGH, log=True)
    if not takes_k(label):
        return learning_rate, None
    if trial.suggest_categorical("k_zero", [False, True]):
        return learning_rate, 0.0
    return learning_rate, trial.suggest_float("k", K_LOW, K_HIGH, log=True)


def design_points(label, count, seed):
    """``count`` seeded points of the search space (the ``design`` sampler).

    Log-uniform learning rate; for MAMGD and AdaExp k_zero with probability
    1/2, else k log-uniform. Fixed by ``seed`` alone, before any trial runs.
    """
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), _key(label), 7]))
    points = []
    for _ in range(int(count)):
        point = {"learning_rate": float(10 ** rng.uniform(math.log10(LR_LOW),
                                                          math.log10(LR_HIGH)))}
        if takes_k(label):
            zero = bool(rng.random() < 0.5)
            point["k_zero"] = zero
            k = float(10 ** rng.uniform(math.log10(K_LOW), math.log10(K_HIGH)))
            if not zero:
                point["k"] = k
        points.append(point)
    return points


_FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)


def finished_trials(study):
    """Completed and pruned trials (the budget counts both), in trial order."""
    return sorted(study.get_trials(deepcopy=False, states=_FINISHED), key=lambda t: t.number)


def fail_running_trials(study):
    """Mark the study's RUNNING trials FAIL (left by a killed worker); only safe
    when no other worker is filling the study."""
    numbers = [t.number for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))]
    for number in numbers:
        study.tell(number, state=TrialState.FAIL, skip_if_finished=True)
    return numbers


def _create_once(storage, name, setup, timeout=300.0):
    """Create study ``name`` and run ``setup(study)`` once, whoever gets there first.

    Study creation is atomic in every Optuna storage: the process that creates
    the study runs ``setup`` and then sets the user attribute ``ready``; the
    others wait for it. Returns the study.
    """
    try:
        study = optuna.create_study(storage=storage, study_name=name, direction="minimize")
    except optuna.exceptions.DuplicatedStudyError:
        study = optuna.load_study(study_name=name, storage=storage)
        deadline = time.monotonic() + timeout
        while not study.user_attrs.get("ready"):
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"Study {name!r} exists but was never made ready (its creator died?). "
                    f"Delete it (optuna.delete_study) or use another storage.") from None
            time.sleep(0.05)
        return study
    setup(study)
    study.set_user_attr("ready", True)
    return study


def _claim_waiting(storage, study_id, owner=None):
    """Take one WAITING trial with the atomic WAITING -> RUNNING transition."""
    for trial in sorted(storage.get_all_trials(study_id, deepcopy=False,
                                               states=(TrialState.WAITING,)),
                        key=lambda t: t.number):
        try:
            if storage.set_trial_state_values(trial._trial_id, state=TrialState.RUNNING):
                if owner:
                    storage.set_trial_user_attr(trial._trial_id, "owner", owner)
                return trial
        except optuna.exceptions.UpdateFinishedTrialError:
            continue
    return None


def fill_study(study, objective, n_trials, seed=0, worker_index=0, sampler="tpe",
               shared=False):
    """Add trials to ``study`` until it holds ``n_trials`` finished ones.

    ``objective(trial)`` returns the value or raises ``optuna.TrialPruned``.

    * ``sampler="tpe"``: before every trial the sampler is re-seeded from
      ``(seed, worker_index, finished trials)``; one worker (index 0) gives a
      study that depends on the seed alone. ``shared``: other workers fill the
      study at the same time (TPE's constant liar on).
    * ``sampler="design"``: the study was made by :func:`open_design_study`,
      which enqueued its :func:`design_points`; workers take them with
      Optuna's atomic WAITING -> RUNNING transition and sample nothing else.

    Several processes may run this on one study: each counts finished plus
    running trials before a new one and stops at ``n_trials``; a trial created
    in the same instant as another worker's last one is told FAIL (user
    attribute ``surplus``) without running. The study ends with exactly
    ``n_trials`` finished trials.
    """
    if sampler not in ("tpe", "design"):
        raise ValueError(f"sampler must be 'tpe' or 'design', not {sampler!r}.")
    if sampler == "tpe" and not shared:
        return _fill_alone(study, objective, n_trials, seed, worker_index)
    storage, study_id = study._storage, study._study_id
    while True:
        _check_parent()
        if sampler == "design":
            frozen = _claim_waiting(storage, study_id)
            if frozen is None:
                break
            trial = optuna.trial.Trial(study, frozen._trial_id)
            if shared:
                trial.set_user_attr("worker", int(worker_index))
        else:
            active = study.get_trials(deepcopy=False,
                                      states=_FINISHED + (TrialState.RUNNING,))
            finished = sum(t.state != TrialState.RUNNING for t in active)
            if len(active) >= n_trials:
                break
            study.sampler = tpe_sampler(seed, worker_index, finished, n_trials, shared)
            trial = study.ask()
            if shared:
                trial.set_user_attr("worker", int(worker_index))
                before = study.get_trials(deepcopy=False,
                                          states=_FINISHED + (TrialState.RUNNING,))
                if sum(t.number < trial.number for t in before) >= n_trials:
                    trial.set_user_attr("surplus", True)
                    study.tell(trial, state=TrialState.FAIL)
                    break
        try:
            value = objective(trial)
        except optuna.TrialPruned:
            study.tell(trial, state=TrialState.PRUNED)
            continue
        except BaseException:
            study.tell(trial, state=TrialState.FAIL)
            raise
        study.tell(trial, value)
    return study


def _fill_alone(study, objective, n_trials, seed, worker_index):
    """:func:`fill_study` for a study that no other worker fills at the same time.

    The trials run in an in-memory copy of the study (its finished trials
    first, so TPE sees exactly what it would see in the storage) and each
    finished trial is written to the storage in one operation
    (``study.add_trial``): one synced write per trial instead of one per
    parameter. Resuming after an interruption continues from the finished
    trials, so the study is the same as an uninterrupted one.
    """
    mirror = optuna.create_study(direction="minimize")
    mirror.add_trials(finished_trials(study))
    while True:
        _check_parent()
        finished = len(mirror.get_trials(deepcopy=False, states=_FINISHED))
        if finished >= n_trials:
            return study
        mirror.sampler = tpe_sampler(seed, worker_index, finished, n_trials)
        trial = mirror.ask()
        try:
            value = objective(trial)
        except optuna.TrialPruned:
            mirror.tell(trial, state=TrialState.PRUNED)
        except BaseException:
            mirror.tell(trial, state=TrialState.FAIL)
            raise
        else:
            mirror.tell(trial, value)
        study.add_trial(mirror.get_trials(deepcopy=False)[-1])


def open_design_study(storage, name, label, n_trials, seed):
    """Create (once) or load a study whose trials are :func:`design_points`."""
    def setup(study):
        study.set_user_attr("sampler", "design")
        for point in design_points(label, n_trials, seed):
            study.enqueue_trial(point)

    return _create_once(open_storage(storage) if isinstance(storage, str) else storage,
                        name, setup)


# ---------------------------------------------------------------------------
# One (problem, optimizer): its objective, its study, its results
# ---------------------------------------------------------------------------


class _NetworkCache:
    """Each worker process loads a network problem's data once."""

    data = {}

    @classmethod
    def get(cls, problem, quick, data_dir=None):
        key = (problem.name, bool(quick))
        if key not in cls.data:
            cls.data[key] = network_data(problem, quick=quick, data_dir=data_dir)
        return cls.data[key]


def make_objective(config, problem, label, data_dir=None):
    """``objective(trial)`` of ``label`` on ``problem`` under ``config``."""
    problem = get_problem(problem)
    if problem.kind == FUNCTION:
        def objective(trial):
            learning_rate, k = suggest(trial, label)
            return function_objective(problem, label, learning_rate, k, config)
        return objective

    data = _NetworkCache.get(problem, config.quick, data_dir)
    epochs = config.epochs(problem)
    rungs = set(halving_rungs(epochs))

    def objective(trial):
        learning_rate, k = suggest(trial, label)
        earlier = finished_trials(trial.study)

        def on_epoch(epoch, value):
            trial.report(value, epoch)
            if epoch in rungs:
                others = [t.intermediate_values[epoch] for t in earlier
                          if epoch in t.intermediate_values]
                return not keeps_going(value, others)
            return False

        record = train_network(problem, data, label, learning_rate, k, config.seed, epochs,
                               on_epoch=on_epoch)
        if record["stopped"] and record["epochs"] < epochs:
            if math.isfinite(record["train_loss"]):
                raise optuna.TrialPruned()
            return NETWORK_CAP  # diverged: a completed trial with the worst value
        return record["validation"]

    return objective


def best_setting(study, label):
    """``(learning_rate, k)`` of the study's best completed trial (ties: the earliest)."""
    complete = [t for t in finished_trials(study) if t.state == TrialState.COMPLETE]
    if not complete:
        raise RuntimeError(f"Study {study.study_name!r} has no completed trial.")
    best = min(complete, key=lambda t: (t.value, t.number))
    params = best.params
    k = None
    if takes_k(label):
        k = 0.0 if params.get("k_zero") else float(params["k"])
    return float(params["learning_rate"]), k


def evaluate_setting(config, problem, label, learning_rate, k, data_dir=None):
    """A setting on held-out data: held-out starts (functions) or re-run seeds (networks)."""
    problem = get_problem(problem)
    if problem.kind == FUNCTION:
        return function_evaluation(problem, label, learning_rate, k, config)
    data = _NetworkCache.get(problem, config.quick, data_dir)
    records = []
    for seed in config.final_seeds():
        _check_parent()
        records.append(train_network(problem, data, label, learning_rate, k, seed,
                                     config.epochs(problem)))
    return {"learning_rate": float(learning_rate), "k": None if k is None else float(k),
            "seeds": config.final_seeds(),
            "values": [float(r["test"]) for r in records],
            "validation": [float(r["validation"]) for r in records],
            "train_loss": [float(r["train_loss"]) if math.isfinite(r["train_loss"]) else None
                           for r in records],
            "diverged": int(sum(r["test"] >= NETWORK_CAP for r in records))}


def open_item_study(config, storage, problem, label):
    study = _load_or_create(storage, study_name(config, problem, label))
    study.set_user_attr("problem", get_problem(problem).name)
    study.set_user_attr("optimizer", label)
    return study


def process_item(config, storage, problem, label, kind, data_dir=None):
    """Do one work item: ``"tuned"`` (fill the study, then evaluate its best
    setting) or ``"defaults"`` (evaluate the one-shot setting). Idempotent: a
    finished part is not redone. The caller owns the item: RUNNING trials
    left in the study by a killed worker are failed first."""
    problem = get_problem(problem)
    study = open_item_study(config, storage, problem, label)
    if kind == "defaults":
        if "defaults" not in study.user_attrs:
            learning_rate, k = default_setting(label)
            study.set_user_attr("defaults", evaluate_setting(config, problem, label,
                                                             learning_rate, k, data_dir))
        return study
    if kind != "tuned":
        raise ValueError(f"Unknown item kind {kind!r}.")
    fail_running_trials(study)
    fill_study(study, make_objective(config, problem, label, data_dir), config.trials(problem),
               seed=config.seed)
    if "tuned" not in study.user_attrs:
        learning_rate, k = best_setting(study, label)
        study.set_user_attr("tuned", evaluate_setting(config, problem, label, learning_rate, k,
                                                      data_dir))
    return study


# ---------------------------------------------------------------------------
# The queue of work items
# ---------------------------------------------------------------------------


def work_items(config):
    """The run's items ``(problem, optimizer, kind)``, the longest first.

    Network items (tuning + re-runs, then defaults) go first, so that the
    short function items fill the gaps at the end.
    """
    items = []
    problems = config.problem_list
    for kind in ("tuned", "defaults"):
        for problem in reversed([p for p in problems if p.kind == NETWORK]):
            items += [(problem.name, label, kind) for label in config.optimizers]
    for problem in sorted([p for p in problems if p.kind == FUNCTION],
                          key=lambda p: -p.function.dim):
        for label in config.optimizers:
            items += [(problem.name, label, "tuned"), (problem.name, label, "defaults")]
    return items


def _owner():
    return f"{socket.gethostname()}:{os.getpid()}"


def open_queue(config, storage):
    """Create (once) or load the run's queue: one WAITING trial per work item."""
    def setup(queue):
        queue.set_user_attr("config", config.to_json())
        for index, (problem, label, kind) in enumerate(work_items(config)):
            queue.enqueue_trial({}, user_attrs={"item": index, "problem": problem,
                                                "optimizer": label, "kind": kind})

    queue = _create_once(storage, queue_name(config.run_id), setup)
    if queue.user_attrs.get("config") != config.to_json():
        raise ValueError(f"Queue {queue.study_name!r} holds another configuration.")
    return queue


def find_run(storage, run_id=None):
    """The queue of ``run_id``; without one, the storage's only run (else an error)."""
    storage = open_storage(storage) if isinstance(storage, str) else storage
    if run_id is not None:
        try:
            return optuna.load_study(study_name=queue_name(run_id), storage=storage)
        except KeyError:
            raise KeyError(f"No equal-budget run {run_id!r} in this storage; start it with "
                           "the notebook or `python -m mamgd_paper.experiments.equal_budget.equal_budget worker "
                           "--new ...`.") from None
    names = [s.study_name for s in optuna.get_all_study_summaries(storage)
             if s.study_name.startswith(STUDY_PREFIX + "/") and s.study_name.endswith("/queue")]
    if len(names) != 1:
        raise ValueError(f"The storage holds {len(names)} equal-budget runs "
                         f"({[n.split('/')[1] for n in names]}); pass --run RUN_ID.")
    return optuna.load_study(study_name=names[0], storage=storage)


def queue_state(queue):
    """Items by state: ``{"done": [...], "running": [...], "waiting": [...], "failed": [...]}``.

    An item is done when one of its queue trials is COMPLETE (a re-queued item
    has several trials).
    """
    trials = queue.get_trials(deepcopy=False)
    done = {t.user_attrs["item"] for t in trials if t.state == TrialState.COMPLETE}
    state = {"done": sorted(done), "running": [], "waiting": [], "failed": []}
    names = {TrialState.RUNNING: "running", TrialState.WAITING: "waiting",
             TrialState.FAIL: "failed"}
    for t in trials:
        if t.user_attrs["item"] not in done and t.state in names:
            state[names[t.state]].append(t)
    return state


def requeue(queue, stale_owners=None):
    """Put failed items, and running items of dead workers, back in the queue.

    ``stale_owners``: a predicate on the ``owner`` attribute
    (``host:pid``) of a RUNNING item; ``None`` requeues every running item
    (only when no worker is alive anywhere). Returns the requeued item indices.
    """
    state = queue_state(queue)
    again = []
    pending = {t.user_attrs["item"] for t in state["waiting"]}
    for t in state["running"]:
        owner = t.user_attrs.get("owner")
        if stale_owners is None or (owner is not None and stale_owners(owner)):
            queue.tell(t.number, state=TrialState.FAIL, skip_if_finished=True)
            again.append(t)
    running = {t.user_attrs["item"] for t in queue_state(queue)["running"]}
    for t in state["failed"] + again:
        item = t.user_attrs["item"]
        if item in pending or item in running:
            continue
        attrs = {key: t.user_attrs[key] for key in ("item", "problem", "optimizer", "kind")}
        queue.enqueue_trial({}, user_attrs=attrs)
        pending.add(item)
    return sorted(pending)


def _dead_local_owner(owner):
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def run_worker(storage, run_id=None, data_dir=None, threads=1, max_items=None):
    """Take items from the run's queue and do them until none is left.

    One worker of the distributed run: start as many as you like, on any
    machine that reaches the storage. Each item is taken atomically, so no
    item runs twice; a failing item is marked FAIL (with the error) and the
    worker stops with the exception. Returns the number of items done.
    """
    storage = open_storage(storage) if isinstance(storage, str) else storage
    queue = find_run(storage, run_id)
    config = Config.from_json(queue.user_attrs["config"])
    if any(get_problem(p).kind == NETWORK for p in config.problems):
        networks.configure_determinism(threads)
    queue_id, done = queue._study_id, 0
    while max_items is None or done < max_items:
        _check_parent()
        item = _claim_waiting(storage, queue_id, _owner())
        if item is None:
            break
        attrs = item.user_attrs
        start = time.perf_counter()
        try:
            process_item(config, storage, attrs["problem"], attrs["optimizer"], attrs["kind"],
                         data_dir)
        except BaseException as error:
            storage.set_trial_user_attr(item._trial_id, "error", repr(error)[:2000])
            storage.set_trial_state_values(item._trial_id, state=TrialState.FAIL)
            raise
        storage.set_trial_user_attr(item._trial_id, "seconds", time.perf_counter() - start)
        storage.set_trial_state_values(item._trial_id, state=TrialState.COMPLETE, values=[0.0])
        done += 1
    return done


def _worker_command(storage, run_id, index, data_dir=None, threads=1):
    command = [sys.executable, "-m", "mamgd_paper.experiments.equal_budget.equal_budget", "worker", "--storage", storage,
               "--run", run_id, "--worker-index", str(index), "--threads", str(threads),
               "--parent", str(os.getpid())]
    if data_dir is not None:
        command += ["--data-dir", str(data_dir)]
    return command


def run(config, storage=None, workers=2, data_dir=None, poll=0.5, describe="equal budget"):
    """Run (or resume) every item of ``config`` and return the :class:`Results`.

    ``workers`` processes (``python -m mamgd_paper.experiments.equal_budget.equal_budget worker``) are
    started on this machine; workers elsewhere may join the same run at any
    time. ``workers=0`` does the items in this process. Failed items, and
    items left RUNNING by dead workers of this machine, are queued again
    first. Progress: one step per finished item
    (:func:`mamgd_paper.core.progress.track`). A failing worker stops the others and
    raises with the end of its log.
    """
    from mamgd_paper.core.progress import track

    storage_text = storage_argument(storage, config.quick)
    store = open_storage(storage_text)
    queue = open_queue(config, store)
    requeue(queue, _dead_local_owner)
    total = len(work_items(config))
    if len(queue_state(queue)["done"]) == total:
        workers = 0  # nothing left to do: read the results back
    if workers == 0:
        if any(get_problem(p).kind == NETWORK for p in config.problems):
            networks.configure_determinism(1)
        for _ in track(_in_process(store, queue, config, data_dir), describe, total=total):
            pass
        return collect(config, store)
    with tempfile.TemporaryDirectory(prefix="mamgd-equal-budget-") as logs:
        processes = []
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3",
                   PYTHONPATH=os.pathsep.join(filter(None, [str(paths.ROOT),
                                                            os.environ.get("PYTHONPATH")])))
        env.pop("MAMGD_PROGRESS_FILE", None)
        try:
            for index in range(int(workers)):
                log = open(Path(logs) / f"worker-{index}.log", "w+", encoding="utf-8")
                processes.append((subprocess.Popen(
                    _worker_command(storage_text, config.run_id, index, data_dir),
                    stdout=log, stderr=subprocess.STDOUT, env=env, cwd=os.getcwd()), log))
            for _ in track(_watch(queue, processes, total, poll), describe, total=total):
                pass
        finally:
            for process, log in processes:
                if process.poll() is None:
                    process.terminate()
                    process.wait()
                log.close()
    return collect(config, store)


def _in_process(storage, queue, config, data_dir):
    done = len(queue_state(queue)["done"])
    for _ in range(done):
        yield
    while run_worker(storage, config.run_id, data_dir, threads=1, max_items=1):
        yield
    state = queue_state(queue)
    if len(state["done"]) != len(work_items(config)):
        raise RuntimeError(f"{len(state['running'])} items are still running elsewhere; "
                           "wait for their workers, then run again.")


def _watch(queue, processes, total, poll):
    """Yield once per newly finished item until all are done; raise if a worker fails."""
    reported = 0
    while True:
        state = queue_state(queue)
        done = len(state["done"])
        while reported < min(done, total):
            reported += 1
            yield
        if done >= total:
            return
        for process, log in processes:
            code = process.poll()
            if code not in (None, 0):
                for other, _ in processes:
                    if other.poll() is None:
                        other.terminate()
                log.seek(0)
                tail = log.read()[-4000:]
                raise RuntimeError(f"An equal-budget worker failed (exit code {code}); the "
                                   f"end of its log:\n{tail}\nFix the cause and run again: "
                                   "finished items are kept.")
        if all(process.poll() is not None for process, _ in processes):
            if state["waiting"] or not state["running"]:
                raise RuntimeError(
                    f"The workers stopped with {total - done} items not done "
                    f"({len(state['waiting'])} waiting); run again to finish them.")
            # the rest is held by workers elsewhere: wait for them
        time.sleep(poll)


# ---------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------


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
    for t in finished_trials(study):
        params = t.params
        if takes_k(label):
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
    storage = open_storage(storage) if isinstance(storage, str) else storage
    frames, tuned, defaults = [], {}, {}
    for problem in config.problem_list:
        for label in config.optimizers:
            name = study_name(config, problem, label)
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


# ---------------------------------------------------------------------------
# Statistics
# ---------------------------------------------------------------------------


def _rng(config_seed, *keys):
    return np.random.default_rng(np.random.SeedSequence(
        [int(config_seed)] + [_key(k) for k in keys]))


def bootstrap_interval(values, rng, samples=BOOTSTRAP_SAMPLES, confidence=CONFIDENCE):
    """Mean of ``values`` and its percentile-bootstrap interval.

    ``samples`` resamples of the values with replacement (``rng``, a NumPy
    Generator); the interval is the (1 - confidence)/2 and (1 + confidence)/2
    quantiles of the resampled means (NumPy's default linear interpolation).
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1 or values.size < 1:
        raise ValueError("bootstrap_interval needs a non-empty 1-D sample.")
    index = rng.integers(0, values.size, size=(int(samples), values.size))
    means = values[index].mean(axis=1)
    tail = (1 - confidence) / 2
    low, high = np.quantile(means, [tail, 1 - tail])
    return float(values.mean()), float(low), float(high)


def paired_verdict(values, baseline, rng, samples=BOOTSTRAP_SAMPLES, confidence=CONFIDENCE):
    """``values`` against ``baseline`` on the same units (starts or seeds).

    The test: a percentile-bootstrap interval of the mean paired difference
    values - baseline (units resampled together). ``better`` when the whole
    interval is below 0, ``worse`` when it is above 0, else
    ``indistinguishable``. Returns ``(verdict, mean difference, low, high)``.
    """
    values, baseline = np.asarray(values, float), np.asarray(baseline, float)
    if values.shape != baseline.shape:
        raise ValueError(f"paired samples differ in size: {values.shape} vs {baseline.shape}.")
    mean, low, high = bootstrap_interval(values - baseline, rng, samples, confidence)
    verdict = BETTER if high < 0 else WORSE if low > 0 else INDISTINGUISHABLE
    return verdict, mean, low, high


def performance_ratios(costs):
    """Dolan-More ratios: each problem's costs (rows) over the best one of that row.

    ``costs``: a DataFrame, problems x solvers, positive, lower is better.
    """
    costs = costs.astype(float)
    if (costs <= 0).any().any() or costs.isna().any().any():
        raise ValueError("performance ratios need positive costs for every problem and solver.")
    return costs.div(costs.min(axis=1), axis=0)


def performance_profile(ratios, taus):
    """rho_s(tau): the share of problems on which solver s is within a factor tau
    of the best (Dolan & More 2002). Returns a DataFrame, taus x solvers."""
    taus = np.asarray(taus, dtype=float)
    values = ratios.to_numpy()
    shares = (values[None, :, :] <= taus[:, None, None]).mean(axis=1)
    return pd.DataFrame(shares, index=pd.Index(taus, name="tau"), columns=ratios.columns)


def cost(problem, mean):
    """A problem's mean turned into a positive cost (functions: 10^mean, the
    geometric mean of the clipped gaps; networks: the mean test metric)."""
    return 10.0 ** mean if get_problem(problem).kind == FUNCTION else mean


# ---------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------

#: Columns of figures/tables/equal_budget.csv (the first eleven are the protocol's).
COLUMNS = ["problem", "optimizer", "trials", "best_learning_rate", "best_k", "seeds", "metric",
           "mean", "ci_low", "ci_high", "verdict_vs_adam", "kind", "pruned_trials",
           "tuning_value", "difference_vs_adam", "difference_ci_low", "difference_ci_high",
           "reached_target", "median_steps_to_target", "diverged", "defaults_learning_rate",
           "defaults_k", "defaults_mean", "defaults_ci_low", "defaults_ci_high",
           "defaults_verdict_vs_adam"]


def _median_steps(steps):
    steps = np.asarray(steps, dtype=float)
    steps[steps < 0] = np.inf
    return float(np.median(steps))


def results_table(results):
    """One row per (problem, optimizer): see :data:`COLUMNS` and docs/protocol.md, section 7."""
    config, rows = results.config, []
    for problem in config.problem_list:
        base = results.tuned[(problem.name, BASELINE)]["values"]
        base_defaults = results.defaults[(problem.name, BASELINE)]["values"]
        part = results.trials[(results.trials["problem"] == problem.name)]
        for label in config.optimizers:
            tuned = results.tuned[(problem.name, label)]
            defaults = results.defaults[(problem.name, label)]
            mine = part[part["optimizer"] == label]
            complete = mine[mine["state"] == "complete"]
            mean, low, high = bootstrap_interval(
                tuned["values"], _rng(config.seed, problem.name, label, "tuned"))
            d_mean, d_low, d_high = bootstrap_interval(
                defaults["values"], _rng(config.seed, problem.name, label, "defaults"))
            row = {
                "problem": problem.name, "optimizer": label, "trials": len(mine),
                "best_learning_rate": tuned["learning_rate"],
                "best_k": np.nan if tuned["k"] is None else tuned["k"],
                "seeds": len(tuned["values"]), "metric": problem.metric(config),
                "mean": mean, "ci_low": low, "ci_high": high, "verdict_vs_adam": "",
                "kind": problem.kind, "pruned_trials": int((mine["state"] == "pruned").sum()),
                "tuning_value": float(complete["value"].min()),
                "difference_vs_adam": np.nan, "difference_ci_low": np.nan,
                "difference_ci_high": np.nan,
                "reached_target": np.nan, "median_steps_to_target": np.nan,
                "diverged": int(tuned["diverged"]),
                "defaults_learning_rate": defaults["learning_rate"],
                "defaults_k": np.nan if defaults["k"] is None else defaults["k"],
                "defaults_mean": d_mean, "defaults_ci_low": d_low, "defaults_ci_high": d_high,
                "defaults_verdict_vs_adam": "",
            }
            if problem.kind == FUNCTION:
                steps = np.asarray(tuned["steps_to_target"])
                row["reached_target"] = float((steps >= 0).mean())
                row["median_steps_to_target"] = _median_steps(steps)
            if label != BASELINE:
                verdict, diff, diff_low, diff_high = paired_verdict(
                    tuned["values"], base, _rng(config.seed, problem.name, label, "vs-adam"))
                row.update(verdict_vs_adam=verdict, difference_vs_adam=diff,
                           difference_ci_low=diff_low, difference_ci_high=diff_high)
                row["defaults_verdict_vs_adam"] = paired_verdict(
                    defaults["values"], base_defaults,
                    _rng(config.seed, problem.name, label, "defaults-vs-adam"))[0]
            rows.append(row)
    return pd.DataFrame(rows, columns=COLUMNS)


def printable(table, digits=6):
    """``table`` with floats as ``%.{digits}g`` text and missing values empty
    (what the CSV, LaTeX and Markdown files show; the CSV reads back as numbers)."""
    out = table.copy()
    for column in out.columns:
        if pd.api.types.is_float_dtype(out[column]):
            out[column] = ["" if pd.isna(v) else f"%.{digits}g" % v for v in out[column]]
    return out.astype(object)


def verdict_counts(table, kind=None, column="verdict_vs_adam"):
    """Per optimizer (not Adam): how many problems are better / worse / indistinguishable."""
    rows = []
    part = table if kind is None else table[table["kind"] == kind]
    for label in dict.fromkeys(part["optimizer"]):
        if label == BASELINE:
            continue
        verdicts = part.loc[part["optimizer"] == label, column]
        rows.append({"optimizer": label, BETTER: int((verdicts == BETTER).sum()),
                     WORSE: int((verdicts == WORSE).sum()),
                     INDISTINGUISHABLE: int((verdicts == INDISTINGUISHABLE).sum()),
                     "problems": int(len(verdicts))})
    return pd.DataFrame(rows, columns=["optimizer", BETTER, WORSE, INDISTINGUISHABLE,
                                       "problems"])


def profile_costs(table, prefix=""):
    """Problems x optimizers costs (:func:`cost`) for the performance profile;
    ``prefix="defaults_"``: of the one-shot defaults."""
    problems = list(dict.fromkeys(table["problem"]))
    labels = list(dict.fromkeys(table["optimizer"]))
    means = table.set_index(["problem", "optimizer"])[f"{prefix}mean"]
    return pd.DataFrame([[cost(p, float(means[(p, o)])) for o in labels] for p in problems],
                        index=pd.Index(problems, name="problem"),
                        columns=pd.Index(labels, name="optimizer"))


def best_share(table, prefix=""):
    """Per optimizer, the share of problems on which it has the lowest mean
    (rho(1) of the profile; ties count for every optimizer tied)."""
    ratios = performance_ratios(profile_costs(table, prefix))
    return (ratios <= 1.0).mean(axis=0)


def answer(table):
    """The answer in one sentence, with the numbers (README and REPORT.md)."""
    counts = verdict_counts(table).set_index("optimizer")
    problems = table["problem"].nunique()
    trials = table.groupby("kind")["trials"].max()
    budget = " and ".join(f"{int(trials[k])} trials per {k} problem" for k in (FUNCTION, NETWORK)
                          if k in trials.index)
    if registry.MAMGD not in counts.index:
        return f"MAMGD was not part of this run ({problems} problems, {budget})."
    c = counts.loc[registry.MAMGD]
    lead = ("Yes, more often than not" if c[BETTER] > c[WORSE]
            else "No" if c[BETTER] < c[WORSE] else "Not clearly")
    text = (f"{lead}: with the same budget for every optimizer ({budget}, seeded TPE, "
            f"held-out evaluation), tuned MAMGD is better than tuned Adam on {c[BETTER]} of "
            f"{problems} problems, worse on {c[WORSE]} and indistinguishable on "
            f"{c[INDISTINGUISHABLE]} (paired bootstrap 95% interval of the mean difference)")
    others = [f"{label} {int(counts.loc[label, BETTER])}/{int(counts.loc[label, WORSE])}/"
              f"{int(counts.loc[label, INDISTINGUISHABLE])}"
              for label in counts.index if label != registry.MAMGD]
    if others:
        text += ("; better/worse/indistinguishable against Adam for the others: "
                 + ", ".join(others))
    return text + "."


# ---------------------------------------------------------------------------
# Gallery paths
# ---------------------------------------------------------------------------


def gallery_paths(results, problem, extra_starts=3):
    """Per optimizer, its paths at its tuned setting: from the function's start
    point and from the first ``extra_starts`` held-out starts.

    Returns ``{label: {"paths": array (steps + 1, 2, 1 + extra), "learning_rate",
    "k", "final_gap"}}`` (the final gap of the path from the function's start).
    """
    problem = get_problem(problem)
    config = results.config
    starts = np.concatenate([np.asarray(problem.function.start, float)[:, None],
                             start_points(problem, "heldout", config.heldout_starts,
                                          config.seed)[:, :extra_starts]], axis=1)
    out = {}
    for label in config.optimizers:
        tuned = results.tuned[(problem.name, label)]
        gaps, path = function_run(problem, label, tuned["learning_rate"], tuned["k"], starts,
                                  config.steps, keep_path=True)
        out[label] = {"paths": path, "learning_rate": tuned["learning_rate"], "k": tuned["k"],
                      "final_gap": float(gaps[-1, 0])}
    return out


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------


def _status(storage, run_id=None):
    queue = find_run(storage, run_id)
    state = queue_state(queue)
    total = len(work_items(Config.from_json(queue.user_attrs["config"])))
    owners = sorted({t.user_attrs.get("owner", "?") for t in state["running"]})
    print(f"{queue.study_name}: {len(state['done'])}/{total} items done, "
          f"{len(state['running'])} running ({', '.join(owners) or '-'}), "
          f"{len(state['waiting'])} waiting, {len(state['failed'])} failed")


def main(argv=None):
    """``python -m mamgd_paper.experiments.equal_budget.equal_budget {worker,fill,status,requeue} ...`` (see ``--help``)."""
    parser = argparse.ArgumentParser(
        prog="python -m mamgd_paper.experiments.equal_budget.equal_budget",
        description="Equal-budget optimizer comparison (docs/protocol.md, section 7): "
                    "Optuna workers.")
    commands = parser.add_subparsers(dest="command", required=True)
    worker = commands.add_parser(
        "worker", help="take items of a run from the queue until none is left (any number "
                       "of workers, on any machine that reaches the storage)")
    worker.add_argument("--storage", default=None,
                        help="journal file or SQLAlchemy URL (default: "
                             "$MAMGD_EQUAL_BUDGET_STORAGE, else data/equal_budget.journal)")
    worker.add_argument("--run", default=None, help="run id (default: the storage's only run)")
    worker.add_argument("--new", action="store_true",
                        help="create the run from --quick/--seed/--seeds first (as the "
                             "notebook does)")
    worker.add_argument("--quick", action="store_true")
    worker.add_argument("--seed", type=int, default=0)
    worker.add_argument("--seeds", type=int, default=5)
    worker.add_argument("--function-trials", type=int, default=None)
    worker.add_argument("--network-trials", type=int, default=None)
    worker.add_argument("--steps", type=int, default=None)
    worker.add_argument("--problems", default=None, help="comma-separated (default: all)")
    worker.add_argument("--optimizers", default=None,
                        help="comma-separated registry labels (default: all eight)")
    worker.add_argument("--worker-index", type=int, default=0, help="for the logs only")
    worker.add_argument("--threads", type=int, default=1,
                        help="TensorFlow threads (1: results independent of the machine load)")
    worker.add_argument("--data-dir", default=None)
    worker.add_argument("--parent", type=int, default=None, metavar="PID",
                        help="stop when process PID is no longer this worker's parent")
    fill = commands.add_parser(
        "fill", help="fill ONE study of one problem and optimizer (several workers may share it)")
    fill.add_argument("--storage", required=True)
    fill.add_argument("--study", required=True)
    fill.add_argument("--problem", required=True, choices=[p.name for p in PROBLEMS
                                                           if p.kind == FUNCTION])
    fill.add_argument("--optimizer", required=True, choices=list(OPTIMIZERS))
    fill.add_argument("--trials", type=int, required=True)
    fill.add_argument("--sampler", choices=("tpe", "design"), default="tpe")
    fill.add_argument("--seed", type=int, default=0)
    fill.add_argument("--worker-index", type=int, default=0)
    fill.add_argument("--quick", action="store_true", help="the quick run's objective")
    fill.add_argument("--barrier", default=None, metavar="PATH",
                      help="start together: touch PATH.ready-<index> once the study is open, "
                           "then wait until PATH exists")
    for name, text in (("status", "print the progress of a run"),
                       ("requeue", "put failed items and ALL running items back in the queue "
                                   "(only when no worker of the run is alive anywhere)")):
        command = commands.add_parser(name, help=text)
        command.add_argument("--storage", default=None)
        command.add_argument("--run", default=None)
    args = parser.parse_args(argv)
    storage_text = storage_argument(args.storage, getattr(args, "quick", False))
    storage = open_storage(storage_text)
    if args.command == "worker":
        global _PARENT_PID
        _PARENT_PID = args.parent
        _check_parent()
        run_id = args.run
        if args.new:
            config = make_config(
                quick=args.quick, seed=args.seed, seeds=args.seeds,
                function_trials=args.function_trials, network_trials=args.network_trials,
                steps=args.steps,
                problems=args.problems.split(",") if args.problems else None,
                optimizers=args.optimizers.split(",") if args.optimizers else None)
            open_queue(config, storage)
            run_id = config.run_id
        done = run_worker(storage, run_id, args.data_dir, threads=args.threads)
        print(f"worker {args.worker_index} ({_owner()}): {done} items done")
        _status(storage, run_id)
        return 0
    if args.command == "fill":
        config = make_config(quick=args.quick, seed=args.seed)
        if args.sampler == "design":
            study = open_design_study(storage, args.study, args.optimizer, args.trials,
                                      args.seed)
        else:
            study = _load_or_create(storage, args.study)
        if args.barrier:
            Path(f"{args.barrier}.ready-{args.worker_index}").touch()
            deadline = time.monotonic() + 300
            while not Path(args.barrier).exists():
                if time.monotonic() > deadline:
                    raise TimeoutError(f"barrier {args.barrier} did not open within 300 s")
                time.sleep(0.01)
        fill_study(study, make_objective(config, args.problem, args.optimizer), args.trials,
                   seed=args.seed, worker_index=args.worker_index, sampler=args.sampler,
                   shared=True)
        mine = [t for t in finished_trials(study)
                if t.user_attrs.get("worker", args.worker_index) == args.worker_index]
        print(f"{study.study_name}: {len(finished_trials(study))} finished trials "
              f"({len(mine)} by worker {args.worker_index}); best {study.best_value:.6g}")
        return 0
    if args.command == "requeue":
        queue = find_run(storage, args.run)
        print(f"requeued: {requeue(queue, None)}")
    _status(storage, args.run)
    return 0


if __name__ == "__main__":
    sys.exit(main())
