"""MAMGD and AdaExp as Keras 3 optimizers.

Both classes are written with ``keras.ops`` and the optimizer's own
``assign``/``assign_add``/``assign_sub`` only, so they run unchanged on the
TensorFlow, JAX and PyTorch backends, inside ``tf.distribute`` strategies and
under ``keras.mixed_precision`` with a ``LossScaleOptimizer``.

Reference: N. Sakovich, D. Aksenov, E. Pleshakova, S. Gataullin, "MAMGD:
Gradient-Based Optimization Method Using Exponential Decay", *Technologies*
2024, 12(9), 154, doi:10.3390/technologies12090154 (Algorithms 6 and 7).
"""


try:
    import keras
except ModuleNotFoundError as _error:  # keras is there, its backend is not
    if (_error.name or "").split(".")[0] not in ("tensorflow", "jax", "torch"):
        raise
    from mamgd._backend import missing_backend_error

    raise missing_backend_error(_error.name.split(".")[0]) from None
from keras import ops

from mamgd._checks import (
    DEFAULT_K,
    VARIANTS,
    check_hyperparameters,
    check_learning_rate,
    check_variant,
    is_number,
    type_error,
)

__all__ = ["MAMGD", "AdaExp", "VARIANTS", "DEFAULT_K"]


def _check_learning_rate(learning_rate):
    """Numbers are checked here; schedules, callables and tensors go to Keras."""
    if is_number(learning_rate) or isinstance(learning_rate, (bool, str, bytes)) or (
        learning_rate is None
    ):
        check_learning_rate(learning_rate)
    elif not (callable(learning_rate) or hasattr(learning_rate, "dtype")):
        raise type_error("learning_rate", learning_rate,
                         "a real number > 0 or a schedule")


def _check_hyperparameters(beta_1, beta_2, k, epsilon):
    check_hyperparameters(beta_1, beta_2, k, epsilon)


def _decayed_betas(beta_1, beta_2, k, exponent):
    """Return ``b_i = beta_i exp(-k s)`` and ``1 - b_i`` for step exponent ``s``.

    ``beta_1``, ``beta_2`` and ``k`` are Python floats, ``exponent`` a tensor
    whose dtype the results take.

    ``1 - b_i`` is computed as ``(1 - beta_i) + beta_i (1 - exp(-k s))`` with
    ``1 - exp(-k s) = -expm1(-k s)``: the same value as ``1 - b_i`` in exact
    arithmetic, without cancellation, and at ``k = 0`` it is exactly Keras's
    ``1 - beta_i`` (so AdaExp with k = 0 is Adam bit for bit).
    """
    decay = ops.exp(-k * exponent)
    one_minus_decay = -ops.expm1(-k * exponent)
    b1, b2 = beta_1 * decay, beta_2 * decay
    one_minus_b1 = (1.0 - beta_1) + beta_1 * one_minus_decay
    one_minus_b2 = (1.0 - beta_2) + beta_2 * one_minus_decay
    return b1, b2, one_minus_b1, one_minus_b2


@keras.saving.register_keras_serializable(package="mamgd")
class MAMGD(keras.optimizers.Optimizer):
    """MAMGD: Adam-like moments with exponentially decaying betas.

    Two readings of the paper are available through ``variant``; t = 1, 2, ...
    counts applied updates, g is the gradient, theta the parameter.

    ``variant="authors_code"`` (default) is the rule that produced every
    published number (Tables 1-11) in the authors' notebook::

        b1 = beta_1 exp(-k (t-1)),   b2 = beta_2 exp(-k (t-1))
        alpha = eta (1 - b2^t) / (1 - b1^t)          # no square root
        m = b1 m + (1 - b1) g
        n = b2 n + (1 - b2) g^2
        theta = theta - alpha m / (sqrt(n) + epsilon)

    The authors' code also computes a curvature (secant) term
    ``c = ((g - g_prev) / (theta - theta_prev + epsilon))^2`` and steps with
    ``sqrt(c + n)``, but it stores ``g_prev`` and ``theta_prev`` *before* it
    reads them, so both differences are 0 and ``c`` is identically 0. This
    variant therefore omits ``c`` and keeps 2 slots per parameter (like Adam).

    ``variant="algorithm6"`` is Algorithm 6 as printed in the paper::

        b1 = beta_1 exp(-k t),   b2 = beta_2 exp(-k t)
        m = b1 m + (1 - b1) g
        n = b2 n + (1 - b2) g^2
        c = ((g - g_prev) / (theta - theta_prev + epsilon))^2
            (c = 0 at t = 1 and wherever theta - theta_prev + epsilon == 0)
        a = sqrt(c + n)
        m_hat = m / (1 - b1^t),   a_hat = a / (1 - b2^t)
        theta = theta - eta m_hat / (a_hat + epsilon)

    where ``theta_prev`` and ``g_prev`` are the parameter and gradient of the
    previous step (4 slots per parameter).

    Every difference between the printed Algorithm 6 and the authors' code:

    1. decay exponent: ``exp(-k t)`` (paper) vs ``exp(-k (t-1))`` (code);
    2. bias correction: the paper divides m by ``1 - b1^t`` and ``a`` by
       ``1 - b2^t``; the code scales the step by ``(1 - b2^t)/(1 - b1^t)``.
       Both are the same ratio up to the epsilon (item 3); neither has Adam's
       square root on ``1 - b2^t``, so both steps start at about
       ``eta sqrt(1 - beta_2)`` and grow: a built-in learning-rate warm-up;
    3. epsilon placement: ``a_hat + eps`` (paper) vs ``sqrt(n) + eps`` before
       the bias rescaling (code);
    4. the listing prints the undecayed betas in the moment updates while the
       text uses the decayed ones (both variants here use the decayed ones);
    5. the curvature term, live only in Algorithm 6 (identically 0 in code).

    Warning on ``algorithm6`` (the rule as printed, measured in the
    repository's ablation, ``figures/REPORT.md``, where it freezes network
    training): a parameter that moved by a tiny step, or not at all
    (``theta = theta_prev``), while its gradient changed gets a huge curvature
    term, about ``((g - g_prev)/epsilon)^2``, hence a tiny step. In float32
    that step falls below the parameter's resolution, the parameter does not
    move, and the next step is tiny again: it is frozen for good (a parameter
    held at 0.5 for 5 steps under a noisy gradient stayed exactly 0.5 for 300
    steps, where ``authors_code`` reached 0.398). Where the denominator
    ``theta - theta_prev + epsilon`` is exactly 0 the term is defined as 0
    (a select), so the rule never writes NaN; everywhere else it is
    unchanged.

    Args:
        learning_rate: float > 0, a ``LearningRateSchedule`` or a callable.
            Defaults to 0.001 (the paper's network experiments).
        beta_1: float in [0, 1), first-moment decay. Defaults to 0.9.
        beta_2: float in [0, 1), second-moment decay. Defaults to 0.999.
        k: float >= 0, rate of the exponential decay of the betas. Defaults
            to 1e-4 (the paper's Tables 7 and 10; it used 1e-6 to 1e-3 for
            networks and ~0.03 to ~2.4 on the test functions).
        epsilon: float > 0. Defaults to 1e-7 (Keras and the paper).
        variant: ``"authors_code"`` or ``"algorithm6"``.
        **kwargs: the base optimizer's arguments (``weight_decay``,
            ``clipnorm``, ``clipvalue``, ``global_clipnorm``, ``use_ema``,
            ``ema_momentum``, ``ema_overwrite_frequency``,
            ``loss_scale_factor``, ``gradient_accumulation_steps``, ``name``).
    """

    def __init__(
        self,
        learning_rate=0.001,
        beta_1=0.9,
        beta_2=0.999,
        k=DEFAULT_K,
        epsilon=1e-7,
        variant="authors_code",
        name="mamgd",
        **kwargs,
    ):
        check_variant(variant)
        _check_learning_rate(learning_rate)
        _check_hyperparameters(beta_1, beta_2, k, epsilon)
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_1 = float(beta_1)
        self.beta_2 = float(beta_2)
        self.k = float(k)
        self.epsilon = float(epsilon)
        self.variant = variant

    def build(self, var_list):
        """Create the slots: m and n, plus theta_prev and g_prev for algorithm6."""
        if self.built:
            return
        super().build(var_list)
        self._momentums, self._velocities = self.add_optimizer_variables(
            var_list, ["momentum", "velocity"]
        )
        if self.variant == "algorithm6":
            self._previous_variables, self._previous_gradients = (
                self.add_optimizer_variables(
                    var_list, ["previous_variable", "previous_gradient"]
                )
            )

    def update_step(self, gradient, variable, learning_rate):
        """Apply one MAMGD update to ``variable``."""
        dtype = variable.dtype
        lr = ops.cast(learning_rate, dtype)
        gradient = ops.cast(gradient, dtype)
        t = ops.cast(self.iterations + 1, dtype)
        index = self._get_variable_index(variable)
        m = self._momentums[index]
        n = self._velocities[index]
        if self.variant == "authors_code":
            self._authors_code_step(gradient, variable, lr, t, m, n)
        else:
            self._algorithm6_step(gradient, variable, lr, t, m, n, index)

    def _authors_code_step(self, g, variable, lr, t, m, n):
        beta_1 = ops.cast(self.beta_1, variable.dtype)
        beta_2 = ops.cast(self.beta_2, variable.dtype)
        decay = ops.exp(ops.multiply(-ops.cast(self.k, variable.dtype), t - 1))
        b1 = beta_1 * decay
        b2 = beta_2 * decay
        alpha = lr * (1 - ops.power(b2, t)) / (1 - ops.power(b1, t))
        self.assign(m, ops.add(ops.multiply(b1, m), ops.multiply(1 - b1, g)))
        self.assign(
            n, ops.add(ops.multiply(b2, n), ops.multiply(1 - b2, ops.square(g)))
        )
        self.assign_sub(
            variable,
            ops.divide(ops.multiply(alpha, m), ops.add(ops.sqrt(n), self.epsilon)),
        )

    def _algorithm6_step(self, g, variable, lr, t, m, n, index):
        theta_prev = self._previous_variables[index]
        g_prev = self._previous_gradients[index]
        if hasattr(g, "indices"):
            # g_prev must hold the whole previous gradient: a sparse gradient
            # (tf.IndexedSlices) would only overwrite its own rows on assign.
            g = ops.add(ops.zeros(variable.shape, variable.dtype), g)
        b1, b2, one_minus_b1, one_minus_b2 = _decayed_betas(
            self.beta_1, self.beta_2, self.k, t
        )
        self.assign(m, ops.add(ops.multiply(b1, m), ops.multiply(one_minus_b1, g)))
        self.assign(
            n, ops.add(ops.multiply(b2, n), ops.multiply(one_minus_b2, ops.square(g)))
        )
        # The curvature term is 0 at t = 1 (there is no previous step) and
        # wherever its denominator theta - theta_prev + eps is exactly 0
        # (0/0 or x/0 would give NaN or inf): a select, so every other element
        # is the printed rule's value, unchanged.
        denominator = ops.add(ops.subtract(variable, theta_prev), self.epsilon)
        live = ops.logical_and(t > 1, ops.not_equal(denominator, 0))
        secant = ops.where(
            live, ops.divide(ops.subtract(g, g_prev), denominator), ops.zeros_like(g)
        )
        a = ops.sqrt(ops.add(ops.square(secant), n))
        m_hat = ops.divide(m, 1 - ops.power(b1, t))
        a_hat = ops.divide(a, 1 - ops.power(b2, t))
        self.assign(theta_prev, variable)
        self.assign(g_prev, g)
        self.assign_sub(
            variable, ops.divide(ops.multiply(lr, m_hat), ops.add(a_hat, self.epsilon))
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "beta_1": self.beta_1,
                "beta_2": self.beta_2,
                "k": self.k,
                "epsilon": self.epsilon,
                "variant": self.variant,
            }
        )
        return config


@keras.saving.register_keras_serializable(package="mamgd")
class AdaExp(keras.optimizers.Optimizer):
    """AdaExp: Adam whose betas decay exponentially (the paper's Algorithm 7).

    With t = 1, 2, ... the number of applied updates::

        b1 = beta_1 exp(-k t),   b2 = beta_2 exp(-k t)
        alpha = eta sqrt(1 - b2^t) / (1 - b1^t)
        m = m + (g - m)(1 - b1)
        v = v + (g^2 - v)(1 - b2)
        theta = theta - alpha m / (sqrt(v) + epsilon)

    The bias correction is Adam's (with the square root), the decay exponent
    is the paper's ``exp(-k t)``. With ``k = 0`` this is
    ``keras.optimizers.Adam`` operation for operation, hence bit for bit on
    the TensorFlow and JAX backends (on the PyTorch backend Keras replaces
    its Adam with a fused torch kernel: 1-ulp differences from step 1).

    Reference: Sakovich et al., *Technologies* 2024, 12(9), 154, Section 7.

    Args:
        learning_rate: float > 0, a ``LearningRateSchedule`` or a callable.
        beta_1, beta_2: floats in [0, 1). Defaults 0.9 and 0.999.
        k: float >= 0, decay rate of the betas. Defaults to 1e-4.
        epsilon: float > 0. Defaults to 1e-7.
        **kwargs: the base optimizer's arguments.
    """

    def __init__(
        self,
        learning_rate=0.001,
        beta_1=0.9,
        beta_2=0.999,
        k=DEFAULT_K,
        epsilon=1e-7,
        name="adaexp",
        **kwargs,
    ):
        _check_learning_rate(learning_rate)
        _check_hyperparameters(beta_1, beta_2, k, epsilon)
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_1 = float(beta_1)
        self.beta_2 = float(beta_2)
        self.k = float(k)
        self.epsilon = float(epsilon)

    def build(self, var_list):
        """Create the slots m and v."""
        if self.built:
            return
        super().build(var_list)
        self._momentums, self._velocities = self.add_optimizer_variables(
            var_list, ["momentum", "velocity"]
        )

    def update_step(self, gradient, variable, learning_rate):
        """Apply one AdaExp update to ``variable``."""
        dtype = variable.dtype
        lr = ops.cast(learning_rate, dtype)
        gradient = ops.cast(gradient, dtype)
        t = ops.cast(self.iterations + 1, dtype)
        b1, b2, one_minus_b1, one_minus_b2 = _decayed_betas(
            self.beta_1, self.beta_2, self.k, t
        )
        index = self._get_variable_index(variable)
        m = self._momentums[index]
        v = self._velocities[index]
        alpha = lr * ops.sqrt(1 - ops.power(b2, t)) / (1 - ops.power(b1, t))
        self.assign_add(m, ops.multiply(ops.subtract(gradient, m), one_minus_b1))
        self.assign_add(
            v, ops.multiply(ops.subtract(ops.square(gradient), v), one_minus_b2)
        )
        self.assign_sub(
            variable,
            ops.divide(ops.multiply(m, alpha), ops.add(ops.sqrt(v), self.epsilon)),
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "beta_1": self.beta_1,
                "beta_2": self.beta_2,
                "k": self.k,
                "epsilon": self.epsilon,
            }
        )
        return config
