"""Model-steps per second: Keras one model at a time against batched NumPy training.

The equal-budget comparison trains one small Dense network per (trial, seed).
This times, per network, (a) Keras training one model at a time (``fit`` with
the task's batch size and ``steps_per_execution``, a fresh model per run, as
:func:`mamgd_paper.experiments.equal_budget.network_problems.train_network`
does) and (b) :func:`mamgd_paper.experiments.equal_budget.batched.train` with
M models at once, and prints model-steps per second (models x optimizer
steps / seconds) and the ratio batched / Keras. Networks: Boston housing
(Table 11: 13-64-64-1, batch 1, 323 rows), the approximation (Table 7:
1-64-32-1, batch 32, 8000 rows) and MNIST-sized (Table 8: 784-512-10 softmax,
batch 128, a 4,096-image subset); the data are synthetic (timing does not
depend on the values). Keras's "steady" rate leaves out the first epoch
(tracing); its "overall" rate counts building, compiling and every epoch.
Every rate is given per wall second and per CPU second of this process (the
columns ``*_cpu``): with one thread per worker the CPU rate is what a worker
pinned to one core gets, and it is far less disturbed by other processes on a
shared machine than the wall-clock rate.

    python benchmarks/equal_budget_batched.py                  # tables 11 7 8, M = 1 16 48
    python benchmarks/equal_budget_batched.py --tables 11 --models 1 8 --label MAMGD
    python benchmarks/equal_budget_batched.py --threads 2 --output batched.csv

``--threads`` sets both TensorFlow's thread pools and NumPy's BLAS threads
(default 1, as the equal-budget workers run).
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from mamgd_paper.experiments.equal_budget import batched, protocol  # noqa: E402
from mamgd_paper.experiments.networks.tasks import TASKS  # noqa: E402

#: table -> rows of the training split (the equal-budget split sizes; MNIST a subset)
SIZES = {11: 323, 7: 8000, 8: 4096}


def synthetic_data(table, rng):
    """Training data of the table's shape: standardized features (Boston), the
    approximation grid (Table 7), uniform "pixels" with one-hot labels (MNIST)."""
    n = SIZES[table]
    if table == 11:
        x = rng.standard_normal((n, 13))
        y = 22.0 + 3.0 * x @ rng.standard_normal((13, 1)) + rng.standard_normal((n, 1))
    elif table == 7:
        x = np.linspace(-10.0, 10.0, n).reshape(-1, 1)
        y = x * x + x - 1
    else:
        x = rng.uniform(0.0, 1.0, (n, 784))
        y = np.eye(10)[rng.integers(0, 10, n)]
    return x.astype(np.float32), y.astype(np.float32)


def settings(label, models):
    """M learning rates log-spaced over [1e-4, 1e-2] (k = 1e-3 where it applies)."""
    lrs = list(np.geomspace(1e-4, 1e-2, models)) if models > 1 else [1e-3]
    ks = [1e-3] * models if protocol.takes_k(label) else None
    return lrs, ks


def _clocks():
    return np.array([time.perf_counter(), time.process_time()])


def time_keras(task, label, x, y, models, epochs):
    """Keras, one fresh model after another; returns (overall, steady) model-steps per
    (wall, CPU) second, each a pair."""
    import keras

    steps_per_epoch = math.ceil(len(x) / task.batch_size)
    lrs, ks = settings(label, 1)
    total = steady = np.zeros(2)
    for seed in range(models):
        stamps = []

        class Clock(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                stamps.append(_clocks())

        start = _clocks()
        keras.utils.set_random_seed(seed)
        model = task.build_model()
        model.compile(optimizer=protocol.keras_optimizer(label, lrs[0], ks and ks[0]),
                      loss=task.loss, steps_per_execution=int(task.steps_per_execution),
                      jit_compile=False)
        model.fit(x, y, batch_size=task.batch_size, epochs=epochs, shuffle=True, verbose=0,
                  callbacks=[Clock()])
        total = total + _clocks() - start
        steady = steady + stamps[-1] - stamps[0]
        keras.backend.clear_session(free_memory=True)
    overall = models * epochs * steps_per_epoch / total
    rest = (models * (epochs - 1) * steps_per_epoch / steady if epochs > 1
            else np.full(2, np.nan))
    return overall, rest


def time_batched(network, label, x, y, models, epochs, batch_size):
    lrs, ks = settings(label, models)
    start = _clocks()
    result = batched.train(network, label, lrs, ks, list(range(models)), (x, y), epochs,
                           batch_size)
    seconds = _clocks() - start
    steps = epochs * math.ceil(len(x) / batch_size)
    return models * steps / seconds, seconds, int(result.diverged.sum())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tables", type=int, nargs="+", default=[11, 7, 8])
    parser.add_argument("--models", type=int, nargs="+", default=[1, 16, 48],
                        help="batch sizes M of the batched runs")
    parser.add_argument("--keras-models", type=int, default=2,
                        help="models Keras trains one after another")
    parser.add_argument("--keras-epochs", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=1, help="epochs of a batched run")
    parser.add_argument("--label", default=protocol.BASELINE,
                        help=f"optimizer (default {protocol.BASELINE})")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--output", default=None, help="also write the rows as CSV")
    args = parser.parse_args(argv)

    from mamgd_paper.experiments.networks.training import configure_determinism

    configure_determinism(args.threads)
    print(f"{platform.node()}: {os.cpu_count()} CPUs, python {platform.python_version()}, "
          f"{args.threads} thread(s), optimizer {args.label}", flush=True)
    rows = []
    with threadpool_limits(limits=args.threads, user_api="blas"):
        for table in args.tables:
            task = TASKS[table]
            network = batched.Network.from_task(task)
            x, y = synthetic_data(table, np.random.default_rng(table))
            overall, steady = time_keras(task, args.label, x, y, args.keras_models,
                                         args.keras_epochs)
            row = {"table": table, "task": task.slug, "runner": "keras", "models": 1,
                   "steps_per_s": round(steady[0], 1), "steps_per_s_cpu": round(steady[1], 1),
                   "overall_steps_per_s": round(overall[0], 1),
                   "overall_steps_per_s_cpu": round(overall[1], 1)}
            rows.append(row)
            print(", ".join(f"{k}={v}" for k, v in row.items()), flush=True)
            for models in args.models:
                rate, seconds, diverged = time_batched(network, args.label, x, y, models,
                                                       args.epochs, task.batch_size)
                row = {"table": table, "task": task.slug, "runner": "batched",
                       "models": models, "steps_per_s": round(rate[0], 1),
                       "steps_per_s_cpu": round(rate[1], 1), "seconds": round(seconds[0], 2),
                       "diverged": diverged,
                       "vs_keras_steady": round(rate[0] / steady[0], 2),
                       "vs_keras_steady_cpu": round(rate[1] / steady[1], 2),
                       "vs_keras_overall": round(rate[0] / overall[0], 2),
                       "vs_keras_overall_cpu": round(rate[1] / overall[1], 2)}
                rows.append(row)
                print(", ".join(f"{k}={v}" for k, v in row.items()), flush=True)
    frame = pd.DataFrame(rows)
    with pd.option_context("display.width", 200):
        print(frame.to_string(index=False))
    if args.output:
        frame.to_csv(args.output, index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
