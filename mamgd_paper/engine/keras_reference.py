"""The reference the engine is validated against: Keras ``fit`` on TensorFlow, many seeds.

Tables 7, 8, 10 and 11 are trained one model at a time with Keras ``fit`` on
the TensorFlow backend (the authors' backend), seeds ``0 .. SEEDS-1``, every
optimizer of the table, and their per-seed, per-epoch histories are written to
``figures/reference/keras_fit_tableNN.csv``. This takes about an hour on two
cores, so it runs only by its own target (``make keras-reference``); every
``make reproduce`` compares the engine's fresh seeds with these committed
curves (:mod:`mamgd_paper.engine.agreement`).

A finished (table, seed) is kept under ``build/keras-reference/`` so that an
interrupted run resumes where it stopped.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import pandas as pd


def configure_determinism(threads=None):
    """Switch on TensorFlow's deterministic ops (once per process).

    ``threads``: when given, TensorFlow's intra- and inter-op thread pools
    are set to that size (only possible before TensorFlow runs its first op).
    """
    import tensorflow as tf

    if threads:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(int(threads))
            tf.config.threading.set_inter_op_parallelism_threads(int(threads))
        except RuntimeError:
            pass  # TensorFlow already initialised: keep its pools
    tf.config.experimental.enable_op_determinism()


def _epoch_recorder(test_dataset):
    import keras

    class EpochRecorder(keras.callbacks.Callback):
        """Evaluates the test split after every epoch and records every epoch's logs."""

        def __init__(self):
            super().__init__()
            self.rows = []

        def on_epoch_end(self, epoch, logs=None):
            logs = logs if logs is not None else {}
            if test_dataset is not None:
                scores = self.model.evaluate(test_dataset, verbose=0, return_dict=True)
                logs.update({f"test_{name}": value for name, value in scores.items()})
            self.rows.append({"epoch": epoch + 1, **{k: float(v) for k, v in logs.items()}})

    return EpochRecorder()


#: Train steps per ``fit`` call by table (the same numbers as one step per call,
#: fewer Python round trips).
STEPS_PER_EXECUTION = {7: 32, 8: 8, 9: 1, 10: 1, 11: 101}


def fit_one(task, data, optimizer, seed, epochs=None, verbose=0,
            steps_per_execution=None):
    """Train ``task``'s model on ``data`` with one optimizer and one seed by Keras ``fit``.

    TensorFlow backend: ``keras.utils.set_random_seed(seed)`` before the
    model is built, a ``tf.data`` pipeline reshuffled every epoch from
    ``seed``, TensorFlow's deterministic ops (:func:`configure_determinism`).

    ``optimizer`` is a name of ``task.optimizers`` or an
    :class:`mamgd_paper.experiments.networks.tasks.OptimizerSpec`.
    Returns a DataFrame with one row per epoch: ``epoch`` and
    :meth:`Task.columns` (training loss and metrics, ``val_*``, ``test_*``).
    """
    import keras

    spec = task.optimizer(optimizer) if isinstance(optimizer, str) else optimizer
    epochs = task.epochs if epochs is None else int(epochs)
    spe = (STEPS_PER_EXECUTION[task.table] if steps_per_execution is None
           else steps_per_execution)
    keras.utils.set_random_seed(int(seed))
    model = task.build_model()
    model.compile(optimizer=spec.build(), loss=task.loss, metrics=list(task.metrics),
                  steps_per_execution=int(spe), jit_compile=False)
    batch = task.batch_size
    train = data.train.dataset(batch, shuffle=True, seed=int(seed))
    validation = data.validation.dataset(batch)
    test = data.test.dataset(batch) if data.test is not None else None
    recorder = _epoch_recorder(test)
    # shuffle=False: the dataset reshuffles itself every epoch (seeded).
    model.fit(train, epochs=epochs, validation_data=validation, callbacks=[recorder],
              shuffle=False, verbose=verbose)
    frame = pd.DataFrame(recorder.rows)
    columns = ["epoch"] + task.columns(with_test=data.test is not None)
    missing = set(columns) - set(frame.columns)
    if missing:
        raise RuntimeError(f"Keras logged {sorted(frame.columns)}, missing {sorted(missing)}.")
    keras.backend.clear_session(free_memory=True)
    return frame[columns]


#: The tables compared, and the number of seeds of the committed reference.
TABLES = (7, 11, 10, 8)
SEEDS = 20
#: Where the committed reference lives.
def reference_path(table, root=None):
    from mamgd_paper.core import paths

    return Path(root or paths.FIGURES) / "reference" / f"keras_fit_table{table:02d}.csv"


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m mamgd_paper.engine.keras_reference",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=int, nargs="+", default=list(TABLES))
    parser.add_argument("--seeds", type=int, default=SEEDS)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--output-root", default=None)
    parser.add_argument("--work-dir", default="build/keras-reference")
    args = parser.parse_args(argv)
    if "keras" in sys.modules and sys.modules["keras"].backend.backend() != "tensorflow":
        sys.exit("keras_reference: the reference is Keras fit on TensorFlow, but Keras was "
                 "already imported on another backend; run it as its own process "
                 "(make keras-reference).")
    os.environ["KERAS_BACKEND"] = "tensorflow"
    from mamgd_paper.core.atomic import write_text
    from mamgd_paper.experiments.networks import tasks

    work = Path(args.work_dir)
    for table in args.tables:
        task = tasks.TASKS[table]
        data = task.prepare(task.load(args.data_dir), quick=False)
        frames = []
        for seed in range(args.seeds):
            part = work / f"table{table:02d}_seed{seed:02d}.csv"
            if not part.is_file():
                configure_determinism()
                history = pd.concat([fit_one(task, data, spec, seed).assign(
                    seed=seed, optimizer=spec.name) for spec in task.optimizers],
                    ignore_index=True)
                history = history[["seed", "optimizer"] + [
                    c for c in history.columns if c not in ("seed", "optimizer")]]
                write_text(part, history.to_csv(index=False, float_format="%.17g",
                                                lineterminator="\n"))
                print(f"Table {table}, seed {seed}: done", flush=True)
            frames.append(pd.read_csv(part))
        frame = pd.concat(frames, ignore_index=True)
        write_text(reference_path(table, args.output_root),
                   frame.to_csv(index=False, float_format="%.9g", lineterminator="\n"))
        print(f"Table {table}: {len(frame)} rows written", flush=True)


if __name__ == "__main__":
    main()
