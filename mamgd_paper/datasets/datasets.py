"""Offline-first, checksum-verified loaders for the Keras datasets the paper uses.

``load(name)`` returns exactly what ``keras.datasets.<name>.load_data(**kwargs)``
returns (same shuffling, ``num_words``, ``skip_top``, ``maxlen``, ``seed``,
``test_split``, ...), but reads the file from a local data directory and checks
it before anything is loaded:

* The directory is, in order: the ``data_dir`` argument, the environment
  variable ``MAMGD_DATA_DIR``, or the project's ``data/`` folder.
* Every file is verified against Keras's published sha256 (see ``REGISTRY``).
  ``mnist.npz`` may also be a re-pack of the same arrays (different zip bytes);
  it is then accepted when the sha256 of every array's bytes matches.
  A file that fails is never loaded: :class:`ChecksumError`.
* A missing file is downloaded into the directory from Keras's bucket (or from
  ``origin_base`` / ``MAMGD_DATA_ORIGIN``, which may be a ``file://`` folder),
  through a temporary file that is verified before it is renamed into place, so
  no partial or corrupted file is ever left behind. When that fails (offline,
  404, unwritable directory) :class:`DatasetUnavailableError` says which file
  is needed, its sha256, where to put it and where it comes from.

How Keras is reused: in Keras 3 ``load_data(path=...)`` no longer accepts a
directory in ``path`` ("Paths are no longer accepted as the `fname`
argument") and always looks in ``~/.keras/datasets``. So for imdb, reuters and
boston_housing we call a copy of Keras's own ``load_data`` function whose only
difference is that its ``get_file`` returns our verified file (and refuses if
Keras asks for a different hash than our registry holds). All the
preprocessing is Keras's code, unchanged. MNIST has no preprocessing; its four
arrays are read with NumPy exactly as Keras does.

Command line (``make data`` runs it)::

    python -m mamgd_paper.datasets.datasets fetch [NAME ...] [--data-dir DIR]
                                   [--origin-base URL] [--no-download]

prints one line per file (``ok``, ``downloaded``, ``unavailable: <reason>`` or
``CHECKSUM FAILED: <reason>``). The exit code is 1 only when a checksum fails;
an unavailable file (e.g. ``imdb.npz`` offline) is reported and exits 0, since
the experiments that need it are skipped with a note.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import importlib
import os
import sys
import tempfile
import types
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mamgd_paper.core import paths

#: Where Keras downloads its dataset files from.
KERAS_ORIGIN_BASE = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
#: Environment variables: the data directory, and an alternative download origin.
DATA_DIR_ENV = "MAMGD_DATA_DIR"
ORIGIN_ENV = "MAMGD_DATA_ORIGIN"
#: The project's own data folder, used when neither argument nor variable is set.
DEFAULT_DATA_DIR = paths.DATA
#: Seconds a download may stall before it is given up.
DOWNLOAD_TIMEOUT = 60


@dataclass(frozen=True)
class ArrayDigest:
    """sha256 of ``arr.tobytes()`` (C order) for one array of an ``.npz``."""

    key: str
    dtype: str
    shape: tuple
    sha256: str


@dataclass(frozen=True)
class DatasetFile:
    """One Keras dataset file: its name, origin and the hashes that accept it."""

    name: str  # dataset name, as in keras.datasets.<name>
    fname: str  # file name, in the data directory and at the origin
    origin: str  # Keras's download URL
    sha256: str  # sha256 of the file as Keras publishes it (keras/src/datasets)
    arrays: tuple = ()  # ArrayDigests that also accept a re-packed file

    def url(self, origin_base=None):
        """Download URL: ``origin_base`` (or ``$MAMGD_DATA_ORIGIN``) + file name,
        else Keras's origin."""
        base = origin_base or os.environ.get(ORIGIN_ENV)
        return base.rstrip("/") + "/" + self.fname if base else self.origin


def _entry(name, fname, sha256, arrays=()):
    return DatasetFile(name, fname, KERAS_ORIGIN_BASE + fname, sha256, arrays)


#: The files, with the hashes from Keras 3's keras/src/datasets/*.py and, for
#: MNIST, the per-array digests of the official arrays (the arrays Keras's own
#: mnist.npz holds; docs/protocol.md, section 6).
REGISTRY = {
    entry.name: entry
    for entry in (
        _entry(
            "mnist",
            "mnist.npz",
            "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",
            (
                ArrayDigest(
                    "x_train", "uint8", (60000, 28, 28),
                    "741c988805d008ac6e4c904b69001ba184c24b2c540a4ef403f4c71b676cf757",
                ),
                ArrayDigest(
                    "y_train", "uint8", (60000,),
                    "1feba77c54802fa5339a11837ea4b2866434b83314ec45192930f1df69120c13",
                ),
                ArrayDigest(
                    "x_test", "uint8", (10000, 28, 28),
                    "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161",
                ),
                ArrayDigest(
                    "y_test", "uint8", (10000,),
                    "ddeff807876a9661a1110d45c266c86239a3a1b7d37da0c3716a7a683c852ff5",
                ),
            ),
        ),
        _entry("imdb", "imdb.npz",
               "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f"),
        _entry("reuters", "reuters.npz",
               "d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916"),
        _entry("boston_housing", "boston_housing.npz",
               "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5"),
    )
}
NAMES = tuple(REGISTRY)


class ChecksumError(ValueError):
    """A dataset file does not match its published checksum; it was not loaded."""

    def __init__(self, message, path=None, expected=None, actual=None):
        super().__init__(message)
        self.path, self.expected, self.actual = path, expected, actual


class DatasetUnavailableError(FileNotFoundError):
    """A dataset file is missing locally and could not be downloaded."""

    def __init__(self, message, path=None, url=None):
        super().__init__(message)
        self.path, self.url = path, url


# --------------------------------------------------------------------------
# Locating and verifying files


def resolve_data_dir(data_dir=None):
    """The data directory: ``data_dir``, else ``$MAMGD_DATA_DIR``, else ``data/``."""
    if data_dir is not None:
        return Path(data_dir).expanduser().resolve()
    if os.environ.get(DATA_DIR_ENV):
        return Path(os.environ[DATA_DIR_ENV]).expanduser().resolve()
    return DEFAULT_DATA_DIR


def _registry_entry(name):
    try:
        return REGISTRY[name]
    except KeyError:
        raise ValueError(
            f"Unknown dataset {name!r}; choose one of {', '.join(NAMES)}."
        ) from None


def sha256_file(path):
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _read_arrays(path, keys):
    """The named arrays of an ``.npz``, without pickles (as Keras reads MNIST)."""
    with np.load(path, allow_pickle=False) as f:
        return {key: f[key] for key in keys}


def _array_mismatch(entry, path):
    """Check a re-packed file array by array. Returns ``(arrays, None)`` when all
    digests match, else ``(None, reason)``."""
    try:
        arrays = _read_arrays(path, [a.key for a in entry.arrays])
    except Exception as exc:  # not a readable npz: zip/zlib/format/key errors
        return None, f"the arrays cannot be read ({type(exc).__name__}: {exc})"
    for want in entry.arrays:
        arr = arrays[want.key]
        got = hashlib.sha256(arr.tobytes()).hexdigest()
        if (str(arr.dtype), arr.shape, got) != (want.dtype, want.shape, want.sha256):
            return None, (
                f"array {want.key} is {arr.dtype} {arr.shape} with sha256 {got}, "
                f"expected {want.dtype} {want.shape} with sha256 {want.sha256}"
            )
    return arrays, None


def _verify(entry, path, origin_note="", label=None):
    """Raise :class:`ChecksumError` unless ``path`` is a good copy of ``entry``.

    ``label`` names the file in the message (default: its path);
    ``origin_note`` replaces the default advice on how to fix it.

    Returns the arrays when checking them required loading them (a re-packed
    MNIST), else ``None``.
    """
    actual = sha256_file(path)
    if actual == entry.sha256:
        return None
    expected = f"sha256 {entry.sha256}"
    detail = ""
    if entry.arrays:
        arrays, detail = _array_mismatch(entry, path)
        if arrays is not None:
            return arrays
        expected += " (Keras's file) or a re-pack with the official array digests"
        detail = f" ({detail})"
    fix = origin_note or (
        f"Delete it and run `make data` again (or `python -m mamgd_paper.datasets.datasets fetch "
        f"{entry.name}`), or put a good copy of {entry.fname} there (from "
        f"{entry.origin})."
    )
    raise ChecksumError(
        f"Checksum failed for {label or path}: expected {expected}, got sha256 "
        f"{actual}{detail}. The file is corrupted, truncated or not the right file; it "
        f"was not loaded. {fix}",
        path=label or str(path), expected=entry.sha256, actual=actual,
    )


def _reason(exc):
    return str(exc) or type(exc).__name__


def _unavailable(entry, directory, url, reason):
    target = directory / entry.fname
    official = "" if url == entry.origin else f" (Keras's origin: {entry.origin})"
    return DatasetUnavailableError(
        f"Dataset file {entry.fname} (sha256 {entry.sha256}) is not in {directory} "
        f"and could not be downloaded from {url}{official}: {reason}. Put a "
        f"verified copy at {target}, or set {DATA_DIR_ENV} to a folder that holds "
        f"it, or run `make data` on a machine with internet access.",
        path=str(target), url=url,
    )


def _download(entry, directory, origin_base=None):
    """Download ``entry`` into ``directory`` through a verified temporary file.

    Raises :class:`DatasetUnavailableError` when it cannot be fetched or written
    and :class:`ChecksumError` when what arrived is not the right file; in every
    failure nothing is left in ``directory``.
    """
    url = entry.url(origin_base)
    target = directory / entry.fname
    failure = (OSError, http.client.HTTPException)  # URLError is an OSError
    try:  # connect first: an offline attempt never touches the directory
        response = urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT)
    except failure as exc:
        raise _unavailable(entry, directory, url, _reason(exc)) from exc
    with response:
        try:
            directory.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(
                dir=directory, prefix=f".{entry.fname}.", suffix=".part"
            )
        except OSError as exc:
            reason = f"cannot write there ({exc})"
            raise _unavailable(entry, directory, url, reason) from exc
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := response.read(1 << 20):
                    out.write(chunk)
            _verify(entry, tmp, label=f"{entry.fname} downloaded from {url}",
                    origin_note=(
                        f"That is what {url} served; nothing was saved to {target}. "
                        f"Check the origin ({ORIGIN_ENV} / origin_base) or put a "
                        f"good copy at {target}."
                    ))
            tmp.chmod(0o644)  # mkstemp makes it private; a dataset is not
            os.replace(tmp, target)
        except failure as exc:
            raise _unavailable(entry, directory, url, _reason(exc)) from exc
        finally:
            tmp.unlink(missing_ok=True)
    return target


def _ensure(entry, data_dir=None, origin_base=None, download=True):
    """The verified local file for ``entry`` (downloading it if missing), plus
    any arrays verification already loaded."""
    directory = resolve_data_dir(data_dir)
    path = directory / entry.fname
    if not path.exists():
        if not download:
            raise _unavailable(entry, directory, entry.url(origin_base),
                               "downloading was disabled")
        _download(entry, directory, origin_base)
    return path, _verify(entry, path)


# --------------------------------------------------------------------------
# Public API


def fetch(name, data_dir=None, *, origin_base=None, download=True):
    """Make sure ``name``'s file is in the data directory and verified.

    Downloads it if missing (unless ``download=False``) and returns its path.
    Raises :class:`ChecksumError` or :class:`DatasetUnavailableError`.
    """
    return _ensure(_registry_entry(name), data_dir, origin_base, download)[0]


def is_available(name, data_dir=None):
    """True when ``name``'s file is present and verified. Never downloads.

    For notebooks: ``if not is_available("imdb"): print("Table 9 not run: ...")``.
    """
    entry = _registry_entry(name)
    path = resolve_data_dir(data_dir) / entry.fname
    if not path.is_file():
        return False
    try:
        _verify(entry, path)
    except ChecksumError:
        return False
    return True


def load(name, data_dir=None, *, origin_base=None, download=True, **kwargs):
    """Load a dataset exactly as ``keras.datasets.<name>.load_data(**kwargs)``.

    Args:
        name: ``"mnist"``, ``"imdb"``, ``"reuters"`` or ``"boston_housing"``.
        data_dir: folder holding the files (default: ``$MAMGD_DATA_DIR`` or the
            project's ``data/``).
        origin_base: where to download a missing file from (default:
            ``$MAMGD_DATA_ORIGIN`` or Keras's bucket).
        download: set ``False`` to fail instead of downloading.
        **kwargs: Keras's ``load_data`` options (``num_words``, ``seed``,
            ``test_split``, ``maxlen``, ...); ``path`` is not accepted, use
            ``data_dir``.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``, as Keras returns them.
    """
    entry = _registry_entry(name)
    if "path" in kwargs:
        raise TypeError("load() takes data_dir=<folder>, not Keras's path=.")
    if name == "mnist" and kwargs:
        raise TypeError(f"mnist takes no options, got {sorted(kwargs)}.")
    path, arrays = _ensure(entry, data_dir, origin_base, download)
    if name == "mnist":
        keys = ("x_train", "y_train", "x_test", "y_test")
        a = arrays if arrays is not None else _read_arrays(path, keys)
        return (a["x_train"], a["y_train"]), (a["x_test"], a["y_test"])
    return _keras_load_data(entry, path)(**kwargs)


def _keras_load_data(entry, path):
    """Keras's own ``load_data`` for ``entry``, reading the verified ``path``.

    A copy of the function object whose globals differ only in ``get_file``, so
    nothing global is patched and Keras's preprocessing runs unchanged.
    """
    original = importlib.import_module(f"keras.datasets.{entry.name}").load_data

    def get_file(fname=None, origin=None, untar=False, md5_hash=None,
                 file_hash=None, **unused):
        if (fname, file_hash) != (entry.fname, entry.sha256):
            raise RuntimeError(
                f"Keras asked for {fname} with hash {file_hash}, but the mamgd "
                f"registry has {entry.fname} with sha256 {entry.sha256}; update "
                "mamgd_paper.datasets.datasets.REGISTRY for this Keras version."
            )
        return str(path)

    clone = types.FunctionType(
        original.__code__,
        {**original.__globals__, "get_file": get_file},
        original.__name__,
        original.__defaults__,
        original.__closure__,
    )
    clone.__kwdefaults__ = original.__kwdefaults__
    return clone


# --------------------------------------------------------------------------
# Command line


def main(argv=None):
    """``python -m mamgd_paper.datasets.datasets fetch [NAME ...]``: see the module docstring."""
    parser = argparse.ArgumentParser(
        prog="python -m mamgd_paper.datasets.datasets",
        description="Verify (and download if missing) the Keras dataset files.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("fetch", help="verify/download dataset files")
    p.add_argument("names", nargs="*", metavar="NAME",
                   help=f"datasets (default: all of {', '.join(NAMES)})")
    p.add_argument("--data-dir", help=f"target folder (default: ${DATA_DIR_ENV} "
                   "or the project's data/)")
    p.add_argument("--origin-base", help=f"download from here (default: "
                   f"${ORIGIN_ENV} or {KERAS_ORIGIN_BASE}); file:// works")
    p.add_argument("--no-download", action="store_true",
                   help="only verify what is there")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(NAMES))
    if unknown:
        parser.error(f"unknown dataset(s) {', '.join(unknown)}; choose from "
                     f"{', '.join(NAMES)}")

    directory = resolve_data_dir(args.data_dir)
    print(f"data directory: {directory}")
    failed = False
    for name in args.names or NAMES:
        entry = REGISTRY[name]
        present = (directory / entry.fname).exists()
        try:
            fetch(name, directory, origin_base=args.origin_base,
                  download=not args.no_download)
        except ChecksumError as exc:
            failed = True
            print(f"{entry.fname:20s} CHECKSUM FAILED: {exc}")
        except DatasetUnavailableError as exc:
            print(f"{entry.fname:20s} unavailable: {exc}")
        else:
            print(f"{entry.fname:20s} {'ok' if present else 'downloaded'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
