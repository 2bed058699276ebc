"""MAMGD: gradient-based optimization with exponentially decaying moment rates.

A small library accompanying N. Sakovich, D. Aksenov, E. Pleshakova,
S. Gataullin, "MAMGD: Gradient-Based Optimization Method Using Exponential
Decay", *Technologies* 2024, 12(9), 154, doi:10.3390/technologies12090154::

    import keras, mamgd
    model.compile(optimizer=mamgd.MAMGD(learning_rate=1e-3, k=1e-4), loss="mse")

Modules, each importable with only what it uses:

* :mod:`mamgd.optimizers`: :class:`MAMGD` (the authors' update rule, or the
  paper's Algorithm 6 with ``variant="algorithm6"``) and :class:`AdaExp`
  (Algorithm 7) as Keras 3 optimizers written with ``keras.ops`` (keras and
  one Keras backend); ``mamgd.MAMGD`` and ``mamgd.AdaExp`` load it on first
  use;
* :mod:`mamgd.torch`: the same as ``torch.optim.Optimizer`` subclasses (torch
  alone);
* :mod:`mamgd.optax`: the same as optax ``GradientTransformation`` s (jax and
  optax alone);
* :mod:`mamgd.reference`: independent NumPy implementations of every
  optimizer of the paper (the test oracles; NumPy alone);
* :mod:`mamgd.functions`: the paper's test functions with analytic gradients
  (NumPy alone).

``import mamgd`` itself needs nothing but the standard library. When Keras is
already imported, it registers the Keras optimizers at once, so that
``import keras, mamgd`` followed by ``keras.models.load_model`` finds them. The
experiments that reproduce the paper live in the repository's ``mamgd_paper``
pipeline, which is not part of this package.
"""

import importlib
import sys

from mamgd._checks import DEFAULT_K, VARIANTS

__version__ = "0.1.0"
__all__ = ["MAMGD", "AdaExp", "VARIANTS", "DEFAULT_K", "functions", "reference",
           "__version__"]

#: Attributes loaded on first use, and the module that holds each.
_LAZY = {
    "MAMGD": "mamgd.optimizers",
    "AdaExp": "mamgd.optimizers",
    "optimizers": "mamgd.optimizers",
    "functions": "mamgd.functions",
    "reference": "mamgd.reference",
}


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module 'mamgd' has no attribute {name!r}")
    module = importlib.import_module(_LAZY[name])
    value = module if module.__name__ == f"mamgd.{name}" else getattr(module, name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))


if sys.modules.get("keras") is not None:
    # Keras is loaded already: registering the optimizers costs nothing more.
    from mamgd.optimizers import AdaExp, MAMGD  # noqa: E402,F401
