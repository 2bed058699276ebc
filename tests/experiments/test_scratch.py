"""mamgd_paper.experiments.scratch: the NumPy softmax network, its MNIST runs,
the AMSGrad tutorial's bowl and notebook 10's tables."""

import numpy as np
import pandas as pd
import pytest

from mamgd import functions
from mamgd import reference
from mamgd_paper.experiments.scratch import bowl, mnist, outputs, softmax
from mamgd_paper.paper import registry
from conftest import run_python


def _tiny(n=64, d=12, classes=4, seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)).astype(dtype)
    y = np.eye(classes, dtype=dtype)[rng.integers(0, classes, n)]
    return x, y


def test_softmax_is_stable_and_normalised():
    p = softmax.softmax(np.array([[1000.0, 1001.0, 999.0], [-1e4, 0.0, 1e4]]))
    assert np.all(np.isfinite(p))
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    np.testing.assert_allclose(p[0], np.exp([-1, 0, -2]) / np.exp([-1, 0, -2]).sum())


def test_gradient_matches_finite_differences():
    x, y = _tiny(n=7, d=5, classes=3, dtype=np.float64)
    params = [p.astype(np.float64) for p in softmax.init_params(5, 3, seed=1)]
    params[1] = np.random.default_rng(2).normal(size=3)
    loss, grads, _ = softmax.loss_and_grad(params, x, y)
    h = 1e-6
    for which, grad in enumerate(grads):
        numeric = np.zeros_like(grad)
        for index in np.ndindex(grad.shape):
            plus = [p.copy() for p in params]
            minus = [p.copy() for p in params]
            plus[which][index] += h
            minus[which][index] -= h
            numeric[index] = (softmax.loss_and_grad(plus, x, y)[0]
                              - softmax.loss_and_grad(minus, x, y)[0]) / (2 * h)
        np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-9)
    assert loss == pytest.approx(np.mean(-np.log(np.sum(softmax.forward(params, x) * y, axis=1))))


def test_init_and_orders_are_seeded():
    a, b = softmax.init_params(784, 10, seed=3), softmax.init_params(784, 10, seed=3)
    np.testing.assert_array_equal(a[0], b[0])
    assert a[0].dtype == np.float32 and np.all(a[1] == 0)
    limit = np.sqrt(6 / 794)
    assert np.abs(a[0]).max() <= limit
    orders = softmax.epoch_orders(10, 3, seed=5)
    assert all(sorted(o) == list(range(10)) for o in orders)
    assert not np.array_equal(orders[0], orders[1])
    np.testing.assert_array_equal(orders[2], softmax.epoch_orders(10, 3, seed=5)[2])


def test_numpy_adam_equals_keras_adam_trained_by_the_engine():
    """Same initial weights and batches: the from-scratch Adam and Keras's Adam
    (trained by the engine) agree to float32 rounding over two epochs of 7 batches."""
    x, y = _tiny(n=200, d=20, classes=5)
    orders = softmax.epoch_orders(len(x), 2, seed=4)
    params = softmax.init_params(20, 5, seed=4)
    hn, pn = softmax.train_numpy(x, y, reference.adam(1e-2), epochs=2, batch_size=32,
                                 params=params, orders=orders, validation=(x, y))
    hk = softmax.train_keras(x, y, registry.KERAS_ADAM, 1e-2, epochs=2, batch_size=32,
                             seeds=[4], params=[params], orders=[orders], validation=(x, y))
    assert list(hk.columns) == ["seed", "optimizer", "epoch", "loss", "accuracy", "val_loss",
                                "val_accuracy"]
    for column in ("loss", "accuracy", "val_loss", "val_accuracy"):
        np.testing.assert_allclose(hk[column], hn[column], rtol=2e-5, atol=1e-6)
    # the weights moved: the loss after epoch 2 is well below epoch 1's
    assert hk["val_loss"].iloc[1] < hk["val_loss"].iloc[0] - 0.05


def test_numpy_training_lowers_the_loss_with_mamgd():
    x, y = _tiny(n=256, d=10, classes=3, seed=1)
    x[:, :3] += 2 * y  # make the classes separable
    history, _ = softmax.train_numpy(x, y, reference.mamgd(1e-2, k=1e-3), epochs=5, batch_size=32,
                               label=registry.NUMPY_MAMGD)
    assert history["loss"].iloc[-1] < history["loss"].iloc[0]
    assert list(history.columns) == ["optimizer", "epoch", "loss", "accuracy"]


def test_tutorial_start_and_amsgrad():
    start = bowl.tutorial_start()
    np.testing.assert_allclose(start, [-0.165955990594852, 0.440648986884316], rtol=1e-12)
    path = bowl.bowl_run(reference.amsgrad_tutorial(alpha=bowl.TUTORIAL_ALPHA))
    final = functions.SPHERE.value(path[-1])
    assert 1e-6 < final < 3e-6  # the tutorial: about 2e-6
    rates = bowl.choose_learning_rates(("Adam", registry.TUTORIAL_AMSGRAD))
    assert rates[registry.TUTORIAL_AMSGRAD] == 0.007 and rates["Adam"] in bowl.LEARNING_RATE_GRID
    table = bowl.bowl_table({"t": path}, {"t": 0.007})
    assert table["f_final"].iloc[0] == pytest.approx(final)
    assert bowl.bowl().start == tuple(start) and bowl.bowl().domain == bowl.BOWL_BOUNDS


def test_mnist_arrays_and_summary():
    from mamgd_paper.datasets import files

    if not files.is_available("mnist"):
        pytest.skip("mnist.npz not available")
    (x, y), (xt, yt) = mnist.mnist_arrays(subset=500)
    assert x.shape == (500, 784) and y.shape == (500, 10) and xt.shape == (100, 784)
    assert x.dtype == np.float32 and 0 <= x.min() and x.max() <= 1
    history = mnist.mnist_runs((x, y), (xt, yt), seeds=[0], epochs=1, batch_size=100,
                           include=(registry.NUMPY_ADAM, registry.NUMPY_MAMGD))
    summary = mnist.mnist_summary(history).set_index("optimizer")
    assert summary.loc[registry.NUMPY_ADAM, "report_train_accuracy"] == 92.18
    assert 0 <= summary.loc[registry.NUMPY_MAMGD, "train_accuracy_mean"] <= 100


def test_sphere_k_is_the_papers_table_2_value():
    assert bowl.SPHERE_K == 2.377131029618243  # the paper's k for the sphere (Table 2)


def test_tutorial_run_and_bowl_paths():
    start = bowl.tutorial_start()
    path, f = bowl.tutorial_run(start)
    assert path.shape == (bowl.TUTORIAL_ITERATIONS + 1, 2)
    np.testing.assert_array_equal(path[0], start)
    np.testing.assert_allclose(f, (path ** 2).sum(axis=1), rtol=1e-15)
    assert 1e-6 < f[-1] < 3e-6  # the tutorial: about 2e-6
    rates = {registry.TUTORIAL_AMSGRAD: 0.007, "Adam": 0.1}
    paths = bowl.bowl_paths(rates, start)
    assert list(paths) == [registry.TUTORIAL_AMSGRAD, "Adam"]
    np.testing.assert_array_equal(paths[registry.TUTORIAL_AMSGRAD], path)
    np.testing.assert_array_equal(paths["Adam"],
                                  bowl.bowl_run(reference.adam(0.1), start))


def test_run_plan_of_a_paper_and_a_quick_run():
    assert mnist.run_plan(False, 3, 5, 10) == (None, 10, [3, 4, 5, 6, 7])
    assert mnist.run_plan(True, 3, 5, 10) == (2000, 1, [3])


def _history(rows):
    return pd.DataFrame(rows, columns=["seed", "optimizer", "epoch", "loss", "accuracy",
                                       "val_loss", "val_accuracy"])


def test_adam_gap_is_the_largest_absolute_difference():
    history = _history([
        (0, registry.NUMPY_ADAM, 1, 0.50, 0.80, 0.40, 0.85),
        (0, registry.NUMPY_ADAM, 2, 0.30, 0.90, 0.35, 0.88),
        (0, registry.KERAS_ADAM, 1, 0.52, 0.80, 0.40, 0.84),
        (0, registry.KERAS_ADAM, 2, 0.25, 0.91, 0.36, 0.88),
        (0, registry.NUMPY_MAMGD, 1, 9.0, 0.1, 9.0, 0.1),
    ])
    gap = mnist.adam_gap(history)
    assert list(gap.index) == ["loss", "accuracy", "val_loss", "val_accuracy"]
    np.testing.assert_allclose(gap.to_numpy(), [0.05, 0.01, 0.01, 0.01], atol=1e-12)


def test_tables_and_their_captions(tmp_path):
    results = pd.DataFrame({"optimizer": ["Adam"], "learning_rate": [0.1],
                            "f_final": [1.0 / 3.0]})
    outputs.write_bowl_table(results, tmp_path)
    assert (tmp_path / "scratch_bowl.csv").read_text() == (
        "optimizer,learning_rate,f_final\nAdam,0.1,0.333333333\n")
    assert "MAMGD and AdaExp k = 2.377." in (tmp_path / "scratch_bowl.tex").read_text()

    history = _history([(seed, registry.NUMPY_ADAM, epoch, 0.5, 0.9, 0.4, 0.8)
                        for seed in (0, 1) for epoch in (1, 2, 3)])
    summary = pd.DataFrame({"optimizer": [registry.NUMPY_ADAM], "train_accuracy_mean": [2 / 3]})
    outputs.write_mnist_tables(history, summary, tmp_path, 1e-3, 128, 1e-5)
    tex = (tmp_path / "scratch_mnist.tex").read_text()
    assert "lr 0.001, batch 128, MAMGD k 1e-05." in tex
    summary_tex = (tmp_path / "scratch_mnist_summary.tex").read_text()
    assert "after 3 epoch(s)" in summary_tex and "over 2 seed(s)" in summary_tex
    assert (tmp_path / "scratch_mnist_summary.csv").read_text().splitlines()[1] == (
        "numpy Adam,0.666667")


def test_amsgrad_contour_title_names_the_final_value():
    from mamgd_paper.core import plotting
    from mamgd_paper.experiments.scratch import figures

    path, f = bowl.tutorial_run()
    fig = figures.amsgrad_contour(bowl.bowl(), path, f)
    try:
        assert fig._suptitle.get_text() == (
            "AMSGrad from scratch on f = x^2 + y^2: 100 iterations, alpha 0.007, "
            f"final f = {f[-1]:.2g}")
        assert fig._suptitle.get_text().endswith("final f = 1.6e-06")  # the tutorial: about 2e-6
    finally:
        plotting.close(fig)


def test_numpy_training_is_bit_identical_whatever_the_blas_thread_count():
    # OpenBLAS splits products by thread count; the runs pin one BLAS thread,
    # so a 1-thread and a 2-thread process give the same bits (Algorithm 6,
    # whose curvature term amplifies any last-bit difference).
    code = """
import numpy as np
from mamgd import reference
from mamgd_paper.experiments.scratch import softmax
rng = np.random.default_rng(0)
x = rng.random((2048, 784), dtype=np.float32)
y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 2048)]
history, params = softmax.train_numpy(x, y, reference.mamgd(1e-3, k=1e-5, variant="algorithm6"),
                                      epochs=2, batch_size=128)
print(history.to_csv(float_format="%.17g"), params[0].tobytes().hex()[:4000])
"""
    outputs = {threads: run_python(code, env={"OPENBLAS_NUM_THREADS": threads,
                                              "OMP_NUM_THREADS": threads})
               for threads in ("1", "2")}
    assert outputs["1"] == outputs["2"]
