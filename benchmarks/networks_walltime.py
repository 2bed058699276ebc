"""Wall time of one seed of each network task (Tables 7-11), paper protocol.

Times, per task, loading + preparing the data and training every optimizer of
the table for one seed (the notebooks' work, without figures), then the total.
The budget this project holds itself to: one seed of all five tasks in at most
8 minutes on a 2-core machine, so five seeds (``make networks``) in 40.

    python benchmarks/networks_walltime.py                    # tables 7-11, seed 0
    python benchmarks/networks_walltime.py --tables 7 11 --steps-per-execution 1
    python benchmarks/networks_walltime.py --quick --output walltime.csv

``--steps-per-execution N`` overrides every task's value (1 = one Python call
per training step) to measure what the tasks' settings buy. Tasks whose data
file is missing (e.g. imdb.npz offline) are reported as skipped.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pandas as pd  # noqa: E402

from mamgd_paper.experiments.networks import tasks, training  # noqa: E402


def time_task(task, seed, quick, data_dir, threads):
    start = time.perf_counter()
    available, reason, _ = task.is_available(data_dir)
    if not available:
        return {"table": task.table, "task": task.slug, "status": f"skipped: {reason}"}
    data = task.prepare(task.load(data_dir), quick=quick)
    loaded = time.perf_counter()
    result = training.run_experiment(task, seeds=1, first_seed=seed, quick=quick,
                                     data=data, verbose=0, threads=threads)
    done = time.perf_counter()
    row = {"table": task.table, "task": task.slug, "status": "ok",
           "steps_per_execution": task.steps_per_execution,
           "data_s": round(loaded - start, 2), "train_s": round(done - loaded, 2),
           "total_s": round(done - start, 2)}
    for (_, name), seconds in result.seconds.items():
        row[f"{name}_s"] = round(seconds, 2)
    return row


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tables", type=int, nargs="+", default=sorted(tasks.TASKS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="smoke-run sizes")
    parser.add_argument("--steps-per-execution", type=int, default=None)
    parser.add_argument("--threads", type=int, default=None,
                        help="TensorFlow intra/inter-op threads (default: TF's)")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--output", default=None, help="also write the rows as CSV")
    args = parser.parse_args(argv)

    print(f"{platform.node()}: {os.cpu_count()} CPUs, python {platform.python_version()}",
          flush=True)
    rows = []
    for table in args.tables:
        task = tasks.TASKS[table]
        if args.steps_per_execution:
            task = dataclasses.replace(task, steps_per_execution=args.steps_per_execution)
        row = time_task(task, args.seed, args.quick, args.data_dir, args.threads)
        rows.append(row)
        print(", ".join(f"{k}={v}" for k, v in row.items()), flush=True)
    frame = pd.DataFrame(rows)
    ran = frame[frame["status"] == "ok"]
    total = float(ran["total_s"].sum()) if not ran.empty else 0.0
    print(frame.to_string(index=False))
    print(f"one seed of tables {', '.join(map(str, ran['table']))}: {total:.1f} s "
          f"({total / 60:.2f} min)")
    if args.output:
        frame.to_csv(args.output, index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
