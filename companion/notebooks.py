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

    python -m companion.notebooks SOURCE.py EXECUTED.ipynb --figures-dir figures \
        [-p NAME VALUE ...]

and the Makefile's dependency scanner (standard library only: it runs with the
system ``python3`` before the virtual environment exists; see
:func:`notebook_dependencies`)::

    python3 -m companion.notebooks deps --output build/notebook-deps.mk \
        'EXECUTED.ipynb=SOURCE.py' ...
"""

import argparse
import ast
import json
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
        _same_mtime(published, output)
    if failed_copy.exists():
        failed_copy.unlink()
    return published


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


# --------------------------------------------------------------------------
# What each executed notebook depends on (the Makefile's include file)

#: Packages whose modules are followed, import by import, from a notebook.
PACKAGES = ("companion",)
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
    ``"data/paper_tables.csv"`` in :mod:`companion.paper`."""
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
    ``companion/data/paper_tables.csv`` for :mod:`companion.paper`); every
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
             "# `python3 -m companion.notebooks deps` (do not edit: the Makefile",
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
        prog="python3 -m companion.notebooks deps",
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
