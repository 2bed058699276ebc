"""Run a paired notebook headlessly with Papermill, all-or-nothing.

The notebook sources are jupytext ``py:percent`` files (``notebooks/*.py``);
their first tagged ``parameters`` cell takes at least ``quick``, ``seed`` and
``figures_dir``. :func:`execute` runs one of them with Papermill and

1. lets the notebook write its figures and tables into a fresh *staging*
   folder (passed as ``figures_dir``),
2. only if every cell succeeded, moves each staged file into the real output
   folder with :func:`os.replace` and then moves the executed notebook into
   place, so a failed run leaves the last good figures, tables and executed
   notebook untouched.

Command line (used by the Makefile)::

    python -m mamgd.notebooks SOURCE.py EXECUTED.ipynb --figures-dir figures \
        [-p NAME VALUE ...]
"""

import argparse
import ast
import os
import shutil
import sys
import tempfile
from pathlib import Path

#: Kernel every notebook runs on: the Python that runs this module.
KERNEL_NAME = "python3"


class NotebookFailed(RuntimeError):
    """A notebook raised in one of its cells; its outputs were not published."""


def _parse_value(text):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def _publish(staging, destination):
    """Move every file under ``staging`` to the same place under ``destination``."""
    moved = []
    for source in sorted(p for p in Path(staging).rglob("*") if p.is_file()):
        target = Path(destination) / source.relative_to(staging)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(_copy_next_to(source, target), target)
        moved.append(target)
    return moved


def execute(source, output, figures_dir, parameters=None, workdir=None, timeout=None):
    """Execute notebook ``source`` and publish its outputs only on success.

    Args:
        source: a jupytext ``.py`` notebook or an ``.ipynb`` file.
        output: where the executed ``.ipynb`` goes (written last, atomically).
        figures_dir: the real folder for figures and tables.
        parameters: dict of Papermill parameters (``figures_dir`` is set here).
        workdir: the kernel's working directory (default: the source's folder).
        timeout: per-cell timeout in seconds (``None``: no limit).

    Returns the list of published files. Raises :class:`NotebookFailed`
    naming the notebook and the failing cell's error; nothing is published
    then and the failed executed copy is kept as ``<output>.failed.ipynb``.
    """
    import jupytext
    import papermill

    source, output, figures_dir = Path(source), Path(output), Path(figures_dir)
    if not source.exists():
        raise FileNotFoundError(f"Notebook source {source} does not exist.")
    output.parent.mkdir(parents=True, exist_ok=True)
    failed_copy = output.with_suffix(".failed.ipynb")
    with tempfile.TemporaryDirectory(prefix="mamgd-nb-") as scratch:
        scratch = Path(scratch)
        staging = scratch / "outputs"
        staging.mkdir()
        notebook = jupytext.read(source)
        notebook.metadata["kernelspec"] = {
            "name": KERNEL_NAME, "display_name": "Python 3", "language": "python"}
        unexecuted = scratch / "input.ipynb"
        jupytext.write(notebook, unexecuted, fmt="ipynb")
        params = dict(parameters or {})
        params["figures_dir"] = str(staging)
        executed = scratch / "executed.ipynb"
        try:
            papermill.execute_notebook(
                str(unexecuted),
                str(executed),
                parameters=params,
                kernel_name=KERNEL_NAME,
                cwd=str(workdir or source.parent),
                progress_bar=False,
                log_output=False,
                execution_timeout=timeout,
            )
        except papermill.PapermillExecutionError as error:
            if executed.exists():
                shutil.copyfile(executed, failed_copy)
            raise NotebookFailed(
                f"Notebook {source} failed in cell {error.exec_count}: "
                f"{error.ename}: {error.evalue}. Nothing was published; the "
                f"previous outputs in {figures_dir} are untouched. The failed "
                f"run is saved as {failed_copy}."
            ) from None
        published = _publish(staging, figures_dir)
        os.replace(_copy_next_to(executed, output), output)
    if failed_copy.exists():
        failed_copy.unlink()
    return published


def _copy_next_to(path, target):
    """Copy ``path`` next to ``target`` and return the copy.

    The copy lives on the target's file system, so the ``os.replace`` that
    follows is an atomic rename.
    """
    tmp = target.with_name(f".{target.name}.tmp")
    shutil.copyfile(path, tmp)
    return tmp


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source")
    parser.add_argument("output")
    parser.add_argument("--figures-dir", required=True)
    parser.add_argument("--workdir", default=None)
    parser.add_argument("-p", "--parameter", nargs=2, action="append", default=[],
                        metavar=("NAME", "VALUE"))
    args = parser.parse_args(argv)
    parameters = {name: _parse_value(value) for name, value in args.parameter}
    try:
        published = execute(args.source, args.output, args.figures_dir,
                            parameters, workdir=args.workdir)
    except NotebookFailed as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"{args.source}: ok, {len(published)} files published to {args.figures_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
