"""The runner's command line (used by the Makefile).

Run one notebook (:func:`mamgd_paper.runner.execute.execute`)::

    python -m mamgd_paper.runner SOURCE.py EXECUTED.ipynb --figures-dir figures \\
        [-p NAME VALUE ...] [--workdir DIR] [--run-times build/run-times]

Write the Makefile's include file (:mod:`mamgd_paper.runner.deps`; standard
library only, run with the system ``python3`` before the venv exists)::

    python3 -m mamgd_paper.runner deps --output build/notebook-deps.mk 'EXECUTED.ipynb=SOURCE.py' ...

List the notebooks' latest wall times (:mod:`mamgd_paper.runner.times`)::

    python -m mamgd_paper.runner times [FOLDER]

Write the figure manifest from the executed notebooks and files as they are
now (:func:`mamgd_paper.site.manifest.from_index`; the runner keeps it up to
date after that)::

    python -m mamgd_paper.runner manifest [--figures-dir figures] [--executed-dir notebooks/executed]

Only the standard library is imported before a command is chosen.
"""

import argparse
import ast
import signal
import sys
import time
from pathlib import Path

from mamgd_paper.runner import quiet


def _parse_value(text):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def _terminate_as_interrupt(signum, frame):
    """SIGTERM and SIGINT handler: unwind like Ctrl-C, so the kernel is shut
    down and the scratch folder removed (``make`` and CI stop a job with
    SIGTERM), with the kernel's teardown noise dropped (:data:`quiet.STOPPING`)."""
    quiet.STOPPING.set()
    raise KeyboardInterrupt(f"stopped by signal {signum}")


def run_main(argv):
    """Run one notebook; 0 on success, 1 when a cell failed, 130 when stopped."""
    from mamgd_paper.runner.execute import NotebookFailed, execute
    from mamgd_paper.runner.times import RUN_TIMES, record_run_time

    parser = argparse.ArgumentParser(
        prog="python -m mamgd_paper.runner",
        description="Run a paired notebook headlessly with Papermill, all-or-nothing.")
    parser.add_argument("source")
    parser.add_argument("output")
    parser.add_argument("--figures-dir", required=True)
    parser.add_argument("--workdir", default=None)
    parser.add_argument("-p", "--parameter", nargs=2, action="append", default=[],
                        metavar=("NAME", "VALUE"))
    parser.add_argument("--run-times", default=str(RUN_TIMES),
                        help="folder for the wall-time record (default: build/run-times)")
    args = parser.parse_args(argv)
    parameters = {name: _parse_value(value) for name, value in args.parameter}
    name = Path(args.output).stem
    shown = " ".join(f"{k}={v!r}" for k, v in parameters.items())
    print(f"[{name}] start: {args.source}{' ' + shown if shown else ''}",
          file=sys.stderr, flush=True)
    signal.signal(signal.SIGTERM, _terminate_as_interrupt)
    signal.signal(signal.SIGINT, _terminate_as_interrupt)
    start = time.perf_counter()
    try:
        published = execute(args.source, args.output, args.figures_dir,
                            parameters, workdir=args.workdir)
    except NotebookFailed as error:
        print(f"[{name}] FAILED after {time.perf_counter() - start:.0f} s: {error}",
              file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt as stop:
        print(f"[{name}] stopped ({stop or 'interrupted'}); nothing was published and "
              f"its scratch folder is removed.", file=sys.stderr, flush=True)
        return 130
    seconds = time.perf_counter() - start
    record_run_time(name, seconds, parameters, args.run_times)
    print(f"[{name}] done in {seconds:.0f} s: {len(published)} files published to "
          f"{args.figures_dir}", file=sys.stderr, flush=True)
    return 0


def manifest_main(argv):
    """Write the figure manifest from the files and executed notebooks as they are."""
    from mamgd_paper.core import paths
    from mamgd_paper.runner import manifest
    from mamgd_paper.site.manifest import from_index

    parser = argparse.ArgumentParser(
        prog="python -m mamgd_paper.runner manifest",
        description="Write <figures-dir>/manifest.json from figures/README.md's index, the "
                    "files present and the executed notebooks.")
    parser.add_argument("--figures-dir", default=str(paths.FIGURES))
    parser.add_argument("--executed-dir", default=str(paths.EXECUTED))
    args = parser.parse_args(argv)
    files, unclaimed = from_index(args.figures_dir, args.executed_dir)
    for name in unclaimed:
        print(f"warning: {name}: no row of the figure index (README.md) names it; "
              f"left out of the manifest", file=sys.stderr)
    path = manifest.write(args.figures_dir, files)
    print(f"manifest: {len(files)} files in {path}")
    return 0


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["deps"]:
        from mamgd_paper.runner import deps

        return deps.main(argv[1:])
    if argv[:1] == ["times"]:
        from mamgd_paper.runner.times import RUN_TIMES, print_run_times

        print_run_times(*(argv[1:2] or [RUN_TIMES]))
        return 0
    if argv[:1] == ["manifest"]:
        return manifest_main(argv[1:])
    return run_main(argv)


if __name__ == "__main__":
    sys.exit(main())
