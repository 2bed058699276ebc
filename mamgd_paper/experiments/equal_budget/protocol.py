"""The equal-budget protocol's fixed choices (docs/protocol.md, section 7).

The optimizers and how each is built (:func:`reference_optimizer`,
:func:`keras_optimizer`, :func:`default_setting`), the search ranges, the
scoring constants, the verdict labels, the file stems and the names of the
studies. Everything that decides a result and is not part of a run's
:class:`~mamgd_paper.experiments.equal_budget.problems.Config` is here.
"""

from __future__ import annotations

import zlib

import numpy as np

from mamgd import reference
from mamgd.optimizers import DEFAULT_K as MAMGD_DEFAULT_K
from mamgd_paper.core.stats import BOOTSTRAP_SAMPLES, CONFIDENCE  # noqa: F401 (protocol)
from mamgd_paper.paper import registry

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

#: The two kinds of problem.
FUNCTION, NETWORK = "function", "network"


def stream_key(text):
    """A stable 32-bit number for ``text`` (CRC-32 of its UTF-8 bytes): seeds
    the random streams of a problem, an optimizer or a statistic."""
    return zlib.crc32(str(text).encode("utf-8"))


def takes_k(label):
    """Whether optimizer ``label`` has a decay rate k (MAMGD, AdaExp)."""
    return registry.get(label).takes_k


def reference_optimizer(label, learning_rate, k=None, dtype=np.float64):
    """The NumPy reference optimizer of ``label`` as this comparison runs it
    (SGD: :func:`mamgd.reference.sgd_momentum` with :data:`SGD_MOMENTUM`)."""
    if label == registry.SGD:
        return reference.sgd_momentum(learning_rate, SGD_MOMENTUM, dtype=dtype)
    return registry.reference_optimizer(label, learning_rate, k, dtype=dtype)


def keras_optimizer(label, learning_rate, k=None):
    """The Keras optimizer of ``label`` as this comparison runs it."""
    extra = {"momentum": SGD_MOMENTUM} if label == registry.SGD else {}
    return registry.keras_optimizer(label, learning_rate, k, **extra)


def default_setting(label):
    """``(learning_rate, k)`` of the one-shot row (k ``None`` for optimizers without one)."""
    return DEFAULT_LEARNING_RATE[label], (DEFAULT_K if takes_k(label) else None)
