"""MAMGD: a reproducible companion to Sakovich et al., *Technologies* 2024, 12, 154.

The optimizers are importable from the top level::

    import keras, mamgd
    model.compile(optimizer=mamgd.MAMGD(learning_rate=1e-3, k=1e-4), loss="mse")

Submodules: :mod:`mamgd.optimizers` (Keras 3 MAMGD and AdaExp),
:mod:`mamgd.reference` (NumPy oracles), :mod:`mamgd.functions` (the paper's
test functions), :mod:`mamgd.datasets` (offline-first dataset loaders) and
the experiment, table, figure and report modules used by the notebooks.

Keras (and with it TensorFlow, ~4 s) is imported only when it is needed: the
NumPy-only parts (``mamgd.reference``, ``mamgd.functions``, ``mamgd.search``)
load without it. The optimizers register themselves with Keras's
serialization registry when :mod:`mamgd.optimizers` is imported, which
happens at ``import mamgd`` if Keras is already imported, and otherwise on
first use of ``mamgd.MAMGD``, ``mamgd.AdaExp`` or ``from mamgd import ...``.
So ``import keras, mamgd`` before ``keras.models.load_model`` restores a saved
model with its MAMGD state.
"""

import importlib
import sys

__version__ = "0.1.0"
__all__ = ["MAMGD", "AdaExp", "VARIANTS", "__version__"]
_OPTIMIZER_NAMES = ("MAMGD", "AdaExp", "VARIANTS")


def __getattr__(name):
    if name in _OPTIMIZER_NAMES:
        value = getattr(importlib.import_module("mamgd.optimizers"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'mamgd' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_OPTIMIZER_NAMES))


if "keras" in sys.modules:  # Keras is loaded anyway: register the optimizers now.
    from mamgd.optimizers import VARIANTS, AdaExp, MAMGD  # noqa: E402,F401
