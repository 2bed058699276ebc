"""mamgd.optax follows optax's conventions (the numerics are in
test_implementations.py)."""

import numpy as np
import pytest

optax = pytest.importorskip("optax")
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

import mamgd.optax as mo  # noqa: E402

from conftest import run_python  # noqa: E402

MAKERS = {
    "mamgd": lambda **kw: mo.mamgd(0.05, **kw),
    "mamgd_algorithm6": lambda **kw: mo.mamgd(0.05, variant="algorithm6", **kw),
    "adaexp": lambda **kw: mo.adaexp(0.05, **kw),
}


def _problem():
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.normal(size=(64, 6)), jnp.float32)
    y = x @ jnp.asarray(rng.normal(size=(6,)), jnp.float32) + 0.1
    params = {"w": jnp.zeros(6), "b": jnp.zeros(())}

    def loss(params):
        return jnp.mean((x @ params["w"] + params["b"] - y) ** 2)

    return params, loss


def _train(optimizer, steps):
    params, loss = _problem()

    @jax.jit
    def step(params, state):
        value, grads = jax.value_and_grad(loss)(params)
        updates, state = optimizer.update(grads, state, params)
        return optax.apply_updates(params, updates), state, value

    state = optimizer.init(params)
    losses = []
    for _ in range(steps):
        params, state, value = step(params, state)
        losses.append(float(value))
    return losses, params


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_trains_with_apply_updates_under_jit(name):
    losses, _ = _train(MAKERS[name](k=0.01), 150)
    assert np.isfinite(losses).all() and losses[-1] < 0.2 * losses[0]


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_vmap_over_k_equals_separate_runs(name):
    # An element-wise problem: a matrix product would be batched by vmap and
    # summed in another order, which is not the optimizer's doing.
    scales = jnp.asarray(np.random.default_rng(0).uniform(0.5, 3.0, size=8), jnp.float32)
    params = {"w": jnp.linspace(-1.0, 1.0, 8)}

    def loss(p):
        return jnp.sum(scales * (p["w"] - 0.3) ** 2)

    ks = jnp.array([0.0, 0.01, 0.3])

    def run(k):
        optimizer = MAKERS[name](k=k)

        def body(carry, _):
            p, s = carry
            updates, s = optimizer.update(jax.grad(loss)(p), s, p)
            return (optax.apply_updates(p, updates), s), None

        (p, _), _ = jax.lax.scan(body, (params, optimizer.init(params)), None, length=20)
        return p

    # (k is traced in both: a constant k is folded by XLA's compiler, whose
    # float32 exp rounds differently from its run-time kernel)
    batched = jax.jit(jax.vmap(run))(ks)
    for i in range(len(ks)):
        single = jax.jit(run)(ks[i])
        np.testing.assert_allclose(batched["w"][i], single["w"], rtol=1e-6, atol=1e-7)


def test_learning_rate_schedule_and_inject_hyperparams():
    schedule = optax.exponential_decay(0.05, transition_steps=10, decay_rate=0.5)
    losses, _ = _train(mo.mamgd(schedule, k=0.01), 50)
    assert losses[-1] < losses[0]
    injected = optax.inject_hyperparams(mo.mamgd)(learning_rate=0.05, k=0.01)
    ours, _ = _train(injected, 20)
    plain, _ = _train(mo.mamgd(0.05, k=0.01), 20)
    np.testing.assert_allclose(ours, plain, rtol=1e-6)


def test_the_pieces_chain_like_optax_adam():
    chained = optax.chain(mo.scale_by_mamgd(k=0.01), optax.scale_by_learning_rate(0.05))
    a, _ = _train(chained, 10)
    b, _ = _train(mo.mamgd(0.05, k=0.01), 10)
    assert a == b
    clipped, _ = _train(optax.chain(optax.clip_by_global_norm(1.0), mo.scale_by_adaexp(k=0.01),
                                    optax.scale_by_learning_rate(0.05)), 10)
    assert clipped[-1] < clipped[0]


def test_algorithm6_needs_params():
    optimizer = mo.mamgd(0.05, variant="algorithm6")
    params = jnp.ones(3)
    with pytest.raises(ValueError):
        optimizer.update(params, optimizer.init(params))


def test_state_has_two_slots_or_four():
    params = {"w": jnp.ones((2, 3))}
    state = mo.scale_by_mamgd().init(params)
    assert isinstance(state, mo.ScaleByMAMGDState)
    state = mo.scale_by_mamgd(variant="algorithm6").init(params)
    assert isinstance(state, mo.ScaleByAlgorithm6State) and len(state) == 5


def test_imports_with_jax_and_optax_alone():
    out = run_python("""
import sys
for blocked in ("keras", "tensorflow", "torch", "mamgd_paper"):
    sys.modules[blocked] = None  # import fails, find_spec says absent
import jax.numpy as jnp, optax, mamgd.optax
optimizer = mamgd.optax.mamgd(0.1)
params = jnp.ones(3)
updates, _ = optimizer.update(jnp.ones(3), optimizer.init(params), params)
print(sorted(m for m in ("keras", "tensorflow", "torch") if sys.modules.get(m)),
      optax.apply_updates(params, updates).tolist())
""", env={"JAX_PLATFORMS": "cpu"})
    assert out.strip().splitlines()[-1].startswith("[] [0.9")
