"""mamgd.torch follows PyTorch's optimizer conventions (the numerics are in
test_implementations.py)."""

import copy

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import mamgd.torch as mt  # noqa: E402

from conftest import run_python  # noqa: E402

OPTIMIZERS = {
    "mamgd": lambda params, **kw: mt.MAMGD(params, lr=0.01, k=0.05, **kw),
    "mamgd_algorithm6": lambda params, **kw: mt.MAMGD(params, lr=0.01, k=0.05,
                                                      variant="algorithm6", **kw),
    "adaexp": lambda params, **kw: mt.AdaExp(params, lr=0.01, k=0.05, **kw),
}


def _model(seed=0):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1))


def _data():
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(64, 6, generator=generator)
    return x, x @ torch.randn(6, 1, generator=generator) + 0.1


def _train(model, optimizer, steps, closure=False):
    x, y = _data()
    losses = []
    for _ in range(steps):
        def evaluate():
            optimizer.zero_grad()
            loss = torch.nn.functional.mse_loss(model(x), y)
            loss.backward()
            return loss
        if closure:
            losses.append(float(optimizer.step(evaluate)))
        else:
            losses.append(float(evaluate()))
            optimizer.step()
    return losses


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_trains_a_model_in_a_plain_pytorch_loop(name):
    model = _model()
    losses = _train(model, OPTIMIZERS[name](model.parameters()), 60)
    assert losses[-1] < 0.5 * losses[0]


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_closure_returns_the_loss_and_equals_the_plain_loop(name):
    a, b = _model(), _model()
    plain = _train(a, OPTIMIZERS[name](a.parameters()), 5)
    with_closure = _train(b, OPTIMIZERS[name](b.parameters()), 5, closure=True)
    assert plain == with_closure
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.equal(p, q)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_foreach_equals_the_single_tensor_loop(name):
    a, b = _model(), _model()
    _train(a, OPTIMIZERS[name](a.parameters(), foreach=False), 10)
    _train(b, OPTIMIZERS[name](b.parameters(), foreach=True), 10)
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.equal(p, q)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_state_dict_round_trip_resumes_bit_for_bit(name):
    uninterrupted = _model()
    _train(uninterrupted, OPTIMIZERS[name](uninterrupted.parameters()), 10)
    first = _model()
    optimizer = OPTIMIZERS[name](first.parameters())
    _train(first, optimizer, 5)
    saved_model, saved_optimizer = copy.deepcopy(first.state_dict()), optimizer.state_dict()
    assert saved_optimizer["state"][0]["step"].item() == 5
    resumed = _model(seed=7)
    resumed.load_state_dict(saved_model)
    optimizer = OPTIMIZERS[name](resumed.parameters())
    optimizer.load_state_dict(saved_optimizer)
    _train(resumed, optimizer, 5)
    for p, q in zip(uninterrupted.parameters(), resumed.parameters()):
        assert torch.equal(p, q)


def test_parameter_groups_take_their_own_hyperparameters():
    model = _model()
    optimizer = mt.MAMGD([{"params": model[0].parameters(), "lr": 0.0 + 1e-9},
                          {"params": model[2].parameters(), "k": 0.5}], lr=0.05)
    before = [p.detach().clone() for p in model.parameters()]
    _train(model, optimizer, 3)
    moved = [float((p - b).abs().max()) for p, b in zip(model.parameters(), before)]
    assert max(moved[:2]) < 1e-7 < min(moved[2:])
    assert optimizer.param_groups[1]["k"] == 0.5 and optimizer.param_groups[0]["k"] == 1e-4


def test_a_learning_rate_scheduler_drives_the_learning_rate():
    model = _model()
    optimizer = mt.MAMGD(model.parameters(), lr=0.1)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    for _ in range(3):
        _train(model, optimizer, 1)
        scheduler.step()
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.0125)


def test_maximize_and_weight_decay():
    x = torch.tensor([1.0, -2.0], requires_grad=True)
    y = torch.tensor([1.0, -2.0], requires_grad=True)
    a, b = mt.MAMGD([x], lr=0.1, maximize=True), mt.MAMGD([y], lr=0.1)
    x.grad, y.grad = torch.tensor([0.5, 0.5]), torch.tensor([-0.5, -0.5])
    a.step(), b.step()
    assert torch.equal(x, y)
    w = torch.tensor([2.0], requires_grad=True)
    w.grad = torch.tensor([0.0])
    mt.AdaExp([w], lr=0.1, weight_decay=0.5).step()
    assert w.item() == pytest.approx(2.0 * (1 - 0.1 * 0.5))


def test_parameters_without_gradients_are_left_alone_and_sparse_ones_refused():
    x, y = torch.ones(2, requires_grad=True), torch.ones(2, requires_grad=True)
    optimizer = mt.MAMGD([x, y], lr=0.1)
    x.grad = torch.ones(2)
    optimizer.step()
    assert torch.equal(y, torch.ones(2)) and y not in optimizer.state
    embedding = torch.nn.Embedding(5, 2, sparse=True)
    embedding(torch.tensor([1])).sum().backward()
    with pytest.raises(RuntimeError, match="sparse"):
        mt.MAMGD(embedding.parameters()).step()


def test_float64_parameters_follow_the_reference_in_float64():
    from mamgd import reference as R

    x = torch.tensor([1.0, -0.5], dtype=torch.float64, requires_grad=True)
    optimizer = mt.MAMGD([x], lr=0.1, k=0.3, variant="algorithm6")
    reference = R.mamgd(0.1, k=0.3, variant="algorithm6")
    xr = np.array([1.0, -0.5])
    state = reference.init(xr)
    for _ in range(10):
        g = 2 * xr - 1
        x.grad = torch.from_numpy(2 * x.detach().numpy() - 1)
        optimizer.step()
        xr, state = reference.update(xr, g, state)
    np.testing.assert_allclose(x.detach().numpy(), xr, rtol=1e-12)


def test_imports_with_torch_alone():
    # Keras, its backends other than torch, optax and the pipeline unimportable.
    out = run_python("""
import sys
for blocked in ("keras", "tensorflow", "jax", "optax", "mamgd_paper"):
    sys.modules[blocked] = None  # import fails, find_spec says absent
import torch, mamgd.torch
x = torch.ones(3, requires_grad=True)
optimizer = mamgd.torch.MAMGD([x], lr=0.1)
x.grad = torch.ones(3)
optimizer.step()
print(sorted(m for m in ("keras", "tensorflow", "jax") if sys.modules.get(m)), x.tolist())
""")
    assert out.strip().splitlines()[-1].startswith("[] [0.9")


def _reference(name):
    from mamgd import reference as R

    if name == "adaexp":
        return R.adaexp(0.01, k=0.05, dtype=np.float32)
    variant = "algorithm6" if name == "mamgd_algorithm6" else "authors_code"
    return R.mamgd(0.01, k=0.05, variant=variant, dtype=np.float32)


@pytest.mark.parametrize("use_numpy", [True, False], ids=["numpy_sqrt", "float64_sqrt"])
@pytest.mark.parametrize("foreach", [False, True], ids=["single", "foreach"])
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_float32_equals_the_reference_bit_for_bit(name, foreach, use_numpy, monkeypatch):
    # Several parameters sharing the scratch buffers (a large one, then smaller
    # ones, one of them transposed: not contiguous), on both square-root paths
    # (NumPy's on the tensors' memory; float64 rounded once, without NumPy).
    if not use_numpy:
        monkeypatch.setattr(mt, "np", None)
    rng = np.random.default_rng(5)
    starts = [rng.normal(size=s).astype(np.float32) for s in [(40, 30), (17,), (6, 9)]]
    targets = [rng.normal(size=s.shape).astype(np.float32) for s in starts]
    params = [torch.tensor(starts[0], requires_grad=True),
              torch.tensor(starts[1], requires_grad=True),
              torch.tensor(starts[2].T.copy()).t().requires_grad_()]
    assert not params[2].is_contiguous()
    optimizer = OPTIMIZERS[name](params, foreach=foreach)
    reference = _reference(name)
    xs = list(starts)
    states = [reference.init(x) for x in xs]
    for _ in range(25):
        grads = [(x - t) * (x * x + np.float32(0.5)) for x, t in zip(xs, targets)]
        for p, g in zip(params, grads):
            p.grad = torch.from_numpy(g.copy())
        optimizer.step()
        out = [reference.update(x, g, s) for x, g, s in zip(xs, grads, states)]
        xs, states = [x for x, _ in out], [s for _, s in out]
        for p, x in zip(params, xs):
            np.testing.assert_array_equal(p.detach().numpy(), x)


@pytest.mark.parametrize("use_numpy", [True, False], ids=["numpy", "torch"])
@pytest.mark.parametrize("foreach", [False, True], ids=["single", "foreach"])
def test_algorithm6_zero_denominators_on_both_paths(foreach, use_numpy, monkeypatch):
    # Every first step exactly -eps (eps = 2^-23, parameters in [1, 2)), the
    # gradient repeated: at t = 2 every denominator is 0 and c must be 0.
    from mamgd import reference as R

    if not use_numpy:
        monkeypatch.setattr(mt, "np", None)
    eps = 2.0 ** -23
    lr = eps / np.sqrt(1 - 0.999)
    start = np.linspace(1.0, 1.9, 501).astype(np.float32)
    x = torch.tensor(start, requires_grad=True)
    optimizer = mt.MAMGD([x], lr=lr, k=0.0, eps=eps, variant="algorithm6", foreach=foreach)
    reference = R.mamgd(lr, k=0.0, epsilon=eps, variant="algorithm6", dtype=np.float32)
    xr, state = start, reference.init(start)
    for t in range(4):
        x.grad = torch.ones_like(x)
        optimizer.step()
        xr, state = reference.update(xr, np.ones_like(xr), state)
        if t == 0:
            assert np.all((xr - start) + np.float32(eps) == 0)
        np.testing.assert_array_equal(x.detach().numpy(), xr)
    assert np.all(np.isfinite(xr)) and np.all(xr < start)


def test_work_buffers_are_not_state_and_the_optimizer_pickles():
    import pickle

    model = _model()
    optimizer = mt.MAMGD(model.parameters(), lr=0.01, k=0.05, variant="algorithm6")
    _train(model, optimizer, 3)
    state = optimizer.state_dict()
    assert set(state) == {"state", "param_groups"}
    assert all(set(s) == {"step", "exp_avg", "exp_avg_sq", "prev_param", "prev_grad"}
               for s in state["state"].values())
    clone = pickle.loads(pickle.dumps(optimizer))  # the buffers rebuilt on use
    for p in clone.param_groups[0]["params"]:
        p.grad = torch.ones_like(p)
    clone.step()
    twin_model = copy.deepcopy(model)
    twin = mt.MAMGD(twin_model.parameters(), lr=0.01, k=0.05, variant="algorithm6")
    twin.load_state_dict(pickle.loads(pickle.dumps(state)))
    _train(model, optimizer, 3)
    _train(twin_model, twin, 3)
    for p, q in zip(model.parameters(), twin_model.parameters()):
        assert torch.equal(p, q)
