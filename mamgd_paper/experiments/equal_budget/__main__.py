"""``python -m mamgd_paper.experiments.equal_budget {worker,status} ...``

The command line of the equal-budget comparison (docs/protocol.md, section 7):

* ``worker``: work on a run until it is finished (any number of workers, on
  any machine that reaches the storage; the configuration comes from the
  storage); ``--new`` creates the run first, as the notebook does. A worker
  started without :data:`mamgd_paper.core.numerics.ENVIRONMENT` starts itself
  again with it, so every machine computes the same bits;
* ``status``: print a run's progress (finished groups, trials by state).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter

from mamgd_paper.core import numerics, optuna_utils
from mamgd_paper.experiments.equal_budget import parent, studies, workers
from mamgd_paper.experiments.equal_budget.problems import QUICK, make_config

MODULE = "mamgd_paper.experiments.equal_budget"
PROG = f"python -m {MODULE}"


def _status(storage, run_id=None):
    import optuna

    config = workers.find_run(storage, run_id)
    done = workers.finished_groups(config, storage)
    states = Counter()
    prefix = studies.run_name(config.run_id) + "/"
    for name in optuna.study.get_all_study_names(storage):
        if name.startswith(prefix):
            study = optuna.load_study(study_name=name, storage=storage)
            states.update(t.state.name.lower() for t in study.get_trials(deepcopy=False))
    print(f"{studies.run_name(config.run_id)}: {len(done)}/{len(workers.groups(config))} "
          f"(problem, arm) groups finished; trials: "
          + ", ".join(f"{n} {s}" for s, n in sorted(states.items())))


def _quick_from_environment():
    """``QUICK`` as make reads it (1/yes/true), for the commands' ``--quick``."""
    from mamgd_paper.core.make_variables import MakeVariableError, quick

    try:
        return quick(os.environ.get("QUICK", "0")) == "1"
    except MakeVariableError:
        return False


def _parser():
    parser = argparse.ArgumentParser(
        prog=PROG, description="Equal-budget optimizer comparison (docs/protocol.md, "
                               "section 7): Optuna workers.")
    commands = parser.add_subparsers(dest="command", required=True)
    worker = commands.add_parser(
        "worker", help="work on a run until it is finished (any number of workers, on any "
                       "machine that reaches the storage)")
    worker_storage_help = ("journal file or SQLAlchemy URL (default: "
                           "$MAMGD_EQUAL_BUDGET_STORAGE, else data/equal_budget.journal, "
                           "data/equal_budget-quick.journal with --quick). A URL with a "
                           "password is best given in that variable (or in ~/.pgpass): every "
                           "user sees a command line")
    worker.add_argument("--storage", default=None, help=worker_storage_help)
    worker.add_argument("--run", default=None, help="run id (default: the storage's only run)")
    worker.add_argument("--new", action="store_true",
                        help="create the run from --quick/--seed/--problems/--arms and the "
                             "sizes first (as the notebook does)")
    worker.add_argument("--quick", action="store_true", default=_quick_from_environment(),
                        help="a quick run (default: the QUICK environment variable)")
    worker.add_argument("--seed", type=int, default=0)
    for name in sorted(set(QUICK) - {"network_epochs"}):
        worker.add_argument("--" + name.replace("_", "-"), type=int, default=None)
    worker.add_argument("--problems", default=None, help="comma-separated (default: all)")
    worker.add_argument("--arms", default=None,
                        help="comma-separated arms (default: the eight optimizers and "
                             "'Adam (replicate)')")
    worker.add_argument("--worker-index", type=int, default=0, help="for the logs only")
    worker.add_argument("--threads", type=int, default=1,
                        help="BLAS threads of this worker (default 1)")
    worker.add_argument("--data-dir", default=None)
    worker.add_argument("--parent", type=int, default=None, metavar="PID",
                        help="stop when process PID is no longer this worker's parent")
    status = commands.add_parser("status", help="print the progress of a run")
    status.add_argument("--storage", default=None, help=worker_storage_help)
    status.add_argument("--run", default=None)
    status.add_argument("--quick", action="store_true", default=_quick_from_environment(),
                        help="without --storage: the quick run's journal (default: the "
                             "QUICK environment variable, as make passes it)")
    return parser


def _worker(args, storage):
    parent.watch(args.parent)
    parent.check()
    run_id = args.run
    if args.new:
        sizes = {name: getattr(args, name) for name in sorted(set(QUICK) - {"network_epochs"})
                 if getattr(args, name) is not None}
        config = make_config(
            quick=args.quick, seed=args.seed,
            problems=args.problems.split(",") if args.problems else None,
            arms=args.arms.split(",") if args.arms else None, **sizes)
        studies.open_run(config, storage)
        run_id = config.run_id
    batches = workers.run_worker(storage, run_id, args.data_dir, threads=args.threads)
    print(f"worker {args.worker_index} ({studies.owner()}): {batches} batches evaluated")
    _status(storage, run_id)


def main(argv=None):
    """Run the command line (see the module doc and ``--help``); returns the exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = _parser().parse_args(argv)
    if args.command == "worker" and any(os.environ.get(name) != value
                                        for name, value in numerics.ENVIRONMENT.items()):
        # a worker computes under the run's floating-point set-up whoever starts it:
        # start again with it (NumPy and TensorFlow read it when they are imported)
        os.execve(sys.executable, [sys.executable, "-m", MODULE, *argv],
                  {**os.environ, **numerics.ENVIRONMENT})
    try:
        # a run's storage exists already: only `worker --new` may create a journal
        storage = studies.open_storage(studies.storage_argument(args.storage, args.quick),
                                       create=args.command == "worker" and args.new)
        if args.command == "worker":
            _worker(args, storage)
        else:
            _status(storage, args.run)
    except (workers.RunNotFound, optuna_utils.StorageUnavailable) as error:
        raise SystemExit(f"{PROG} {args.command}: {error}") from None
    return 0


if __name__ == "__main__":
    sys.exit(main())
