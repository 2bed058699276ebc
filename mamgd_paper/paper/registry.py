"""Every optimizer the companion runs, in one table.

An :class:`Entry` holds, for one label (the name shown in tables and legends):
how to build the optimizer in Keras, how to build its NumPy reference
(:mod:`mamgd.reference`) and whether it takes MAMGD's decay rate ``k``.
Experiments look optimizers up here by label and import the label constants
below instead of retyping strings. How each label is drawn (colour, marker,
dash) is :data:`mamgd_paper.core.style.LOOKS`.

Some optimizers appear under two labels because the published tables of
different experiments name them differently (``"MAMGD"`` in the paper's
tables, ``"MAMGD authors_code"`` in the ablation's, whose switched rule
:func:`mamgd_paper.experiments.ablation.switched.mamgd_switched` equals the reference bit
for bit).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional

import keras

from mamgd_paper.experiments.ablation.switched import (ALGORITHM6, AUTHORS_CODE, SwitchedMAMGD,
                                          mamgd_switched)
from mamgd import reference
from mamgd.optimizers import AdaExp, MAMGD as MAMGDOptimizer

# ---------------------------------------------------------------------------
# Labels
# ---------------------------------------------------------------------------

#: The paper's table columns (Tables 1-11) and the other optimizers of the figures.
MAMGD = "MAMGD"
MAMGD_ALGORITHM6 = "MAMGD (Algorithm 6)"
ADAEXP = "AdaExp"
ADAM = "Adam"
AMSGRAD = "AMSGrad"
ADAGRAD = "Adagrad"
RMSPROP = "RMSprop"
SGD = "SGD"
#: The equal-budget comparison's A/A arm: Adam tuned a second time (notebook 11).
ADAM_REPLICATE = "Adam (replicate)"

#: The ablation's labels (notebook 09): each code-vs-paper difference as a switch.
CODE = "MAMGD authors_code"
ALGORITHM6_LABEL = "MAMGD algorithm6"
CODE_K0 = "MAMGD code, k = 0"
CODE_CURVATURE = "MAMGD code + curvature"
CODE_SQRT = "MAMGD code + sqrt"
ALGORITHM6_NO_CURVATURE = "MAMGD algorithm6 - curvature"
ADAEXP_FLOAT64 = "AdaExp (float64)"

#: The from-scratch references (notebook 10).
TUTORIAL_AMSGRAD = "AMSGrad (tutorial)"
NUMPY_ADAM = "numpy Adam"
KERAS_ADAM = "Keras Adam"
NUMPY_MAMGD = "numpy MAMGD"
NUMPY_MAMGD_ALGORITHM6 = "numpy MAMGD (Algorithm 6)"


# ---------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One optimizer: label, constructors and whether it takes k.

    ``keras`` and ``reference`` are called with keyword arguments:
    ``learning_rate``, ``k`` (when :attr:`takes_k`), the entry's fixed
    arguments (``keras_args`` / ``reference_args``) and the caller's.
    """

    label: str
    keras: Optional[Callable[..., Any]]
    reference: Optional[Callable[..., reference.Optimizer]]
    takes_k: bool = False
    keras_args: tuple = ()
    reference_args: tuple = ()

    def _arguments(self, fixed, learning_rate, k, kwargs):
        args = dict(fixed)
        args.update(kwargs)
        args["learning_rate"] = learning_rate
        if self.takes_k and k is not None:
            args.setdefault("k", k)
        return args

    def build_keras(self, learning_rate, k=None, **kwargs):
        """A fresh Keras optimizer (``k`` is used only by decaying optimizers)."""
        if self.keras is None:
            raise ValueError(f"{self.label!r} has no Keras implementation.")
        return self.keras(**self._arguments(self.keras_args, learning_rate, k, kwargs))

    def build_reference(self, learning_rate, k=None, **kwargs):
        """A fresh :mod:`mamgd.reference` optimizer (``dtype=`` may be passed)."""
        if self.reference is None:
            raise ValueError(f"{self.label!r} has no NumPy reference.")
        return self.reference(**self._arguments(self.reference_args, learning_rate, k,
                                                kwargs))

    @property
    def switches(self):
        """The :class:`~mamgd_paper.experiments.ablation.switched.Switches` of a
        switched-rule entry, else ``None``."""
        return dict(self.reference_args).get("switches")

    @property
    def keras_name(self):
        """The Keras class's name (``"Adam"``, ``"MAMGD"``, ...)."""
        return getattr(self.keras, "__name__", str(self.keras))


def _tutorial_amsgrad(learning_rate, **kwargs):
    return reference.amsgrad_tutorial(alpha=learning_rate, **kwargs)


_ENTRIES = (
    # the paper's optimizers and the other figures'
    Entry(MAMGD, MAMGDOptimizer, reference.mamgd, takes_k=True,
          keras_args=(("variant", "authors_code"),),
          reference_args=(("variant", "authors_code"),)),
    Entry(MAMGD_ALGORITHM6, MAMGDOptimizer, reference.mamgd, takes_k=True,
          keras_args=(("variant", "algorithm6"),),
          reference_args=(("variant", "algorithm6"),)),
    Entry(ADAEXP, AdaExp, reference.adaexp, takes_k=True),
    Entry(ADAM, keras.optimizers.Adam, reference.adam),
    Entry(AMSGRAD, keras.optimizers.Adam, reference.amsgrad,
          keras_args=(("amsgrad", True),)),
    Entry(ADAGRAD, keras.optimizers.Adagrad, reference.adagrad),
    Entry(RMSPROP, keras.optimizers.RMSprop, reference.rmsprop),
    Entry(SGD, keras.optimizers.SGD, reference.sgd),
    # the ablation (the switched rule; equal to the references where they overlap)
    Entry(CODE, MAMGDOptimizer, mamgd_switched, takes_k=True,
          keras_args=(("variant", "authors_code"),),
          reference_args=(("switches", AUTHORS_CODE),)),
    Entry(ALGORITHM6_LABEL, MAMGDOptimizer, mamgd_switched, takes_k=True,
          keras_args=(("variant", "algorithm6"),),
          reference_args=(("switches", ALGORITHM6),)),
    Entry(CODE_K0, MAMGDOptimizer, mamgd_switched,
          keras_args=(("variant", "authors_code"), ("k", 0.0)),
          reference_args=(("switches", AUTHORS_CODE), ("k", 0.0))),
    Entry(CODE_CURVATURE, SwitchedMAMGD, mamgd_switched, takes_k=True,
          keras_args=(("switches", AUTHORS_CODE.replace(curvature=True)),),
          reference_args=(("switches", AUTHORS_CODE.replace(curvature=True)),)),
    Entry(CODE_SQRT, SwitchedMAMGD, mamgd_switched, takes_k=True,
          keras_args=(("switches", AUTHORS_CODE.replace(adam_sqrt=True)),),
          reference_args=(("switches", AUTHORS_CODE.replace(adam_sqrt=True)),)),
    Entry(ALGORITHM6_NO_CURVATURE, SwitchedMAMGD, mamgd_switched, takes_k=True,
          keras_args=(("switches", ALGORITHM6.replace(curvature=False)),),
          reference_args=(("switches", ALGORITHM6.replace(curvature=False)),)),
    Entry(ADAEXP_FLOAT64, None, reference.adaexp, takes_k=True),
    # the from-scratch references
    Entry(TUTORIAL_AMSGRAD, None, _tutorial_amsgrad),
    Entry(NUMPY_ADAM, None, reference.adam),
    Entry(KERAS_ADAM, keras.optimizers.Adam, None),
    Entry(NUMPY_MAMGD, None, reference.mamgd, takes_k=True,
          reference_args=(("variant", "authors_code"),)),
    Entry(NUMPY_MAMGD_ALGORITHM6, None, reference.mamgd, takes_k=True,
          reference_args=(("variant", "algorithm6"),)),
)

#: Label -> :class:`Entry`, in legend order.
REGISTRY = {entry.label: entry for entry in _ENTRIES}


def get(label):
    """The :class:`Entry` of ``label``; a ``KeyError`` lists the known labels."""
    try:
        return REGISTRY[label]
    except KeyError:
        raise KeyError(f"Unknown optimizer {label!r}; known: {list(REGISTRY)}.") from None


def keras_optimizer(label, learning_rate, k=None, **kwargs):
    """A fresh Keras optimizer for ``label`` (see :meth:`Entry.build_keras`)."""
    return get(label).build_keras(learning_rate, k, **kwargs)


def reference_optimizer(label, learning_rate, k=None, **kwargs):
    """A fresh NumPy reference optimizer for ``label`` (see :meth:`Entry.build_reference`)."""
    return get(label).build_reference(learning_rate, k, **kwargs)


def paper_column(column, function, learning_rate=0.1, dtype=None, keras_backend=False,
                 **kwargs):
    """The optimizer behind column ``column`` of the paper's Table 1-6 for ``function``.

    MAMGD gets the function's published k and the authors' update rule; the
    others their defaults. ``keras_backend``: a Keras optimizer instead of the
    NumPy reference.
    """
    if column not in function.optimizers:
        raise ValueError(f"Table {function.table} has no column {column!r}; its columns are "
                         f"{list(function.optimizers)}.")
    if keras_backend:
        return keras_optimizer(column, learning_rate, function.paper_k, **kwargs)
    return reference_optimizer(column, learning_rate, function.paper_k, dtype=dtype, **kwargs)
