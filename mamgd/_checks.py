"""Hyperparameter checks and constants shared by every implementation.

Standard library only, so that :mod:`mamgd.reference`, :mod:`mamgd.torch` and
:mod:`mamgd.optax` use it without Keras. Every implementation rejects the same
bad values with the same exception and the same message; only the argument's
name is the framework's own (``beta_1`` in Keras and the reference,
``betas[0]`` in PyTorch, ``b1`` in optax).
"""

import math
import numbers

#: The two readings of MAMGD the package implements (see :class:`mamgd.MAMGD`).
VARIANTS = ("authors_code", "algorithm6")

#: Default decay rate. The paper's network experiments use k between 1e-6 and
#: 1e-3; 1e-4 (Tables 7 and 10) halves the betas' scale after ~6900 updates,
#: i.e. a few epochs of a typical small-batch run, and is a safe start.
DEFAULT_K = 1e-4

#: What the paper does with k (quoted by the error messages).
K_RANGE_NOTE = (
    " The paper uses k from 1e-6 to 1e-3 for networks and from 0.027 to 2.38 on "
    "its test functions (mamgd.functions); k = 0 switches the decay off."
)


def is_number(value):
    """A real number that is not a bool (Python's or NumPy's)."""
    return isinstance(value, numbers.Real) and not _is_bool(value)


def _is_bool(value):
    return isinstance(value, bool) or type(value).__name__ in ("bool_", "bool")


def type_error(name, value, expected="a real number"):
    """The TypeError for a value of the wrong type (a bool, a string, None...)."""
    return TypeError(
        f"Argument `{name}` must be {expected}, not {type(value).__name__}; "
        f"received {name}={value!r}."
    )


def _value_error(name, value, requirement, note=""):
    return ValueError(
        f"Argument `{name}` must be {requirement}; received {name}={value!r}.{note}"
    )


def check_learning_rate(value, name="learning_rate"):
    """A finite number > 0 (schedules and tensors are the caller's to accept)."""
    if not is_number(value):
        raise type_error(name, value, "a real number > 0 or a schedule")
    if not (math.isfinite(value) and value > 0):
        raise _value_error(name, value, "a finite number > 0")


def check_beta(value, name):
    """A number in [0, 1)."""
    if not is_number(value):
        raise type_error(name, value)
    if not 0.0 <= value < 1.0:
        raise _value_error(name, value, "a number in [0, 1)")


def check_k(value, name="k"):
    """A finite number >= 0."""
    if not is_number(value):
        raise type_error(name, value)
    if not (math.isfinite(value) and value >= 0):
        raise _value_error(
            name, value, "a finite number >= 0 (the exponential decay rate of the betas)",
            K_RANGE_NOTE,
        )


def check_epsilon(value, name="epsilon"):
    """A finite number > 0."""
    if not is_number(value):
        raise type_error(name, value)
    if not (math.isfinite(value) and value > 0):
        raise _value_error(name, value, "a finite number > 0",
                           " The paper and Keras use 1e-7.")


def check_variant(value, name="variant"):
    """One of :data:`VARIANTS`."""
    if not isinstance(value, str):
        raise type_error(name, value, f"one of {VARIANTS}")
    if value not in VARIANTS:
        raise ValueError(
            f"Argument `{name}` must be one of {VARIANTS}; received {name}={value!r}."
        )


def check_hyperparameters(beta_1, beta_2, k, epsilon, names=("beta_1", "beta_2", "k", "epsilon")):
    """Check the betas, k and epsilon (in this order), with the caller's names."""
    check_beta(beta_1, names[0])
    check_beta(beta_2, names[1])
    check_k(k, names[2])
    check_epsilon(epsilon, names[3])
