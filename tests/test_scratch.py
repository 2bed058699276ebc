"""mamgd_paper.experiments.scratch.scratch: the NumPy softmax network and the AMSGrad tutorial's bowl."""

import numpy as np
import pytest

from mamgd_paper.paper import registry as reg
from mamgd import functions as F
from mamgd import reference as R
from mamgd_paper.experiments.scratch import scratch as S


def _tiny(n=64, d=12, classes=4, seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)).astype(dtype)
    y = np.eye(classes, dtype=dtype)[rng.integers(0, classes, n)]
    return x, y


def test_softmax_is_stable_and_normalised():
    p = S.softmax(np.array([[1000.0, 1001.0, 999.0], [-1e4, 0.0, 1e4]]))
    assert np.all(np.isfinite(p))
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    np.testing.assert_allclose(p[0], np.exp([-1, 0, -2]) / np.exp([-1, 0, -2]).sum())


def test_gradient_matches_finite_differences():
    x, y = _tiny(n=7, d=5, classes=3, dtype=np.float64)
    params = [p.astype(np.float64) for p in S.init_params(5, 3, seed=1)]
    params[1] = np.random.default_rng(2).normal(size=3)
    loss, grads, _ = S.loss_and_grad(params, x, y)
    h = 1e-6
    for which, grad in enumerate(grads):
        numeric = np.zeros_like(grad)
        for index in np.ndindex(grad.shape):
            plus = [p.copy() for p in params]
            minus = [p.copy() for p in params]
            plus[which][index] += h
            minus[which][index] -= h
            numeric[index] = (S.loss_and_grad(plus, x, y)[0]
                              - S.loss_and_grad(minus, x, y)[0]) / (2 * h)
        np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-9)
    assert loss == pytest.approx(np.mean(-np.log(np.sum(S.forward(params, x) * y, axis=1))))


def test_init_and_orders_are_seeded():
    a, b = S.init_params(784, 10, seed=3), S.init_params(784, 10, seed=3)
    np.testing.assert_array_equal(a[0], b[0])
    assert a[0].dtype == np.float32 and np.all(a[1] == 0)
    limit = np.sqrt(6 / 794)
    assert np.abs(a[0]).max() <= limit
    orders = S.epoch_orders(10, 3, seed=5)
    assert all(sorted(o) == list(range(10)) for o in orders)
    assert not np.array_equal(orders[0], orders[1])
    np.testing.assert_array_equal(orders[2], S.epoch_orders(10, 3, seed=5)[2])


def test_one_epoch_numpy_adam_equals_keras_adam():
    keras = pytest.importorskip("keras")
    x, y = _tiny(n=200, d=20, classes=5)
    orders = S.epoch_orders(len(x), 1, seed=4)
    params = S.init_params(20, 5, seed=4)
    hn, pn = S.train_numpy(x, y, R.adam(1e-2), epochs=1, batch_size=32, params=params,
                           orders=orders, validation=(x, y))
    hk, pk = S.train_keras(x, y, keras.optimizers.Adam(1e-2), epochs=1, batch_size=32,
                           params=params, orders=orders, validation=(x, y))
    for a, b in zip(pn, pk):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    for column in ("loss", "accuracy", "val_loss", "val_accuracy"):
        assert hn[column].iloc[0] == pytest.approx(hk[column].iloc[0], rel=1e-5, abs=1e-6)
    # the weights moved: 7 batches of Adam at lr 1e-2
    assert np.abs(pn[0] - params[0]).max() > 1e-3


def test_numpy_training_lowers_the_loss_with_mamgd():
    x, y = _tiny(n=256, d=10, classes=3, seed=1)
    x[:, :3] += 2 * y  # make the classes separable
    history, _ = S.train_numpy(x, y, R.mamgd(1e-2, k=1e-3), epochs=5, batch_size=32,
                               label=reg.NUMPY_MAMGD)
    assert history["loss"].iloc[-1] < history["loss"].iloc[0]
    assert list(history.columns) == ["optimizer", "epoch", "loss", "accuracy"]


def test_tutorial_start_and_amsgrad():
    start = S.tutorial_start()
    np.testing.assert_allclose(start, [-0.165955990594852, 0.440648986884316], rtol=1e-12)
    path = S.bowl_run(R.amsgrad_tutorial(alpha=S.TUTORIAL_ALPHA))
    final = F.SPHERE.value(path[-1])
    assert 1e-6 < final < 3e-6  # the tutorial: about 2e-6
    rates = S.choose_learning_rates(("Adam", reg.TUTORIAL_AMSGRAD))
    assert rates[reg.TUTORIAL_AMSGRAD] == 0.007 and rates["Adam"] in S.LEARNING_RATE_GRID
    table = S.bowl_table({"t": path}, {"t": 0.007})
    assert table["f_final"].iloc[0] == pytest.approx(final)
    assert S.bowl().start == tuple(start) and S.bowl().domain == S.BOWL_BOUNDS


def test_mnist_arrays_and_summary():
    from mamgd_paper.datasets import datasets

    if not datasets.is_available("mnist"):
        pytest.skip("mnist.npz not available")
    (x, y), (xt, yt) = S.mnist_arrays(subset=500)
    assert x.shape == (500, 784) and y.shape == (500, 10) and xt.shape == (100, 784)
    assert x.dtype == np.float32 and 0 <= x.min() and x.max() <= 1
    history = S.mnist_runs((x, y), (xt, yt), seeds=[0], epochs=1, batch_size=100,
                           include=(reg.NUMPY_ADAM, reg.NUMPY_MAMGD))
    summary = S.mnist_summary(history).set_index("optimizer")
    assert summary.loc[reg.NUMPY_ADAM, "report_train_accuracy"] == 92.18
    assert 0 <= summary.loc[reg.NUMPY_MAMGD, "train_accuracy_mean"] <= 100
