"""Loading the verified dataset files as ``keras.datasets`` returns them.

``load(name)`` returns exactly what ``keras.datasets.<name>.load_data(**kwargs)``
returns (same shuffling, ``num_words``, ``skip_top``, ``maxlen``, ``seed``,
``test_split``, ...), but reads the file from the local data directory after
:func:`mamgd_paper.datasets.files.ensure` has verified it (downloading it
first if it is missing).

How Keras is reused: in Keras 3 ``load_data(path=...)`` no longer accepts a
directory in ``path`` ("Paths are no longer accepted as the `fname`
argument") and always looks in ``~/.keras/datasets``. So for imdb, reuters and
boston_housing we call a copy of Keras's own ``load_data`` function whose only
difference is that its ``get_file`` returns our verified file (and refuses if
Keras asks for a different hash than our registry holds). All the
preprocessing is Keras's code, unchanged. MNIST has no preprocessing; its four
arrays are read with NumPy exactly as Keras does.
"""

from __future__ import annotations

import importlib
import types

from mamgd_paper.datasets.files import ensure, read_arrays, registry_entry


def load(name, data_dir=None, *, origin_base=None, download=True, **kwargs):
    """Load a dataset exactly as ``keras.datasets.<name>.load_data(**kwargs)``.

    Args:
        name: ``"mnist"``, ``"imdb"``, ``"reuters"`` or ``"boston_housing"``.
        data_dir: folder holding the files (default: ``$MAMGD_DATA_DIR`` or the
            project's ``data/``; :func:`mamgd_paper.datasets.files.resolve_data_dir`).
        origin_base: where to download a missing file from (default:
            ``$MAMGD_DATA_ORIGIN`` or Keras's bucket).
        download: set ``False`` to fail instead of downloading.
        **kwargs: Keras's ``load_data`` options (``num_words``, ``seed``,
            ``test_split``, ``maxlen``, ...); ``path`` is not accepted, use
            ``data_dir``.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``, as Keras returns them.
    """
    entry = registry_entry(name)
    if "path" in kwargs:
        raise TypeError("load() takes data_dir=<folder>, not Keras's path=.")
    if name == "mnist" and kwargs:
        raise TypeError(f"mnist takes no options, got {sorted(kwargs)}.")
    path, arrays = ensure(entry, data_dir, origin_base, download)
    if name == "mnist":
        keys = ("x_train", "y_train", "x_test", "y_test")
        a = arrays if arrays is not None else read_arrays(path, keys)
        return (a["x_train"], a["y_train"]), (a["x_test"], a["y_test"])
    return _keras_load_data(entry, path)(**kwargs)


def _keras_load_data(entry, path):
    """Keras's own ``load_data`` for ``entry``, reading the verified ``path``.

    A copy of the function object whose globals differ only in ``get_file``, so
    nothing global is patched and Keras's preprocessing runs unchanged.
    """
    original = importlib.import_module(f"keras.datasets.{entry.name}").load_data

    def get_file(fname=None, origin=None, untar=False, md5_hash=None,
                 file_hash=None, **unused):
        if (fname, file_hash) != (entry.fname, entry.sha256):
            raise RuntimeError(
                f"Keras asked for {fname} with hash {file_hash}, but the mamgd "
                f"registry has {entry.fname} with sha256 {entry.sha256}; update "
                "mamgd_paper.datasets.files.REGISTRY for this Keras version."
            )
        return str(path)

    clone = types.FunctionType(
        original.__code__,
        {**original.__globals__, "get_file": get_file},
        original.__name__,
        original.__defaults__,
        original.__closure__,
    )
    clone.__kwdefaults__ = original.__kwdefaults__
    return clone
