"""Behaviour of the Keras 3 MAMGD and AdaExp optimizers (TensorFlow backend).

These tests use TensorFlow tensors (``tf.IndexedSlices``, mixed precision), so
they run where Keras runs on TensorFlow: ``make test``'s processes run Keras on
JAX (the pipeline's backend), and ``tests/library/test_tensorflow_backend.py``
runs this module in a process of its own on TensorFlow.

Golden values come from independent sources: the NumPy oracles of
``mamgd.reference`` (written separately from the Keras classes), Keras's own
Adam, and the paper's published tables.
"""

import numpy as np
import pytest

import keras

if keras.backend.backend() != "tensorflow":
    pytest.skip("TensorFlow-backend tests: tests/library/test_tensorflow_backend.py runs "
                "them in a TensorFlow process", allow_module_level=True)

import tensorflow as tf  # noqa: E402

import mamgd
from mamgd import functions, reference

# float32 tolerance for runs of >= 100 steps: the Keras classes and the NumPy
# oracles round the same formulas in a slightly different order (e.g. the
# decayed betas), so they agree to a few ulps per step, not bit for bit.
RTOL, ATOL = 2e-5, 1e-6


def _keras_path(optimizer, grad_fn, start, steps):
    variable = keras.Variable(np.asarray(start, np.float32))
    path = [variable.numpy().copy()]
    for _ in range(steps):
        optimizer.apply([tf.constant(grad_fn(variable.numpy()), tf.float32)], [variable])
        path.append(variable.numpy().copy())
    return np.array(path)


def _least_squares(seed, dim=5):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(8, dim)).astype(np.float32)
    b = rng.normal(size=8).astype(np.float32)
    start = rng.normal(size=dim).astype(np.float32)
    grad = lambda x: (a.T @ (a @ x - b) / 8).astype(np.float32)  # noqa: E731
    return grad, start


KERAS_AND_REFERENCE = {
    "mamgd_authors_code": (
        lambda k: mamgd.MAMGD(0.01, k=k),
        lambda k: reference.mamgd(0.01, k=k, variant="authors_code", dtype=np.float32)),
    "mamgd_algorithm6": (
        lambda k: mamgd.MAMGD(0.01, k=k, variant="algorithm6"),
        lambda k: reference.mamgd(0.01, k=k, variant="algorithm6", dtype=np.float32)),
    "adaexp": (
        lambda k: mamgd.AdaExp(0.01, k=k),
        lambda k: reference.adaexp(0.01, k=k, dtype=np.float32)),
}


@pytest.mark.parametrize("name", ["mamgd_authors_code", "adaexp"])
@pytest.mark.parametrize("seed", [0, 1])
def test_keras_equals_numpy_reference_on_random_problems(name, seed):
    # k = 1e-3 keeps the betas large for the whole run; with fast decay the
    # methods become sign-like near a minimum and amplify ulp differences, and
    # algorithm6's secant term ((g - g_prev)/(dtheta + eps))^2 does so at any
    # k: those cases are checked step by step below.
    make_keras, make_reference = KERAS_AND_REFERENCE[name]
    grad, start = _least_squares(seed)
    ours = _keras_path(make_keras(1e-3), grad, start, 120)
    oracle = reference.run(make_reference(1e-3), grad, start, 120, dtype=np.float32)
    np.testing.assert_allclose(ours, oracle, rtol=RTOL, atol=ATOL)


def _reference_state(optimizer, count):
    """The NumPy oracle's state equal to the Keras optimizer's current slots."""
    slots = [optimizer._momentums[0].numpy(), optimizer._velocities[0].numpy()]
    if isinstance(optimizer, mamgd.AdaExp):
        return reference.AdamState(np.int64(count), *slots)
    if optimizer.variant == "algorithm6":
        return reference.MAMGD6State(np.int64(count), *slots,
                                     optimizer._previous_variables[0].numpy(),
                                     optimizer._previous_gradients[0].numpy())
    return reference.MAMGDState(np.int64(count), *slots)


def _assert_every_step_agrees(optimizer, oracle, grad, start, steps):
    """Teacher forcing: from the Keras state before each step, one oracle step
    gives the Keras result to float32 rounding. Chaotic runs cannot hide a
    wrong formula this way, and rounding cannot accumulate."""
    variable = keras.Variable(np.asarray(start, np.float32))
    for count in range(steps):
        x = variable.numpy().copy()
        g = np.asarray(grad(x), np.float32)
        state = _reference_state(optimizer, count) if count else oracle.init(x)
        expected, _ = oracle.update(x, g, state)
        optimizer.apply([tf.constant(g)], [variable])
        np.testing.assert_allclose(variable.numpy(), expected, rtol=1e-6, atol=1e-7,
                                   err_msg=f"step t={count + 1}")


@pytest.mark.parametrize("name", sorted(KERAS_AND_REFERENCE))
def test_every_step_equals_reference_with_fast_decay(name):
    make_keras, make_reference = KERAS_AND_REFERENCE[name]
    grad, start = _least_squares(2)
    _assert_every_step_agrees(make_keras(0.05), make_reference(0.05), grad, start, 150)


@pytest.mark.parametrize("function", functions.ALL_FUNCTIONS, ids=lambda f: f.name)
@pytest.mark.parametrize("variant", ["authors_code", "algorithm6"])
def test_every_step_equals_reference_on_test_functions(function, variant):
    lr = 0.1 if function.in_paper else 0.01
    k = function.paper_k if function.in_paper else 0.01
    _assert_every_step_agrees(
        mamgd.MAMGD(lr, k=k, variant=variant),
        reference.mamgd(lr, k=k, variant=variant, dtype=np.float32),
        lambda x: function.gradient(x), function.start, 100)


def test_adaexp_with_k_zero_is_keras_adam_bit_for_bit():
    grad, start = _least_squares(3, dim=7)
    ours = _keras_path(mamgd.AdaExp(0.02, k=0.0), grad, start, 150)
    adam = _keras_path(keras.optimizers.Adam(0.02), grad, start, 150)
    np.testing.assert_array_equal(ours, adam)


def test_adaexp_with_decay_differs_from_adam():
    grad, start = _least_squares(3, dim=7)
    ours = _keras_path(mamgd.AdaExp(0.02, k=0.01), grad, start, 30)
    adam = _keras_path(keras.optimizers.Adam(0.02), grad, start, 30)
    assert np.abs(ours - adam).max() > 1e-4


def test_mamgd_algorithm6_first_step_closed_form():
    # At t = 1 the curvature term is 0, m = (1 - b1) g and n = (1 - b2) g^2,
    # so m_hat = g and a_hat = sqrt(n)/(1 - b2) = |g|/sqrt(1 - b2): the step is
    # -eta g / (|g|/sqrt(1 - b2) + eps) with b2 = beta_2 exp(-k).
    g = np.array([0.5, -2.0, 3e-3], np.float32)
    variable = keras.Variable(np.zeros(3, np.float32))
    mamgd.MAMGD(0.1, k=0.3, variant="algorithm6").apply([tf.constant(g)], [variable])
    b2 = 0.999 * np.exp(-0.3)
    expected = -0.1 * g / (np.abs(g) / np.sqrt(1 - b2) + 1e-7)
    np.testing.assert_allclose(variable.numpy(), expected, rtol=1e-6)


def test_algorithm6_curvature_term_is_live():
    grad, start = _least_squares(4)
    code = _keras_path(mamgd.MAMGD(0.01, k=0.0), grad, start, 20)
    alg6 = _keras_path(mamgd.MAMGD(0.01, k=0.0, variant="algorithm6"), grad, start, 20)
    assert np.abs(code - alg6).max() > 1e-3


@pytest.mark.parametrize("variant, slots", [("authors_code", 2), ("algorithm6", 4)])
def test_slot_variables_per_parameter(variant, slots):
    variables = [keras.Variable(np.zeros((3, 2), np.float32)), keras.Variable(np.zeros(4, np.float32))]
    optimizer = mamgd.MAMGD(variant=variant)
    optimizer.build(variables)
    per_parameter = [v for v in optimizer.variables if tuple(v.shape) in {(3, 2), (4,)}]
    assert len(per_parameter) == slots * len(variables)


INVALID_HYPERPARAMETERS = [
    ({"k": -0.1}, "k"),
    ({"k": float("nan")}, "k"),
    ({"beta_1": 1.0}, "beta_1"),
    ({"beta_1": -0.1}, "beta_1"),
    ({"beta_2": 1.5}, "beta_2"),
    ({"epsilon": 0.0}, "epsilon"),
    ({"epsilon": -1e-7}, "epsilon"),
    ({"learning_rate": 0.0}, "learning_rate"),
    ({"learning_rate": -1e-3}, "learning_rate"),
]


@pytest.mark.parametrize(
    "cls, kwargs, argument",
    [(cls, kwargs, argument) for cls in (mamgd.MAMGD, mamgd.AdaExp)
     for kwargs, argument in INVALID_HYPERPARAMETERS]
    + [(mamgd.MAMGD, {"variant": "paper"}, "variant")],
)
def test_invalid_hyperparameters_are_rejected_with_a_clear_message(cls, kwargs, argument):
    with pytest.raises(ValueError) as error:
        cls(**kwargs)
    message = str(error.value)
    assert f"`{argument}`" in message
    assert repr(next(iter(kwargs.values()))) in message


def test_learning_rate_schedule_is_used():
    schedule = keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5)
    grad, start = _least_squares(5)
    ours = _keras_path(mamgd.MAMGD(schedule, k=0.01), grad, start, 5)
    # The oracle with the same per-step learning rates, one step at a time.
    x, state = np.asarray(start, np.float32), None
    for step in range(5):
        opt = reference.mamgd(0.1 * 0.5 ** step, k=0.01, dtype=np.float32)
        state = opt.init(x) if state is None else state
        x, state = opt.update(x, grad(x), state)
    np.testing.assert_allclose(ours[-1], x, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize(
    "kwargs, clip",
    [
        ({"clipvalue": 0.05}, lambda g: np.clip(g, -0.05, 0.05)),
        ({"clipnorm": 0.1}, lambda g: g * min(1.0, 0.1 / np.linalg.norm(g))),
        ({"global_clipnorm": 0.1}, lambda g: g * min(1.0, 0.1 / np.linalg.norm(g))),
    ],
)
def test_gradient_clipping_matches_clipping_by_hand(kwargs, clip):
    grad, start = _least_squares(6)
    clipped = _keras_path(mamgd.MAMGD(0.01, k=0.01, **kwargs), grad, start, 10)
    by_hand = _keras_path(mamgd.MAMGD(0.01, k=0.01), lambda x: clip(grad(x)).astype(np.float32),
                          start, 10)
    np.testing.assert_allclose(clipped, by_hand, rtol=1e-6, atol=1e-7)
    unclipped = _keras_path(mamgd.MAMGD(0.01, k=0.01), grad, start, 10)
    assert np.abs(clipped - unclipped).max() > 1e-5


def test_weight_decay_is_decoupled_and_applied():
    grad, start = _least_squares(7)
    decayed = _keras_path(mamgd.MAMGD(0.01, k=0.01, weight_decay=0.1), grad, start, 1)
    plain = _keras_path(mamgd.MAMGD(0.01, k=0.01), grad, start, 1)
    # Keras's decoupled weight decay: theta -= lr * wd * theta before the step.
    np.testing.assert_allclose(decayed[1] - plain[1], -0.01 * 0.1 * start, rtol=1e-4, atol=1e-8)


def test_ema_overwrites_model_variables_with_their_average():
    grad, start = _least_squares(8)
    variable = keras.Variable(start)
    optimizer = mamgd.MAMGD(0.01, k=0.01, use_ema=True, ema_momentum=0.5,
                            ema_overwrite_frequency=3)
    seen = []
    for _ in range(3):
        optimizer.apply([tf.constant(grad(variable.numpy()))], [variable])
        seen.append(variable.numpy().copy())
    average = optimizer._model_variables_moving_average[0].numpy()
    np.testing.assert_allclose(variable.numpy(), average, rtol=1e-6)
    assert np.abs(seen[1] - average).max() > 1e-6


def test_gradient_accumulation_averages_micro_batches():
    grad, start = _least_squares(9)
    g1, g2 = grad(start), grad(start + 1.0)
    accumulated = keras.Variable(start)
    optimizer = mamgd.MAMGD(0.01, k=0.5, variant="algorithm6", gradient_accumulation_steps=2)
    optimizer.apply([tf.constant(g1)], [accumulated])
    np.testing.assert_array_equal(accumulated.numpy(), start)
    optimizer.apply([tf.constant(g2)], [accumulated])
    single = keras.Variable(start)
    mamgd.MAMGD(0.01, k=0.5, variant="algorithm6").apply([tf.constant((g1 + g2) / 2)], [single])
    np.testing.assert_allclose(accumulated.numpy(), single.numpy(), rtol=1e-6)
    assert int(optimizer.iterations.numpy()) == 1  # t counts applied updates


@pytest.mark.parametrize("variant", ["authors_code", "algorithm6"])
def test_sparse_gradients_equal_their_dense_form(variant):
    table = np.random.default_rng(10).normal(size=(6, 3)).astype(np.float32)
    sparse_var, dense_var = keras.Variable(table), keras.Variable(table)
    sparse_opt, dense_opt = mamgd.MAMGD(0.1, k=0.1, variant=variant), mamgd.MAMGD(0.1, k=0.1, variant=variant)
    for step in range(4):
        rows = tf.constant([step % 6, (step + 2) % 6])
        values = tf.constant(np.full((2, 3), 0.5 + step, np.float32))
        slices = tf.IndexedSlices(values, rows, dense_shape=tf.constant([6, 3]))
        sparse_opt.apply([slices], [sparse_var])
        dense_opt.apply([tf.convert_to_tensor(slices)], [dense_var])
    np.testing.assert_allclose(sparse_var.numpy(), dense_var.numpy(), rtol=1e-6)
    assert np.abs(sparse_var.numpy() - table).max() > 0


def test_embedding_model_trains_with_sparse_gradients():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,), dtype="int32"), keras.layers.Embedding(50, 8),
                              keras.layers.GlobalAveragePooling1D(), keras.layers.Dense(1)])
    model.compile(optimizer=mamgd.MAMGD(0.01, variant="algorithm6"), loss="mse")
    x = np.random.default_rng(0).integers(0, 50, size=(64, 4))
    y = np.random.default_rng(1).normal(size=(64, 1)).astype(np.float32)
    history = model.fit(x, y, epochs=3, batch_size=16, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    assert history.history["loss"][-1] < history.history["loss"][0]


@pytest.mark.parametrize("cls, kwargs", [(mamgd.MAMGD, {"variant": "algorithm6", "k": 0.02}),
                                         (mamgd.MAMGD, {}), (mamgd.AdaExp, {"k": 0.3})])
def test_config_and_serialize_round_trip(cls, kwargs):
    optimizer = cls(learning_rate=0.03, beta_1=0.8, clipnorm=1.0, **kwargs)
    config = optimizer.get_config()
    clone = cls.from_config(config)
    assert clone.get_config() == config
    restored = keras.optimizers.deserialize(keras.optimizers.serialize(optimizer))
    assert type(restored) is cls
    assert restored.get_config() == config


def _regression_data():
    rng = np.random.default_rng(11)
    x = rng.normal(size=(96, 5)).astype(np.float32)
    y = (x @ rng.normal(size=(5, 1)) + 0.1).astype(np.float32)
    return x, y


def _small_model(optimizer):
    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(1)])
    model.compile(optimizer=optimizer, loss="mse")
    return model


@pytest.mark.parametrize("make", [lambda: mamgd.MAMGD(0.01, k=0.01, variant="algorithm6"),
                                  lambda: mamgd.AdaExp(0.01, k=0.01)])
def test_save_mid_training_and_resume_is_bit_for_bit(tmp_path, make):
    x, y = _regression_data()
    uninterrupted = _small_model(make())
    uninterrupted.fit(x, y, epochs=4, batch_size=32, shuffle=False, verbose=0)

    first = _small_model(make())
    first.fit(x, y, epochs=2, batch_size=32, shuffle=False, verbose=0)
    first.save(tmp_path / "mid.keras")
    resumed = keras.models.load_model(tmp_path / "mid.keras")
    assert type(resumed.optimizer) is type(first.optimizer)
    assert int(resumed.optimizer.iterations.numpy()) == 6
    resumed.fit(x, y, epochs=2, batch_size=32, shuffle=False, verbose=0)
    for a, b in zip(uninterrupted.get_weights(), resumed.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_loss_scale_optimizer_skips_non_finite_steps_under_mixed_precision():
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        model = _small_model(keras.optimizers.LossScaleOptimizer(mamgd.MAMGD(0.01)))
        x, y = _regression_data()
        model.fit(x, y, epochs=1, batch_size=32, verbose=0)
        optimizer = model.optimizer
        before = [w.copy() for w in model.get_weights()]
        scale_before = float(optimizer.dynamic_scale.numpy())
        grads = [tf.fill(v.shape, np.float32(np.inf)) for v in model.trainable_variables]
        optimizer.apply(grads, model.trainable_variables)
        for a, b in zip(before, model.get_weights()):
            np.testing.assert_array_equal(a, b)
        assert float(optimizer.dynamic_scale.numpy()) < scale_before
        assert all(np.all(np.isfinite(v.numpy())) for v in optimizer.variables
                   if v.dtype in ("float32", "float16"))
        model.fit(x, y, epochs=1, batch_size=32, verbose=0)
        assert all(np.all(np.isfinite(w)) for w in model.get_weights())
    finally:
        keras.mixed_precision.set_global_policy("float32")
