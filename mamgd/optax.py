"""MAMGD and AdaExp as optax gradient transformations.

Importable with jax and optax alone (no Keras)::

    import jax, optax, mamgd.optax

    optimizer = mamgd.optax.mamgd(learning_rate=1e-3, k=1e-4)
    state = optimizer.init(params)

    @jax.jit
    def step(params, state, batch):
        grads = jax.grad(loss)(params, batch)
        updates, state = optimizer.update(grads, state, params)
        return optax.apply_updates(params, updates), state

Built the way optax builds ``adam``: :func:`mamgd` is
``optax.chain(scale_by_mamgd(...), optax.scale_by_learning_rate(learning_rate))``
and :func:`adaexp` is ``optax.chain(scale_by_adaexp(...),
optax.scale_by_learning_rate(learning_rate))``, so ``learning_rate`` may be a
schedule, and the ``scale_by_*`` pieces combine with any other transformation
(clipping, weight decay, ``optax.inject_hyperparams``...). Everything is
jax.numpy on the state and the step count, so the transformations are
``jax.jit``- and ``jax.vmap``-compatible (``k`` may be an array or a traced
value, e.g. one k per vmapped run).

Numerics: every operation runs in the parameters' dtype. The learning rate
multiplies the finished step (optax's convention) where the paper's code
multiplies it into the step size first, and XLA's float32 ``exp``/``pow``
are not always correctly rounded; so float32 runs agree with
:mod:`mamgd.reference` to a few ulps per step, not bit for bit (the tests
state how far, and which of the paper's Tables 1-6 cells differ).
"""

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from mamgd._checks import (
    DEFAULT_K,
    VARIANTS,
    check_beta,
    check_epsilon,
    check_k,
    check_learning_rate,
    check_variant,
    is_number,
)

__all__ = ["mamgd", "adaexp", "scale_by_mamgd", "scale_by_adaexp", "ScaleByMAMGDState",
           "ScaleByAlgorithm6State", "ScaleByAdaExpState", "VARIANTS", "DEFAULT_K"]


class ScaleByMAMGDState(NamedTuple):
    """State of :func:`scale_by_mamgd` (``variant="authors_code"``)."""

    count: jax.Array  # updates applied so far (int32)
    mu: Any  # m, the first moment
    nu: Any  # n, the second moment


class ScaleByAlgorithm6State(NamedTuple):
    """State of :func:`scale_by_mamgd` (``variant="algorithm6"``)."""

    count: jax.Array
    mu: Any
    nu: Any
    prev_params: Any  # theta_prev
    prev_grads: Any  # g_prev


class ScaleByAdaExpState(NamedTuple):
    """State of :func:`scale_by_adaexp`."""

    count: jax.Array
    mu: Any
    nu: Any


def _is_concrete_number(value):
    return is_number(value) or isinstance(value, bool) or isinstance(value, (str, bytes)) \
        or value is None


def _check(b1, b2, k, eps):
    # Python numbers (and bools, strings, None) are checked; arrays and traced
    # values (optax.inject_hyperparams, jax.vmap over k) are the caller's.
    for check, value, name in ((check_beta, b1, "b1"), (check_beta, b2, "b2"),
                               (check_k, k, "k"), (check_epsilon, eps, "eps")):
        if _is_concrete_number(value):
            check(value, name)


def _check_learning_rate(learning_rate):
    if _is_concrete_number(learning_rate):
        check_learning_rate(learning_rate, "learning_rate")


def _zeros(params):
    return jax.tree.map(jnp.zeros_like, params)


def _count_increment(count):
    return optax.safe_int32_increment(count)


def scale_by_mamgd(b1=0.9, b2=0.999, k=DEFAULT_K, eps=1e-7, variant="authors_code"):
    """The MAMGD step for a unit learning rate (follow with a learning-rate scale).

    With t = count + 1, ``variant="authors_code"`` (the rule that produced the
    paper's numbers) returns ``((1 - b2^t)/(1 - b1^t)) m / (sqrt(n) + eps)``
    with betas ``beta exp(-k (t-1))``; ``variant="algorithm6"`` (the paper's
    Algorithm 6 as printed; needs ``params`` in ``update``) returns
    ``m_hat / (a_hat + eps)``, ``a_hat = sqrt(c + n)/(1 - b2^t)``, with betas
    ``beta exp(-k t)`` and the curvature term
    ``c = ((g - g_prev)/(theta - theta_prev + eps))^2``, 0 at t = 1 and
    wherever its denominator is exactly 0 (a select).

    Warning: ``algorithm6`` freezes float32 parameters that moved by a tiny
    step while their gradient changed (the curvature term becomes huge, the
    step falls below float32 resolution, and the parameter never moves
    again); see :class:`mamgd.MAMGD` and the repository's ablation.
    """
    _check(b1, b2, k, eps)
    check_variant(variant)
    algorithm6 = variant == "algorithm6"

    def scalars(count, dtype):
        t = (count + 1).astype(dtype)
        kk = jnp.asarray(k, dtype)
        decay = jnp.exp(-kk * (t if algorithm6 else t - 1))
        beta_1 = jnp.asarray(b1, dtype) * decay
        beta_2 = jnp.asarray(b2, dtype) * decay
        return (beta_1, beta_2, 1 - jnp.power(beta_1, t), 1 - jnp.power(beta_2, t))

    def moments(g, m, n, beta_1, beta_2):
        m = beta_1 * m + (1 - beta_1) * g
        n = beta_2 * n + (1 - beta_2) * (g * g)
        return m, n

    def init_fn(params):
        zeros = jnp.zeros([], jnp.int32)
        if algorithm6:
            return ScaleByAlgorithm6State(zeros, _zeros(params), _zeros(params),
                                          _zeros(params), _zeros(params))
        return ScaleByMAMGDState(zeros, _zeros(params), _zeros(params))

    def update_authors_code(updates, state, params=None):
        del params

        def leaf(g, m, n):
            beta_1, beta_2, bias_1, bias_2 = scalars(state.count, g.dtype)
            m, n = moments(g, m, n, beta_1, beta_2)
            epsilon = jnp.asarray(eps, g.dtype)
            return (bias_2 / bias_1 * m) / (jnp.sqrt(n) + epsilon), m, n

        out = jax.tree.map(leaf, updates, state.mu, state.nu)
        treedef = jax.tree.structure(updates)
        steps, mu, nu = (jax.tree.unflatten(treedef, list(x))
                         for x in zip(*treedef.flatten_up_to(out)))
        return steps, ScaleByMAMGDState(_count_increment(state.count), mu, nu)

    def update_algorithm6(updates, state, params=None):
        if params is None:
            raise ValueError("scale_by_mamgd(variant='algorithm6') needs the parameters: "
                             "call update(updates, state, params).")

        def leaf(g, theta, m, n, theta_prev, g_prev):
            beta_1, beta_2, bias_1, bias_2 = scalars(state.count, g.dtype)
            m, n = moments(g, m, n, beta_1, beta_2)
            epsilon = jnp.asarray(eps, g.dtype)
            denominator = (theta - theta_prev) + epsilon
            live = (state.count > 0) & (denominator != 0)
            secant = jnp.where(live, (g - g_prev) / denominator, jnp.zeros_like(g))
            a_hat = jnp.sqrt(secant * secant + n) / bias_2
            return (m / bias_1) / (a_hat + epsilon), m, n, theta, g

        out = jax.tree.map(leaf, updates, params, state.mu, state.nu, state.prev_params,
                           state.prev_grads)
        treedef = jax.tree.structure(updates)
        steps, mu, nu, prev_params, prev_grads = (
            jax.tree.unflatten(treedef, list(x)) for x in zip(*treedef.flatten_up_to(out)))
        return steps, ScaleByAlgorithm6State(_count_increment(state.count), mu, nu,
                                             prev_params, prev_grads)

    return optax.GradientTransformation(
        init_fn, update_algorithm6 if algorithm6 else update_authors_code)


def scale_by_adaexp(b1=0.9, b2=0.999, k=DEFAULT_K, eps=1e-7):
    """The AdaExp step (the paper's Algorithm 7) for a unit learning rate.

    Adam in Keras's form with betas ``beta exp(-k t)``, t = count + 1::

        m = m + (g - m)(1 - b1),   v = v + (g^2 - v)(1 - b2)
        step = (sqrt(1 - b2^t)/(1 - b1^t)) m / (sqrt(v) + eps)

    ``1 - b`` is computed as ``(1 - beta) + beta (-expm1(-k t))``, so with
    ``k = 0`` the moments are Keras's Adam's exactly.
    """
    _check(b1, b2, k, eps)

    def init_fn(params):
        return ScaleByAdaExpState(jnp.zeros([], jnp.int32), _zeros(params), _zeros(params))

    def update_fn(updates, state, params=None):
        del params

        def leaf(g, m, v):
            dtype = g.dtype
            t = (state.count + 1).astype(dtype)
            kk = jnp.asarray(k, dtype)
            decay = jnp.exp(-kk * t)
            one_minus_decay = -jnp.expm1(-kk * t)
            beta_1 = jnp.asarray(b1, dtype) * decay
            beta_2 = jnp.asarray(b2, dtype) * decay
            one_minus_b1 = jnp.asarray(1 - b1, dtype) + jnp.asarray(b1, dtype) * one_minus_decay
            one_minus_b2 = jnp.asarray(1 - b2, dtype) + jnp.asarray(b2, dtype) * one_minus_decay
            scale = jnp.sqrt(1 - jnp.power(beta_2, t)) / (1 - jnp.power(beta_1, t))
            m = m + (g - m) * one_minus_b1
            v = v + (g * g - v) * one_minus_b2
            return (m * scale) / (jnp.sqrt(v) + jnp.asarray(eps, dtype)), m, v

        out = jax.tree.map(leaf, updates, state.mu, state.nu)
        treedef = jax.tree.structure(updates)
        steps, mu, nu = (jax.tree.unflatten(treedef, list(x))
                         for x in zip(*treedef.flatten_up_to(out)))
        return steps, ScaleByAdaExpState(_count_increment(state.count), mu, nu)

    return optax.GradientTransformation(init_fn, update_fn)


def mamgd(learning_rate=1e-3, b1=0.9, b2=0.999, k=DEFAULT_K, eps=1e-7,
          variant="authors_code"):
    """MAMGD (Sakovich et al., *Technologies* 2024, 12(9), 154) as an optax optimizer.

    ``optax.chain(scale_by_mamgd(b1, b2, k, eps, variant),
    optax.scale_by_learning_rate(learning_rate))``. ``learning_rate``: a number
    > 0 or an optax schedule. ``variant="algorithm6"`` needs ``params`` in
    ``update`` and freezes float32 parameters (see :func:`scale_by_mamgd`).
    Defaults are the paper's (and Keras's): ``eps=1e-7``, ``k=1e-4``.
    """
    _check_learning_rate(learning_rate)
    return optax.chain(scale_by_mamgd(b1, b2, k, eps, variant),
                       optax.scale_by_learning_rate(learning_rate))


def adaexp(learning_rate=1e-3, b1=0.9, b2=0.999, k=DEFAULT_K, eps=1e-7):
    """AdaExp (the paper's Algorithm 7) as an optax optimizer.

    ``optax.chain(scale_by_adaexp(b1, b2, k, eps),
    optax.scale_by_learning_rate(learning_rate))``. With ``k = 0`` it is Adam
    in Keras's form (epsilon added before the bias correction), which differs
    from ``optax.adam`` (epsilon after it) by a relative ~1e-6.
    """
    _check_learning_rate(learning_rate)
    return optax.chain(scale_by_adaexp(b1, b2, k, eps),
                       optax.scale_by_learning_rate(learning_rate))
