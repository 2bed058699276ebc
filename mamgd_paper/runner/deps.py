"""What each executed notebook depends on: the Makefile's include file.

``python3 -m mamgd_paper.runner deps --output build/notebook-deps.mk
'EXECUTED.ipynb=SOURCE.py' ...`` writes one make rule per executed notebook
listing the files it depends on (:func:`notebook_dependencies`): its source,
every module of the pipeline it imports (transitively, with the data files
those modules name) and the modules of the library :mod:`mamgd` it imports. The scanner reads the
sources with :mod:`ast` and imports none of them; this module uses the
standard library only, because the Makefile runs it with the system
``python3`` before the virtual environment exists.
"""

import argparse
import ast
import json
import os
from pathlib import Path

from mamgd_paper.core.atomic import write_text

#: Packages whose modules are followed, import by import, from a notebook.
PACKAGES = ("mamgd_paper", "mamgd")
#: Packages every notebook depends on as a whole, whatever it imports of them
#: (none: the library's modules count when imported, like the pipeline's, so
#: that a change of ``mamgd/torch.py`` reruns no notebook).
LIBRARIES = ()


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
             "# `python3 -m mamgd_paper.runner deps` (do not edit: the Makefile",
             "# rewrites it when a notebook source or a pipeline module changes).", ""]
    for target, source in targets:
        dependencies = notebook_dependencies(source, root, packages, libraries)
        lines.append(f"{target}: \\")
        lines += [f"    {path} \\" for path in dependencies[:-1]]
        lines += [f"    {dependencies[-1]}", ""]
    return write_text(output, "\n".join(lines))


def main(argv=None):
    """The ``deps`` command: parse ``TARGET=SOURCE`` pairs and write the include file."""
    parser = argparse.ArgumentParser(
        prog="python3 -m mamgd_paper.runner deps",
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
