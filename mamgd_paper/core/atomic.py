"""Writing a file atomically: the one atomic writer of the pipeline (standard library only).

Every output goes first to a temporary file in the destination folder and is
then moved into place with :func:`os.replace`, so a reader (or a crashed run)
never sees a half-written file. This module imports nothing beyond the
standard library, so the Makefile's dependency scanner
(:mod:`mamgd_paper.runner.deps`, run by the system ``python3`` before the
virtual environment exists) writes with it too; :mod:`mamgd_paper.core.artifacts`
re-exports it for the table and figure writers.
"""

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

__all__ = ["atomic_path", "write_text", "copy_file"]


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path next to ``path``; move it onto ``path`` on success.

    The temporary file gets the permissions a newly created file would get
    (``0o666`` less the umask). On an exception the temporary file is removed
    and ``path`` is untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        os.chmod(tmp, 0o666 & ~_umask())
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_text(path, text):
    """Write ``text`` to ``path`` atomically (UTF-8, ``\\n`` line ends)."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8", newline="\n")
    return Path(path)


def copy_file(source, target):
    """Copy the contents of ``source`` onto ``target`` atomically; return ``target``."""
    with atomic_path(target) as tmp:
        shutil.copyfile(source, tmp)
    return Path(target)
