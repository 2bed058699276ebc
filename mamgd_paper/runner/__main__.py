"""The runner's command line (used by the Makefile).

Run one notebook (:func:`mamgd_paper.runner.execute.execute`)::

    python -m mamgd_paper.runner SOURCE.py EXECUTED.ipynb --figures-dir figures \\
        [-p NAME VALUE ...] [--input FILE ...] [--records DIR] [--if-stale] \\
        [--workdir DIR] [--run-times build/run-times]

Which notebooks are out of date (:mod:`mamgd_paper.runner.inputs`; standard
library only, run by the Makefile with the system ``python3``)::

    python3 -m mamgd_paper.runner stale --executed DIR --records DIR [-p NAME VALUE ...] \\
        'NAME=SOURCE[,KEY=VALUE...]' ... [--input NAME=FILE] [--after NAME=OTHER] [--all]

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
import signal
import sys
import time
from pathlib import Path

from mamgd_paper.core.storage_url import mask
from mamgd_paper.runner import quiet
from mamgd_paper.runner.inputs import parse_value as _parse_value


def _terminate_as_interrupt(signum, frame):
    """SIGTERM and SIGINT handler: unwind like Ctrl-C, so the kernel is shut
    down and the scratch folder removed (``make`` and CI stop a job with
    SIGTERM), with the kernel's teardown noise dropped (:data:`quiet.STOPPING`)."""
    quiet.STOPPING.set()
    raise KeyboardInterrupt(f"stopped by signal {signum}")


def run_main(argv):
    """Run one notebook; 0 on success (or up to date with ``--if-stale``), 1
    when a cell failed, 130 when stopped."""
    from mamgd_paper.core.paths import ROOT
    from mamgd_paper.runner import inputs
    from mamgd_paper.runner.execute import NotebookFailed, execute, records_of
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
    parser.add_argument("--input", action="append", default=[], metavar="FILE",
                        help="a file the notebook reads that another notebook publishes "
                             "(part of the hash of its inputs)")
    parser.add_argument("--records", default=None,
                        help="the notebooks' records (default: records/ beside the executed "
                             "notebook's folder)")
    parser.add_argument("--if-stale", action="store_true",
                        help="do nothing when the executed notebook's record says that its "
                             "inputs are unchanged")
    parser.add_argument("--run-times", default=str(RUN_TIMES),
                        help="folder for the wall-time record (default: build/run-times)")
    args = parser.parse_args(argv)
    parameters = {name: _parse_value(value) for name, value in args.parameter}
    name = Path(args.output).stem
    records = args.records or records_of(args.output)
    if args.if_stale and not inputs.why_stale(
            name, Path(args.source).resolve(), parameters, args.output, records,
            [Path(p).resolve() for p in args.input], ROOT):
        print(f"[{name}] up to date: its inputs are those of its record", file=sys.stderr,
              flush=True)
        return 0
    shown = " ".join(f"{k}={mask(v) if isinstance(v, str) else v!r}"
                     for k, v in parameters.items())
    print(f"[{name}] start: {args.source}{' ' + shown if shown else ''}",
          file=sys.stderr, flush=True)
    signal.signal(signal.SIGTERM, _terminate_as_interrupt)
    signal.signal(signal.SIGINT, _terminate_as_interrupt)
    start = time.perf_counter()
    published = []
    try:
        figures = execute(args.source, args.output, args.figures_dir, parameters,
                          workdir=args.workdir, records=records, extra_inputs=args.input,
                          published=published)
    except NotebookFailed as error:
        print(f"[{name}] FAILED after {time.perf_counter() - start:.0f} s: {error}",
              file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt as stop:
        if published:
            print(f"[{name}] stopped ({stop or 'interrupted'}) after its outputs were "
                  f"published: {len(published)} files, all new (its run time is not "
                  f"recorded).", file=sys.stderr, flush=True)
        else:
            print(f"[{name}] stopped ({stop or 'interrupted'}); nothing was published (the "
                  f"previous outputs are all untouched) and its scratch folder is removed.",
                  file=sys.stderr, flush=True)
        return 130
    seconds = time.perf_counter() - start
    record_run_time(name, seconds, parameters, args.run_times)
    print(f"[{name}] done in {seconds:.0f} s: {len(figures)} files published to "
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
    if argv[:1] == ["stale"]:
        from mamgd_paper.runner import inputs

        return inputs.stale_main(argv[1:])
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
