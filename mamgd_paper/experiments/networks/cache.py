"""The run cache: finished training runs kept and reused across notebooks.

A finished run of one seed and optimizer is kept in :data:`HISTORY_CACHE`
under a key that names everything it depends on (the task, seed, epochs,
split sizes, the optimizer's class and full Keras config, the source files
of :data:`TRAINING_SOURCES`, and the versions of Keras, TensorFlow and NumPy;
:func:`history_key`). The ablation (notebook 09) trains some of the very runs
of Tables 7 and 11 (the authors' MAMGD and Adam, same settings); whichever
notebook runs second reads them instead of training them twice. A changed key
simply trains again.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd

from mamgd_paper.core import paths
from mamgd_paper.core.atomic import write_text

#: Finished (task, seed, optimizer) runs, reused across notebooks (never committed).
HISTORY_CACHE = paths.DATA / "histories"
#: The sources a training run depends on (beyond the task and the optimizer's config).
TRAINING_SOURCES = ("mamgd/*.py",
                    "mamgd_paper/experiments/networks/data.py",
                    "mamgd_paper/experiments/networks/tasks.py",
                    "mamgd_paper/experiments/networks/training.py",
                    "mamgd_paper/experiments/networks/cache.py",
                    "mamgd_paper/datasets/files.py",
                    "mamgd_paper/datasets/loaders.py",
                    "mamgd_paper/paper/registry.py",
                    "mamgd_paper/experiments/ablation/switched.py")


def cached_run(cache_dir, task, data, spec, seed, epochs, train):
    """The history of one run: read from ``cache_dir`` when its key is there,
    else ``train()`` (a function of no arguments returning the history), whose
    result is stored there (description ``<key>.json``, then ``<key>.csv``,
    each written atomically, floats with 17 significant digits so they read
    back bit for bit)."""
    key, description = history_key(task, data, spec, seed, epochs)
    path = Path(cache_dir) / f"{key}.csv"
    if path.is_file():
        return pd.read_csv(path, float_precision="round_trip")
    frame = train()
    write_text(path.with_suffix(".json"), json.dumps(description, indent=1))
    write_text(path, frame.to_csv(index=False, float_format="%.17g", lineterminator="\n"))
    return frame


@functools.lru_cache(maxsize=1)
def _training_code_fingerprint():
    digest = hashlib.sha256()
    for pattern in TRAINING_SOURCES:
        for path in sorted(paths.ROOT.glob(pattern)):
            digest.update(path.relative_to(paths.ROOT).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def history_key(task, data, spec, seed, epochs):
    """``(key, description)`` of one training run, for :func:`cached_run`.

    The description names everything the run's history depends on: the
    task's table, the seed, the epochs, the split sizes, the optimizer's
    class and Keras config (not its label: the paper's "MAMGD" and the
    ablation's "MAMGD authors_code" are the same optimizer), the sources in
    :data:`TRAINING_SOURCES` and the versions of Keras, TensorFlow and NumPy.
    The key is the sha256 of its JSON text.
    """
    import keras
    import tensorflow as tf

    optimizer = spec.build()
    config = optimizer.get_config()
    config.pop("name", None)
    description = {
        "table": task.table, "seed": int(seed), "epochs": int(epochs),
        "sizes": data.sizes(),
        "optimizer": f"{type(optimizer).__module__}.{type(optimizer).__qualname__}",
        "config": config, "code": _training_code_fingerprint(),
        "versions": {"keras": keras.__version__, "tensorflow": tf.__version__,
                     "numpy": np.__version__},
    }
    text = json.dumps(description, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()[:24], json.loads(text)

