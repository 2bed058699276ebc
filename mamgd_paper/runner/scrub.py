"""Making an executed notebook byte-stable: same source, parameters and results, same bytes.

:func:`make_stable` removes what ipykernel and Papermill record about one
particular run (timestamps, durations, machine paths, cell ids drawn at
random, the start-up noise of TensorFlow and the kernel) and keeps everything
else. The rules are a deny list in the manner of nbstripout: only the keys
named here are dropped, so metadata the notebook's author set (cell tags,
jupytext options) stays. nbconvert's ``ClearMetadataPreprocessor`` was not
used: it keeps an allow list of keys and drops all others; its
``CoalesceStreamsPreprocessor`` is: ipykernel sends what a cell prints in
flushes whose boundaries depend on timing, so consecutive outputs of one
stream are merged into one (measured: two rebuilds of notebook 09 differed
only by one stdout output split in two).
"""

import re
from pathlib import Path

from mamgd_paper.runner.quiet import NOISE

#: Papermill's notebook-level metadata that holds no time and no machine path.
STABLE_PAPERMILL_KEYS = ("default_parameters", "parameters", "version")


def make_stable(notebook, replacements=None, input_path=None, output_path=None):
    """Make an executed notebook depend only on its source, parameters and results.

    In place: cell ids become their position (``cell-000``, ...), the
    source's jupytext pairing metadata is dropped, the
    timestamps and durations that ipykernel and Papermill record are removed
    (cell ``execution`` metadata, Papermill's cell metadata, its run times,
    input/output paths and environment), and every key of ``replacements``
    (machine paths: the staging folder, the repository root) is replaced by
    its value in the sources and text outputs; consecutive outputs of one
    stream become one (``notebook`` must be an ``nbformat`` node, as
    ``nbformat.read`` returns it). Returns ``notebook``.
    """
    from nbconvert.preprocessors import CoalesceStreamsPreprocessor

    coalesce = CoalesceStreamsPreprocessor()
    replacements = replacements or {}
    pattern = (re.compile("|".join(re.escape(k) for k in sorted(replacements, key=len,
                                                                reverse=True)))
               if replacements else None)

    def clean(text):
        return pattern.sub(lambda m: replacements[m.group(0)], text) if pattern else text

    # The executed copy is not paired with the source (jupytext.toml pairs the
    # sources with hand-run copies): drop the source's pairing metadata.
    notebook.metadata.pop("jupytext", None)
    papermill_meta = notebook.metadata.get("papermill", {})
    notebook.metadata["papermill"] = {k: papermill_meta[k] for k in STABLE_PAPERMILL_KEYS
                                      if k in papermill_meta}
    if input_path is not None:
        notebook.metadata["papermill"]["input_path"] = Path(input_path).as_posix()
    if output_path is not None:
        notebook.metadata["papermill"]["output_path"] = Path(output_path).as_posix()
    for name in ("parameters", "default_parameters"):
        values = notebook.metadata["papermill"].get(name)
        if isinstance(values, dict):
            notebook.metadata["papermill"][name] = {
                k: clean(v) if isinstance(v, str) else v for k, v in values.items()}
    for index, cell in enumerate(notebook.cells):
        cell["id"] = f"cell-{index:03d}"
        cell.metadata.pop("execution", None)
        cell.metadata.pop("papermill", None)
        cell["source"] = clean(cell["source"])
        if "outputs" in cell:
            cell["outputs"] = [output for output in cell["outputs"]
                               if not drop_noise(output)]
            coalesce.preprocess_cell(cell, {}, index)
        for output in cell.get("outputs", []):
            if "text" in output:
                output["text"] = clean(output["text"])
            for mime, value in output.get("data", {}).items():
                if mime.startswith("text/") or mime == "application/json":
                    output["data"][mime] = (clean(value) if isinstance(value, str)
                                            else value)
            for key in ("evalue",):
                if key in output:
                    output[key] = clean(output[key])
            if "traceback" in output:
                output["traceback"] = [clean(line) for line in output["traceback"]]
    return notebook


def drop_noise(output):
    """Remove :data:`~mamgd_paper.runner.quiet.NOISE` lines from a stderr stream
    output; True if none is left."""
    if output.get("output_type") != "stream" or output.get("name") != "stderr":
        return False
    kept = [line for line in output["text"].splitlines(keepends=True)
            if not NOISE.match(line)]
    output["text"] = "".join(kept)
    return not kept
