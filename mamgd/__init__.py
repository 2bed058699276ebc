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

Dependencies: ``keras`` and ``numpy`` only. The experiments that reproduce the
paper live in the separate ``companion`` package of the repository.
"""

from mamgd import functions, reference
from mamgd.optimizers import DEFAULT_K, VARIANTS, AdaExp, MAMGD

__version__ = "0.1.0"
__all__ = ["MAMGD", "AdaExp", "VARIANTS", "DEFAULT_K", "functions", "reference",
           "__version__"]
