"""The equal-budget protocol's fixed choices (docs/protocol.md, section 7; version 2).

Everything that decides a result and is not part of a run's
:class:`~mamgd_paper.experiments.equal_budget.problems.Config` is declared
here, before any run: the arms (the eight optimizers and the A/A arm "Adam
(replicate)"), each optimizer's search ranges, the budgets, the horizons and
targets, the tie-breaks, the equivalence margin and the error rate of the
family of comparisons.
"""

from __future__ import annotations

import zlib

import numpy as np

from mamgd import reference
from mamgd._checks import DEFAULT_K as MAMGD_DEFAULT_K  # (not mamgd.optimizers: no Keras)
from mamgd_paper.paper import registry

#: Bump when an objective or a result changes meaning: runs get new study names.
PROTOCOL_VERSION = 2

#: The eight optimizers, in table and legend order (registry labels).
OPTIMIZERS = (registry.MAMGD, registry.MAMGD_ALGORITHM6, registry.ADAEXP, registry.ADAM,
              registry.AMSGRAD, registry.RMSPROP, registry.ADAGRAD, registry.SGD)
#: The baseline of every verdict.
BASELINE = registry.ADAM
#: The A/A arm: Adam tuned a second time with independent studies and
#: compared with Adam like every other optimizer (it must not come out
#: better or worse).
REPLICATE = registry.ADAM_REPLICATE
#: Every arm of a run: the optimizers, then the A/A arm.
ARMS = OPTIMIZERS + (REPLICATE,)
#: SGD runs with heavy-ball momentum (Keras's ``SGD(momentum=0.9)``).
SGD_MOMENTUM = 0.9

#: Learning-rate search range (log-uniform) of each optimizer. Protocol 2
#: started from [1e-5, 10] for all and widened a range whenever a study's best
#: learning rate sat in the outer 5% (log scale) of it (:data:`EDGE_SHARE`): in
#: that first full run 45 of Adagrad's 119 studies sat at the top, 10 of
#: RMSprop's, 2-5 of each Adam-like optimizer's, and 7 of SGD's at the bottom
#: (Beale, Boston housing). These are the widened, final ranges
#: (docs/protocol.md, section 7).
LR_RANGE = {label: (1e-5, 100.0) for label in OPTIMIZERS}
LR_RANGE[registry.ADAGRAD] = (1e-5, 1000.0)
LR_RANGE[registry.SGD] = (1e-7, 10.0)
#: k search range (log-uniform) of MAMGD and AdaExp. k = 1e-6 changes the
#: betas by less than 0.1% over 1,000 steps, so the range's low end stands
#: in for k = 0 (protocol 1's separate k = 0 flag is gone: Sobol points are
#: continuous).
K_RANGE = (1e-6, 10.0)
#: A best setting in the outer EDGE_SHARE of its range (log scale) flags the range.
EDGE_SHARE = 0.05

#: Default settings (every study's trial 0): Keras's default learning rates
#: (SGD 0.01, the others 1e-3) and the library's default k.
DEFAULT_LEARNING_RATE = {label: 1e-3 for label in OPTIMIZERS}
DEFAULT_LEARNING_RATE[registry.SGD] = 1e-2
DEFAULT_K = MAMGD_DEFAULT_K

#: Test functions: the optimality-gap targets (the first is the primary one).
TARGETS = (1e-8, 1e-4)
PRIMARY_TARGET = TARGETS[0]
#: The tuning score of a start that never reaches the primary target:
#: horizon * (1 + log10(final gap / target)), the gap capped at GAP_CAP (a
#: non-finite gap counts as the cap). Any start that reaches the target
#: scores its step count (<= horizon), so reaching always beats not reaching
#: and, between two failures, the smaller final gap wins.
GAP_CAP = 1e16

#: Network targets on the test metric (lower is better; declared before the run).
NETWORK_TARGETS = {7: 1.0, 8: 0.15, 11: 3.0}

#: Comparisons: the family-wise error rate (Holm's step-down correction over
#: every comparison of the table) and the equivalence margin on the win score
#: (TOST). Holm over the 200 comparisons of a full run asks for p < 0.05 / 200;
#: the exact sign-flip test over 14 studies can go down to 2 / 2^14 = 1.2e-4.
ALPHA = 0.05
EQUIVALENCE_MARGIN = 0.2

#: Verdicts of an arm against Adam.
BETTER, WORSE, EQUIVALENT, INCONCLUSIVE = "better", "worse", "equivalent", "inconclusive"
VERDICTS = (BETTER, WORSE, EQUIVALENT, INCONCLUSIVE)

#: File stems (figures/ and figures/tables/).
TABLE_STEM = "equal_budget"
TRIALS_STEM = "equal_budget_trials"
STUDIES_STEM = "equal_budget_studies"
PERFORMANCE_PROFILE_STEM = "equal_budget_performance_profile"
DATA_PROFILE_STEM = "equal_budget_data_profile"
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
    the random streams of a problem, an arm or a study."""
    return zlib.crc32(str(text).encode("utf-8"))


def optimizer_of(arm):
    """The optimizer an arm runs (the A/A arm runs Adam)."""
    return BASELINE if arm == REPLICATE else arm


def takes_k(arm):
    """Whether ``arm``'s optimizer has a decay rate k (MAMGD, AdaExp)."""
    return registry.get(optimizer_of(arm)).takes_k


def reference_optimizer(arm, learning_rate, k=None, dtype=np.float64):
    """The NumPy reference optimizer of ``arm`` (hyperparameters may be arrays
    that broadcast against the parameters: one column or row per model).
    SGD: :func:`mamgd.reference.sgd_momentum` with :data:`SGD_MOMENTUM`."""
    label = optimizer_of(arm)
    if label == registry.SGD:
        return reference.sgd_momentum(learning_rate, SGD_MOMENTUM, dtype=dtype)
    return registry.reference_optimizer(label, learning_rate, k, dtype=dtype)


def keras_optimizer(arm, learning_rate, k=None):
    """The Keras optimizer of ``arm`` as this comparison runs it."""
    label = optimizer_of(arm)
    extra = {"momentum": SGD_MOMENTUM} if label == registry.SGD else {}
    return registry.keras_optimizer(label, learning_rate, k, **extra)


def default_setting(arm):
    """``{"learning_rate": ..., "k": ...}`` of trial 0 (no k for optimizers without one)."""
    label = optimizer_of(arm)
    setting = {"learning_rate": DEFAULT_LEARNING_RATE[label]}
    if takes_k(arm):
        setting["k"] = DEFAULT_K
    return setting


def search_space(arm):
    """``{name: (low, high)}`` (all log-uniform) of ``arm``."""
    space = {"learning_rate": LR_RANGE[optimizer_of(arm)]}
    if takes_k(arm):
        space["k"] = K_RANGE
    return space


def at_edge(value, low, high, share=EDGE_SHARE):
    """Whether ``value`` lies in the outer ``share`` of [low, high] on a log scale."""
    position = (np.log10(value) - np.log10(low)) / (np.log10(high) - np.log10(low))
    return bool(position < share or position > 1 - share)
