"""Test functions beyond the paper's, for the equal-budget comparison (notebook 11).

The paper's six functions and the two 2-D classics (Rosenbrock, Beale) live in
:mod:`mamgd.functions`. The equal-budget protocol (docs/protocol.md, section 7)
adds a rugged function and higher-dimensional variants, in the standard
definitions of the optimisation literature (e.g. the test-function collections
used by DeepOBS and by Schmidt, Schneider & Hennig, "Descending through a
Crowded Valley", ICML 2021, for their small benchmarks):

* **Rastrigin** in d dimensions:
  f(x) = 10 d + sum_i (x_i^2 - 10 cos(2 pi x_i)), global minimum 0 at x = 0,
  a regular grid of local minima near the integer points; domain [-5.12, 5.12]^d.
* **Rosenbrock** in d dimensions (the chained form):
  f(x) = sum_{i<d} (100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2), global minimum 0 at
  x = (1, ..., 1); for d = 2 it is :data:`mamgd.functions.ROSENBROCK`.

Each is a :class:`mamgd.functions.TestFunction`, so everything that takes one
(the reference optimizers' driver, the contour plots) takes these too. The
value and the analytic gradient are NumPy expressions with the coordinates on
the first axis: a ``(d, n)`` array is ``n`` points at once, a ``(2, H, W)``
grid gives an ``(H, W)`` surface.
"""

from __future__ import annotations

import numpy as np

from mamgd.functions import TestFunction

__all__ = ["rastrigin", "rosenbrock", "RASTRIGIN", "RASTRIGIN_10D", "ROSENBROCK_10D"]

#: The usual search box of Rastrigin's function.
RASTRIGIN_BOX = 5.12
#: The box the d-dimensional Rosenbrock starts are drawn from.
ROSENBROCK_BOX = 2.0


def _rastrigin_value(x):
    x = np.asarray(x)
    return 10.0 * x.shape[0] + np.sum(x * x - 10.0 * np.cos(2.0 * np.pi * x), axis=0)


def _rastrigin_gradient(x):
    x = np.asarray(x)
    return 2.0 * x + 20.0 * np.pi * np.sin(2.0 * np.pi * x)


def _rosenbrock_value(x):
    x = np.asarray(x)
    head, tail = x[:-1], x[1:]
    return np.sum(100.0 * (tail - head * head) ** 2 + (1.0 - head) ** 2, axis=0)


def _rosenbrock_gradient(x):
    x = np.asarray(x)
    head, tail = x[:-1], x[1:]
    residual = tail - head * head
    gradient = np.zeros_like(x, dtype=np.result_type(x, np.float32))
    gradient[:-1] += -400.0 * head * residual - 2.0 * (1.0 - head)
    gradient[1:] += 200.0 * residual
    return gradient


def rastrigin(dim, name=None):
    """Rastrigin's function in ``dim`` dimensions (see the module doc).

    The start point (used by the path galleries) is (2.2, -3.1, 2.2, ...), in
    the basin of a local minimum away from the global one.
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
        _value=_rastrigin_value,
        _gradient=_rastrigin_gradient,
    )


def rosenbrock(dim, name=None):
    """The chained Rosenbrock function in ``dim`` dimensions (see the module doc).

    Start point (-1.2, 1, -1.2, 1, ...), the classic one; domain [-2, 2]^d.
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
        _value=_rosenbrock_value,
        _gradient=_rosenbrock_gradient,
    )


def _dimension(dim):
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or dim < 2:
        raise ValueError(f"dim must be a whole number >= 2, not {dim!r}.")
    return int(dim)


#: Rastrigin in 2-D (the gallery's rugged function) and in 10-D.
RASTRIGIN = rastrigin(2)
RASTRIGIN_10D = rastrigin(10)
#: Rosenbrock in 10-D (2-D: :data:`mamgd.functions.ROSENBROCK`).
ROSENBROCK_10D = rosenbrock(10)
