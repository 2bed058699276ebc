"""MAMGD: a reproducible companion to Sakovich et al., *Technologies* 2024, 12, 154.

The optimizers are importable from the top level::

    import mamgd
    model.compile(optimizer=mamgd.MAMGD(learning_rate=1e-3, k=1e-4), loss="mse")

``import mamgd`` registers :class:`MAMGD` and :class:`AdaExp` with Keras's
serialization registry, so ``keras.models.load_model`` restores a saved model
together with its optimizer state.

Submodules: :mod:`mamgd.optimizers` (Keras 3 MAMGD and AdaExp),
:mod:`mamgd.reference` (NumPy oracles), :mod:`mamgd.functions` (the paper's
test functions), :mod:`mamgd.datasets` (offline-first dataset loaders) and
the experiment, table, figure and report modules used by the notebooks.
"""

from mamgd.optimizers import VARIANTS, AdaExp, MAMGD

__version__ = "0.1.0"
__all__ = ["MAMGD", "AdaExp", "VARIANTS", "__version__"]
