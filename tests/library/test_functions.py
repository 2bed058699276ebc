"""Tests of mamgd.functions: formulas, gradients, minimisers and paper facts."""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

import numpy as np
import pytest

from mamgd import functions as F

from conftest import PAPER_TABLES, ROOT  # noqa: E402


def _paper_tables_path() -> Path:
    return PAPER_TABLES


def _paper_rows():
    path = _paper_tables_path()
    if not path.exists():
        pytest.skip(f"paper_tables.csv not found at {path}")
    with path.open(newline="") as fh:
        return [row for row in csv.DictReader(fh) if int(row["table"]) <= 6]


IDS = [f.name for f in F.ALL_FUNCTIONS]


# ---------------------------------------------------------------------------
# registry
# ---------------------------------------------------------------------------


def test_registry_shape_and_order():
    assert len(F.PAPER_FUNCTIONS) == 6
    assert len(F.ALL_FUNCTIONS) == 8
    assert [f.table for f in F.PAPER_FUNCTIONS] == [1, 2, 3, 4, 5, 6]
    assert F.ALL_FUNCTIONS[:6] == F.PAPER_FUNCTIONS
    assert [f.name for f in F.ALL_FUNCTIONS] == [
        "quadratic",
        "sphere",
        "three_hump_camel",
        "matyas",
        "booth",
        "himmelblau",
        "rosenbrock",
        "beale",
    ]
    for f in F.ALL_FUNCTIONS[6:]:
        assert f.table is None and f.paper_k is None and f.max_steps is None
        assert f.search_steps is None and f.optimizers == ()


def test_get():
    for f in F.ALL_FUNCTIONS:
        assert F.get(f.name) is f
        assert F.get(f.title) is f
    for f in F.PAPER_FUNCTIONS:
        assert F.get(f.table) is f
        assert F.get(str(f.table)) is f
    assert F.get("Three-hump camel") is F.THREE_HUMP_CAMEL
    with pytest.raises(KeyError):
        F.get("nope")
    with pytest.raises(KeyError):
        F.get(7)


def test_frozen_and_not_collected():
    with pytest.raises(dataclasses.FrozenInstanceError):
        F.BOOTH.dim = 3  # type: ignore[misc]
    assert F.TestFunction.__test__ is False


@pytest.mark.parametrize("f", F.ALL_FUNCTIONS, ids=IDS)
def test_metadata_consistent(f):
    assert len(f.start) == f.dim
    assert len(f.target) == f.dim
    assert len(f.domain) == f.dim
    assert f.target in f.minimizers
    for lo, hi in f.domain:
        assert lo < hi
    for point in (f.start,) + f.minimizers:
        for c, (lo, hi) in zip(point, f.domain):
            assert lo <= c <= hi
    assert f.formula.startswith("f(")


# ---------------------------------------------------------------------------
# paper facts (golden source: docs/protocol.md, section 3, literal numbers)
# ---------------------------------------------------------------------------

# table: (slug, start, target, k, k-search step, last N shown)
PROTOCOL_FACTS = {
    1: ("quadratic", (-1.0,), (0.5,), 2.3810217518681194, 18, 30),
    2: ("sphere", (-1.5, -1.5), (0.0, 0.0), 2.377131029618243, 18, 30),
    3: ("three_hump_camel", (1.0, 1.0), (0.0, 0.0), 0.05340795593118066, 18, 30),
    4: ("matyas", (-1.0, -1.0), (0.0, 0.0), 0.027338692996177527, 14, 30),
    5: ("booth", (0.0, 1.0), (1.0, 3.0), 0.19919259314696333, 22, 40),
    6: ("himmelblau", (2.0, 1.0), (3.0, 2.0), 0.10650640132738051, 14, 30),
}


@pytest.mark.parametrize("table", sorted(PROTOCOL_FACTS))
def test_protocol_facts(table):
    slug, start, target, k, search, last = PROTOCOL_FACTS[table]
    f = F.get(table)
    assert f.name == slug
    assert f.table == table
    assert f.start == start
    assert f.target == target
    assert f.paper_k == k  # exact digits
    assert f.search_steps == search
    assert f.max_steps == last
    expected = ("MAMGD", "Adam", "Adagrad", "RMSprop") + (("SGD",) if table != 6 else ())
    assert f.optimizers == expected


def test_titles_epochs_and_columns_match_paper_tables():
    rows = _paper_rows()
    assert len(rows) == 460
    for f in F.PAPER_FUNCTIONS:
        mine = [r for r in rows if int(r["table"]) == f.table]
        assert {r["title"] for r in mine} == {f.title}
        epochs = sorted({int(r["epoch"]) for r in mine})
        assert epochs == list(range(2, f.max_steps + 1, 2))
        columns = []
        for r in mine:
            if r["optimizer"] not in columns:
                columns.append(r["optimizer"])
        assert tuple(columns) == f.optimizers


def test_paper_formulas_at_a_point():
    # f written out independently from docs/protocol.md, section 3, in float64.
    x, y = 0.3, -0.7
    assert F.QUADRATIC.value(np.array([x])) == pytest.approx(x**2 - x, abs=1e-15)
    assert F.SPHERE.value(np.array([x, y])) == pytest.approx(x**2 + y**2, abs=1e-15)
    camel = 2 * x**2 - 1.05 * x**4 + x**6 / 6 + x * y + y**2
    assert F.THREE_HUMP_CAMEL.value(np.array([x, y])) == pytest.approx(camel, abs=1e-15)
    matyas = 0.26 * (x**2 + y**2) - 0.48 * x * y
    assert F.MATYAS.value(np.array([x, y])) == pytest.approx(matyas, abs=1e-15)
    booth = (x + 2 * y - 7) ** 2 + (2 * x + y - 5) ** 2
    assert F.BOOTH.value(np.array([x, y])) == pytest.approx(booth, rel=1e-15)
    himmel = (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2
    assert F.HIMMELBLAU.value(np.array([x, y])) == pytest.approx(himmel, rel=1e-15)
    rosen = (1 - x) ** 2 + 100 * (y - x**2) ** 2
    assert F.ROSENBROCK.value(np.array([x, y])) == pytest.approx(rosen, rel=1e-15)
    beale = (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2
    assert F.BEALE.value(np.array([x, y])) == pytest.approx(beale, rel=1e-15)


# ---------------------------------------------------------------------------
# gradients and minimisers
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("f", F.ALL_FUNCTIONS, ids=IDS)
def test_gradient_matches_central_differences(f):
    rng = np.random.default_rng(20240154 + len(f.name))
    lo = np.array([d[0] for d in f.domain])
    hi = np.array([d[1] for d in f.domain])
    for _ in range(25):
        x = rng.uniform(lo, hi)
        g = np.array(f.gradient(x), dtype=np.float64)
        assert g.shape == (f.dim,)
        fd = np.empty(f.dim)
        for i in range(f.dim):
            h = 1e-5 * max(1.0, abs(x[i]))
            e = np.zeros(f.dim)
            e[i] = h
            fd[i] = (f.value(x + e) - f.value(x - e)) / (2 * h)
        # Central differences: truncation ~h^2 |f'''| / 6 and round-off
        # ~1e-16 |f| / h; both are < 1e-6 relative to max(1, |grad|) on these
        # domains (largest case: three-hump camel near |x| = 5).
        scale = max(1.0, float(np.max(np.abs(g))))
        np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-6 * scale)


@pytest.mark.parametrize("f", F.ALL_FUNCTIONS, ids=IDS)
def test_minimizers(f):
    for m in f.minimizers:
        x = np.array(m, dtype=np.float64)
        assert f.value(x) == pytest.approx(f.minimum, abs=1e-12)
        np.testing.assert_allclose(np.array(f.gradient(x)), 0.0, atol=1e-9)
    # nothing in a coarse grid over the domain is below the minimum
    axes = [np.linspace(lo, hi, 101) for lo, hi in f.domain]
    grid = np.stack(np.meshgrid(*axes, indexing="ij"))
    assert np.min(f.value(grid)) >= f.minimum - 1e-12


def test_himmelblau_has_four_minimizers():
    assert len(F.HIMMELBLAU.minimizers) == 4
    assert len(set(F.HIMMELBLAU.minimizers)) == 4


def test_exact_minimizers():
    assert F.QUADRATIC.value(np.array([0.5])) == -0.25
    assert F.QUADRATIC.minimum == -0.25
    for f in (F.SPHERE, F.THREE_HUMP_CAMEL, F.MATYAS, F.BOOTH, F.ROSENBROCK, F.BEALE):
        assert f.value(np.array(f.target)) == 0.0
    assert F.HIMMELBLAU.value(np.array([3.0, 2.0])) == 0.0


# ---------------------------------------------------------------------------
# broadcasting, dtypes, tensors
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("f", F.ALL_FUNCTIONS, ids=IDS)
def test_broadcasts_over_grids(f):
    axes = [np.linspace(lo, hi, 7 if f.dim == 2 else 11) for lo, hi in f.domain]
    grid = np.stack(np.meshgrid(*axes, indexing="ij"))  # (dim, ...)
    values = f.value(grid)
    grads = np.stack(f.gradient(grid))
    assert values.shape == grid.shape[1:]
    assert grads.shape == grid.shape
    flat = grid.reshape(f.dim, -1).T
    for j, point in enumerate(flat):
        assert values.reshape(-1)[j] == pytest.approx(f.value(point), rel=1e-14, abs=1e-14)
        np.testing.assert_allclose(
            grads.reshape(f.dim, -1)[:, j], f.gradient(point), rtol=1e-14, atol=1e-12
        )


@pytest.mark.parametrize("f", F.ALL_FUNCTIONS, ids=IDS)
def test_float32_stays_float32(f):
    x = np.array(f.start, dtype=np.float32)
    assert np.asarray(f.value(x)).dtype == np.float32
    assert np.asarray(f.gradient(x)).dtype == np.float32
    assert np.asarray(f.error(x)).dtype == np.float32
    grid = np.zeros((f.dim, 3, 4), dtype=np.float32)
    assert f.value(grid).dtype == np.float32
    assert f.error(grid).dtype == np.float32 and f.error(grid).shape == (3, 4)


def test_error_is_mean_squared_distance_to_target():
    assert F.BOOTH.error(np.array([0.0, 1.0])) == pytest.approx(((0 - 1) ** 2 + (1 - 3) ** 2) / 2)
    assert F.QUADRATIC.error(np.array([-1.0])) == pytest.approx(2.25)
    assert F.HIMMELBLAU.error(np.array([2.0, 1.0])) == pytest.approx(1.0)
    assert F.SPHERE.error(np.array([-1.5, -1.5])) == pytest.approx(2.25)
    # trajectories: coordinates on the first axis -> one error per row
    traj = np.array([[0.0, 1.0], [1.0, 3.0], [2.0, 3.0]])
    np.testing.assert_allclose(F.BOOTH.error(traj.T), [2.5, 0.0, 0.5])
    for f in F.ALL_FUNCTIONS:
        assert f.error(np.array(f.target)) == 0.0


@pytest.mark.parametrize("f", F.ALL_FUNCTIONS, ids=IDS)
def test_works_on_jax_arrays(f):
    jnp = pytest.importorskip("jax.numpy")
    x64 = np.array(f.start, dtype=np.float64) + 0.25
    x = jnp.asarray(x64.astype(np.float32))
    value = f.value(x)
    grad = jnp.stack(f.gradient(x))
    assert value.dtype == jnp.float32 and grad.dtype == jnp.float32
    np.testing.assert_allclose(np.asarray(value), f.value(x64), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(
        np.asarray(grad), np.array(f.gradient(x64)), rtol=1e-5, atol=1e-4
    )


@pytest.mark.parametrize("f", F.ALL_FUNCTIONS, ids=IDS)
def test_works_on_keras_tensors(f):
    keras = pytest.importorskip("keras")
    x64 = np.array(f.start, dtype=np.float64) + 0.25
    x = keras.ops.convert_to_tensor(x64.astype(np.float32))
    value = f.value(x)
    grad = keras.ops.stack(f.gradient(x))
    err = f.error(x)
    assert keras.backend.standardize_dtype(value.dtype) == "float32"
    assert keras.backend.standardize_dtype(grad.dtype) == "float32"
    assert keras.backend.standardize_dtype(err.dtype) == "float32"
    np.testing.assert_allclose(keras.ops.convert_to_numpy(value), f.value(x64), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(grad), np.array(f.gradient(x64)), rtol=1e-5, atol=1e-4
    )


def test_packaged_paper_tables_equal_the_source_copy():
    # The 765 published numbers ship inside the package; when the copy typed
    # from the paper is beside the repository, the two must be the same file.
    from conftest import SOURCE_PAPER_TABLES

    if not SOURCE_PAPER_TABLES.is_file():
        pytest.skip("the source copy of the published tables is not beside the repository")
    assert PAPER_TABLES.read_bytes() == SOURCE_PAPER_TABLES.read_bytes()
    assert len(PAPER_TABLES.read_text().strip().splitlines()) == 1 + 765


# ---------------------------------------------------------------------------
# d-dimensional classics: Rastrigin and the chained Rosenbrock
# ---------------------------------------------------------------------------


def _central_difference(function, x, h=1e-6):
    x = np.asarray(x, dtype=np.float64)
    out = np.empty_like(x)
    for i in range(x.size):
        step = np.zeros_like(x)
        step[i] = h
        out[i] = (function.value(x + step) - function.value(x - step)) / (2 * h)
    return out


def test_rastrigin_values_by_hand():
    f = F.RASTRIGIN
    assert f.name == "rastrigin" and F.RASTRIGIN_10D.name == "rastrigin_10d"
    assert f.value(np.zeros(2)) == 0.0
    # 10*2 + 2 * (1 - 10 cos 2pi) = 20 - 18
    assert f.value(np.ones(2)) == pytest.approx(2.0, abs=1e-12)
    # 10*2 + 2 * (0.25 - 10 cos pi) = 20 + 2 * 10.25
    assert f.value(np.full(2, 0.5)) == pytest.approx(40.5, abs=1e-12)
    assert F.RASTRIGIN_10D.value(np.ones(10)) == pytest.approx(10.0, abs=1e-11)
    grid = f.value(np.zeros((2, 3, 4)))
    assert grid.shape == (3, 4) and not grid.any()
    # the gradient vanishes at the global minimiser and at the local one near (1, 1)
    assert not np.stack(f.gradient(np.zeros(2))).any()
    assert f.domain == ((-5.12, 5.12),) * 2


def test_rosenbrock_nd_values_by_hand():
    f = F.ROSENBROCK_10D
    assert f.value(np.ones(10)) == 0.0 and not np.stack(f.gradient(np.ones(10))).any()
    # every one of the 9 terms is (1 - 0)^2 = 1 at the origin
    assert f.value(np.zeros(10)) == 9.0
    # d = 3 at (0, 1, 2): 100 (1 - 0)^2 + 1 + 100 (2 - 1)^2 + 0 = 201
    assert F.rosenbrock(3).value(np.array([0.0, 1.0, 2.0])) == 201.0
    assert f.start[:4] == (-1.2, 1.0, -1.2, 1.0)


def test_rosenbrock_2d_is_the_paper_classic():
    two = F.rosenbrock(2)
    rng = np.random.default_rng(3)
    for x in rng.uniform(-2, 2, size=(5, 2)):
        assert two.value(x) == pytest.approx(F.ROSENBROCK.value(x), rel=1e-12)
        assert np.allclose(np.stack(two.gradient(x)), np.stack(F.ROSENBROCK.gradient(x)),
                           rtol=1e-12)


@pytest.mark.parametrize("function", F.ND_FUNCTIONS, ids=[f.name for f in F.ND_FUNCTIONS])
def test_nd_gradients_match_finite_differences(function):
    rng = np.random.default_rng(5)
    for _ in range(3):
        x = rng.uniform(-1.5, 1.5, size=function.dim)
        analytic = np.stack(function.gradient(x))
        assert np.allclose(analytic, _central_difference(function, x), rtol=1e-6, atol=1e-5)


def test_nd_dimension_is_checked():
    with pytest.raises(ValueError, match="dim must be a whole number >= 2"):
        F.rastrigin(1)
    with pytest.raises(ValueError, match="dim must be a whole number >= 2"):
        F.rosenbrock(True)
