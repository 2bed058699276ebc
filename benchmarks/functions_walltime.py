"""Wall time of `make functions`: notebooks 01-03, sequentially and 2 at a time.

Runs each test-function notebook exactly as the Makefile does
(``python -m mamgd_paper.runner notebooks/NN_x.py OUT.ipynb --figures-dir DIR
-p quick False -p seeds 5`` with the Makefile's environment) into a temporary
folder, with a fresh Optuna storage (``$MAMGD_STUDY_STORAGE``) so that the k
searches run all their trials. Prints the wall time per notebook and in
total, first one notebook after the other (``make functions``), then two at a
time (``make -j2 functions``), plus the CPU time of each notebook's process
tree and the machine's load average: the machine is shared, and a busy
machine stretches the wall times (not the CPU times).

    .venv/bin/python benchmarks/functions_walltime.py [--quick] [--repeat N]
        [--mode sequential|parallel|both] [--resume] [--keep DIR]

``--resume`` keeps one storage for all runs, so that only the first run
searches (what a re-run of ``make functions`` costs once data/ is filled).
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = ["01_test_functions", "02_decay_search", "03_trajectories"]
#: The time budget of `make functions` on the project's 2-core machine.
BUDGET_S = 28.0


def _environment(storage):
    env = dict(os.environ)
    env.update({
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "PYTHONHASHSEED": "0",
        "MPLBACKEND": "Agg",
        "SOURCE_DATE_EPOCH": "0",
        "MAMGD_STUDY_STORAGE": str(storage),
    })
    return env


def _command(name, out, quick):
    return [sys.executable, "-m", "mamgd_paper.runner", f"notebooks/{name}.py",
            str(out / "executed" / f"{name}.ipynb"), "--figures-dir", str(out / "figures"),
            "-p", "quick", str(bool(quick)), "-p", "seeds", "5"]


def _start(name, out, quick, env):
    log = open(out / f"{name}.log", "w")
    process = subprocess.Popen(_command(name, out, quick), cwd=REPO, env=env,
                               stdout=log, stderr=subprocess.STDOUT)
    return process, log, time.perf_counter()


def _reap(process):
    """``(exit code, CPU seconds of the notebook's whole process tree)`` or None."""
    pid, status, usage = os.wait4(process.pid, os.WNOHANG)
    if pid == 0:
        return None
    process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, usage.ru_utime + usage.ru_stime


def run(out, quick, jobs, env):
    """Run the notebooks with at most ``jobs`` at once.

    Returns ``({name: wall s}, {name: CPU s}, total wall s)``. The CPU time
    covers the runner, the kernel and the figure workers (all waited for).
    """
    walls, cpus, running, queue = {}, {}, [], list(NOTEBOOKS)
    begin = time.perf_counter()
    while queue or running:
        while queue and len(running) < jobs:
            name = queue.pop(0)
            running.append((name, *_start(name, out, quick, env)))
        # wait for whichever finishes first (make -j2 starts the next one then)
        finished = []
        while not finished:
            for item in running:
                result = _reap(item[1])
                if result is not None:
                    finished.append((item, result))
            if not finished:
                time.sleep(0.02)
        for (name, process, log, started), (code, cpu) in finished:
            running.remove((name, process, log, started))
            walls[name] = time.perf_counter() - started
            cpus[name] = cpu
            log.close()
            if code != 0:
                sys.stdout.write((out / f"{name}.log").read_text()[-3000:])
                raise SystemExit(f"{name} failed (exit {code})")
    return walls, cpus, time.perf_counter() - begin


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="quick mode (QUICK=1)")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--mode", choices=["sequential", "parallel", "both"], default="both")
    parser.add_argument("--resume", action="store_true",
                        help="one storage for every run (only the first one searches)")
    parser.add_argument("--keep", default=None, help="keep the outputs under this folder")
    args = parser.parse_args(argv)

    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="mamgd-walltime-"))
    root.mkdir(parents=True, exist_ok=True)
    modes = {"sequential": [1], "parallel": [2], "both": [1, 2]}[args.mode]
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
          f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print(f"{'run':<18}" + "".join(f"{n:>20}" for n in NOTEBOOKS) + f"{'total':>10}")
    totals = {jobs: [] for jobs in modes}
    try:
        for repeat in range(args.repeat):
            for jobs in modes:
                out = root / f"run{repeat}-j{jobs}"
                shutil.rmtree(out, ignore_errors=True)
                out.mkdir(parents=True)
                storage = (root / "studies.journal" if args.resume
                           else out / "studies.journal")
                walls, cpus, total = run(out, args.quick, jobs, _environment(storage))
                totals[jobs].append(total)
                label = "sequential" if jobs == 1 else f"{jobs} in parallel"
                print(f"{label:<18}" + "".join(f"{walls[n]:>19.1f}s" for n in NOTEBOOKS)
                      + f"{total:>9.1f}s", flush=True)
                print(f"{'  CPU time':<18}" + "".join(f"{cpus[n]:>19.1f}s" for n in NOTEBOOKS)
                      + f"{sum(cpus.values()):>9.1f}s", flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    for jobs, values in totals.items():
        best = min(values)
        label = "make functions" if jobs == 1 else f"make -j{jobs} functions"
        verdict = "" if args.quick else (
            f", {'within' if best <= BUDGET_S else 'OVER'} the {BUDGET_S:.0f} s budget")
        print(f"{label}: best {best:.1f} s of {len(values)} run(s){verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
