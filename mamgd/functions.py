"""Test functions of the MAMGD paper (Tables 1-6, Figures 1-6) plus two classics.

Sakovich, Aksenov, Pleshakova, Gataullin, "MAMGD: Gradient-Based Optimization
Method Using Exponential Decay", *Technologies* 12(9):154, 2024,
doi:10.3390/technologies12090154.

Each function is a :class:`TestFunction`. ``value``, ``gradient`` and ``error``
are written with plain Python operators (``+ - * / **``) on the coordinates
``x[0], x[1]`` only, so the *same* expressions evaluate on

* NumPy arrays (float32 or float64; coordinates on the first axis, so a
  ``(2, H, W)`` grid gives an ``(H, W)`` contour surface),
* Keras / TensorFlow / JAX tensors (scalars or vectors),

and the result keeps the dtype of ``x`` (Python float constants are "weak"
under NumPy 2 / NEP 50 and in the tensor libraries).

Gradients are analytic, written out by hand (no autodiff); ``gradient`` returns
a tuple with one expression per coordinate; the caller stacks it.

The paper's start points, error targets and MAMGD decay constants ``k`` are
those of docs/protocol.md, section 3. The paper's "MSE" is the mean over coordinates
of the squared distance to the target point (:meth:`TestFunction.error`).

Beyond the paper, two classics in d dimensions (the equal-budget comparison,
docs/protocol.md, section 7): :func:`rastrigin` and the chained :func:`rosenbrock`,
with the instances :data:`RASTRIGIN`, :data:`RASTRIGIN_10D` and
:data:`ROSENBROCK_10D`. They are written with NumPy (``np.sum``, ``np.cos``) for
NumPy arrays only, with the coordinates on the first axis as above; they are not
part of :data:`ALL_FUNCTIONS`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional, Tuple, Union

import numpy as np

__all__ = [
    "TestFunction",
    "QUADRATIC",
    "SPHERE",
    "THREE_HUMP_CAMEL",
    "MATYAS",
    "BOOTH",
    "HIMMELBLAU",
    "ROSENBROCK",
    "BEALE",
    "PAPER_FUNCTIONS",
    "ALL_FUNCTIONS",
    "get",
    "rastrigin",
    "rosenbrock",
    "RASTRIGIN",
    "RASTRIGIN_10D",
    "ROSENBROCK_10D",
    "ND_FUNCTIONS",
]

Point = Tuple[float, ...]


@dataclass(frozen=True)
class TestFunction:
    """An analytic objective with its experiment metadata.

    Attributes
    ----------
    name:
        Slug (``"quadratic"``, ``"sphere"``, ...).
    title:
        Title of the paper's table (exactly as in ``paper_tables.csv``).
    formula:
        LaTeX formula of f.
    dim:
        Number of coordinates.
    start:
        Start point of the optimisation runs.
    target:
        Point that the error ("MSE") is measured against.
    minimizers:
        All known global minimisers.
    minimum:
        Value of f at the global minimisers.
    domain:
        ``(lo, hi)`` per coordinate: the usual plotting / search domain.
    table:
        Paper table number (1..6), ``None`` for functions not in the paper.
    paper_k:
        MAMGD decay constant k used for the table (docs/protocol.md, section 3).
    search_steps:
        Step count whose error was the objective of the paper's k search.
    max_steps:
        Largest step count ("epoch") in the table (30 or 40).
    optimizers:
        Paper column names in table order.
    """

    __test__ = False  # not a pytest test class despite its name

    name: str
    title: str
    formula: str
    dim: int
    start: Point
    target: Point
    minimizers: Tuple[Point, ...]
    minimum: float
    domain: Tuple[Tuple[float, float], ...]
    _value: Callable = field(default=None, repr=False)
    _gradient: Callable = field(default=None, repr=False)
    table: Optional[int] = None
    paper_k: Optional[float] = None
    search_steps: Optional[int] = None
    max_steps: Optional[int] = None
    optimizers: Tuple[str, ...] = ()

    def value(self, x):
        """f(x); ``x`` has the coordinates on its first axis."""
        return self._value(x)

    def gradient(self, x):
        """Analytic gradient: a tuple ``(df/dx0, df/dx1, ...)``."""
        return tuple(self._gradient(x))

    __call__ = value

    def error(self, x):
        """The paper's "MSE": mean over coordinates of (x_i - target_i)^2.

        Computed in the dtype of ``x``: ``((x0 - t0)**2 + (x1 - t1)**2) / dim``.
        """
        total = (x[0] - self.target[0]) ** 2
        for i in range(1, self.dim):
            total = total + (x[i] - self.target[i]) ** 2
        if self.dim == 1:
            return total
        return total / self.dim

    @property
    def in_paper(self) -> bool:
        return self.table is not None


# ---------------------------------------------------------------------------
# f and grad f, per function (plain operators only)
# ---------------------------------------------------------------------------


def _quadratic(x):
    return x[0] ** 2 - x[0]


def _quadratic_grad(x):
    return (2.0 * x[0] - 1.0,)


def _sphere(x):
    return x[0] ** 2 + x[1] ** 2


def _sphere_grad(x):
    return (2.0 * x[0], 2.0 * x[1])


def _camel(x):
    u, v = x[0], x[1]
    return 2.0 * u**2 - 1.05 * u**4 + u**6 / 6.0 + u * v + v**2


def _camel_grad(x):
    u, v = x[0], x[1]
    return (4.0 * u - 4.2 * u**3 + u**5 + v, u + 2.0 * v)


def _matyas(x):
    u, v = x[0], x[1]
    return 0.26 * (u**2 + v**2) - 0.48 * u * v


def _matyas_grad(x):
    u, v = x[0], x[1]
    return (0.52 * u - 0.48 * v, 0.52 * v - 0.48 * u)


def _booth(x):
    u, v = x[0], x[1]
    return (u + 2.0 * v - 7.0) ** 2 + (2.0 * u + v - 5.0) ** 2


def _booth_grad(x):
    u, v = x[0], x[1]
    r1 = u + 2.0 * v - 7.0
    r2 = 2.0 * u + v - 5.0
    return (2.0 * r1 + 4.0 * r2, 4.0 * r1 + 2.0 * r2)


def _himmelblau(x):
    u, v = x[0], x[1]
    return (u**2 + v - 11.0) ** 2 + (u + v**2 - 7.0) ** 2


def _himmelblau_grad(x):
    u, v = x[0], x[1]
    r1 = u**2 + v - 11.0
    r2 = u + v**2 - 7.0
    return (4.0 * u * r1 + 2.0 * r2, 2.0 * r1 + 4.0 * v * r2)


def _rosenbrock(x):
    u, v = x[0], x[1]
    return (1.0 - u) ** 2 + 100.0 * (v - u**2) ** 2


def _rosenbrock_grad(x):
    u, v = x[0], x[1]
    r = v - u**2
    return (-2.0 * (1.0 - u) - 400.0 * u * r, 200.0 * r)


def _beale(x):
    u, v = x[0], x[1]
    return (
        (1.5 - u + u * v) ** 2
        + (2.25 - u + u * v**2) ** 2
        + (2.625 - u + u * v**3) ** 2
    )


def _beale_grad(x):
    u, v = x[0], x[1]
    r1 = 1.5 - u + u * v
    r2 = 2.25 - u + u * v**2
    r3 = 2.625 - u + u * v**3
    du = 2.0 * r1 * (v - 1.0) + 2.0 * r2 * (v**2 - 1.0) + 2.0 * r3 * (v**3 - 1.0)
    dv = 2.0 * r1 * u + 4.0 * r2 * u * v + 6.0 * r3 * u * v**2
    return (du, dv)


# ---------------------------------------------------------------------------
# Instances
# ---------------------------------------------------------------------------

_FIVE = ("MAMGD", "Adam", "Adagrad", "RMSprop", "SGD")

QUADRATIC = TestFunction(
    name="quadratic",
    title="Quadratic function",
    formula=r"f(x) = x^2 - x",
    dim=1,
    start=(-1.0,),
    target=(0.5,),
    minimizers=((0.5,),),
    minimum=-0.25,
    domain=((-1.5, 2.5),),
    _value=_quadratic,
    _gradient=_quadratic_grad,
    table=1,
    paper_k=2.3810217518681194,
    search_steps=18,
    max_steps=30,
    optimizers=_FIVE,
)

SPHERE = TestFunction(
    name="sphere",
    title="Spherical function",
    formula=r"f(x, y) = x^2 + y^2",
    dim=2,
    start=(-1.5, -1.5),
    target=(0.0, 0.0),
    minimizers=((0.0, 0.0),),
    minimum=0.0,
    domain=((-2.0, 2.0), (-2.0, 2.0)),
    _value=_sphere,
    _gradient=_sphere_grad,
    table=2,
    paper_k=2.377131029618243,
    search_steps=18,
    max_steps=30,
    optimizers=_FIVE,
)

THREE_HUMP_CAMEL = TestFunction(
    name="three_hump_camel",
    title="Three-hump camel function",
    formula=r"f(x, y) = 2x^2 - 1.05x^4 + \frac{x^6}{6} + xy + y^2",
    dim=2,
    start=(1.0, 1.0),
    target=(0.0, 0.0),
    minimizers=((0.0, 0.0),),
    minimum=0.0,
    domain=((-5.0, 5.0), (-5.0, 5.0)),
    _value=_camel,
    _gradient=_camel_grad,
    table=3,
    paper_k=0.05340795593118066,
    search_steps=18,
    max_steps=30,
    optimizers=_FIVE,
)

MATYAS = TestFunction(
    name="matyas",
    title="Matyas function",
    formula=r"f(x, y) = 0.26\left(x^2 + y^2\right) - 0.48xy",
    dim=2,
    start=(-1.0, -1.0),
    target=(0.0, 0.0),
    minimizers=((0.0, 0.0),),
    minimum=0.0,
    domain=((-10.0, 10.0), (-10.0, 10.0)),
    _value=_matyas,
    _gradient=_matyas_grad,
    table=4,
    paper_k=0.027338692996177527,
    search_steps=14,
    max_steps=30,
    optimizers=_FIVE,
)

BOOTH = TestFunction(
    name="booth",
    title="Booth function",
    formula=r"f(x, y) = (x + 2y - 7)^2 + (2x + y - 5)^2",
    dim=2,
    start=(0.0, 1.0),
    target=(1.0, 3.0),
    minimizers=((1.0, 3.0),),
    minimum=0.0,
    domain=((-10.0, 10.0), (-10.0, 10.0)),
    _value=_booth,
    _gradient=_booth_grad,
    table=5,
    paper_k=0.19919259314696333,
    search_steps=22,
    max_steps=40,
    optimizers=_FIVE,
)

HIMMELBLAU = TestFunction(
    name="himmelblau",
    title="Himmelblau's function",
    formula=r"f(x, y) = \left(x^2 + y - 11\right)^2 + \left(x + y^2 - 7\right)^2",
    dim=2,
    start=(2.0, 1.0),
    target=(3.0, 2.0),
    # (3, 2) is exact; the other three are roots of grad f = 0 refined by
    # Newton's method in float64 (f < 1e-29 there).
    minimizers=(
        (3.0, 2.0),
        (-2.805118086952745, 3.131312518250573),
        (-3.779310253377747, -3.283185991286169),
        (3.5844283403304917, -1.8481265269644036),
    ),
    minimum=0.0,
    domain=((-5.0, 5.0), (-5.0, 5.0)),
    _value=_himmelblau,
    _gradient=_himmelblau_grad,
    table=6,
    paper_k=0.10650640132738051,
    search_steps=14,
    max_steps=30,
    optimizers=("MAMGD", "Adam", "Adagrad", "RMSprop"),  # SGD diverges
)

ROSENBROCK = TestFunction(
    name="rosenbrock",
    title="Rosenbrock function",
    formula=r"f(x, y) = (1 - x)^2 + 100\left(y - x^2\right)^2",
    dim=2,
    start=(-1.2, 1.0),
    target=(1.0, 1.0),
    minimizers=((1.0, 1.0),),
    minimum=0.0,
    domain=((-2.0, 2.0), (-1.0, 3.0)),
    _value=_rosenbrock,
    _gradient=_rosenbrock_grad,
)

BEALE = TestFunction(
    name="beale",
    title="Beale function",
    formula=(
        r"f(x, y) = (1.5 - x + xy)^2 + (2.25 - x + xy^2)^2"
        r" + (2.625 - x + xy^3)^2"
    ),
    dim=2,
    start=(1.0, 1.0),
    target=(3.0, 0.5),
    minimizers=((3.0, 0.5),),
    minimum=0.0,
    domain=((-4.5, 4.5), (-4.5, 4.5)),
    _value=_beale,
    _gradient=_beale_grad,
)

PAPER_FUNCTIONS: Tuple[TestFunction, ...] = (
    QUADRATIC,
    SPHERE,
    THREE_HUMP_CAMEL,
    MATYAS,
    BOOTH,
    HIMMELBLAU,
)

ALL_FUNCTIONS: Tuple[TestFunction, ...] = PAPER_FUNCTIONS + (ROSENBROCK, BEALE)

_BY_NAME = {f.name: f for f in ALL_FUNCTIONS}
_BY_TABLE = {f.table: f for f in PAPER_FUNCTIONS}


def get(name_or_table: Union[str, int]) -> TestFunction:
    """Look a function up by slug (``"booth"``), title or paper table number."""
    if isinstance(name_or_table, TestFunction):
        return name_or_table
    if isinstance(name_or_table, int) and not isinstance(name_or_table, bool):
        try:
            return _BY_TABLE[name_or_table]
        except KeyError:
            raise KeyError(
                f"no test function for table {name_or_table}; "
                f"tables are {sorted(_BY_TABLE)}"
            ) from None
    key = str(name_or_table).strip()
    if key.isdigit():
        return get(int(key))
    slug = key.lower().replace("-", "_").replace(" ", "_")
    if slug in _BY_NAME:
        return _BY_NAME[slug]
    for f in ALL_FUNCTIONS:
        if f.title.lower() == key.lower():
            return f
    raise KeyError(f"unknown test function {name_or_table!r}; known: {sorted(_BY_NAME)}")


# ---------------------------------------------------------------------------
# d-dimensional classics (NumPy arrays only)
# ---------------------------------------------------------------------------

#: The usual search box of Rastrigin's function, [-5.12, 5.12]^d.
RASTRIGIN_BOX = 5.12
#: The box the d-dimensional Rosenbrock start points are drawn from, [-2, 2]^d.
ROSENBROCK_BOX = 2.0


def _rastrigin_nd(x):
    x = np.asarray(x)
    return 10.0 * x.shape[0] + np.sum(x * x - 10.0 * np.cos(2.0 * np.pi * x), axis=0)


def _rastrigin_nd_grad(x):
    x = np.asarray(x)
    return 2.0 * x + 20.0 * np.pi * np.sin(2.0 * np.pi * x)


def _rosenbrock_nd(x):
    x = np.asarray(x)
    head, tail = x[:-1], x[1:]
    return np.sum(100.0 * (tail - head * head) ** 2 + (1.0 - head) ** 2, axis=0)


def _rosenbrock_nd_grad(x):
    x = np.asarray(x)
    head, tail = x[:-1], x[1:]
    residual = tail - head * head
    gradient = np.zeros_like(x, dtype=np.result_type(x, np.float32))
    gradient[:-1] += -400.0 * head * residual - 2.0 * (1.0 - head)
    gradient[1:] += 200.0 * residual
    return gradient


def _dimension(dim):
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or dim < 2:
        raise ValueError(f"dim must be a whole number >= 2, not {dim!r}.")
    return int(dim)


def rastrigin(dim, name=None):
    """Rastrigin's function in ``dim`` dimensions.

    f(x) = 10 d + sum_i (x_i^2 - 10 cos(2 pi x_i)): global minimum 0 at x = 0,
    a regular grid of local minima near the integer points; domain
    [-5.12, 5.12]^d. Proposed in two dimensions by L. A. Rastrigin, *Systems of
    Extremal Control*, Nauka, Moscow, 1974 (see A. Törn and A. Žilinskas,
    *Global Optimization*, LNCS 350, Springer, 1989); the d-dimensional form is
    that of H. Mühlenbein, D. Schomisch and J. Born, "The parallel genetic
    algorithm as function optimizer", Parallel Computing 17:619-632, 1991.

    The start point (used by the path galleries) is (2.2, -3.1, 2.2, ...), in
    the basin of a local minimum away from the global one. ``name`` defaults to
    ``"rastrigin"`` in 2-D, else ``"rastrigin_<dim>d"``.
    """
    dim = _dimension(dim)
    zero = (0.0,) * dim
    return TestFunction(
        name=name or (f"rastrigin_{dim}d" if dim != 2 else "rastrigin"),
        title=f"Rastrigin function ({dim}-D)",
        formula=r"f(x) = 10d + \sum_i \left(x_i^2 - 10\cos(2\pi x_i)\right)",
        dim=dim,
        start=tuple(2.2 if i % 2 == 0 else -3.1 for i in range(dim)),
        target=zero,
        minimizers=(zero,),
        minimum=0.0,
        domain=((-RASTRIGIN_BOX, RASTRIGIN_BOX),) * dim,
        _value=_rastrigin_nd,
        _gradient=_rastrigin_nd_grad,
    )


def rosenbrock(dim, name=None):
    """The chained Rosenbrock function in ``dim`` dimensions.

    f(x) = sum_{i<d} (100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2): global minimum 0
    at x = (1, ..., 1); for d = 2 it is :data:`ROSENBROCK` (H. H. Rosenbrock,
    "An automatic method for finding the greatest or least value of a
    function", The Computer Journal 3(3):175-184, 1960). This chained form
    couples every coordinate with the next; it is not the block-separable
    "extended Rosenbrock function" of J. J. Moré, B. S. Garbow and K. E.
    Hillstrom, "Testing unconstrained optimization software", ACM TOMS
    7(1):17-41, 1981 (problem 21), which sums independent 2-D copies. For
    4 <= d <= 30 the chained form also has a local minimiser near
    (-1, 1, ..., 1) (Y.-W. Shang and Y.-H. Qiu, "A note on the extended
    Rosenbrock function", Evolutionary Computation 14(1):119-126, 2006).

    Start point (-1.2, 1, -1.2, 1, ...), the classic one; domain [-2, 2]^d.
    ``name`` defaults to ``"rosenbrock_<dim>d"``.
    """
    dim = _dimension(dim)
    one = (1.0,) * dim
    return TestFunction(
        name=name or f"rosenbrock_{dim}d",
        title=f"Rosenbrock function ({dim}-D)",
        formula=r"f(x) = \sum_{i<d} 100\left(x_{i+1} - x_i^2\right)^2 + (1 - x_i)^2",
        dim=dim,
        start=tuple(-1.2 if i % 2 == 0 else 1.0 for i in range(dim)),
        target=one,
        minimizers=(one,),
        minimum=0.0,
        domain=((-ROSENBROCK_BOX, ROSENBROCK_BOX),) * dim,
        _value=_rosenbrock_nd,
        _gradient=_rosenbrock_nd_grad,
    )


#: Rastrigin in 2-D (the gallery's rugged function) and in 10-D.
RASTRIGIN = rastrigin(2)
RASTRIGIN_10D = rastrigin(10)
#: The chained Rosenbrock function in 10-D (2-D: :data:`ROSENBROCK`).
ROSENBROCK_10D = rosenbrock(10)
#: The d-dimensional instances, in the equal-budget comparison's order.
ND_FUNCTIONS: Tuple[TestFunction, ...] = (RASTRIGIN, RASTRIGIN_10D, ROSENBROCK_10D)
