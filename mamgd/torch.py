"""MAMGD and AdaExp as PyTorch optimizers (``torch.optim.Optimizer`` subclasses).

Importable with torch alone (no Keras, no backend)::

    import torch, mamgd.torch

    model = torch.nn.Linear(10, 1)
    optimizer = mamgd.torch.MAMGD(model.parameters(), lr=1e-3, k=1e-4)
    for x, y in batches:
        optimizer.zero_grad()
        torch.nn.functional.mse_loss(model(x), y).backward()
        optimizer.step()

They follow PyTorch's conventions: parameter groups (every hyperparameter
can differ per group and be changed by a learning-rate scheduler), a
``state_dict`` that round-trips, ``step(closure)``, ``maximize``, decoupled
``weight_decay`` (as AdamW and Keras) and ``foreach`` (the multi-tensor
``torch._foreach_*`` kernels; the default uses them when every parameter is on
a CUDA device). Sparse and complex parameters are not supported.

Numerics: the update is the one of :mod:`mamgd.reference` operation for
operation. The scalars of a step (decayed betas, bias corrections, the step
size) are computed on the host in double precision and rounded once to the
parameter's dtype after every operation, which for float32 is exactly float32
arithmetic with correctly rounded ``exp`` and ``pow``; the element-wise
operations are separate kernels (no fused multiply-add). So float32 runs equal
the NumPy reference bit for bit (float32 square roots on CPU are taken in
float64 and rounded once: PyTorch's own are not correctly rounded there), and reproduce the paper's Tables 1-6 exactly
(``tests/library/test_implementations.py``). Defaults are the paper's (and
Keras's): ``eps=1e-7``, not PyTorch's 1e-8.
"""

import math
import struct

import torch

from mamgd._checks import (
    DEFAULT_K,
    VARIANTS,
    check_beta,
    check_epsilon,
    check_k,
    check_learning_rate,
    check_variant,
    is_number,
    type_error,
)

__all__ = ["MAMGD", "AdaExp", "VARIANTS", "DEFAULT_K"]


def _float32(x):
    """``x`` rounded to the nearest float32 (as a Python float)."""
    return struct.unpack("f", struct.pack("f", x))[0]


def _rounding(dtype):
    """The function that rounds a Python float to ``dtype``."""
    if dtype == torch.float64:
        return float
    if dtype == torch.float32:
        return _float32
    return lambda x: torch.tensor(x, dtype=dtype).item()


def _check_common(lr, betas, k, eps, weight_decay):
    if isinstance(lr, torch.Tensor):
        if lr.numel() != 1:
            raise ValueError(f"Argument `lr` as a Tensor must hold one number; received lr={lr!r}.")
        check_learning_rate(lr.item(), "lr")
    else:
        check_learning_rate(lr, "lr")
    if not (isinstance(betas, (tuple, list)) and len(betas) == 2):
        raise type_error("betas", betas, "a pair (beta_1, beta_2)")
    check_beta(betas[0], "betas[0]")
    check_beta(betas[1], "betas[1]")
    check_k(k, "k")
    check_epsilon(eps, "eps")
    if not is_number(weight_decay):
        raise type_error("weight_decay", weight_decay)
    if not (math.isfinite(weight_decay) and weight_decay >= 0):
        raise ValueError(f"Argument `weight_decay` must be a finite number >= 0; "
                         f"received weight_decay={weight_decay!r}.")


class _Ops:
    """Element-wise operations on lists of tensors: one kernel each, looped
    tensor by tensor or through the ``torch._foreach_*`` kernels."""

    def __init__(self, foreach):
        self.foreach = foreach

    def mul(self, xs, y):
        if self.foreach:
            return list(torch._foreach_mul(xs, y))
        ys = y if isinstance(y, list) else [y] * len(xs)
        return [torch.mul(x, b) for x, b in zip(xs, ys)]

    def mul_(self, xs, y):
        if self.foreach:
            torch._foreach_mul_(xs, y)
            return
        ys = y if isinstance(y, list) else [y] * len(xs)
        for x, b in zip(xs, ys):
            x.mul_(b)

    def add_(self, xs, y):
        if self.foreach:
            torch._foreach_add_(xs, y)
            return
        ys = y if isinstance(y, list) else [y] * len(xs)
        for x, b in zip(xs, ys):
            x.add_(b)

    def sub(self, xs, ys):
        if self.foreach:
            return list(torch._foreach_sub(xs, ys))
        return [torch.sub(x, y) for x, y in zip(xs, ys)]

    def sub_(self, xs, ys):
        if self.foreach:
            torch._foreach_sub_(xs, ys)
            return
        for x, y in zip(xs, ys):
            x.sub_(y)

    def div_(self, xs, y):
        if self.foreach:
            torch._foreach_div_(xs, y)
            return
        ys = y if isinstance(y, list) else [y] * len(xs)
        for x, b in zip(xs, ys):
            x.div_(b)

    def sqrt(self, xs):
        if xs and xs[0].dtype == torch.float32 and xs[0].device.type == "cpu":
            # PyTorch's float32 sqrt on CPU is not correctly rounded (1 ulp off
            # for ~17% of inputs, torch 2.13 on AVX2 and AVX-512); in float64,
            # rounded once to float32, it is (double rounding is harmless for
            # sqrt when the wide format has >= 2 p + 2 bits).
            return [torch.sqrt(x.double()).float() for x in xs]
        if self.foreach:
            return list(torch._foreach_sqrt(xs))
        return [torch.sqrt(x) for x in xs]

    def copy_(self, xs, ys):
        if self.foreach:
            torch._foreach_copy_(xs, ys)
            return
        for x, y in zip(xs, ys):
            x.copy_(y)


class _Optimizer(torch.optim.Optimizer):
    """Parameter groups, state, closure and foreach handling shared by both."""

    _slots = ("exp_avg", "exp_avg_sq")

    def __init__(self, params, defaults):
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("maximize", False)
            group.setdefault("foreach", None)
            group.setdefault("weight_decay", 0.0)

    def _slot_names(self, group):
        return self._slots

    @torch.no_grad()
    def step(self, closure=None):
        """Apply one update to every parameter that has a gradient.

        ``closure``: an optional callable that re-evaluates the model and
        returns the loss (called with gradients enabled).
        """
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            buckets = {}
            for p in group["params"]:
                if p.grad is None:
                    continue
                if p.grad.is_sparse:
                    raise RuntimeError(f"{type(self).__name__} does not support sparse gradients.")
                if torch.is_complex(p):
                    raise RuntimeError(f"{type(self).__name__} does not support complex parameters.")
                state = self.state[p]
                if not state:
                    state["step"] = torch.tensor(0.0, dtype=torch.float64)
                    for name in self._slot_names(group):
                        state[name] = torch.zeros_like(p, memory_format=torch.preserve_format)
                state["step"] += 1
                key = (p.device, p.dtype, int(state["step"].item()))
                buckets.setdefault(key, []).append(p)
            foreach = group["foreach"]
            for (device, dtype, t), params in buckets.items():
                use_foreach = (foreach if foreach is not None
                               else all(p.is_cuda for p in params))
                ops = _Ops(bool(use_foreach))
                grads = [p.grad for p in params]
                if group["maximize"]:
                    grads = [torch.neg(g) for g in grads]
                lr = group["lr"]
                lr = lr.item() if isinstance(lr, torch.Tensor) else float(lr)
                if group["weight_decay"] != 0:
                    ops.mul_(params, 1.0 - lr * group["weight_decay"])
                states = [self.state[p] for p in params]
                self._update(group, ops, _rounding(dtype), t, lr, params, grads, states)
        return loss


class MAMGD(_Optimizer):
    """MAMGD (Sakovich et al., *Technologies* 2024, 12(9), 154) for PyTorch.

    With t = 1, 2, ... the update count, g the gradient and theta the
    parameter, ``variant="authors_code"`` (default; the rule that produced the
    paper's numbers) is::

        b1 = beta_1 exp(-k (t-1)),   b2 = beta_2 exp(-k (t-1))
        alpha = lr (1 - b2^t) / (1 - b1^t)
        m = b1 m + (1 - b1) g,   n = b2 n + (1 - b2) g^2
        theta = theta - alpha m / (sqrt(n) + eps)

    and ``variant="algorithm6"`` is the paper's Algorithm 6 as printed::

        b1 = beta_1 exp(-k t),   b2 = beta_2 exp(-k t)
        m, n as above
        c = ((g - g_prev) / (theta - theta_prev + eps))^2
            (c = 0 at t = 1 and wherever theta - theta_prev + eps == 0)
        m_hat = m / (1 - b1^t),   a_hat = sqrt(c + n) / (1 - b2^t)
        theta = theta - lr m_hat / (a_hat + eps)

    Warning: ``algorithm6`` freezes float32 parameters. A parameter that moved
    by a tiny step (or not at all) while its gradient changed gets a huge
    curvature term, hence a step below its float32 resolution, and then never
    moves again (measured in the repository's ablation, ``figures/REPORT.md``).
    See :class:`mamgd.MAMGD` for the differences between the two variants.

    Args:
        params: the parameters or parameter groups to optimize.
        lr: learning rate, a number > 0 (or a one-element Tensor). Default 1e-3.
        betas: ``(beta_1, beta_2)``, each in [0, 1). Default (0.9, 0.999).
        k: decay rate of the betas, >= 0. Default 1e-4 (the paper: 1e-6 to
            1e-3 for networks, 0.027 to 2.38 on its test functions).
        eps: > 0. Default 1e-7 (the paper and Keras).
        variant: ``"authors_code"`` or ``"algorithm6"``.
        weight_decay: decoupled weight decay (``theta *= 1 - lr wd`` before
            the update, as AdamW). Default 0.
        maximize: maximize the objective instead of minimizing it.
        foreach: use the multi-tensor kernels (None: when on CUDA).

    State per parameter: ``step``, ``exp_avg`` (m), ``exp_avg_sq`` (n), and for
    ``algorithm6`` also ``prev_param`` and ``prev_grad``.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), k=DEFAULT_K, eps=1e-7,
                 variant="authors_code", weight_decay=0.0, *, maximize=False, foreach=None):
        _check_common(lr, betas, k, eps, weight_decay)
        check_variant(variant)
        defaults = dict(lr=lr, betas=tuple(betas), k=k, eps=eps, variant=variant,
                        weight_decay=weight_decay, maximize=maximize, foreach=foreach)
        super().__init__(params, defaults)

    def _slot_names(self, group):
        if group["variant"] == "algorithm6":
            return ("exp_avg", "exp_avg_sq", "prev_param", "prev_grad")
        return self._slots

    def _update(self, group, ops, r, t, lr, params, grads, states):
        beta_1, beta_2 = group["betas"]
        algorithm6 = group["variant"] == "algorithm6"
        tt, one, kk, eps = r(t), r(1.0), r(group["k"]), r(group["eps"])
        lr = r(lr)
        decay = r(math.exp(r(-kk * (tt if algorithm6 else r(tt - one)))))
        b1, b2 = r(r(beta_1) * decay), r(r(beta_2) * decay)
        bias_1, bias_2 = r(one - r(b1 ** tt)), r(one - r(b2 ** tt))
        m = [s["exp_avg"] for s in states]
        n = [s["exp_avg_sq"] for s in states]
        # m = b1 m + (1 - b1) g;  n = b2 n + (1 - b2) g^2
        ops.mul_(m, b1)
        ops.add_(m, ops.mul(grads, r(one - b1)))
        squares = ops.mul(grads, grads)
        ops.mul_(squares, r(one - b2))
        ops.mul_(n, b2)
        ops.add_(n, squares)
        if not algorithm6:
            alpha = r(r(lr * bias_2) / bias_1)
            denominator = ops.sqrt(n)
            ops.add_(denominator, eps)
            step = ops.mul(m, alpha)
            ops.div_(step, denominator)
            ops.sub_(params, step)
            return
        previous = [s["prev_param"] for s in states]
        previous_grads = [s["prev_grad"] for s in states]
        if t == 1:
            a = ops.sqrt(n)  # c = 0: there is no previous step
        else:
            # c = ((g - g_prev) / (theta - theta_prev + eps))^2, and 0 where
            # the denominator is exactly 0 (a select: no NaN, no branch)
            denominators = ops.sub(params, previous)
            ops.add_(denominators, eps)
            secants = ops.sub(grads, previous_grads)
            ops.div_(secants, denominators)
            secants = [torch.where(d != 0, q, torch.zeros_like(q))
                       for q, d in zip(secants, denominators)]
            a = ops.mul(secants, secants)
            ops.add_(a, n)
            a = ops.sqrt(a)
        m_hat = ops.mul(m, 1.0)
        ops.div_(m_hat, bias_1)
        ops.div_(a, bias_2)  # a_hat
        ops.copy_(previous, params)
        ops.copy_(previous_grads, grads)
        step = ops.mul(m_hat, lr)
        ops.add_(a, eps)
        ops.div_(step, a)
        ops.sub_(params, step)


class AdaExp(_Optimizer):
    """AdaExp, the paper's Algorithm 7: Adam whose betas decay as ``beta exp(-k t)``.

    With t = 1, 2, ... the update count::

        b1 = beta_1 exp(-k t),   b2 = beta_2 exp(-k t)
        alpha = lr sqrt(1 - b2^t) / (1 - b1^t)
        m = m + (g - m)(1 - b1),   v = v + (g^2 - v)(1 - b2)
        theta = theta - alpha m / (sqrt(v) + eps)

    This is Keras's form of Adam (epsilon added to ``sqrt(v)`` before the bias
    correction), so ``AdaExp(k=0)`` equals ``keras.optimizers.Adam`` and
    :func:`mamgd.reference.adam` bit for bit, and ``torch.optim.Adam`` (which
    adds eps after the bias correction) to within a relative 1e-6 or so.

    Args: as :class:`MAMGD`, without ``variant``. State per parameter:
    ``step``, ``exp_avg`` (m), ``exp_avg_sq`` (v).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), k=DEFAULT_K, eps=1e-7,
                 weight_decay=0.0, *, maximize=False, foreach=None):
        _check_common(lr, betas, k, eps, weight_decay)
        defaults = dict(lr=lr, betas=tuple(betas), k=k, eps=eps,
                        weight_decay=weight_decay, maximize=maximize, foreach=foreach)
        super().__init__(params, defaults)

    def _update(self, group, ops, r, t, lr, params, grads, states):
        beta_1, beta_2 = group["betas"]
        # The decayed betas are hyperparameters: evaluated in double precision
        # and rounded once (as Keras rounds 1 - beta), so k = 0 is Adam exactly.
        decay = math.exp(-float(group["k"]) * t)
        b1_exact, b2_exact = beta_1 * decay, beta_2 * decay
        tt, one, eps = r(t), r(1.0), r(group["eps"])
        b1, b2 = r(b1_exact), r(b2_exact)
        one_minus_b1, one_minus_b2 = r(1.0 - b1_exact), r(1.0 - b2_exact)
        bias_1 = r(one - r(b1 ** tt))
        alpha = r(r(r(lr) * r(math.sqrt(r(one - r(b2 ** tt))))) / bias_1)
        m = [s["exp_avg"] for s in states]
        v = [s["exp_avg_sq"] for s in states]
        # m = m + (g - m)(1 - b1);  v = v + (g^2 - v)(1 - b2)
        delta = ops.sub(grads, m)
        ops.mul_(delta, one_minus_b1)
        ops.add_(m, delta)
        squares = ops.mul(grads, grads)
        delta = ops.sub(squares, v)
        ops.mul_(delta, one_minus_b2)
        ops.add_(v, delta)
        denominator = ops.sqrt(v)
        ops.add_(denominator, eps)
        step = ops.mul(m, alpha)
        ops.div_(step, denominator)
        ops.sub_(params, step)
