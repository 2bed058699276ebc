"""The figure manifest: every published file under ``figures/`` and the notebook that made it.

``figures/manifest.json`` maps each file (its path relative to the figures
folder, ``/``-separated) to the stem of the executed notebook that published
it (``01_test_functions``, ``04_approximation``, ...) or to ``report`` for the
files of ``make report``. The runner updates it after every successful
notebook run (:func:`record`: that notebook's entries are replaced by what it
just published), the report after writing its files; the site reads it. The
file is deterministic: keys sorted, no timestamps, no machine paths, so a rerun
that publishes the same files leaves it byte for byte.

Two notebooks that finish at the same time (``make -j2``) update it one after
the other: :func:`record` holds an exclusive :func:`fcntl.flock` on the
figures folder while it reads and rewrites the file. Standard library only.
"""

import contextlib
import fcntl
import json
import os
from pathlib import Path

from mamgd_paper.core.atomic import write_text

#: The manifest's name inside the figures folder.
NAME = "manifest.json"
#: What the manifest's ``about`` entry says.
ABOUT = ("Every file under this folder that a notebook (or the report) published, with "
         "the executed notebook that made it (notebooks/executed/<name>.ipynb). Written "
         "by the notebook runner (python -m mamgd_paper.runner) and the report; do not edit.")
#: The maker named for the report's own files.
REPORT = "report"


def path_of(figures_dir):
    """Where the manifest of ``figures_dir`` lives."""
    return Path(figures_dir) / NAME


def read(figures_dir):
    """``{file: notebook}`` of ``figures_dir``'s manifest (empty when there is none)."""
    path = path_of(figures_dir)
    if not path.is_file():
        return {}
    return dict(json.loads(path.read_text(encoding="utf-8")).get("files", {}))


def render(files):
    """The manifest's text for ``files`` (``{file: notebook}``), keys sorted."""
    return json.dumps({"about": ABOUT, "files": dict(sorted(files.items()))},
                      indent=1, sort_keys=True) + "\n"


def write(figures_dir, files):
    """Write the manifest of ``figures_dir`` (atomically) with ``files``; return its path."""
    for name, maker in files.items():
        relative = Path(name)
        if relative.is_absolute() or ".." in relative.parts or not maker:
            raise ValueError(f"manifest entry {name!r}: {maker!r} is not a file of the folder "
                             f"and the notebook that made it")
    text = render(files)
    path = path_of(figures_dir)
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        write_text(path, text)
    return path


@contextlib.contextmanager
def _locked(directory):
    """Hold an exclusive lock on ``directory`` (a folder can be flock'ed on POSIX)."""
    Path(directory).mkdir(parents=True, exist_ok=True)
    fd = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def relative_names(paths, figures_dir):
    """``paths`` relative to ``figures_dir`` as ``/``-separated names; a path
    outside the folder raises :class:`ValueError`."""
    base = Path(figures_dir).resolve()
    return [Path(p).resolve().relative_to(base).as_posix() for p in paths]


def updated_text(figures_dir, maker, published):
    """The manifest's text once ``maker`` has published ``published`` (its
    previous entries replaced by these); the caller holds :func:`locked`."""
    names = [n for n in relative_names(published, figures_dir) if n != NAME]
    files = {name: who for name, who in read(figures_dir).items() if who != maker}
    files.update(dict.fromkeys(names, maker))
    return render(files)


locked = _locked


def record(figures_dir, maker, published):
    """Record that ``maker`` (an executed notebook's stem, or ``report``) just
    published ``published`` (paths under ``figures_dir``): its previous entries
    are replaced by these. The manifest itself is never an entry. Returns the
    manifest's path."""
    names = [n for n in relative_names(published, figures_dir) if n != NAME]
    with _locked(figures_dir):
        files = {name: who for name, who in read(figures_dir).items() if who != maker}
        files.update(dict.fromkeys(names, maker))
        return write(figures_dir, files)
