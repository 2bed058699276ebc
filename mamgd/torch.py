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
size) are computed once per step and group on the host in double precision and
rounded to the parameter's dtype after every operation, which for float32 is
exactly float32 arithmetic with correctly rounded ``exp`` and ``pow``; each
element-wise operation is one kernel that rounds once (no fused multiply-add:
``add_(x, alpha=)``, ``addcmul_`` and ``lerp_`` fuse one, so they are not used;
``addcdiv_(a, b, value=-1)`` rounds ``a / b`` and then the sum, as the
reference). Square roots on CPU are NumPy's, computed on the tensors' own
memory (PyTorch's float32 ``sqrt`` on CPU is 1 ulp off for ~17% of inputs;
without NumPy, float32 goes through float64, rounded once, exact but slower).
So float32 runs equal the NumPy reference bit for bit, on both the
single-tensor and the ``foreach`` paths, and reproduce the paper's Tables 1-6
exactly (``tests/library/test_implementations.py``). Defaults are the paper's
(and Keras's): ``eps=1e-7``, not PyTorch's 1e-8.

Speed: the single-tensor path (the default on CPU) works in place and in
scratch buffers reused across parameters and steps (two copies of the largest
parameter, not saved in the state), so a step allocates nothing. On CPU, one
thread, the update of the paper's MNIST network's parameters (406,282 floats)
takes about 1.35x ``torch.optim.Adam``'s time for ``authors_code`` and
AdaExp, 2.8x for ``algorithm6`` (which does twice the element-wise work:
``benchmarks/framework_speed.py``).
"""

import math
import struct

import torch

try:
    import numpy as np
except ImportError:  # mamgd depends on NumPy; torch alone does not
    np = None

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


def _numpy_view(x):
    """``x`` as a NumPy array sharing its memory, where NumPy can compute on
    it (a CPU float32 or float64 tensor); else None."""
    if np is None or x.device.type != "cpu" or x.dtype not in (torch.float32, torch.float64):
        return None
    return x.detach().numpy()


class _Scratch:
    """Work buffers reused by every parameter and step (not optimizer state).

    One flat buffer per (device, dtype, slot), grown to the largest parameter
    seen; a parameter gets a view of its first ``numel`` elements. So a step
    allocates nothing on the single-tensor path, and the extra memory is two
    copies of the largest parameter (and a bool mask of it for algorithm6).
    """

    def __init__(self):
        self._flat = {}

    def __call__(self, like, slot, dtype=None):
        dtype = like.dtype if dtype is None else dtype
        key = (like.device, dtype, slot)
        size = like.numel()
        flat = self._flat.get(key)
        if flat is None or flat.numel() < size:
            flat = torch.empty(size, dtype=dtype, device=like.device)
            self._flat[key] = flat
        return flat[:size].view(like.shape)

    def sqrt_into(self, out, x):
        """``out = sqrt(x)``, correctly rounded; ``out`` may be ``x``.

        PyTorch's float32 sqrt on CPU is not correctly rounded (1 ulp off for
        ~17% of inputs, torch 2.13 on AVX2 and AVX-512), so on CPU the square
        root is NumPy's (the SIMD instruction, correctly rounded, and the
        reference's own), on the tensors' memory: no copy. Without NumPy,
        float32 goes through float64, rounded once (double rounding is
        harmless for sqrt when the wide format has >= 2 p + 2 bits).
        """
        source, target = _numpy_view(x), _numpy_view(out)
        if source is not None and target is not None:
            np.sqrt(source, out=target)
        elif x.dtype == torch.float32 and x.device.type == "cpu":
            wide = self(x, "wide", torch.float64)
            wide.copy_(x)
            torch.sqrt(wide, out=out)  # computed in float64, rounded once
        else:
            torch.sqrt(x, out=out)

    def zero_where_zero(self, q, d):
        """``q = 0`` wherever ``d == 0`` (in place)."""
        quotient, denominator = _numpy_view(q), _numpy_view(d)
        if quotient is not None and denominator is not None:
            # NumPy's comparison is ~10x torch's on CPU, and the fill runs
            # only when some denominator is 0 (rare)
            zero = self(d, "mask", torch.bool).numpy()
            np.equal(denominator, 0, out=zero)
            if zero.any():
                np.putmask(quotient, zero, 0)
        else:
            q.masked_fill_(d == 0, 0.0)


def _sqrt_list(xs, scratch):
    """The correctly rounded square roots of a list of tensors (new tensors)."""
    if xs and xs[0].device.type == "cpu":
        outs = [torch.empty_like(x) for x in xs]
        for out, x in zip(outs, xs):
            scratch.sqrt_into(out, x)
        return outs
    return list(torch._foreach_sqrt(xs))


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

    @property
    def _scratch(self):
        # Work buffers, outside the state (not saved, rebuilt after unpickling).
        scratch = self.__dict__.get("_scratch_buffers")
        if scratch is None:
            scratch = self.__dict__["_scratch_buffers"] = _Scratch()
        return scratch

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
            lr = group["lr"]
            lr = lr.item() if isinstance(lr, torch.Tensor) else float(lr)
            for (device, dtype, t), params in buckets.items():
                use_foreach = bool(foreach if foreach is not None
                                   else all(p.is_cuda for p in params))
                grads = [p.grad for p in params]
                if group["maximize"]:
                    grads = ([torch.neg(g) for g in grads] if not use_foreach
                             else list(torch._foreach_neg(grads)))
                if group["weight_decay"] != 0:
                    decay = 1.0 - lr * group["weight_decay"]
                    if use_foreach:
                        torch._foreach_mul_(params, decay)
                    else:
                        for p in params:
                            p.mul_(decay)
                states = [self.state[p] for p in params]
                self._update(group, use_foreach, _rounding(dtype), t, lr, params, grads, states)
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

    def _update(self, group, foreach, r, t, lr, params, grads, states):
        beta_1, beta_2 = group["betas"]
        algorithm6 = group["variant"] == "algorithm6"
        # The scalars, once per step and group, on the host (see the module's
        # docstring): every operation rounded to the parameters' dtype.
        tt, one, kk, eps = r(t), r(1.0), r(group["k"]), r(group["eps"])
        lr = r(lr)
        decay = r(math.exp(r(-kk * (tt if algorithm6 else r(tt - one)))))
        b1, b2 = r(r(beta_1) * decay), r(r(beta_2) * decay)
        bias_1, bias_2 = r(one - r(b1 ** tt)), r(one - r(b2 ** tt))
        c = dict(b1=b1, b2=b2, one_minus_b1=r(one - b1), one_minus_b2=r(one - b2),
                 eps=eps, lr=lr, bias_1=bias_1, bias_2=bias_2,
                 alpha=r(r(lr * bias_2) / bias_1))
        if foreach:
            self._update_foreach(c, algorithm6, t, params, grads, states)
            return
        scratch = self._scratch
        for p, g, s in zip(params, grads, states):
            m, n = s["exp_avg"], s["exp_avg_sq"]
            # m = b1 m + (1 - b1) g;  n = b2 n + (1 - b2) g^2: one kernel per
            # operation of the reference, in place or into the scratch buffers
            # (no fused multiply-add: add_(x, alpha=) and addcmul_ fuse one)
            x, y = scratch(p, 0), scratch(p, 1)
            m.mul_(b1)
            torch.mul(g, c["one_minus_b1"], out=x)
            m.add_(x)
            torch.mul(g, g, out=x)
            x.mul_(c["one_minus_b2"])
            n.mul_(b2)
            n.add_(x)
            if not algorithm6:
                scratch.sqrt_into(x, n)
                x.add_(eps)  # sqrt(n) + eps
                torch.mul(m, c["alpha"], out=y)
                # theta - (alpha m) / (sqrt(n) + eps): addcdiv_ with value -1
                # rounds the quotient, then the sum (the sign is exact)
                p.addcdiv_(y, x, value=-1)
                continue
            previous, previous_grad = s["prev_param"], s["prev_grad"]
            if t == 1:
                scratch.sqrt_into(x, n)  # c = 0: there is no previous step
            else:
                # c = ((g - g_prev) / (theta - theta_prev + eps))^2, and 0
                # where the denominator is exactly 0 (no NaN, no branch)
                torch.sub(p, previous, out=x)
                x.add_(eps)
                torch.sub(g, previous_grad, out=y)
                y.div_(x)
                scratch.zero_where_zero(y, x)
                y.mul_(y)
                y.add_(n)
                scratch.sqrt_into(x, y)  # a = sqrt(c + n)
            x.div_(bias_2)  # a_hat
            x.add_(eps)
            torch.div(m, bias_1, out=y)  # m_hat
            y.mul_(lr)
            previous.copy_(p)
            previous_grad.copy_(g)
            p.addcdiv_(y, x, value=-1)  # theta - (lr m_hat) / (a_hat + eps)

    def _update_foreach(self, c, algorithm6, t, params, grads, states):
        # The same operations as the single-tensor loop, through the
        # multi-tensor kernels (temporaries allocated as torch's own foreach
        # optimizers do; cheap on CUDA's caching allocator).
        m = [s["exp_avg"] for s in states]
        n = [s["exp_avg_sq"] for s in states]
        torch._foreach_mul_(m, c["b1"])
        torch._foreach_add_(m, torch._foreach_mul(grads, c["one_minus_b1"]))
        squares = torch._foreach_mul(grads, grads)
        torch._foreach_mul_(squares, c["one_minus_b2"])
        torch._foreach_mul_(n, c["b2"])
        torch._foreach_add_(n, squares)
        del squares
        if not algorithm6:
            denominator = _sqrt_list(n, self._scratch)
            torch._foreach_add_(denominator, c["eps"])
            torch._foreach_addcdiv_(params, torch._foreach_mul(m, c["alpha"]), denominator,
                                    value=-1)
            return
        previous = [s["prev_param"] for s in states]
        previous_grads = [s["prev_grad"] for s in states]
        if t == 1:
            a = _sqrt_list(n, self._scratch)
        else:
            denominators = torch._foreach_sub(params, previous)
            torch._foreach_add_(denominators, c["eps"])
            secants = torch._foreach_sub(grads, previous_grads)
            torch._foreach_div_(secants, denominators)
            for q, d in zip(secants, denominators):
                self._scratch.zero_where_zero(q, d)
            torch._foreach_mul_(secants, secants)
            torch._foreach_add_(secants, n)
            a = _sqrt_list(secants, self._scratch)
            del secants, denominators
        torch._foreach_div_(a, c["bias_2"])
        torch._foreach_add_(a, c["eps"])
        step = torch._foreach_div(m, c["bias_1"])
        torch._foreach_mul_(step, c["lr"])
        torch._foreach_copy_(previous, params)
        torch._foreach_copy_(previous_grads, grads)
        torch._foreach_addcdiv_(params, step, a, value=-1)


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

    def _update(self, group, foreach, r, t, lr, params, grads, states):
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
        if foreach:
            # m = m + (g - m)(1 - b1);  v = v + (g^2 - v)(1 - b2)
            delta = torch._foreach_sub(grads, m)
            torch._foreach_mul_(delta, one_minus_b1)
            torch._foreach_add_(m, delta)
            delta = torch._foreach_mul(grads, grads)
            torch._foreach_sub_(delta, v)
            torch._foreach_mul_(delta, one_minus_b2)
            torch._foreach_add_(v, delta)
            del delta
            denominator = _sqrt_list(v, self._scratch)
            torch._foreach_add_(denominator, eps)
            torch._foreach_addcdiv_(params, torch._foreach_mul(m, alpha), denominator,
                                    value=-1)
            return
        scratch = self._scratch
        for p, g, m_, v_ in zip(params, grads, m, v):
            x, y = scratch(p, 0), scratch(p, 1)
            torch.sub(g, m_, out=x)
            x.mul_(one_minus_b1)
            m_.add_(x)
            torch.mul(g, g, out=x)
            x.sub_(v_)
            x.mul_(one_minus_b2)
            v_.add_(x)
            scratch.sqrt_into(x, v_)
            x.add_(eps)
            torch.mul(m_, alpha, out=y)
            p.addcdiv_(y, x, value=-1)  # theta - (m alpha) / (sqrt(v) + eps)
