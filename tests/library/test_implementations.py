"""One table of optimizers under test: every implementation of MAMGD and AdaExp.

In the manner of optax's own tests, the implementations are rows of one table
(:data:`IMPLEMENTATIONS`): the Keras classes (on the test process's Keras
backend, TensorFlow under ``make test``), ``mamgd.torch``, ``mamgd.optax`` and
the NumPy reference itself. Every test below runs on every row, against the
NumPy reference (``mamgd.reference``):

* the paper's Tables 1-6 (460 cells at 6 decimals), the MAMGD column run by
  the implementation, the other columns by the reference (Keras's Adam,
  Adagrad, RMSprop and SGD bit for bit); each row states its exceptions;
* trajectories equal to the reference's, bit for bit where the row says so,
  else within a stated tolerance;
* AdaExp(k = 0) against the framework's own Adam;
* the same bad inputs rejected with the same exception and message;
* Algorithm 6 without NaN, in each case of issue 25, and its float32 freezing.

No test here imports the paper pipeline (``mamgd_paper``).
"""

import csv
import importlib.util

import numpy as np
import pytest

from conftest import PAPER_TABLES
from mamgd import functions as F
from mamgd import reference as R

CANONICAL = ("learning_rate", "beta_1", "beta_2", "k", "epsilon", "variant")


class Implementation:
    """A row of the table: how to build and run one framework's optimizers.

    ``names``: the framework's name of each canonical argument.
    ``exact``: the variants ("authors_code", "algorithm6", "adaexp") whose
    float32 trajectories equal the reference's bit for bit.
    ``table_exceptions``: the (table, epoch) cells of the MAMGD column that
    differ from the paper, and why.
    ``adam_exact``: AdaExp(k=0) equals the framework's Adam bit for bit
    (else to ``adam_atol``, absolute, over 100 steps of size ~0.02; the
    reason in ``adam_note``).
    """

    name = ""
    module = None
    names = {name: name for name in CANONICAL}
    exact = ()
    table_exceptions = {}
    adam_exact = False
    adam_atol = 0.0
    adam_note = ""
    trajectory_rtol = 1e-5  # where not exact: 40 steps, relative (absolute 1e-6)

    def available(self):
        return all(importlib.util.find_spec(m) is not None for m in self.requires)

    def kwargs(self, **canonical):
        return {self.names[key]: value for key, value in canonical.items()}

    def mamgd(self, **canonical):
        raise NotImplementedError

    def adaexp(self, **canonical):
        raise NotImplementedError

    def adam(self, learning_rate):
        raise NotImplementedError

    def run(self, optimizer, grad, start, steps):
        """Float32 trajectory, shape (steps + 1, dim)."""
        raise NotImplementedError


class Reference(Implementation):
    name = "reference"
    requires = ("numpy",)
    exact = ("authors_code", "algorithm6", "adaexp")
    adam_exact = True

    def mamgd(self, **canonical):
        return R.mamgd(**canonical, dtype=np.float32)

    def adaexp(self, **canonical):
        return R.adaexp(**canonical, dtype=np.float32)

    def adam(self, learning_rate):
        return R.adam(learning_rate, dtype=np.float32)

    def run(self, optimizer, grad, start, steps):
        return R.run(optimizer, grad, start, steps, dtype=np.float32)


class Keras(Implementation):
    name = "keras"
    requires = ("keras",)
    # The Keras classes compute the decayed betas of algorithm6 and AdaExp in
    # the tensor dtype (with expm1, so AdaExp(k=0) is Keras's Adam), where the
    # reference rounds float64 values once: a few ulps per step.
    adam_exact = True  # TensorFlow and JAX; Keras's torch backend swaps in a fused Adam

    @property
    def exact(self):
        # On TensorFlow, exp and pow are correctly rounded like the reference's;
        # XLA's (JAX backend) float32 exp is not always (1 ulp now and then).
        import keras

        return ("authors_code",) if keras.backend.backend() == "tensorflow" else ()

    @property
    def trajectory_rtol(self):
        import keras

        return 1e-5 if keras.backend.backend() == "tensorflow" else 1e-4

    def mamgd(self, **canonical):
        import mamgd

        return mamgd.MAMGD(**canonical)

    def adaexp(self, **canonical):
        import mamgd

        return mamgd.AdaExp(**canonical)

    def adam(self, learning_rate):
        import keras

        return keras.optimizers.Adam(learning_rate)

    def run(self, optimizer, grad, start, steps):
        import keras

        variable = keras.Variable(np.asarray(start, np.float32))
        path = [keras.ops.convert_to_numpy(variable).copy()]
        for _ in range(steps):
            g = np.asarray(grad(keras.ops.convert_to_numpy(variable)), np.float32)
            optimizer.apply([keras.ops.convert_to_tensor(g)], [variable])
            path.append(keras.ops.convert_to_numpy(variable).copy())
        return np.array(path)


class Torch(Implementation):
    name = "torch"
    requires = ("torch",)
    names = dict(Implementation.names, learning_rate="lr", epsilon="eps")
    exact = ("authors_code", "algorithm6", "adaexp")
    adam_atol = 2e-5
    adam_note = ("torch.optim.Adam adds eps after the bias correction; Keras's form "
                 "(Algorithm 7's) adds it before, an epsilon of eps / sqrt(1 - beta_2^t), "
                 "~30 eps at t = 1, in torch's terms")

    def kwargs(self, **canonical):
        betas = (canonical.pop("beta_1", 0.9), canonical.pop("beta_2", 0.999))
        out = super().kwargs(**canonical)
        out["betas"] = betas
        return out

    def mamgd(self, **canonical):
        return ("MAMGD", self.kwargs(**canonical))

    def adaexp(self, **canonical):
        return ("AdaExp", self.kwargs(**canonical))

    def adam(self, learning_rate):
        return ("Adam", {"lr": learning_rate, "eps": 1e-7})

    def build(self, spec, params):
        import torch

        import mamgd.torch

        cls, kwargs = spec
        module = torch.optim if cls == "Adam" else mamgd.torch
        return getattr(module, cls)(params, **kwargs)

    def run(self, optimizer, grad, start, steps):
        import torch

        x = torch.tensor(np.asarray(start, np.float32), requires_grad=True)
        optimizer = self.build(optimizer, [x])
        path = [x.detach().numpy().copy()]
        for _ in range(steps):
            x.grad = torch.from_numpy(np.asarray(grad(x.detach().numpy()), np.float32))
            optimizer.step()
            path.append(x.detach().numpy().copy())
        return np.array(path)


class Optax(Implementation):
    name = "optax"
    requires = ("optax", "jax")
    names = dict(Implementation.names, beta_1="b1", beta_2="b2", epsilon="eps")
    # XLA's float32 exp (and pow) is not correctly rounded (about 1 input in
    # 10 is 1 ulp off), so the decayed betas differ from the reference's by an
    # ulp now and then; and optax scales by the learning rate last.
    exact = ()
    trajectory_rtol = 1e-4
    table_exceptions = {(4, 6): "Table 4 (Matyas), MAMGD, N = 6: 0.495463 for 0.495462 "
                                "(XLA's float32 exp/pow, 1 ulp)"}
    adam_atol = 2e-5
    adam_note = ("optax.adam adds eps after the bias correction; Keras's form "
                 "(Algorithm 7's) adds it before")

    def mamgd(self, **canonical):
        import mamgd.optax

        return mamgd.optax.mamgd(**self.kwargs(**canonical))

    def adaexp(self, **canonical):
        import mamgd.optax

        return mamgd.optax.adaexp(**self.kwargs(**canonical))

    def adam(self, learning_rate):
        import optax

        return optax.adam(learning_rate, eps=1e-7)

    def run(self, optimizer, grad, start, steps):
        import jax
        import jax.numpy as jnp
        import optax

        @jax.jit
        def step(x, state, g):
            updates, state = optimizer.update(g, state, x)
            return optax.apply_updates(x, updates), state

        x = jnp.asarray(np.asarray(start, np.float32))
        state = optimizer.init(x)
        path = [np.asarray(x)]
        for _ in range(steps):
            g = jnp.asarray(np.asarray(grad(np.asarray(x)), np.float32))
            x, state = step(x, state, g)
            path.append(np.asarray(x))
        return np.array(path)


IMPLEMENTATIONS = [Reference(), Keras(), Torch(), Optax()]


def _implementations():
    return [pytest.param(impl, id=impl.name,
                         marks=pytest.mark.skipif(not impl.available(),
                                                  reason=f"{impl.requires} not installed"))
            for impl in IMPLEMENTATIONS]


def _least_squares(seed, dim=5):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(8, dim)).astype(np.float32)
    b = rng.normal(size=8).astype(np.float32)
    start = rng.normal(size=dim).astype(np.float32)
    return (lambda x: (a.T @ (a @ x - b) / np.float32(8)).astype(np.float32)), start


def _gradient(function):
    return lambda x: np.stack(function.gradient(np.asarray(x, np.float32))).astype(np.float32)


def _build(impl, variant, **canonical):
    if variant == "adaexp":
        return impl.adaexp(**canonical), R.adaexp(**canonical, dtype=np.float32)
    return (impl.mamgd(variant=variant, **canonical),
            R.mamgd(variant=variant, **canonical, dtype=np.float32))


# ---------------------------------------------------------------------------
# Tables 1-6
# ---------------------------------------------------------------------------

_REFERENCE_COLUMNS = {"Adam": R.adam, "Adagrad": R.adagrad, "RMSprop": R.rmsprop, "SGD": R.sgd}


@pytest.mark.parametrize("impl", _implementations())
def test_paper_tables_1_to_6(impl):
    with PAPER_TABLES.open(newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if int(r["table"]) <= 6]
    assert len(rows) == 460
    errors = {}
    for f in F.PAPER_FUNCTIONS:
        for column in f.optimizers:
            if column == "MAMGD":
                path = impl.run(impl.mamgd(learning_rate=0.1, k=f.paper_k), _gradient(f),
                                f.start, f.max_steps)
            else:
                path = R.run(_REFERENCE_COLUMNS[column](0.1), f, f.start, f.max_steps,
                             dtype=np.float32)
            errors[f.table, column] = f.error(np.asarray(path, np.float32).T)
    mismatches = {}
    for r in rows:
        got = f"{float(errors[int(r['table']), r['optimizer']][int(r['epoch'])]):.6f}"
        if got != f"{float(r['loss']):.6f}":
            assert r["optimizer"] == "MAMGD", r
            mismatches[int(r["table"]), int(r["epoch"])] = (r["loss"], got)
    assert set(mismatches) == set(impl.table_exceptions), mismatches
    assert len(rows) - len(mismatches) == 460 - len(impl.table_exceptions)


# ---------------------------------------------------------------------------
# Trajectories against the reference
# ---------------------------------------------------------------------------

VARIANTS = ["authors_code", "algorithm6", "adaexp"]


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("impl", _implementations())
def test_trajectories_equal_the_reference(impl, variant):
    # Random least squares and two of the paper's functions, moderate decay.
    problems = [_least_squares(0), _least_squares(1)]
    problems += [(_gradient(f), f.start) for f in (F.BOOTH, F.HIMMELBLAU)]
    for grad, start in problems:
        ours, oracle = _build(impl, variant, learning_rate=0.01, k=0.05)
        path = impl.run(ours, grad, start, 40)
        expected = R.run(oracle, grad, start, 40, dtype=np.float32)
        assert path.dtype == np.float32 and np.all(np.isfinite(path))
        if variant in impl.exact:
            np.testing.assert_array_equal(path, expected)
        else:
            np.testing.assert_allclose(path, expected, rtol=impl.trajectory_rtol, atol=1e-6)


@pytest.mark.parametrize("impl", _implementations())
def test_adaexp_with_k_zero_against_the_frameworks_adam(impl):
    grad, start = _least_squares(3, dim=7)
    ours = impl.run(impl.adaexp(learning_rate=0.02, k=0.0), grad, start, 100)
    adam = impl.run(impl.adam(0.02), grad, start, 100)
    if impl.adam_exact:
        np.testing.assert_array_equal(ours, adam)
    else:
        np.testing.assert_allclose(ours, adam, rtol=0, atol=impl.adam_atol,
                                   err_msg=impl.adam_note)
        # ... and equal to Keras's form of Adam, the reference's, bit for bit
        # where the implementation is exact
        if "adaexp" in impl.exact:
            np.testing.assert_array_equal(
                ours, R.run(R.adam(0.02), grad, start, 100, dtype=np.float32))


# ---------------------------------------------------------------------------
# Bad inputs: the same exception and message everywhere
# ---------------------------------------------------------------------------

BAD_INPUTS = [
    ("learning_rate", 0.0, ValueError), ("learning_rate", -1e-3, ValueError),
    ("learning_rate", float("nan"), ValueError), ("learning_rate", True, TypeError),
    ("learning_rate", "0.1", TypeError),
    ("beta_1", 1.0, ValueError), ("beta_1", -0.1, ValueError), ("beta_1", True, TypeError),
    ("beta_2", 1.5, ValueError), ("beta_2", "0.999", TypeError),
    ("k", -0.1, ValueError), ("k", float("nan"), ValueError), ("k", float("inf"), ValueError),
    ("k", True, TypeError), ("k", "0.1", TypeError), ("k", None, TypeError),
    ("epsilon", 0.0, ValueError), ("epsilon", -1e-7, ValueError), ("epsilon", True, TypeError),
    ("variant", "paper", ValueError), ("variant", None, TypeError),
]


def _canonical_message(impl, message):
    for canonical, own in impl.names.items():
        message = message.replace(f"`{own}`", f"`{canonical}`").replace(f"{own}=", f"{canonical}=")
    if impl.name == "torch":
        message = (message.replace("`betas[0]`", "`beta_1`").replace("betas[0]=", "beta_1=")
                   .replace("`betas[1]`", "`beta_2`").replace("betas[1]=", "beta_2="))
    return message


@pytest.mark.parametrize("argument, value, error", BAD_INPUTS,
                         ids=[f"{a}={v!r}" for a, v, _ in BAD_INPUTS])
@pytest.mark.parametrize("impl", _implementations())
def test_bad_inputs_are_rejected_with_the_same_message(impl, argument, value, error):
    builders = [("mamgd", R.mamgd, impl.mamgd)]
    if argument != "variant":
        builders.append(("adaexp", R.adaexp, impl.adaexp))
    for label, reference, build in builders:
        with pytest.raises(error) as expected:
            reference(**{argument: value})
        with pytest.raises(error) as raised:
            optimizer = build(**{argument: value})
            if impl.name == "torch":  # the spec is built lazily: build it
                import torch

                impl.build(optimizer, [torch.zeros(2, requires_grad=True)])
        message = str(expected.value)
        assert repr(value) in message, message
        assert _canonical_message(impl, str(raised.value)) == message, label


def test_k_message_gives_the_papers_range():
    with pytest.raises(ValueError) as error:
        R.mamgd(k=-1.0)
    message = str(error.value)
    assert "received k=-1.0" in message
    assert "1e-6 to 1e-3 for networks" in message and "2.38 on its test functions" in message
    assert max(f.paper_k for f in F.PAPER_FUNCTIONS) < 2.3811


# ---------------------------------------------------------------------------
# Algorithm 6 without NaN (issue 25), and its float32 freezing
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("impl", _implementations())
def test_algorithm6_step_one_at_minus_epsilon_is_finite(impl):
    # theta_0 = -float32(1e-7): at t = 1 the denominator theta - 0 + eps is
    # exactly 0; the curvature term is 0 there (t = 1), not 0/0.
    start = np.array([-np.float32(1e-7), 0.5, 0.0], np.float32)
    grad = lambda x: np.ones(3, np.float32)  # noqa: E731
    ours, oracle = _build(impl, "algorithm6", learning_rate=1e-3, k=1e-6)
    path = impl.run(ours, grad, start, 3)
    expected = R.run(oracle, grad, start, 3, dtype=np.float32)
    assert np.all(np.isfinite(path))
    assert path[1, 0] == pytest.approx(-3.17e-5, rel=2e-3)
    np.testing.assert_allclose(path, expected, rtol=1e-6, atol=1e-9)


def _zero_denominator_problem():
    """Parameters whose first step is exactly -epsilon, under a repeated gradient.

    With epsilon = 2^-23 (the spacing of float32 in [1, 2)) and a learning
    rate making the first step about lr sqrt(1 - beta_2) = 2^-23, every
    parameter in [1, 2) moves by exactly -epsilon: at t = 2 the curvature
    term's denominator theta_1 - theta_0 + eps is exactly 0, and with the
    gradient repeated its numerator is 0 too (0/0 = NaN before issue 25).
    """
    epsilon = 2.0 ** -23
    start = np.linspace(1.0, 1.9, 2001).astype(np.float32)
    learning_rate = epsilon / np.sqrt(1 - 0.999)
    return start, dict(learning_rate=learning_rate, epsilon=epsilon, k=0.0), (
        lambda x: np.ones_like(x, np.float32))


def test_the_zero_denominator_problem_hits_zero_denominators():
    start, hyperparameters, grad = _zero_denominator_problem()
    path = R.run(R.mamgd(variant="algorithm6", **hyperparameters), grad, start, 1,
                 dtype=np.float32)
    denominator = (path[1] - path[0]) + np.float32(hyperparameters["epsilon"])
    assert np.all(denominator == 0)  # the construction works: every element


@pytest.mark.parametrize("impl", _implementations())
def test_algorithm6_zero_denominator_later_is_finite(impl):
    start, hyperparameters, grad = _zero_denominator_problem()
    ours, oracle = _build(impl, "algorithm6", **hyperparameters)
    path = impl.run(ours, grad, start, 4)
    assert np.all(np.isfinite(path))
    expected = R.run(oracle, grad, start, 4, dtype=np.float32)
    np.testing.assert_allclose(path, expected, rtol=0, atol=1e-6)
    assert np.all(path[-1] < start)  # and the parameters go on moving


@pytest.mark.parametrize("impl", _implementations())
def test_algorithm6_freezes_a_parameter_that_stood_still_in_float32(impl):
    # Documented behaviour of the rule as printed (docstrings, readme): a
    # parameter held still for 5 steps (zero gradient) then driven by a noisy
    # gradient gets ((g - g_prev)/eps)^2 as curvature, steps below float32's
    # resolution, and never moves; authors_code moves it.
    noise = np.random.default_rng(0).normal(size=300).astype(np.float32)
    calls = {"n": 0}

    def grad(x):
        i = calls["n"] % 305
        calls["n"] += 1
        return np.zeros(1, np.float32) if i < 5 else np.array([1 + noise[i - 5]], np.float32)

    frozen = impl.run(impl.mamgd(learning_rate=1e-3, k=1e-4, variant="algorithm6"), grad,
                      [0.5], 305)
    calls["n"] = 0
    moving = impl.run(impl.mamgd(learning_rate=1e-3, k=1e-4), grad, [0.5], 305)
    assert np.all(frozen == np.float32(0.5))
    assert moving[-1, 0] < 0.45
