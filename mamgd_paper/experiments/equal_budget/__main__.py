"""``python -m mamgd_paper.experiments.equal_budget {worker,fill,status,requeue} ...``

The command line of the equal-budget comparison (docs/protocol.md, section 7):

* ``worker``: take items of a run from the queue until none is left (any number
  of workers, on any machine that reaches the storage); ``--new`` creates the
  run first, as the notebook does;
* ``fill``: fill ONE study of one function problem and optimizer (several
  workers may share it; ``tests/experiments/test_postgres.py``);
* ``status``: print the progress of a run;
* ``requeue``: put failed items and ALL running items back in the queue.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from mamgd_paper.core import optuna_utils
from mamgd_paper.experiments.equal_budget import parent, studies, tuning, workers
from mamgd_paper.experiments.equal_budget.problems import PROBLEMS, Config, make_config
from mamgd_paper.experiments.equal_budget.protocol import FUNCTION, OPTIMIZERS

PROG = "python -m mamgd_paper.experiments.equal_budget"


def _status(storage, run_id=None):
    queue = workers.find_run(storage, run_id)
    state = workers.queue_state(queue)
    total = len(workers.work_items(Config.from_json(queue.user_attrs["config"])))
    owners = sorted({t.user_attrs.get("owner", "?") for t in state["running"]})
    print(f"{queue.study_name}: {len(state['done'])}/{total} items done, "
          f"{len(state['running'])} running ({', '.join(owners) or '-'}), "
          f"{len(state['waiting'])} waiting, {len(state['failed'])} failed")


def _parser():
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Equal-budget optimizer comparison (docs/protocol.md, section 7): "
                    "Optuna workers.")
    commands = parser.add_subparsers(dest="command", required=True)
    worker = commands.add_parser(
        "worker", help="take items of a run from the queue until none is left (any number "
                       "of workers, on any machine that reaches the storage)")
    worker.add_argument("--storage", default=None,
                        help="journal file or SQLAlchemy URL (default: "
                             "$MAMGD_EQUAL_BUDGET_STORAGE, else data/equal_budget.journal)")
    worker.add_argument("--run", default=None, help="run id (default: the storage's only run)")
    worker.add_argument("--new", action="store_true",
                        help="create the run from --quick/--seed/--seeds first (as the "
                             "notebook does)")
    worker.add_argument("--quick", action="store_true")
    worker.add_argument("--seed", type=int, default=0)
    worker.add_argument("--seeds", type=int, default=5)
    worker.add_argument("--function-trials", type=int, default=None)
    worker.add_argument("--network-trials", type=int, default=None)
    worker.add_argument("--steps", type=int, default=None)
    worker.add_argument("--problems", default=None, help="comma-separated (default: all)")
    worker.add_argument("--optimizers", default=None,
                        help="comma-separated registry labels (default: all eight)")
    worker.add_argument("--worker-index", type=int, default=0, help="for the logs only")
    worker.add_argument("--threads", type=int, default=1,
                        help="TensorFlow threads (1: results independent of the machine load)")
    worker.add_argument("--data-dir", default=None)
    worker.add_argument("--parent", type=int, default=None, metavar="PID",
                        help="stop when process PID is no longer this worker's parent")
    fill = commands.add_parser(
        "fill", help="fill ONE study of one problem and optimizer (several workers may share it)")
    fill.add_argument("--storage", required=True)
    fill.add_argument("--study", required=True)
    fill.add_argument("--problem", required=True, choices=[p.name for p in PROBLEMS
                                                           if p.kind == FUNCTION])
    fill.add_argument("--optimizer", required=True, choices=list(OPTIMIZERS))
    fill.add_argument("--trials", type=int, required=True)
    fill.add_argument("--sampler", choices=("tpe", "design"), default="tpe")
    fill.add_argument("--seed", type=int, default=0)
    fill.add_argument("--worker-index", type=int, default=0)
    fill.add_argument("--quick", action="store_true", help="the quick run's objective")
    fill.add_argument("--barrier", default=None, metavar="PATH",
                      help="start together: touch PATH.ready-<index> once the study is open, "
                           "then wait until PATH exists")
    for name, text in (("status", "print the progress of a run"),
                       ("requeue", "put failed items and ALL running items back in the queue "
                                   "(only when no worker of the run is alive anywhere)")):
        command = commands.add_parser(name, help=text)
        command.add_argument("--storage", default=None)
        command.add_argument("--run", default=None)
    return parser


def _worker(args, storage):
    parent.watch(args.parent)
    parent.check()
    run_id = args.run
    if args.new:
        config = make_config(
            quick=args.quick, seed=args.seed, seeds=args.seeds,
            function_trials=args.function_trials, network_trials=args.network_trials,
            steps=args.steps,
            problems=args.problems.split(",") if args.problems else None,
            optimizers=args.optimizers.split(",") if args.optimizers else None)
        workers.open_queue(config, storage)
        run_id = config.run_id
    done = workers.run_worker(storage, run_id, args.data_dir, threads=args.threads)
    print(f"worker {args.worker_index} ({workers.owner()}): {done} items done")
    _status(storage, run_id)


def _fill(args, storage):
    config = make_config(quick=args.quick, seed=args.seed)
    if args.sampler == "design":
        study = studies.open_design_study(storage, args.study, args.optimizer, args.trials,
                                          args.seed)
    else:
        study = studies.load_or_create(storage, args.study)
    if args.barrier:
        Path(f"{args.barrier}.ready-{args.worker_index}").touch()
        deadline = time.monotonic() + 300
        while not Path(args.barrier).exists():
            if time.monotonic() > deadline:
                raise TimeoutError(f"barrier {args.barrier} did not open within 300 s")
            time.sleep(0.01)
    studies.fill_study(study, tuning.make_objective(config, args.problem, args.optimizer),
                       args.trials, seed=args.seed, worker_index=args.worker_index,
                       sampler=args.sampler, shared=True)
    finished = optuna_utils.finished_trials(study)
    mine = [t for t in finished
            if t.user_attrs.get("worker", args.worker_index) == args.worker_index]
    print(f"{study.study_name}: {len(finished)} finished trials "
          f"({len(mine)} by worker {args.worker_index}); best {study.best_value:.6g}")


def main(argv=None):
    """Run the command line (see the module doc and ``--help``); returns the exit code."""
    args = _parser().parse_args(argv)
    storage_text = studies.storage_argument(args.storage, getattr(args, "quick", False))
    storage = optuna_utils.open_storage(storage_text)
    if args.command == "worker":
        _worker(args, storage)
        return 0
    if args.command == "fill":
        _fill(args, storage)
        return 0
    if args.command == "requeue":
        queue = workers.find_run(storage, args.run)
        print(f"requeued: {workers.requeue(queue, None)}")
    _status(storage, args.run)
    return 0


if __name__ == "__main__":
    sys.exit(main())
