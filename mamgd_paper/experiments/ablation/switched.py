"""MAMGD with every code-vs-paper difference as a switch (NumPy and Keras 3).

The published numbers come from the authors' code (docs/protocol.md, section 1);
the paper prints Algorithm 6 (section 2). They differ in five places; here each
difference is a boolean field of :class:`Switches`, so that its effect can be
measured one at a time:

==================  =========================================================
switch              what it changes (off = authors' code, on = paper)
==================  =========================================================
``decay_exponent``  betas decayed with ``exp(-k t)`` instead of ``exp(-k (t-1))``
``correction_form`` bias correction applied to the moments, ``m / (1 - b1^t)``
                    and ``a / (1 - b2^t)``, instead of the step-size factor
                    ``(1 - b2^t) / (1 - b1^t)``; epsilon is kept where the code
                    has it (``eps / (1 - b2^t)`` added to ``a_hat``), so in
                    exact arithmetic this changes nothing: only float32 rounding
``epsilon``         epsilon added after the bias correction (``a_hat + eps``)
                    instead of before it (``sqrt(n) + eps``)
``curvature``       the live curvature term
                    ``c = ((g - g_prev) / (theta - theta_prev + eps))^2`` (0 at
                    t = 1) in ``a = sqrt(c + n)``; identically 0 in the code
``listing_betas``   the *undecayed* betas in the moment updates, as Algorithm
                    6's listing prints them (its text, the code and
                    ``reference.mamgd(variant="algorithm6")`` use the decayed
                    ones); the bias corrections keep the decayed betas
==================  =========================================================

plus two variants that neither the code nor the paper has:

``adam_sqrt``       Adam's ``sqrt(1 - b2^t)`` instead of ``1 - b2^t``: without it
                    the step is ``sqrt(1 - b2^t)`` times Adam's, a learning-rate
                    warm-up that starts at ``sqrt(1 - beta_2) = 0.032`` (k = 0).
``curvature_from_zero`` (with ``curvature``) the previous-step slots start at 0,
                    so ``c = (g_1 / theta_0)^2`` at t = 1: the authors' code
                    with its slots read before they are overwritten.

All switches off is ``mamgd.reference.mamgd(variant="authors_code")`` bit for
bit; ``decay_exponent``, ``correction_form``, ``epsilon`` and ``curvature`` on
is ``mamgd.reference.mamgd(variant="algorithm6")`` bit for bit
(``tests/experiments/test_ablation.py``). The float32 arithmetic follows
:mod:`mamgd.reference` operation for operation. ``k`` may be an array of shape
``(K,)``: the parameters then have shape ``(K, dim)`` and row i is run with
``k[i]``.

Paper: Sakovich et al., "MAMGD: Gradient-Based Optimization Method Using
Exponential Decay", Technologies 12(9):154, 2024, doi:10.3390/technologies12090154.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Dict

import keras
import numpy as np
from keras import ops

from mamgd.reference import (MAMGD6State, Optimizer, as_array, as_scalar, counter, exp, power,
                             resolve_dtype, step_number)


@dataclass(frozen=True)
class Switches:
    """Which of the code-vs-paper differences are switched to the paper's side."""

    decay_exponent: bool = False
    correction_form: bool = False
    epsilon: bool = False
    curvature: bool = False
    listing_betas: bool = False
    adam_sqrt: bool = False
    curvature_from_zero: bool = False

    def on(self):
        """Names of the switches that are on."""
        return tuple(f.name for f in dataclasses.fields(self) if getattr(self, f.name))

    def label(self):
        return "+".join(self.on()) or "none"

    def replace(self, **changes):
        return dataclasses.replace(self, **changes)


#: The rule that produced the published numbers (all switches off).
AUTHORS_CODE = Switches()
#: Algorithm 6 as the paper's text describes it (= reference "algorithm6").
ALGORITHM6 = Switches(decay_exponent=True, correction_form=True, epsilon=True, curvature=True)

#: The code-vs-paper differences (docs/protocol.md, section 2), with one-line descriptions.
DIFFERENCES: Dict[str, str] = {
    "decay_exponent": "decay exp(-k t) instead of exp(-k (t-1))",
    "correction_form": "bias correction on m and a (Algorithm 6's form) instead of a "
                       "step-size factor; epsilon kept where the code has it",
    "epsilon": "epsilon added after the bias correction (a_hat + eps) instead of "
               "to sqrt(n)",
    "curvature": "live curvature term c = ((g - g_prev)/(theta - theta_prev + eps))^2",
    "listing_betas": "undecayed betas in the moment updates (Algorithm 6's listing "
                     "as printed)",
}
#: Switches that neither the code nor the paper has.
COUNTERFACTUALS: Dict[str, str] = {
    "adam_sqrt": "Adam's sqrt(1 - b2^t) bias correction (no learning-rate warm-up)",
    "curvature_from_zero": "with curvature: the previous-step slots start at 0, so "
                           "c = (g_1 / theta_0)^2 at t = 1 (the authors' code with its "
                           "slots read before they are overwritten)",
}


def _configurations():
    """Named switch settings of the ablation, in report order."""
    configs = {"authors_code": AUTHORS_CODE}
    for name in DIFFERENCES:
        configs[f"code+{name}"] = AUTHORS_CODE.replace(**{name: True})
    configs["algorithm6"] = ALGORITHM6
    for name in ("decay_exponent", "correction_form", "epsilon", "curvature"):
        configs[f"algorithm6-{name}"] = ALGORITHM6.replace(**{name: False})
    configs["algorithm6+listing_betas"] = ALGORITHM6.replace(listing_betas=True)
    configs["code+curvature_from_zero"] = AUTHORS_CODE.replace(
        curvature=True, curvature_from_zero=True)
    configs["code+adam_sqrt"] = AUTHORS_CODE.replace(adam_sqrt=True)
    configs["algorithm6+adam_sqrt"] = ALGORITHM6.replace(adam_sqrt=True)
    return configs


#: Every switch setting the ablation reports: the code, each difference alone,
#: Algorithm 6, Algorithm 6 without each of its four differences, the literal
#: listing, and the counterfactual square root on both.
CONFIGURATIONS: Dict[str, Switches] = _configurations()


def mamgd_switched(
    learning_rate: float = 0.001,
    beta_1: float = 0.9,
    beta_2: float = 0.999,
    k=0.0,
    epsilon: float = 1e-7,
    switches: Switches = AUTHORS_CODE,
    *,
    dtype=None,
) -> Optimizer:
    """MAMGD with every code-vs-paper difference as a switch (NumPy, any float dtype).

    Step t = 1, 2, ... (``s = t`` with ``decay_exponent``, else ``t - 1``)::

        decay = exp(-k s);  b1 = beta_1 decay;  b2 = beta_2 decay
        (B1, B2) = (beta_1, beta_2) with listing_betas, else (b1, b2)
        m = B1 m + (1 - B1) g;   n = B2 n + (1 - B2) g^2
        a = sqrt(c + n)   with curvature (c = 0 at t = 1 and where the
                          denominator is exactly 0), else sqrt(n)
        C1 = 1 - b1^t;   C2 = sqrt(1 - b2^t) with adam_sqrt, else 1 - b2^t
        correction_form:  theta -= (lr m/C1) / (a/C2 + E),  E = eps   (epsilon)
                                                            E = eps/C2 (otherwise)
        otherwise:        theta -= ((lr C2)/C1 m) / (a + E), E = eps C2 (epsilon)
                                                            E = eps    (otherwise)

    Returns a :class:`mamgd.reference.Optimizer` (``init`` / ``update``), so
    :func:`mamgd.reference.run` drives it; its state is the library's
    :class:`mamgd.reference.MAMGD6State` (the previous-step slots are kept
    whether or not ``curvature`` is on). With an array ``k`` of shape
    ``(K,)`` the parameters must have shape ``(K, dim)``.
    """
    sw = switches
    k_is_array = np.ndim(k) > 0

    def init(params):
        dt = resolve_dtype(dtype, params)
        z = np.zeros(np.shape(params), dt)
        return MAMGD6State(counter(0), z, z.copy(), z.copy(), z.copy())

    def update(params, grads, state):
        dt = resolve_dtype(dtype, params)
        theta = as_array(params, dt)
        g = as_array(grads, dt)
        t = step_number(state.count, dt)
        one = dt.type(1)
        lr = as_scalar(learning_rate, dt)
        if k_is_array:
            kk = np.asarray(k, dtype=dt).reshape((-1,) + (1,) * (theta.ndim - 1))
        else:
            kk = as_scalar(k, dt)
        eps = as_scalar(epsilon, dt)
        decay = exp(-kk * t) if sw.decay_exponent else exp(-kk * (t - one))
        b1 = as_scalar(beta_1, dt) * decay
        b2 = as_scalar(beta_2, dt) * decay
        if sw.listing_betas:
            mb1, mb2 = as_scalar(beta_1, dt), as_scalar(beta_2, dt)
        else:
            mb1, mb2 = b1, b2
        m = mb1 * state.m + (one - mb1) * g
        n = mb2 * state.n + (one - mb2) * (g * g)
        if sw.curvature:
            if int(state.count) == 0 and not sw.curvature_from_zero:
                c = np.zeros_like(n)
            else:
                # c = 0 where the denominator is exactly 0 (as mamgd.reference)
                denominator = theta - state.theta_prev + eps
                zero = denominator == 0
                q = (g - state.g_prev) / np.where(zero, one, denominator)
                c = np.where(zero, np.zeros_like(q), q * q)
            a = np.sqrt(c + n)
        else:
            a = np.sqrt(n)
        c1 = one - power(b1, t)
        c2 = one - power(b2, t)
        if sw.adam_sqrt:
            c2 = np.sqrt(c2)
        if sw.correction_form:
            m_hat = m / c1
            a_hat = a / c2
            denominator = a_hat + eps if sw.epsilon else a_hat + eps / c2
            new_theta = theta - (lr * m_hat) / denominator
        else:
            alpha = (lr * c2) / c1
            denominator = a + eps * c2 if sw.epsilon else a + eps
            new_theta = theta - (alpha * m) / denominator
        new_state = MAMGD6State(counter(int(state.count) + 1), m, n, theta, g)
        return new_theta, new_state

    hp = dict(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2, k=k,
              epsilon=epsilon, switches=sw.label())
    return Optimizer("mamgd_switched", init, update, hp)


# ---------------------------------------------------------------------------
# Keras 3
# ---------------------------------------------------------------------------


class SwitchedMAMGD(keras.optimizers.Optimizer):
    """:func:`mamgd_switched` as a Keras 3 optimizer (for the network ablation).

    Same switches and the same formulas, written with ``keras.ops``.
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, k=1e-4,
                 epsilon=1e-7, switches=AUTHORS_CODE, name="mamgd_switched",
                 **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_1, self.beta_2 = float(beta_1), float(beta_2)
        self.k, self.epsilon = float(k), float(epsilon)
        # a dict when restored from get_config()
        self.switches = Switches(**switches) if isinstance(switches, dict) else switches

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._m, self._n = self.add_optimizer_variables(var_list, ["m", "n"])
        if self.switches.curvature:
            self._theta_prev, self._g_prev = self.add_optimizer_variables(
                var_list, ["theta_prev", "g_prev"])

    def update_step(self, gradient, variable, learning_rate):
        sw = self.switches
        dt = variable.dtype
        lr = ops.cast(learning_rate, dt)
        g = ops.add(ops.zeros(variable.shape, dt), ops.cast(gradient, dt))
        t = ops.cast(self.iterations + 1, dt)
        one = ops.cast(1.0, dt)
        eps = ops.cast(self.epsilon, dt)
        s = t if sw.decay_exponent else t - one
        decay = ops.exp(ops.multiply(-ops.cast(self.k, dt), s))
        b1 = ops.cast(self.beta_1, dt) * decay
        b2 = ops.cast(self.beta_2, dt) * decay
        if sw.listing_betas:
            mb1, mb2 = ops.cast(self.beta_1, dt), ops.cast(self.beta_2, dt)
        else:
            mb1, mb2 = b1, b2
        index = self._get_variable_index(variable)
        m, n = self._m[index], self._n[index]
        self.assign(m, ops.add(ops.multiply(mb1, m), ops.multiply(one - mb1, g)))
        self.assign(n, ops.add(ops.multiply(mb2, n),
                               ops.multiply(one - mb2, ops.square(g))))
        if sw.curvature:
            theta_prev, g_prev = self._theta_prev[index], self._g_prev[index]
            denominator = ops.add(ops.subtract(variable, theta_prev), eps)
            # c = 0 where the denominator is exactly 0 (a select, as mamgd.MAMGD)
            live = ops.not_equal(denominator, 0)
            if not sw.curvature_from_zero:
                live = ops.logical_and(live, t > 1)
            q = ops.divide(ops.subtract(g, g_prev),
                           ops.where(live, denominator, ops.ones_like(denominator)))
            c = ops.where(live, ops.square(q), ops.zeros_like(q))
            a = ops.sqrt(ops.add(c, n))
            self.assign(theta_prev, variable)
            self.assign(g_prev, g)
        else:
            a = ops.sqrt(n)
        c1 = one - ops.power(b1, t)
        c2 = one - ops.power(b2, t)
        if sw.adam_sqrt:
            c2 = ops.sqrt(c2)
        if sw.correction_form:
            denominator = a / c2 + (eps if sw.epsilon else eps / c2)
            step = ops.divide(lr * (m / c1), denominator)
        else:
            denominator = a + (eps * c2 if sw.epsilon else eps)
            step = ops.divide(((lr * c2) / c1) * m, denominator)
        self.assign_sub(variable, step)

    def get_config(self):
        config = super().get_config()
        config.update(beta_1=self.beta_1, beta_2=self.beta_2, k=self.k,
                      epsilon=self.epsilon, switches=dataclasses.asdict(self.switches))
        return config


def keras_optimizer(switches=AUTHORS_CODE, **kwargs):
    """A Keras 3 optimizer running :func:`mamgd_switched`'s rule."""
    return SwitchedMAMGD(switches=switches, **kwargs)
