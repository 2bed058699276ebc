"""MAMGD: gradient-based optimization with exponentially decaying moment rates.

A small library accompanying N. Sakovich, D. Aksenov, E. Pleshakova,
S. Gataullin, "MAMGD: Gradient-Based Optimization Method Using Exponential
Decay", *Technologies* 2024, 12(9), 154, doi:10.3390/technologies12090154::

    import keras, mamgd
    model.compile(optimizer=mamgd.MAMGD(learning_rate=1e-3, k=1e-4), loss="mse")

Modules:

* :mod:`mamgd.optimizers`: :class:`MAMGD` (the authors' update rule, or the
  paper's Algorithm 6 with ``variant="algorithm6"``) and :class:`AdaExp`
  (Algorithm 7) as Keras 3 optimizers written with ``keras.ops``;
* :mod:`mamgd.reference`: independent NumPy implementations of every
  optimizer of the paper (the test oracles);
* :mod:`mamgd.functions`: the paper's test functions with analytic gradients.

Dependencies: ``keras`` and ``numpy`` only, plus one Keras backend
(TensorFlow, JAX or PyTorch, chosen with ``KERAS_BACKEND``). The experiments
that reproduce the paper live in the repository's ``mamgd_paper`` pipeline,
which is not part of this package.
"""

import os as _os

try:
    import keras as _keras  # noqa: F401
except ModuleNotFoundError as _error:  # keras is there, its backend is not
    if _error.name not in ("tensorflow", "jax", "torch"):
        raise
    _backend = _os.environ.get("KERAS_BACKEND", "tensorflow")
    raise ImportError(
        f"mamgd needs Keras with a backend, and Keras's backend {_backend!r} "
        f"(KERAS_BACKEND) is not installed ({_error.name} is missing). Install one: "
        "`pip install tensorflow`, or `pip install jax` and set KERAS_BACKEND=jax, or "
        "`pip install torch` and set KERAS_BACKEND=torch."
    ) from None

from mamgd import functions, reference
from mamgd.optimizers import DEFAULT_K, VARIANTS, AdaExp, MAMGD

__version__ = "0.1.0"
__all__ = ["MAMGD", "AdaExp", "VARIANTS", "DEFAULT_K", "functions", "reference",
           "__version__"]
