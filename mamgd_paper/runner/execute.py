"""Run a paired notebook headlessly with Papermill, all-or-nothing.

The notebook sources are jupytext ``py:percent`` files (``notebooks/*.py``);
their first tagged ``parameters`` cell takes at least ``quick``, ``seed`` and
``figures_dir``. :func:`execute` runs one of them with Papermill and

1. lets the notebook write its figures and tables into a fresh *staging*
   folder (passed as ``figures_dir``),
2. only if every cell succeeded, moves each staged file into the real output
   folder (each atomically, :func:`mamgd_paper.core.atomic.copy_file`), then
   the executed notebook, so a failed run leaves the last good figures,
   tables and executed notebook untouched;
3. gives every published file the executed notebook's modification time, so
   that ``make`` sees a notebook's outputs as made together (a file one
   notebook publishes, e.g. notebook 02's ``tables/k_sensitivity.csv``, can be
   a prerequisite of another notebook without looking older than its maker);
4. records what it published in the figure manifest
   (:mod:`mamgd_paper.runner.manifest`).

The executed notebook is made byte-stable by :mod:`mamgd_paper.runner.scrub`;
the command line is :mod:`mamgd_paper.runner.__main__`. Papermill, jupytext
and nbformat are imported when a notebook runs, so the module itself imports
with the standard library alone.
"""

import os
import shutil
import tempfile
from pathlib import Path

from mamgd_paper.core import numerics
from mamgd_paper.core.atomic import copy_file
from mamgd_paper.core.paths import ROOT
from mamgd_paper.runner import manifest
from mamgd_paper.runner.follow import progress_shown
from mamgd_paper.runner.quiet import quiet_stderr
from mamgd_paper.runner.scrub import make_stable

#: Kernel every notebook runs on: the Python that runs this module.
KERNEL_NAME = "python3"
#: Prefix of the runner's scratch folders (removed on success, failure and kill).
SCRATCH_PREFIX = "mamgd-nb-"


class NotebookFailed(RuntimeError):
    """A notebook raised in one of its cells; its outputs were not published."""


def publish(staging, destination):
    """Copy every file under ``staging`` to the same place under ``destination``,
    each atomically; return the published paths, sorted."""
    moved = []
    for source in sorted(p for p in Path(staging).rglob("*") if p.is_file()):
        target = Path(destination) / source.relative_to(staging)
        moved.append(copy_file(source, target))
    return moved


def same_mtime(paths, reference):
    """Give every file of ``paths`` the modification time of ``reference``."""
    stat = os.stat(reference)
    for path in paths:
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def execute(source, output, figures_dir, parameters=None, workdir=None, timeout=None):
    """Execute notebook ``source`` and publish its outputs only on success.

    Args:
        source: a jupytext ``.py`` notebook or an ``.ipynb`` file.
        output: where the executed ``.ipynb`` goes (written last, atomically).
        figures_dir: the real folder for figures and tables.
        parameters: dict of Papermill parameters (``figures_dir`` is set here).
        workdir: the kernel's working directory (default: the source's folder).
        timeout: per-cell timeout in seconds (``None``: no limit).

    The kernel computes under :data:`mamgd_paper.core.numerics.ENVIRONMENT`
    (the same bits on every x86-64 machine), whoever calls this.
    The executed notebook is made byte-stable
    (:func:`mamgd_paper.runner.scrub.make_stable`): the same source, parameters
    and results give the same bytes. Long cells report their progress through
    :mod:`mamgd_paper.core.progress`, shown on this process's standard error.
    The published files are recorded in ``figures_dir``'s manifest under the
    executed notebook's stem.

    Returns the list of published files. Raises :class:`NotebookFailed`
    naming the notebook and the failing cell's error; nothing is published
    then and the failed executed copy is kept as ``<output>.failed.ipynb``.
    """
    import jupytext
    import nbformat
    import papermill

    source, output, figures_dir = Path(source), Path(output), Path(figures_dir)
    if not source.exists():
        raise FileNotFoundError(f"Notebook source {source} does not exist.")
    output.parent.mkdir(parents=True, exist_ok=True)
    failed_copy = output.with_suffix(".failed.ipynb")
    workdir = Path(workdir or source.parent)
    with tempfile.TemporaryDirectory(prefix=SCRATCH_PREFIX) as scratch:
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
        # Paths in the executed notebook as a reader sees them: the staging
        # folder is the published folder, relative to the kernel's folder.
        replacements = {str(staging): os.path.relpath(figures_dir, workdir),
                        str(scratch): os.path.relpath(output.parent, workdir),
                        str(ROOT) + os.sep: ""}
        os.environ.update(numerics.ENVIRONMENT)  # inherited by the kernel
        try:
            with quiet_stderr() as terminal, \
                    progress_shown(scratch / "progress.jsonl", output.stem, terminal):
                papermill.execute_notebook(
                    str(unexecuted),
                    str(executed),
                    parameters=params,
                    kernel_name=KERNEL_NAME,
                    cwd=str(workdir),
                    progress_bar=False,
                    log_output=False,
                    execution_timeout=timeout,
                )
        except papermill.PapermillExecutionError as error:
            if executed.exists():
                shutil.copyfile(executed, failed_copy)
            raise NotebookFailed(
                f"Notebook {source} failed in cell {error.exec_count}: "
                f"{error.ename}: {str(error.evalue).rstrip('.')}. Nothing was published; the "
                f"previous outputs in {figures_dir} are untouched. The failed "
                f"run is saved as {failed_copy}."
            ) from None
        result = nbformat.read(executed, as_version=4)
        make_stable(result, replacements,
                    input_path=os.path.relpath(source, workdir),
                    output_path=os.path.relpath(output, workdir))
        nbformat.write(result, executed)
        published = publish(staging, figures_dir)
        copy_file(executed, output)
        same_mtime(published, output)
        manifest.record(figures_dir, output.stem, published)
    if failed_copy.exists():
        failed_copy.unlink()
    return published
