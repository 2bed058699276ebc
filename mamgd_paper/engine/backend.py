"""The engine's backend: Keras 3 on JAX, on the CPU, under the pinned XLA flags.

The engine trains through Keras's stateless API on the JAX backend, so the
process must select that backend before Keras is first imported. The
pipeline selects it by default (``mamgd_paper/__init__.py``: ``KERAS_BACKEND``
defaults to ``jax``); :func:`use_jax` makes sure, and stops with the fix when
Keras already runs on another backend. XLA compiles under the flags of
:data:`mamgd_paper.core.numerics.ENVIRONMENT` (``XLA_FLAGS``), which say why.
"""

from __future__ import annotations

import os
import sys

from mamgd_paper.core.numerics import ENVIRONMENT


class BackendError(RuntimeError):
    """Keras was imported on another backend before the engine could choose JAX."""


def _set_xla_flags():
    flags = os.environ.get("XLA_FLAGS", "").split()
    names = {flag.split("=")[0] for flag in flags}
    for flag in ENVIRONMENT["XLA_FLAGS"].split():
        if flag.split("=")[0] not in names:
            flags.append(flag)
    os.environ["XLA_FLAGS"] = " ".join(flags)


def use_jax():
    """Select Keras's JAX backend on the CPU for this process; return ``keras``.

    Call it before anything imports Keras. Raises :class:`BackendError`, naming
    the fix, when Keras is already running on another backend.
    """
    if "jax" not in sys.modules:
        _set_xla_flags()
        os.environ.setdefault("JAX_PLATFORMS", "cpu")
    if "keras" in sys.modules:
        import keras

        if keras.backend.backend() != "jax":
            raise BackendError(
                f"The training engine needs Keras's JAX backend, but Keras was already "
                f"imported on {keras.backend.backend()!r}. Import mamgd_paper.engine (or "
                f"set KERAS_BACKEND=jax) before anything imports Keras.")
        return keras
    os.environ["KERAS_BACKEND"] = "jax"
    import keras

    return keras
