"""Run a paired notebook headlessly with Papermill, all-or-nothing.

The notebook sources are jupytext ``py:percent`` files (``notebooks/*.py``);
their first tagged ``parameters`` cell takes at least ``quick``, ``seed`` and
``figures_dir``. :func:`execute` runs one of them with Papermill and

1. lets the notebook write its figures and tables into a fresh *staging*
   folder (passed as ``figures_dir``),
2. only if every cell succeeded, moves each staged file into the real output
   folder with :func:`os.replace` and then moves the executed notebook into
   place, so a failed run leaves the last good figures, tables and executed
   notebook untouched;
3. gives every published file the executed notebook's modification time, so
   that ``make`` sees a notebook's outputs as made together (a file one
   notebook publishes, e.g. notebook 02's ``tables/k_sensitivity.csv``, can be
   a prerequisite of another notebook without looking older than its maker).

Command line (used by the Makefile)::

    python -m mamgd_paper.runner.notebooks SOURCE.py EXECUTED.ipynb --figures-dir figures \
        [-p NAME VALUE ...]

and the Makefile's dependency scanner (standard library only: it runs with the
system ``python3`` before the virtual environment exists; see
:func:`notebook_dependencies`)::

    python3 -m mamgd_paper.runner.notebooks deps --output build/notebook-deps.mk \
        'EXECUTED.ipynb=SOURCE.py' ...
"""

import argparse
import ast
import contextlib
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

from mamgd_paper.core import progress
from mamgd_paper.runner.quiet import NOISE, quiet_stderr
from mamgd_paper.core.paths import ROOT

#: Kernel every notebook runs on: the Python that runs this module.
KERNEL_NAME = "python3"
#: Where the runner records each notebook's wall time (never committed).
RUN_TIMES = ROOT / "build" / "run-times"
#: Prefix of the runner's scratch folders (removed on success, failure and kill).
SCRATCH_PREFIX = "mamgd-nb-"
#: Papermill's notebook-level metadata that holds no time and no machine path.
_STABLE_PAPERMILL_KEYS = ("default_parameters", "parameters", "version")
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

    The executed notebook is made byte-stable (:func:`make_stable`): the same
    source, parameters and results give the same bytes. Long cells report
    their progress through :mod:`mamgd_paper.core.progress`, shown on this process's
    standard error.

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
        try:
            with quiet_stderr() as terminal, \
                    _progress_shown(scratch / "progress.jsonl", output.stem, terminal):
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
                f"{error.ename}: {error.evalue}. Nothing was published; the "
                f"previous outputs in {figures_dir} are untouched. The failed "
                f"run is saved as {failed_copy}."
            ) from None
        result = nbformat.read(executed, as_version=4)
        make_stable(result, replacements,
                    input_path=os.path.relpath(source, workdir),
                    output_path=os.path.relpath(output, workdir))
        nbformat.write(result, executed)
        published = _publish(staging, figures_dir)
        os.replace(_copy_next_to(executed, output), output)
        _same_mtime(published, output)
    if failed_copy.exists():
        failed_copy.unlink()
    return published


def make_stable(notebook, replacements=None, input_path=None, output_path=None):
    """Make an executed notebook depend only on its source, parameters and results.

    In place: cell ids become their position (``cell-000``, ...), the
    source's jupytext pairing metadata is dropped, the
    timestamps and durations that ipykernel and Papermill record are removed
    (cell ``execution`` metadata, Papermill's cell metadata, its run times,
    input/output paths and environment), and every key of ``replacements``
    (machine paths: the staging folder, the repository root) is replaced by
    its value in the sources and text outputs. Returns ``notebook``.
    """
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
    notebook.metadata["papermill"] = {k: papermill_meta[k] for k in _STABLE_PAPERMILL_KEYS
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
                               if not _drop_noise(output)]
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


def _drop_noise(output):
    """Remove :data:`NOISE` lines from a stderr stream output; True if none is left."""
    if output.get("output_type") != "stream" or output.get("name") != "stderr":
        return False
    kept = [line for line in output["text"].splitlines(keepends=True)
            if not NOISE.match(line)]
    output["text"] = "".join(kept)
    return not kept


@contextlib.contextmanager
def _progress_shown(channel, name, stream=None):
    """Let the kernel report progress to ``channel`` (:mod:`mamgd_paper.core.progress`)
    and show it on ``stream`` (standard error) while the block runs."""
    stream = stream or sys.stderr
    channel = Path(channel)
    channel.touch()
    previous = os.environ.get(progress.CHANNEL)
    os.environ[progress.CHANNEL] = str(channel)  # inherited by the kernel
    follower = _ProgressFollower(channel, name, stream)
    follower.start()
    try:
        yield
    finally:
        follower.stop()
        if previous is None:
            os.environ.pop(progress.CHANNEL, None)
        else:
            os.environ[progress.CHANNEL] = previous


class _ProgressFollower(threading.Thread):
    """Follows a progress file: a tqdm bar per loop on a terminal, else one
    plain line per finished step (CI and log files)."""

    def __init__(self, path, name, stream, interval=0.5):
        super().__init__(daemon=True)
        self.path, self.name, self.stream, self.interval = path, name, stream, interval
        self.terminal = hasattr(stream, "isatty") and stream.isatty()
        self.bars = {}
        self._stopped = threading.Event()
        self._offset = 0

    def run(self):
        while not self._stopped.wait(self.interval):
            self._read()
        self._read()
        for bar in self.bars.values():
            bar.close()

    def stop(self):
        self._stopped.set()
        self.join()

    def _read(self):
        try:
            with open(self.path, encoding="utf-8") as stream:
                stream.seek(self._offset)
                lines = stream.readlines()
                # keep a half-written last line for the next read
                if lines and not lines[-1].endswith("\n"):
                    lines.pop()
                self._offset += sum(len(line.encode("utf-8")) for line in lines)
        except OSError:
            return
        for line in lines:
            try:
                self._show(json.loads(line))
            except ValueError:
                continue

    def _show(self, event):
        description, done, total = event["description"], event["done"], event["total"]
        if self.terminal:
            from tqdm import tqdm

            bar = self.bars.get(description)
            if bar is None or done == 0:
                if bar is not None:
                    bar.close()
                bar = self.bars[description] = tqdm(
                    total=total, desc=f"{self.name}: {description}", file=self.stream,
                    dynamic_ncols=True, leave=True)
            bar.update(done - bar.n)
            if total is not None and done >= total:
                bar.close()
                del self.bars[description]
        elif done:
            count = f"{done}/{total}" if total else f"{done}"
            print(f"{self.name}: {description} {count}", file=self.stream, flush=True)


def _same_mtime(paths, reference):
    """Give every file of ``paths`` the modification time of ``reference``."""
    stat = os.stat(reference)
    for path in paths:
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def _copy_next_to(path, target):
    """Copy ``path`` next to ``target`` and return the copy.

    The copy lives on the target's file system, so the ``os.replace`` that
    follows is an atomic rename.
    """
    tmp = target.with_name(f".{target.name}.tmp")
    shutil.copyfile(path, tmp)
    return tmp


def _terminate_as_interrupt(signum, frame):
    """SIGTERM handler: unwind like Ctrl-C, so the kernel is shut down and the
    scratch folder removed (``make`` and CI stop a job with SIGTERM)."""
    raise KeyboardInterrupt(f"stopped by signal {signum}")


def print_run_times(folder=RUN_TIMES, stream=None):
    """Print the wall time of every notebook the runner recorded in ``folder``."""
    stream = stream or sys.stdout
    rows = []
    for path in sorted(Path(folder).glob("*.json")):
        rows.append(json.loads(path.read_text(encoding="utf-8")))
    if not rows:
        print(f"No run times recorded in {folder}.", file=stream)
        return rows
    width = max(len(row["notebook"]) for row in rows)
    for row in rows:
        print(f"  {row['notebook']:<{width}}  {row['seconds']:7.0f} s", file=stream)
    print(f"  {'total notebook time':<{width}}  {sum(r['seconds'] for r in rows):7.0f} s",
          file=stream)
    return rows


# --------------------------------------------------------------------------
# What each executed notebook depends on (the Makefile's include file)

#: Packages whose modules are followed, import by import, from a notebook.
PACKAGES = ("mamgd_paper",)
#: Libraries every notebook depends on as a whole (all their ``.py`` files).
LIBRARIES = ("mamgd",)


def _code_of(source):
    """The Python code of a notebook: a jupytext ``.py`` file as it is (its
    Markdown cells are comments), an ``.ipynb`` file's code cells without
    magics and shell lines."""
    source = Path(source)
    text = source.read_text(encoding="utf-8")
    if source.suffix != ".ipynb":
        return text
    lines = []
    for cell in json.loads(text).get("cells", []):
        if cell.get("cell_type") == "code":
            code = cell.get("source", "")
            code = "".join(code) if isinstance(code, list) else code
            lines += [line for line in code.splitlines()
                      if not line.lstrip().startswith(("%", "!"))]
    return "\n".join(lines)


def _imported_names(tree, package=None):
    """Every module name an ``import`` anywhere in ``tree`` may load.

    Imports inside functions count too (a superset of what one run imports).
    ``from a import b`` gives ``a`` and ``a.b`` (``b`` may be a submodule);
    relative imports are resolved against ``package``.
    """
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = node.module
            if node.level:
                if package is None:
                    continue
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            if not module:
                continue
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names
                         if alias.name != "*")
    return names


def _module_file(parts, root):
    """``root/a/b.py`` or ``root/a/b/__init__.py`` for module ``a.b``, else None."""
    base = Path(root, *parts)
    for candidate in (base.parent / f"{base.name}.py", base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _data_files(tree, directory):
    """Files next to a module that it names in a string literal, e.g.
    ``"data/paper_tables.csv"`` in :mod:`mamgd_paper.paper.published`."""
    directory = Path(directory)
    found = set()
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
            continue
        text = node.value
        if (not text or len(text) > 255 or any(c in text for c in "\n\0*")
                or os.path.isabs(text)):
            continue
        path = directory / text
        if (path.suffix != ".py" and path.is_file()
                and path.resolve().is_relative_to(directory.resolve())):
            found.add(path)
    return found


def _parse(path, code=None):
    code = Path(path).read_text(encoding="utf-8") if code is None else code
    return ast.parse(code, filename=str(path))


def notebook_dependencies(source, root=".", packages=PACKAGES, libraries=LIBRARIES):
    """The files an executed notebook of ``source`` depends on.

    Found with :mod:`ast` alone (nothing is imported): the source itself;
    every module of ``packages`` it imports, transitively (with the packages'
    ``__init__.py`` and the data files those modules name, e.g.
    ``mamgd_paper/paper/paper_tables.csv`` for :mod:`mamgd_paper.paper.published`); every
    ``.py`` file of ``libraries``. Paths are relative to ``root``, the source
    first, then sorted.
    """
    root = Path(root)
    source = Path(source)
    found = set()
    todo = [(source, None, _code_of(source))]
    seen = set()
    while todo:
        path, package, code = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        tree = _parse(path, code)
        if package is not None:
            found |= _data_files(tree, path.parent)
        for name in _imported_names(tree, package):
            parts = name.split(".")
            if parts[0] not in packages:
                continue
            for depth in range(1, len(parts) + 1):
                module = _module_file(parts[:depth], root)
                if module is None:
                    break
                found.add(module)
                is_package = module.name == "__init__.py"
                todo.append((module, ".".join(parts[:depth if is_package else depth - 1]),
                             None))
    for library in libraries:
        found |= {path for path in Path(root, library).rglob("*.py")
                  if "__pycache__" not in path.parts}
    relative = lambda path: Path(os.path.relpath(path, root)).as_posix()  # noqa: E731
    found.discard(source)
    return [relative(source)] + sorted({relative(path) for path in found} - {relative(source)})


def write_make_dependencies(targets, output, root=".", packages=PACKAGES,
                            libraries=LIBRARIES):
    """Write a make include file with one rule ``TARGET: DEPENDENCIES`` (no
    recipe) per ``(target, source)`` pair of ``targets``, the dependencies
    from :func:`notebook_dependencies`. Written atomically."""
    lines = ["# The files each executed notebook depends on, written by",
             "# `python3 -m mamgd_paper.runner.notebooks deps` (do not edit: the Makefile",
             "# rewrites it when a notebook source or a companion module changes).", ""]
    for target, source in targets:
        dependencies = notebook_dependencies(source, root, packages, libraries)
        lines.append(f"{target}: \\")
        lines += [f"    {path} \\" for path in dependencies[:-1]]
        lines += [f"    {dependencies[-1]}", ""]
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(f".{output.name}.tmp")
    tmp.write_text("\n".join(lines), encoding="utf-8")
    os.replace(tmp, output)
    return output


def deps_main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python3 -m mamgd_paper.runner.notebooks deps",
        description="Write a make include file: what each executed notebook depends on.")
    parser.add_argument("targets", nargs="+", metavar="TARGET=SOURCE",
                        help="an executed notebook (as make should name it) and its source")
    parser.add_argument("--output", "-o", required=True, help="the include file to write")
    parser.add_argument("--root", default=".", help="the project root (default: .)")
    parser.add_argument("--package", action="append", default=None,
                        help=f"package followed import by import (default: {PACKAGES})")
    parser.add_argument("--library", action="append", default=None,
                        help=f"package every notebook depends on as a whole "
                             f"(default: {LIBRARIES})")
    args = parser.parse_args(argv)
    pairs = []
    for item in args.targets:
        target, _, source = item.partition("=")
        if not target or not source:
            parser.error(f"expected TARGET=SOURCE, got {item!r}")
        pairs.append((target, source))
    write_make_dependencies(pairs, args.output, args.root,
                            tuple(args.package or PACKAGES), tuple(args.library or LIBRARIES))
    return 0


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["deps"]:
        return deps_main(argv[1:])
    if argv[:1] == ["times"]:
        print_run_times(*(argv[1:2] or [RUN_TIMES]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
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
    record = Path(args.run_times) / f"{name}.json"
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps({"notebook": name, "seconds": round(seconds, 1),
                                  "parameters": parameters}) + "\n", encoding="utf-8")
    print(f"[{name}] done in {seconds:.0f} s: {len(published)} files published to "
          f"{args.figures_dir}", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
