"""The optimizers on other backends and under tf.distribute (fresh processes)."""

import csv
import importlib.util
import json

import numpy as np
import pytest

from conftest import PAPER_TABLES, run_python

# Table 1 (x^2 - x) through the Keras optimizers on one backend: MAMGD from
# mamgd, the other columns Keras's own, float32, the paper's error per step.
TABLE1_ON_BACKEND = """
import json
import numpy as np, keras, mamgd
from mamgd import functions
f = functions.get(1)
columns = {"MAMGD": mamgd.MAMGD(0.1, k=f.paper_k), "Adam": keras.optimizers.Adam(0.1),
           "Adagrad": keras.optimizers.Adagrad(0.1), "RMSprop": keras.optimizers.RMSprop(0.1),
           "SGD": keras.optimizers.SGD(0.1)}
errors = {}
for name, optimizer in columns.items():
    variable = keras.Variable(np.asarray(f.start, np.float32))
    path = [keras.ops.convert_to_numpy(variable).copy()]
    for _ in range(f.max_steps):
        g = np.stack(f.gradient(keras.ops.convert_to_numpy(variable))).astype(np.float32)
        optimizer.apply([keras.ops.convert_to_tensor(g)], [variable])
        path.append(keras.ops.convert_to_numpy(variable).copy())
    errors[name] = [float(e) for e in f.error(np.array(path, np.float32).T)]
print(json.dumps(errors))
"""


needs_torch = pytest.mark.skipif(importlib.util.find_spec("torch") is None,
                                 reason="PyTorch not installed (`make test-torch` installs the CPU wheel)")


def _table1_on(backend):
    """(paper, reproduced) for each of Table 1's 75 published cells."""
    out = run_python(TABLE1_ON_BACKEND, env={"KERAS_BACKEND": backend, "JAX_PLATFORMS": "cpu"})
    errors = json.loads(out.strip().splitlines()[-1])
    with PAPER_TABLES.open(newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["table"] == "1"]
    assert len(rows) == 75
    return [(float(r["loss"]), errors[r["optimizer"]][int(r["epoch"])]) for r in rows]


@pytest.mark.parametrize("backend", ["jax", "tensorflow"])
def test_table1_is_reproduced_exactly_on_backend(backend):
    cells = _table1_on(backend)
    mismatches = [(p, r) for p, r in cells if f"{p:.6f}" != f"{r:.6f}"]
    assert not mismatches, mismatches


@needs_torch
def test_table1_on_torch_is_within_one_printed_unit():
    # PyTorch's float32 sqrt, pow and exp are not all correctly rounded (its
    # CPU sqrt is 1 ulp off for ~17% of inputs): on all six tables 2 of 460
    # cells (one MAMGD, one of Keras's own Adam) print one unit higher in the
    # 6th decimal. Table 1 has one of them.
    cells = _table1_on("torch")
    assert max(abs(p - r) for p, r in cells) < 1.5e-6
    assert sum(f"{p:.6f}" == f"{r:.6f}" for p, r in cells) >= 74


def test_algorithm6_agrees_across_tensorflow_and_jax():
    code = """
import numpy as np, keras, mamgd
from mamgd import functions
f = functions.get("booth")
optimizer = mamgd.MAMGD(0.05, k=0.1, variant="algorithm6")
variable = keras.Variable(np.asarray(f.start, np.float32))
path = [keras.ops.convert_to_numpy(variable).copy()]
for _ in range(15):
    g = np.stack(f.gradient(keras.ops.convert_to_numpy(variable))).astype(np.float32)
    optimizer.apply([keras.ops.convert_to_tensor(g)], [variable])
    path.append(keras.ops.convert_to_numpy(variable).copy())
print(repr(np.array(path).tolist()))
"""
    backends = ["tensorflow", "jax"] + (["torch"] if importlib.util.find_spec("torch") else [])
    paths = [np.array(eval(run_python(code, env={"KERAS_BACKEND": b, "JAX_PLATFORMS": "cpu"})
                           .strip().splitlines()[-1])) for b in backends]
    for other in paths[1:]:
        np.testing.assert_allclose(paths[0], other, rtol=1e-5, atol=1e-6)


MIRRORED = """
import numpy as np, tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import keras, mamgd

def build():
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dense(1)])
    model.compile(optimizer=mamgd.MAMGD(0.01, k=0.01, variant=VARIANT), loss="mse")
    return model

rng = np.random.default_rng(0)
x = rng.normal(size=(256, 6)).astype("float32")
y = (x @ rng.normal(size=(6, 1))).astype("float32")
keras.utils.set_random_seed(0)
single = build()
initial = single.get_weights()
single.fit(x, y, epochs=3, batch_size=64, shuffle=False, verbose=0)
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
with strategy.scope():
    mirrored = build()
    mirrored.set_weights(initial)
mirrored.fit(x, y, epochs=3, batch_size=64, shuffle=False, verbose=0)
assert strategy.num_replicas_in_sync == 2
for a, b in zip(single.get_weights(), mirrored.get_weights()):
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
assert int(mirrored.optimizer.iterations.numpy()) == 12
print("ok", max(float(np.abs(a - b).max()) for a, b in zip(single.get_weights(), mirrored.get_weights())))
"""


@pytest.mark.parametrize("variant", ["authors_code", "algorithm6"])
def test_mirrored_strategy_on_two_devices_equals_one_device(variant):
    out = run_python(f"VARIANT = {variant!r}\n" + MIRRORED, env={"KERAS_BACKEND": "tensorflow"})
    assert out.strip().splitlines()[-1].startswith("ok")


def test_a_model_saved_with_mamgd_loads_after_import_keras_mamgd(tmp_path):
    run_python(f"""
import keras, mamgd, numpy as np
model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
model.compile(optimizer=mamgd.MAMGD(0.01, variant="algorithm6"), loss="mse")
model.fit(np.ones((8, 3)), np.ones((8, 1)), verbose=0)
model.save({str(tmp_path / "m.keras")!r})
""")
    out = run_python(f"""
import keras, mamgd
model = keras.models.load_model({str(tmp_path / "m.keras")!r})
print(type(model.optimizer).__name__, model.optimizer.variant)
""")
    assert out.strip().splitlines()[-1] == "MAMGD algorithm6"
