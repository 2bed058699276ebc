"""Model-steps per CPU-second: the training engine against Keras ``fit``, one run.

For each network (Boston housing, Table 7, Reuters, MNIST) this trains, in one
run of this script,

* the engine (:mod:`mamgd_paper.engine`): one compiled call of the table's
  models per call (its ``CHUNK``), the paper's optimizer MAMGD, after a warm-up
  call that compiles the program (its seconds are reported apart);
* Keras ``fit`` on TensorFlow, one model at a time (the authors' way, and how
  the notebooks trained before the engine), in a child process;

and reports model-steps (one model, one batch update) per CPU-second of each
(process CPU time: both cores count), and the ratio engine / fit. For MNIST,
whose runs are bound by their matrix products, it reports the engine's
GFLOP/s (forward and backward passes: 3 x the forward's 2 x B x (784 x 512 +
512 x 10) flops per step) against the machine's matmul ceiling measured in
the same run (a 2048^3 float32 product through XLA on one thread, as the
engine computes, and on every thread).

    python benchmarks/engine_speed.py                  # all four, each task's own epochs (MNIST: 2)
    python benchmarks/engine_speed.py --tables 11 7 --epochs 2

Each side trains the same number of epochs; ``fit`` builds, compiles and traces
its model per run, as one-model-at-a-time training does.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

FIT_CHILD = """
import json, resource, sys, time
sys.path.insert(0, {root!r})
import os; os.environ["KERAS_BACKEND"] = "tensorflow"
from mamgd_paper.engine import keras_reference
from mamgd_paper.experiments.networks import tasks
task = tasks.TASKS[{table}]
data = task.prepare(task.load({data_dir!r}))
keras_reference.configure_determinism()
spec = task.optimizer("MAMGD")
keras_reference.fit_one(task, data, spec, 0, epochs=1)  # warm-up: tracing
start = resource.getrusage(resource.RUSAGE_SELF)
wall = time.perf_counter()
keras_reference.fit_one(task, data, spec, 1, epochs={epochs})
end = resource.getrusage(resource.RUSAGE_SELF)
cpu = (end.ru_utime - start.ru_utime) + (end.ru_stime - start.ru_stime)
print(json.dumps({{"cpu": cpu, "wall": time.perf_counter() - wall}}))
"""


def cpu_seconds():
    times = os.times()
    return times.user + times.system


def engine_speed(table, epochs, data_dir):
    from mamgd_paper.engine import compiled
    from mamgd_paper.experiments.networks import tasks, training

    task = tasks.TASKS[table]
    data = task.prepare(task.load(data_dir))
    models = compiled.CHUNK[table]
    spec = task.optimizer("MAMGD")
    runs = [training.engine_run(spec, seed) for seed in range(models)]
    start, wall = cpu_seconds(), time.perf_counter()
    compiled.train(task, data, runs, epochs=1)
    first = time.perf_counter() - wall
    start, wall = cpu_seconds(), time.perf_counter()
    compiled.train(task, data, runs, epochs=epochs)
    cpu, wall = cpu_seconds() - start, time.perf_counter() - wall
    steps = -(-len(data.train) // task.batch_size) * epochs
    return {"models": models, "steps": steps, "engine_cpu_s": cpu, "engine_wall_s": wall,
            "engine_first_call_s": first, "batch_size": task.batch_size}


def fit_speed(table, epochs, data_dir):
    code = FIT_CHILD.format(root=str(ROOT), table=table, data_dir=data_dir, epochs=epochs)
    env = dict(os.environ, KERAS_BACKEND="tensorflow")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def matmul_ceiling():
    """GFLOP/s of a 2048^3 float32 product through XLA: one thread (as the engine) and all."""
    code = """
import os, sys, time
os.environ["XLA_FLAGS"] = sys.argv[1]
import jax, jax.numpy as jnp, numpy as np
a = jnp.asarray(np.random.default_rng(0).normal(size=(2048, 2048)).astype(np.float32))
f = jax.jit(lambda a: a @ a); f(a).block_until_ready()
start = time.perf_counter(); [f(a).block_until_ready() for _ in range(5)]
print(2 * 2048 ** 3 / ((time.perf_counter() - start) / 5) / 1e9)
"""
    results = {}
    for name, flags in (("one_thread", "--xla_cpu_multi_thread_eigen=false"),
                        ("all_threads", "--xla_cpu_multi_thread_eigen=true")):
        out = subprocess.run([sys.executable, "-c", code, flags], capture_output=True,
                             text=True, check=True)
        results[name] = float(out.stdout.strip().splitlines()[-1])
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=int, nargs="+", default=[11, 7, 10, 8])
    parser.add_argument("--epochs", type=int, default=None,
                        help="epochs per run (default: the task's own; MNIST 2)")
    parser.add_argument("--data-dir", default=os.environ.get("MAMGD_DATA_DIR"))
    parser.add_argument("--output", default="build/benchmarks/engine_speed.csv")
    args = parser.parse_args(argv)
    from mamgd_paper.engine.backend import use_jax

    use_jax()
    import pandas as pd

    names = {11: "Boston housing", 7: "Table 7 approximation", 10: "Reuters", 8: "MNIST"}
    rows = []
    from mamgd_paper.experiments.networks import tasks

    for table in args.tables:
        epochs = args.epochs or (2 if table == 8 else tasks.TASKS[table].epochs)
        engine = engine_speed(table, epochs, args.data_dir)
        fit = fit_speed(table, epochs, args.data_dir)
        engine_rate = engine["models"] * engine["steps"] / engine["engine_cpu_s"]
        fit_rate = engine["steps"] / fit["cpu"]
        row = {"network": names.get(table, f"Table {table}"), "table": table,
               "batch_size": engine["batch_size"], "epochs": epochs,
               "models_per_call": engine["models"],
               "steps_per_model": engine["steps"],
               "engine_model_steps_per_cpu_s": engine_rate,
               "fit_model_steps_per_cpu_s": fit_rate, "ratio": engine_rate / fit_rate,
               "engine_wall_s": engine["engine_wall_s"],
               "engine_first_call_s": engine["engine_first_call_s"],
               "fit_wall_s_one_model": fit["wall"]}
        if table == 8:
            flops = 3 * 2 * engine["batch_size"] * (784 * 512 + 512 * 10)
            row["engine_gflops_per_cpu_s"] = engine_rate * flops / 1e9
        rows.append(row)
        print(f"{row['network']}: engine {engine_rate:,.0f} model-steps/CPU-s, fit "
              f"{fit_rate:,.0f}, ratio {row['ratio']:.1f}", flush=True)
    frame = pd.DataFrame(rows)
    if 8 in args.tables:
        ceiling = matmul_ceiling()
        mnist = frame.loc[frame["table"] == 8, "engine_gflops_per_cpu_s"].iloc[0]
        print(f"MNIST: {mnist:.0f} GFLOP/s per CPU-second; XLA matmul ceiling "
              f"{ceiling['one_thread']:.0f} GFLOP/s on one thread "
              f"({100 * mnist / ceiling['one_thread']:.0f}% of it), "
              f"{ceiling['all_threads']:.0f} on all threads")
        frame["matmul_ceiling_one_thread_gflops"] = ceiling["one_thread"]
        frame["matmul_ceiling_all_threads_gflops"] = ceiling["all_threads"]
    print()
    print(frame.to_markdown(index=False, floatfmt=".3g"))
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(output, index=False)


if __name__ == "__main__":
    main()
