"""Out of date by content: a recorded hash of each executed notebook's inputs.

An executed notebook is out of date when what it was made from changed, not
when a file is newer: in a fresh clone git writes the files in any order, so
file times say nothing. What a notebook is made from (:func:`inputs_hash`):

* its source (``notebooks/NN_*.py`` or the network template),
* the parameters that change results (``quick``, ``seeds``, ``table``; never
  the run-only ``workers`` and ``storage``, which are not parameters at all),
* every pipeline module it imports, transitively, with the data files those
  modules name, and the library modules it imports (:func:`mamgd_paper.runner.deps.
  notebook_dependencies`),
* the files it reads that another notebook publishes (notebook 09 reads
  notebook 02's ``tables/k_sensitivity.csv``: ``--input``).

The runner writes, as the last step of publishing a notebook
(:mod:`mamgd_paper.runner.publish`), its *record*
``<records>/<notebook>.json``: the inputs' hash, the parameters and the sha256
of every file it published. The full run's records are committed
(``notebooks/records/``) with the executed notebooks; a quick run's are under
``build/quick/records/``.

``python3 -m mamgd_paper.runner stale`` (the Makefile, before anything runs)
prints the notebooks whose current inputs differ from their record, or whose
executed notebook or record is missing, plus those that read a file of one of
them (``--after``). Standard library only: it runs with the system ``python3``.
"""

import argparse
import functools
import hashlib
import json
import os
import sys
from pathlib import Path

from mamgd_paper.runner import deps

#: Part of every hash: a change of what is hashed makes every record out of date.
VERSION = "mamgd-inputs-1"
#: Parameters that change only how a notebook runs, never its results: not hashed.
RUN_ONLY = frozenset({"figures_dir", "workers", "storage"})


@functools.lru_cache(maxsize=None)
def _file_digest(path, mtime_ns, size):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_sha256(path):
    """The sha256 of a file's bytes (cached within a process)."""
    stat = os.stat(path)
    return _file_digest(str(path), stat.st_mtime_ns, stat.st_size)


def _shown(path, root):
    """``path`` relative to ``root`` (``/``-separated) when inside it, else absolute."""
    path = Path(path).resolve()
    try:
        return path.relative_to(Path(root).resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def results_parameters(parameters):
    """The parameters that change a notebook's results (JSON-ready, sorted)."""
    return {k: parameters[k] for k in sorted(parameters or {}) if k not in RUN_ONLY}


def inputs(source, parameters=None, extra=(), root="."):
    """``(files, parameters)``: ``{path: sha256}`` of every input file of
    ``source`` (see the module doc) and the results-changing parameters.
    A missing extra input counts with the digest ``missing``."""
    root = Path(root)
    relative = _relative_source(source, root)
    names = deps.notebook_dependencies(relative if relative.is_absolute() else root / relative,
                                       root)
    files = {name: file_sha256(root / name) for name in names}
    for path in extra:
        full = Path(path) if Path(path).is_absolute() else root / path
        files[_shown(full, root)] = file_sha256(full) if full.is_file() else "missing"
    return dict(sorted(files.items())), results_parameters(parameters)


def _relative_source(source, root):
    source = Path(source)
    if source.is_absolute():
        try:
            return source.resolve().relative_to(Path(root).resolve())
        except ValueError:
            return source
    return source


def inputs_hash(source, parameters=None, extra=(), root="."):
    """The sha256 of everything ``source``'s executed notebook is made from."""
    files, params = inputs(source, parameters, extra, root)
    text = json.dumps({"version": VERSION, "parameters": params, "files": files},
                      sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def record_path(records, name):
    """Where notebook ``name``'s record lives."""
    return Path(records) / f"{name}.json"


def read_record(records, name):
    """The record of notebook ``name`` (a dict), ``None`` when there is none
    or it is unreadable."""
    try:
        return json.loads(record_path(records, name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def record_text(name, digest, parameters, files, root="."):
    """A record's text: the inputs' hash, the parameters and ``{target: sha256}``
    of ``files`` (``[(new_file, target)]``: the digest of the new file under the
    target's name, relative to ``root``). Deterministic: sorted keys."""
    return json.dumps({"notebook": name, "inputs": digest,
                       "parameters": results_parameters(parameters),
                       "files": {_shown(target, root): file_sha256(source)
                                 for source, target in files}},
                      indent=1, sort_keys=True) + "\n"


def why_stale(name, source, parameters, executed, records, extra=(), root="."):
    """Why notebook ``name`` is out of date (a short text), ``None`` when it is not."""
    if not Path(executed).is_file():
        return f"{executed} does not exist"
    record = read_record(records, name)
    if record is None:
        return f"no record {record_path(records, name)}"
    if record.get("inputs") != inputs_hash(source, parameters, extra, root):
        return "its inputs changed"
    missing = [f for f in record.get("files", {}) if not (Path(root) / f).is_file()]
    if missing:
        return f"{missing[0]} (one of its outputs) is missing"
    return None


def _parse_spec(text):
    """``NAME=SOURCE[,KEY=VALUE...]`` (the parameters after the source)."""
    name, _, rest = text.partition("=")
    source, *pairs = rest.split(",")
    if not name or not source:
        raise ValueError(f"expected NAME=SOURCE[,KEY=VALUE...], got {text!r}")
    parameters = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        parameters[key] = parse_value(value)
    return name, source, parameters


def parse_value(text):
    """A parameter's value as the runner reads ``-p NAME VALUE``."""
    import ast

    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def stale_main(argv=None):
    """``python3 -m mamgd_paper.runner stale``: print the out-of-date notebooks."""
    parser = argparse.ArgumentParser(
        prog="python3 -m mamgd_paper.runner stale",
        description="Print the notebooks whose inputs differ from their record (one line, "
                    "space-separated); the reasons go to standard error with --explain.")
    parser.add_argument("notebooks", nargs="*", metavar="NAME=SOURCE[,KEY=VALUE...]")
    parser.add_argument("--executed", required=True, help="the executed notebooks' folder")
    parser.add_argument("--records", required=True, help="the records' folder")
    parser.add_argument("-p", "--parameter", nargs=2, action="append", default=[],
                        metavar=("NAME", "VALUE"), help="a parameter of every notebook")
    parser.add_argument("--input", action="append", default=[], metavar="NAME=FILE",
                        help="a file notebook NAME reads that another notebook writes")
    parser.add_argument("--after", action="append", default=[], metavar="NAME=OTHER",
                        help="NAME reads a file OTHER publishes: NAME reruns when OTHER does")
    parser.add_argument("--all", action="store_true", help="every notebook (make reproduce)")
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--root", default=".")
    args = parser.parse_args(argv)
    common = {name: parse_value(value) for name, value in args.parameter}
    extra = {}
    for item in args.input:
        name, _, path = item.partition("=")
        extra.setdefault(name, []).append(path)
    stale = {}
    for spec in args.notebooks:
        name, source, parameters = _parse_spec(spec)
        if args.all:
            stale[name] = "make reproduce reruns every notebook"
            continue
        reason = why_stale(name, source, {**common, **parameters},
                           Path(args.executed) / f"{name}.ipynb", args.records,
                           extra.get(name, ()), args.root)
        if reason:
            stale[name] = reason
    changed = True
    while changed:
        changed = False
        for item in args.after:
            name, _, other = item.partition("=")
            if other in stale and name not in stale:
                stale[name] = f"it reads what {other} publishes"
                changed = True
    if args.explain:
        for name, reason in stale.items():
            print(f"{name}: out of date: {reason}", file=sys.stderr)
    print(" ".join(stale))
    return 0
