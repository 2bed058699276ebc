"""Run a paired notebook headlessly with Papermill, all-or-nothing.

The notebook sources are jupytext ``py:percent`` files (``notebooks/*.py``);
their first tagged ``parameters`` cell takes at least ``quick``, ``seed`` and
``figures_dir``. :func:`execute` runs one of them with Papermill and

1. lets the notebook write its figures and tables into a fresh *staging*
   folder (passed as ``figures_dir``);
2. only if every cell succeeded, publishes the staged files, the executed
   notebook, the figure manifest (:mod:`mamgd_paper.runner.manifest`) and,
   last, the notebook's record (the hash of its inputs and of every file it
   published, :mod:`mamgd_paper.runner.inputs`) all-or-nothing
   (:mod:`mamgd_paper.runner.publish`): an interrupt at any instant leaves
   all the old files or all the new ones, and a failed run leaves the last
   good outputs untouched.

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
from mamgd_paper.core.paths import ROOT
from mamgd_paper.runner import inputs, manifest, publish as publishing
from mamgd_paper.runner.follow import progress_shown
from mamgd_paper.runner.quiet import quiet_stderr
from mamgd_paper.runner.scrub import make_stable

#: Kernel every notebook runs on: the Python that runs this module.
KERNEL_NAME = "python3"
#: Prefix of the runner's scratch folders (removed on success, failure and kill).
SCRATCH_PREFIX = "mamgd-nb-"


class NotebookFailed(RuntimeError):
    """A notebook raised in one of its cells; its outputs were not published."""


def records_of(output):
    """The default records folder of an executed notebook: ``records/`` beside
    its folder (``notebooks/executed`` -> ``notebooks/records``)."""
    return Path(output).resolve().parent.parent / "records"


def execute(source, output, figures_dir, parameters=None, workdir=None, timeout=None,
            records=None, extra_inputs=(), published=None):
    """Execute notebook ``source`` and publish its outputs only on success.

    Args:
        source: a jupytext ``.py`` notebook or an ``.ipynb`` file.
        output: where the executed ``.ipynb`` goes (written last, atomically).
        figures_dir: the real folder for figures and tables.
        parameters: dict of Papermill parameters (``figures_dir`` is set here).
        workdir: the kernel's working directory (default: the source's folder).
        timeout: per-cell timeout in seconds (``None``: no limit).
        records: the folder of the notebooks' records (default: :func:`records_of`).
        extra_inputs: files the notebook reads that another notebook publishes
            (part of the inputs' hash, :mod:`mamgd_paper.runner.inputs`).
        published: a list that receives the published files as soon as they
            are published (the runner's stop message tells the truth with it).

    The kernel computes under :data:`mamgd_paper.core.numerics.ENVIRONMENT`
    (the same bits on every x86-64 machine), whoever calls this.
    The executed notebook is made byte-stable
    (:func:`mamgd_paper.runner.scrub.make_stable`): the same source, parameters
    and results give the same bytes. Long cells report their progress through
    :mod:`mamgd_paper.core.progress`, shown on this process's standard error.
    The published files are recorded in ``figures_dir``'s manifest under the
    executed notebook's stem, and in the notebook's record.

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
    records = Path(records) if records is not None else records_of(output)
    # what the run is made from, read before it starts (an edit during the run
    # leaves the notebook out of date)
    extra_inputs = [Path(p).resolve() for p in extra_inputs]
    digest = inputs.inputs_hash(source.resolve(), parameters, extra_inputs, ROOT)
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
        staged = sorted(p for p in staging.rglob("*") if p.is_file())
        files = [(p, figures_dir / p.relative_to(staging)) for p in staged]
        new_figures = [target for _, target in files]
        files.append((executed, output))
        with manifest.locked(figures_dir):
            publishing.recover(records, [figures_dir, output.parent])
            figure_manifest = scratch / manifest.NAME
            figure_manifest.write_text(
                manifest.updated_text(figures_dir, output.stem, new_figures), encoding="utf-8")
            record = inputs.record_text(output.stem, digest, parameters, files, ROOT)
            files.append((figure_manifest, manifest.path_of(figures_dir)))
            publishing.publish(output.stem, files, records, record, done=published)
    if failed_copy.exists():
        failed_copy.unlink()
    return new_figures
