"""Independent NumPy reference implementations ("oracles") of the optimizers.

Functional, optax-like style: every constructor returns an :class:`Optimizer`
with

* ``init(params) -> state``
* ``update(params, grads, state) -> (new_params, new_state)``

where ``state`` is a small ``NamedTuple`` of NumPy arrays plus ``count``, the
number of updates applied so far (so the step being applied is
``t = count + 1``, t = 1, 2, ...).

Arithmetic and dtype
--------------------
All array arithmetic happens in one floating dtype: the constructor's
``dtype`` if given, else the dtype of the parameters handed to ``init`` /
``update`` (like a Keras variable's dtype). Every hyperparameter and the step
count are cast to that dtype before they touch an array, so a float32 run can
be compared with Keras to float32 rounding -- in fact bit for bit for SGD,
Adagrad, RMSprop, Adam and AMSGrad (see ``tests/library/test_reference.py``).

Scalar hyperparameter expressions that Keras evaluates on Python floats before
they meet a tensor (``1 - beta_1``, ``1 - rho``, the epsilons) are evaluated in
float64 here as well and rounded once to ``dtype``: ``float32(1 - 0.9)`` is
``0.1f``, whereas ``1 - float32(0.9)`` is ``0.10000002f``. The same convention
is used for the decayed betas of AdaExp (``beta * exp(-k t)`` is a hyperparameter
schedule), which is what makes ``adaexp(k=0)`` *bit-identical* to ``adam``.
Quantities that Keras computes on tensors (``beta ** t``, bias corrections)
are computed in ``dtype``.

Array hyperparameters
---------------------
``learning_rate`` (``alpha`` of :func:`amsgrad_tutorial`) and ``k`` may be
arrays of any shape that broadcasts against the parameters without changing
their shape -- e.g. ``(M, 1)`` against parameters ``(M, P)`` (one model per
row) or ``(N,)`` against ``(dim, N)`` (one per column) -- so one ``update``
advances many independent runs, each with its own setting (``init`` checks
the shapes). Every element sees exactly the operations of the scalar case:
row i of an array run equals, bit for bit, the run with the scalar setting
``learning_rate[i]`` (``tests/library/test_reference.py``). Scalars keep the
scalar code path (AdaExp's ``math.exp``); arrays go through the same NumPy
expressions element-wise (``exp`` / ``power`` in float64 rounded to
``dtype``), except AdaExp's decay, which applies ``math.exp`` to each element
of ``-k t``, so it is the scalar value by construction. Arrays are copied when
the optimizer is built.

The MAMGD variants follow docs/protocol.md, section 1 (the authors' code, which produced
the paper's Tables 1-6) and sec. 2 (Algorithm 6 of the paper). The float32
operation order of ``mamgd(variant="authors_code")`` is the one that
reproduces all 460 published cells of Tables 1-6 at 6 decimals (see
``tests/library/test_reference.py::test_golden_paper_tables``).

Paper: Sakovich et al., "MAMGD: Gradient-Based Optimization Method Using
Exponential Decay", Technologies 12(9):154, 2024, doi:10.3390/technologies12090154.
Keras: keras 3 ``keras/src/optimizers/{sgd,adagrad,rmsprop,adam}.py``.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Dict, NamedTuple, Optional, Sequence, Union

import numpy as np

from mamgd._checks import (check_beta, check_epsilon, check_k, check_learning_rate,
                           check_variant, type_error)

__all__ = [
    "Optimizer",
    "SGDState",
    "SGDMomentumState",
    "AdagradState",
    "RMSpropState",
    "AdamState",
    "AMSGradState",
    "MAMGDState",
    "MAMGD6State",
    "TutorialAMSGradState",
    "sgd",
    "sgd_momentum",
    "adagrad",
    "rmsprop",
    "adam",
    "amsgrad",
    "adaexp",
    "mamgd",
    "amsgrad_tutorial",
    "run",
    "MAMGD_VARIANTS",
    "resolve_dtype",
    "as_array",
    "as_scalar",
    "step_number",
    "counter",
    "correctly_rounded",
    "power",
    "exp",
]

MAMGD_VARIANTS = ("authors_code", "algorithm6")


class Optimizer(NamedTuple):
    """A pair of pure functions plus a description."""

    name: str
    init: Callable[[Any], Any]
    update: Callable[[Any, Any, Any], Any]
    hyperparams: Dict[str, Any]

    def __repr__(self) -> str:  # pragma: no cover - cosmetic
        args = ", ".join(f"{k}={v!r}" for k, v in self.hyperparams.items())
        return f"{self.name}({args})"


class SGDState(NamedTuple):
    count: np.ndarray


class SGDMomentumState(NamedTuple):
    count: np.ndarray
    velocity: np.ndarray


class AdagradState(NamedTuple):
    count: np.ndarray
    accumulator: np.ndarray


class RMSpropState(NamedTuple):
    count: np.ndarray
    velocity: np.ndarray
    momentum: Optional[np.ndarray]
    average_gradient: Optional[np.ndarray]


class AdamState(NamedTuple):
    count: np.ndarray
    m: np.ndarray
    v: np.ndarray


class AMSGradState(NamedTuple):
    count: np.ndarray
    m: np.ndarray
    v: np.ndarray
    v_hat: np.ndarray


class MAMGDState(NamedTuple):
    """State of MAMGD as in the authors' code (curvature term is 0)."""

    count: np.ndarray
    m: np.ndarray
    n: np.ndarray


class MAMGD6State(NamedTuple):
    """State of MAMGD as in Algorithm 6 (live curvature term)."""

    count: np.ndarray
    m: np.ndarray
    n: np.ndarray
    theta_prev: np.ndarray
    g_prev: np.ndarray


class TutorialAMSGradState(NamedTuple):
    count: np.ndarray
    m: np.ndarray
    v: np.ndarray
    v_hat: np.ndarray


# ---------------------------------------------------------------------------
# Building blocks (public: the companion's switched MAMGD rule uses them too)
# ---------------------------------------------------------------------------


def resolve_dtype(dtype, params) -> np.dtype:
    """The arithmetic dtype: ``dtype`` if given, else the parameters' (float64 for ints)."""
    if dtype is not None:
        dt = np.dtype(dtype)
    else:
        dt = np.asarray(params).dtype
        if not np.issubdtype(dt, np.floating):
            dt = np.dtype(np.float64)
    if not np.issubdtype(dt, np.floating):
        raise TypeError(f"reference optimizers need a floating dtype, got {dt}")
    return dt


def as_array(x, dt: np.dtype) -> np.ndarray:
    """A fresh copy of ``x`` in dtype ``dt`` (updates never alias their inputs)."""
    return np.array(x, dtype=dt, copy=True)


def as_scalar(value, dt: np.dtype):
    """A hyperparameter rounded once to ``dt``.

    A Python/NumPy number gives a ``dt`` scalar; an array (an array-valued
    learning rate or k) gives a ``dt`` array, each element rounded alike.
    """
    if np.ndim(value) == 0:
        return dt.type(value)
    return np.asarray(value).astype(dt)


def _hyperparameter(value):
    """A scalar hyperparameter as given; an array one as a read-only copy."""
    if np.ndim(value) == 0:
        return value
    frozen = np.array(value, copy=True)
    if not np.issubdtype(frozen.dtype, np.number):
        raise TypeError(f"hyperparameter arrays must be numeric, got {frozen.dtype}")
    frozen.setflags(write=False)
    return frozen


def _check_broadcast(params, **hyperparameters):
    """Array hyperparameters must broadcast against ``params`` without growing it."""
    shape = np.shape(params)
    for name, value in hyperparameters.items():
        if np.ndim(value) == 0:
            continue
        try:
            broadcast = np.broadcast_shapes(np.shape(value), shape)
        except ValueError:
            broadcast = None
        if broadcast != shape:
            raise ValueError(f"{name} of shape {np.shape(value)} does not broadcast against "
                             f"parameters of shape {shape} (one setting per model: e.g. "
                             f"(M, 1) against (M, P))")


def step_number(count, dt: np.dtype):
    """t = count + 1 (the step being applied) as a ``dt`` scalar."""
    return dt.type(int(count) + 1)


def counter(n: int) -> np.ndarray:
    """The ``count`` field of a state: ``n`` updates applied (int64)."""
    return np.asarray(n, dtype=np.int64)


def correctly_rounded(fn, *args):
    """``fn(*args)`` for a transcendental ``fn``, rounded once to the args' dtype.

    For float32 (and narrower) the function is evaluated in float64 and the
    result rounded to the argument dtype, i.e. (almost always) the correctly
    rounded value -- which is what TensorFlow's CPU kernels return for
    ``exp`` and ``pow``. NumPy's own SIMD float32 ``exp`` / ``power`` are off
    by one ulp for e.g. ``0.9f ** 4`` (0.6561 instead of 0.6560999), enough
    to change the 6th decimal of the paper's Adam columns.
    """
    dt = np.result_type(*args)
    if dt.itemsize >= 8:
        return fn(*args)
    wide = [np.asarray(a, dtype=np.float64) for a in args]
    out = np.asarray(fn(*wide)).astype(dt)
    return out[()] if out.ndim == 0 else out


def power(base, t):
    """base ** t in the dtype of ``base`` (t already that dtype), correctly rounded."""
    return correctly_rounded(np.power, base, t)


def exp(x):
    """exp(x) in the dtype of ``x``, correctly rounded."""
    return correctly_rounded(np.exp, x)


def _check_scalar_or_array(check, value, name):
    """``check`` a scalar hyperparameter, or each element of an array one."""
    if np.ndim(value) == 0 and not isinstance(value, np.ndarray):
        check(value, name)
        return
    array = np.asarray(value)
    if array.dtype == bool or not np.issubdtype(array.dtype, np.number):
        raise type_error(name, value, "a real number or an array of them")
    for element in array.ravel().tolist():
        check(element, name)


def _check_mamgd_family(learning_rate, beta_1, beta_2, k, epsilon):
    """The Keras, PyTorch and optax classes' checks (same messages)."""
    _check_scalar_or_array(check_learning_rate, learning_rate, "learning_rate")
    check_beta(beta_1, "beta_1")
    check_beta(beta_2, "beta_2")
    _check_scalar_or_array(check_k, k, "k")
    check_epsilon(epsilon, "epsilon")


# ---------------------------------------------------------------------------
# Keras-equivalent classics
# ---------------------------------------------------------------------------


def sgd(learning_rate: float = 0.01, *, dtype=None) -> Optimizer:
    """Plain gradient descent, as ``keras.optimizers.SGD`` with momentum 0.

    theta <- theta - g * lr
    """
    learning_rate = _hyperparameter(learning_rate)

    def init(params):
        _check_broadcast(params, learning_rate=learning_rate)
        return SGDState(count=counter(0))

    def update(params, grads, state):
        dt = resolve_dtype(dtype, params)
        theta = as_array(params, dt)
        g = as_array(grads, dt)
        lr = as_scalar(learning_rate, dt)
        theta = theta - g * lr
        return theta, SGDState(count=counter(int(state.count) + 1))

    return Optimizer("sgd", init, update, dict(learning_rate=learning_rate))


def sgd_momentum(learning_rate: float = 0.01, momentum: float = 0.9, *, dtype=None) -> Optimizer:
    """SGD with heavy-ball momentum, as ``keras.optimizers.SGD(momentum=...)`` (Keras 3).

    v     <- v * momentum - g * lr          (v_0 = 0; not Nesterov)
    theta <- theta + v

    Same operation order as Keras, so float32 runs agree bit for bit
    (``tests/library/test_reference.py``). :func:`sgd` is the momentum-free case.
    """
    learning_rate = _hyperparameter(learning_rate)

    def init(params):
        _check_broadcast(params, learning_rate=learning_rate)
        dt = resolve_dtype(dtype, params)
        return SGDMomentumState(count=counter(0), velocity=np.zeros(np.shape(params), dt))

    def update(params, grads, state):
        dt = resolve_dtype(dtype, params)
        theta = as_array(params, dt)
        g = as_array(grads, dt)
        lr = as_scalar(learning_rate, dt)
        mu = as_scalar(momentum, dt)
        velocity = state.velocity * mu - g * lr
        theta = theta + velocity
        return theta, SGDMomentumState(count=counter(int(state.count) + 1), velocity=velocity)

    return Optimizer("sgd_momentum", init, update,
                     dict(learning_rate=learning_rate, momentum=momentum))


def adagrad(
    learning_rate: float = 0.001,
    initial_accumulator_value: float = 0.1,
    epsilon: float = 1e-7,
    *,
    dtype=None,
) -> Optimizer:
    """Adagrad as ``keras.optimizers.Adagrad`` (Keras 3).

    accumulator_0 = initial_accumulator_value
    accumulator  <- accumulator + g^2
    theta        <- theta - (lr * g) / sqrt(accumulator + epsilon)

    (epsilon inside the square root, as in Keras 3.)
    """
    learning_rate = _hyperparameter(learning_rate)

    def init(params):
        _check_broadcast(params, learning_rate=learning_rate)
        dt = resolve_dtype(dtype, params)
        acc = np.full(np.shape(params), initial_accumulator_value, dtype=dt)
        return AdagradState(count=counter(0), accumulator=acc)

    def update(params, grads, state):
        dt = resolve_dtype(dtype, params)
        theta = as_array(params, dt)
        g = as_array(grads, dt)
        lr = as_scalar(learning_rate, dt)
        eps = as_scalar(epsilon, dt)
        acc = state.accumulator.astype(dt, copy=False) + g * g
        theta = theta - (lr * g) / np.sqrt(acc + eps)
        return theta, AdagradState(count=counter(int(state.count) + 1), accumulator=acc)

    return Optimizer(
        "adagrad",
        init,
        update,
        dict(
            learning_rate=learning_rate,
            initial_accumulator_value=initial_accumulator_value,
            epsilon=epsilon,
        ),
    )


def rmsprop(
    learning_rate: float = 0.001,
    rho: float = 0.9,
    epsilon: float = 1e-7,
    momentum: float = 0.0,
    centered: bool = False,
    *,
    dtype=None,
) -> Optimizer:
    """RMSprop as ``keras.optimizers.RMSprop`` (Keras 3).

    v     <- rho v + (1 - rho) g^2
    (centered:  a <- rho a + (1 - rho) g;  denom = v - a^2 + epsilon)
    (otherwise: denom = v + epsilon)
    inc   = (lr * g) / sqrt(denom)
    momentum > 0:  mom <- momentum * mom + inc;  theta <- theta - mom
    otherwise:     theta <- theta - inc
    """
    learning_rate = _hyperparameter(learning_rate)

    def init(params):
        _check_broadcast(params, learning_rate=learning_rate)
        dt = resolve_dtype(dtype, params)
        shape = np.shape(params)
        return RMSpropState(
            count=counter(0),
            velocity=np.zeros(shape, dt),
            momentum=np.zeros(shape, dt) if momentum > 0 else None,
            average_gradient=np.zeros(shape, dt) if centered else None,
        )

    def update(params, grads, state):
        dt = resolve_dtype(dtype, params)
        theta = as_array(params, dt)
        g = as_array(grads, dt)
        lr = as_scalar(learning_rate, dt)
        r = as_scalar(rho, dt)
        one_minus_r = as_scalar(1 - rho, dt)
        eps = as_scalar(epsilon, dt)
        v = r * state.velocity + one_minus_r * (g * g)
        avg = state.average_gradient
        if centered:
            avg = r * avg + one_minus_r * g
            denom = v - avg * avg + eps
        else:
            denom = v + eps
        inc = (lr * g) / np.sqrt(denom)
        mom = state.momentum
        if momentum > 0:
            mom = as_scalar(momentum, dt) * mom + inc
            theta = theta - mom
        else:
            theta = theta - inc
        new_state = RMSpropState(
            count=counter(int(state.count) + 1),
            velocity=v,
            momentum=mom,
            average_gradient=avg,
        )
        return theta, new_state

    return Optimizer(
        "rmsprop",
        init,
        update,
        dict(
            learning_rate=learning_rate,
            rho=rho,
            epsilon=epsilon,
            momentum=momentum,
            centered=centered,
        ),
    )


def _adam_family(
    name: str,
    learning_rate: float,
    beta_1: float,
    beta_2: float,
    epsilon: float,
    amsgrad_flag: bool,
    dtype,
    decay_k: Optional[float] = None,
) -> Optimizer:
    """Shared implementation of Adam / AMSGrad / AdaExp.

    With ``decay_k is None`` the betas are constant (Adam); otherwise they are
    beta_i * exp(-k t) (AdaExp, evaluated in float64 and rounded to dtype;
    ``math.exp`` of a scalar ``-k t``, or of each element of an array one).
    """
    learning_rate = _hyperparameter(learning_rate)
    if decay_k is not None and np.ndim(decay_k) > 0:
        # batched runs repeat each k over many columns: exp is taken per distinct value
        distinct_k, k_index = np.unique(decay_k, return_inverse=True)
        k_index = k_index.reshape(np.shape(decay_k))

    def init(params):
        _check_broadcast(params, learning_rate=learning_rate, k=decay_k)
        dt = resolve_dtype(dtype, params)
        shape = np.shape(params)
        zeros = np.zeros(shape, dt)
        if amsgrad_flag:
            return AMSGradState(counter(0), zeros, zeros.copy(), zeros.copy())
        return AdamState(counter(0), zeros, zeros.copy())

    def update(params, grads, state):
        dt = resolve_dtype(dtype, params)
        theta = as_array(params, dt)
        g = as_array(grads, dt)
        step = int(state.count) + 1
        t = step_number(state.count, dt)
        if decay_k is None:
            b1_py, b2_py = beta_1, beta_2
        else:
            if np.ndim(decay_k) == 0:
                decay = math.exp(-decay_k * step)
            else:  # float64 array: the scalar case's math.exp, once per distinct k
                exponents = [-k * step for k in distinct_k.tolist()]
                decay = np.array([math.exp(x) for x in exponents],
                                 dtype=np.float64)[k_index]
            b1_py, b2_py = beta_1 * decay, beta_2 * decay
        lr = as_scalar(learning_rate, dt)
        b1 = as_scalar(b1_py, dt)
        b2 = as_scalar(b2_py, dt)
        one_minus_b1 = as_scalar(1 - b1_py, dt)
        one_minus_b2 = as_scalar(1 - b2_py, dt)
        eps = as_scalar(epsilon, dt)
        one = dt.type(1)
        b1_power = power(b1, t)
        b2_power = power(b2, t)
        alpha = lr * np.sqrt(one - b2_power) / (one - b1_power)
        m = state.m + (g - state.m) * one_minus_b1
        v = state.v + (g * g - state.v) * one_minus_b2
        if amsgrad_flag:
            v_hat = np.maximum(state.v_hat, v)
            theta = theta - (m * alpha) / (np.sqrt(v_hat) + eps)
            return theta, AMSGradState(counter(step), m, v, v_hat)
        theta = theta - (m * alpha) / (np.sqrt(v) + eps)
        return theta, AdamState(counter(step), m, v)

    hp = dict(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon)
    if decay_k is not None:
        hp["k"] = decay_k
    return Optimizer(name, init, update, hp)


def adam(
    learning_rate: float = 0.001,
    beta_1: float = 0.9,
    beta_2: float = 0.999,
    epsilon: float = 1e-7,
    *,
    dtype=None,
) -> Optimizer:
    """Adam as ``keras.optimizers.Adam`` (Keras 3; Kingma & Ba 2015).

    alpha = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)
    m     <- m + (g - m) (1 - beta_1)          (= beta_1 m + (1 - beta_1) g)
    v     <- v + (g^2 - v) (1 - beta_2)
    theta <- theta - (m alpha) / (sqrt(v) + epsilon)

    (epsilon is Keras's "epsilon hat", added to sqrt(v) without bias correction.)
    """
    return _adam_family("adam", learning_rate, beta_1, beta_2, epsilon, False, dtype)


def amsgrad(
    learning_rate: float = 0.001,
    beta_1: float = 0.9,
    beta_2: float = 0.999,
    epsilon: float = 1e-7,
    *,
    dtype=None,
) -> Optimizer:
    """AMSGrad as ``keras.optimizers.Adam(amsgrad=True)`` (Reddi et al. 2018).

    As :func:`adam`, with v_hat <- max(v_hat, v) (v_hat_0 = 0) and
    theta <- theta - (m alpha) / (sqrt(v_hat) + epsilon).
    """
    return _adam_family("amsgrad", learning_rate, beta_1, beta_2, epsilon, True, dtype)


def adaexp(
    learning_rate: float = 0.001,
    beta_1: float = 0.9,
    beta_2: float = 0.999,
    k: float = 0.0,
    epsilon: float = 1e-7,
    *,
    dtype=None,
) -> Optimizer:
    """AdaExp (paper sec. 7, Algorithm 7; docs/protocol.md, section 2).

    Adam whose betas decay exponentially with the step t = 1, 2, ...:

    b1_t  = beta_1 exp(-k t),   b2_t = beta_2 exp(-k t)
    alpha = lr * sqrt(1 - b2_t^t) / (1 - b1_t^t)
    m     <- m + (g - m) (1 - b1_t)
    v     <- v + (g^2 - v) (1 - b2_t)
    theta <- theta - (m alpha) / (sqrt(v) + epsilon)

    b1_t, b2_t, 1 - b1_t, 1 - b2_t are evaluated in float64 and rounded once to
    dtype (like Keras's 1 - beta); with k = 0 this is :func:`adam` bit for bit.

    Numerical note: for large k, b2_t -> 0 and 1 - b2_t rounds to 1, so the
    Keras-form update v + (g^2 - v)(1 - b2_t) is v_prev + (g^2 - v_prev): in
    float32 this cancels catastrophically when g^2 << v_prev (absolute error
    ~ ulp(v_prev)), and float32 / float64 trajectories part ways (e.g. paper
    k = 2.38 on x^2 - x: 5e-4 after 16 steps). The form b2_t v + (1 - b2_t) g^2
    would not cancel but would no longer reduce to Keras's Adam at k = 0.
    """
    _check_mamgd_family(learning_rate, beta_1, beta_2, k, epsilon)
    if np.ndim(k) == 0:
        decay_k = float(k)
    else:
        decay_k = np.array(k, dtype=np.float64, copy=True)
        decay_k.setflags(write=False)
    return _adam_family(
        "adaexp", learning_rate, beta_1, beta_2, epsilon, False, dtype, decay_k=decay_k
    )


# ---------------------------------------------------------------------------
# MAMGD
# ---------------------------------------------------------------------------


def mamgd(
    learning_rate: float = 0.001,
    beta_1: float = 0.9,
    beta_2: float = 0.999,
    k: float = 0.0,
    epsilon: float = 1e-7,
    variant: str = "authors_code",
    *,
    dtype=None,
) -> Optimizer:
    """MAMGD (Sakovich et al. 2024).

    ``variant="authors_code"`` -- the rule that produced Tables 1-6
    (docs/protocol.md, section 1), step t = 1, 2, ...:

        b1    = beta_1 exp(-k (t - 1)),   b2 = beta_2 exp(-k (t - 1))
        alpha = lr (1 - b2^t) / (1 - b1^t)            (no square root)
        m     <- b1 m + (1 - b1) g
        n     <- b2 n + (1 - b2) g^2
        theta <- theta - alpha m / (sqrt(n) + epsilon)

      The authors' curvature term ((g - g_prev)/(theta - theta_prev + eps))^2
      is identically 0 in their code (the "previous" slots are overwritten
      before being read), so it is omitted; the state is (m, n).

      All of it is computed in ``dtype`` (float32 for the paper), in this
      order: d = exp(-k (t - 1)); b1 = beta_1 d; b2 = beta_2 d;
      alpha = (lr (1 - b2^t)) / (1 - b1^t); m = b1 m + (1 - b1) g;
      n = b2 n + (1 - b2) g^2; theta = theta - (alpha m) / (sqrt(n) + eps).

    ``variant="algorithm6"`` -- Algorithm 6 of the paper (docs/protocol.md, section 2):

        b1    = beta_1 exp(-k t),   b2 = beta_2 exp(-k t)
        m     <- b1 m + (1 - b1) g
        n     <- b2 n + (1 - b2) g^2
        c     = ((g - g_prev) / (theta - theta_prev + epsilon))^2,
                c = 0 at t = 1 and where theta - theta_prev + epsilon == 0
        a     = sqrt(c + n)
        m_hat = m / (1 - b1^t),   a_hat = a / (1 - b2^t)
        theta <- theta - lr m_hat / (a_hat + epsilon)

      theta_prev / g_prev are the parameter and the gradient of the previous
      step (g_prev was evaluated at theta_prev); the state is
      (m, n, theta_prev, g_prev). Computed in ``dtype`` throughout.
    """
    check_variant(variant)
    _check_mamgd_family(learning_rate, beta_1, beta_2, k, epsilon)
    learning_rate = _hyperparameter(learning_rate)
    k = _hyperparameter(k)
    hp = dict(
        learning_rate=learning_rate,
        beta_1=beta_1,
        beta_2=beta_2,
        k=k,
        epsilon=epsilon,
        variant=variant,
    )

    if variant == "authors_code":

        def init(params):
            _check_broadcast(params, learning_rate=learning_rate, k=k)
            dt = resolve_dtype(dtype, params)
            shape = np.shape(params)
            return MAMGDState(counter(0), np.zeros(shape, dt), np.zeros(shape, dt))

        def update(params, grads, state):
            dt = resolve_dtype(dtype, params)
            theta = as_array(params, dt)
            g = as_array(grads, dt)
            t = step_number(state.count, dt)
            one = dt.type(1)
            lr = as_scalar(learning_rate, dt)
            kk = as_scalar(k, dt)
            eps = as_scalar(epsilon, dt)
            decay = exp(-kk * (t - one))
            b1 = as_scalar(beta_1, dt) * decay
            b2 = as_scalar(beta_2, dt) * decay
            alpha = (lr * (one - power(b2, t))) / (one - power(b1, t))
            m = b1 * state.m + (one - b1) * g
            n = b2 * state.n + (one - b2) * (g * g)
            theta = theta - (alpha * m) / (np.sqrt(n) + eps)
            return theta, MAMGDState(counter(int(state.count) + 1), m, n)

        return Optimizer("mamgd", init, update, hp)

    def init6(params):
        _check_broadcast(params, learning_rate=learning_rate, k=k)
        dt = resolve_dtype(dtype, params)
        shape = np.shape(params)
        z = np.zeros(shape, dt)
        return MAMGD6State(counter(0), z, z.copy(), z.copy(), z.copy())

    def update6(params, grads, state):
        dt = resolve_dtype(dtype, params)
        theta = as_array(params, dt)
        g = as_array(grads, dt)
        t = step_number(state.count, dt)
        one = dt.type(1)
        lr = as_scalar(learning_rate, dt)
        kk = as_scalar(k, dt)
        eps = as_scalar(epsilon, dt)
        decay = exp(-kk * t)
        b1 = as_scalar(beta_1, dt) * decay
        b2 = as_scalar(beta_2, dt) * decay
        m = b1 * state.m + (one - b1) * g
        n = b2 * state.n + (one - b2) * (g * g)
        # c = 0 at t = 1 and wherever the denominator is exactly 0 (no NaN);
        # every other element is the printed rule's value.
        if int(state.count) == 0:
            c = np.zeros_like(n)
        else:
            denominator = theta - state.theta_prev + eps
            live = denominator != 0
            q = np.divide(g - state.g_prev, denominator, out=np.zeros_like(n), where=live)
            c = q * q
        a = np.sqrt(c + n)
        m_hat = m / (one - power(b1, t))
        a_hat = a / (one - power(b2, t))
        new_theta = theta - (lr * m_hat) / (a_hat + eps)
        new_state = MAMGD6State(counter(int(state.count) + 1), m, n, theta, g)
        return new_theta, new_state

    return Optimizer("mamgd", init6, update6, hp)


# ---------------------------------------------------------------------------
# Tutorial AMSGrad (docs/protocol.md, section 5)
# ---------------------------------------------------------------------------


def amsgrad_tutorial(
    alpha: float = 0.007,
    beta_1: float = 0.9,
    beta_2: float = 0.99,
    eps: float = 1e-8,
    *,
    dtype=None,
) -> Optimizer:
    """The from-scratch AMSGrad variant of a NumPy tutorial (docs/protocol.md, section 5).

    At step t = 1, 2, ... (m, v, v_hat start at 0; no bias correction):

        m     <- beta_1^t m + (1 - beta_1^t) g      (beta_1 decayed as beta_1^t)
        v     <- beta_2 v + (1 - beta_2) g^2
        v_hat <- max(v_hat, v)
        theta <- theta - alpha m / (sqrt(v_hat) + eps)

    The tutorial runs it on f(x, y) = x^2 + y^2 from a random point of
    [-1, 1]^2 (NumPy seed 1) for 100 iterations and ends near f = 2e-6.
    """
    alpha = _hyperparameter(alpha)

    def init(params):
        _check_broadcast(params, alpha=alpha)
        dt = resolve_dtype(dtype, params)
        z = np.zeros(np.shape(params), dt)
        return TutorialAMSGradState(counter(0), z, z.copy(), z.copy())

    def update(params, grads, state):
        dt = resolve_dtype(dtype, params)
        theta = as_array(params, dt)
        g = as_array(grads, dt)
        t = step_number(state.count, dt)
        one = dt.type(1)
        b1t = power(as_scalar(beta_1, dt), t)
        b2 = as_scalar(beta_2, dt)
        m = b1t * state.m + (one - b1t) * g
        v = b2 * state.v + (one - b2) * (g * g)
        v_hat = np.maximum(state.v_hat, v)
        theta = theta - as_scalar(alpha, dt) * m / (np.sqrt(v_hat) + as_scalar(eps, dt))
        return theta, TutorialAMSGradState(counter(int(state.count) + 1), m, v, v_hat)

    return Optimizer(
        "amsgrad_tutorial",
        init,
        update,
        dict(alpha=alpha, beta_1=beta_1, beta_2=beta_2, eps=eps),
    )


# ---------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------


def _gradient_fn(function_or_grad, dt: np.dtype) -> Callable[[np.ndarray], np.ndarray]:
    grad_method = getattr(function_or_grad, "gradient", None)
    if grad_method is not None and hasattr(function_or_grad, "dim"):
        return lambda x: np.asarray(grad_method(x), dtype=dt)
    if callable(function_or_grad):
        return lambda x: np.asarray(function_or_grad(x), dtype=dt)
    raise TypeError("function_or_grad must be a TestFunction or a gradient callable")


def run(
    optimizer: Optimizer,
    function_or_grad: Union[Any, Callable[[np.ndarray], Any]],
    start: Optional[Sequence[float]] = None,
    steps: int = 30,
    dtype=np.float32,
) -> np.ndarray:
    """Run ``optimizer`` for ``steps`` updates and return the trajectory.

    ``function_or_grad`` is a :class:`mamgd.functions.TestFunction` (its
    analytic ``gradient`` is used, evaluated on the ``dtype`` parameters) or a
    callable ``grad(x) -> array``. ``start`` defaults to the function's
    start point. Returns an array of shape ``(steps + 1, dim)`` in ``dtype``;
    row 0 is the start, row i the parameters after i updates.
    """
    dt = np.dtype(dtype)
    if start is None:
        start = getattr(function_or_grad, "start", None)
        if start is None:
            raise ValueError("start is required when a bare gradient is given")
    grad = _gradient_fn(function_or_grad, dt)
    x = np.array(start, dtype=dt).reshape(-1)
    traj = np.empty((int(steps) + 1, x.size), dtype=dt)
    traj[0] = x
    state = optimizer.init(x)
    for i in range(1, int(steps) + 1):
        x, state = optimizer.update(x, grad(x), state)
        traj[i] = x
    return traj
