"""The dataset files: which ones, their hashes, and how they are fetched and verified.

:data:`REGISTRY` names every Keras dataset file the paper uses with the sha256
Keras publishes for it (and, for MNIST, the digests of its four arrays).
:func:`fetch` makes sure a file is in the data directory and verified:

* The directory is, in order: the ``data_dir`` argument, the environment
  variable ``MAMGD_DATA_DIR``, or the project's ``data/`` folder.
* A file that is there is checked by this module (never by pooch, see
  below): its sha256 must be Keras's, or, for ``mnist.npz``, the file may be
  a re-pack of the same arrays (other zip bytes), accepted when the sha256 of
  every array's bytes matches. A file that fails is never loaded, never
  replaced: :class:`ChecksumError`.
* A missing file is downloaded with :func:`pooch.retrieve` from Keras's bucket
  (or from ``origin_base`` / ``MAMGD_DATA_ORIGIN``, which may be a
  ``file://`` folder) into a temporary file in the directory; it is verified
  before pooch moves it into place, so no partial or corrupted file is ever
  left behind. When that fails (offline, 404, unwritable directory)
  :class:`DatasetUnavailableError` says which file is needed, its sha256,
  where to put it and where it comes from.

What pooch does and does not do here: pooch downloads (HTTP with a timeout),
writes through a temporary file and checks the sha256 of files that have a
single accepted hash. It is not asked about files already present, because
:func:`pooch.retrieve` replaces a local file whose hash differs by a fresh
download: that would silently overwrite a corrupted file the user should
see, reject the accepted re-pack of MNIST, and write into a read-only folder
such as a shared ``$MAMGD_DATA_DIR``. Pooch has no ``file://`` downloader,
so a local origin is copied by :func:`_transfer`; and pooch cannot accept
a file by the digests of the arrays inside it, so this module's check runs
on the temporary file of every download.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pooch

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


def registry_entry(name):
    """The :class:`DatasetFile` of ``name``; a clear ``ValueError`` if unknown."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise ValueError(
            f"Unknown dataset {name!r}; choose one of {', '.join(NAMES)}."
        ) from None


def sha256_file(path):
    """Hex sha256 of a file (:func:`pooch.file_hash`, read in chunks)."""
    return pooch.file_hash(str(path), alg="sha256")


def read_arrays(path, keys):
    """The named arrays of an ``.npz``, without pickles (as Keras reads MNIST)."""
    with np.load(path, allow_pickle=False) as f:
        return {key: f[key] for key in keys}


def _array_mismatch(entry, path):
    """Check a re-packed file array by array. Returns ``(arrays, None)`` when all
    digests match, else ``(None, reason)``."""
    try:
        arrays = read_arrays(path, [a.key for a in entry.arrays])
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


def verify(entry, path, origin_note="", label=None):
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
        f"Delete it and run `make data` again (or `python -m mamgd_paper.datasets fetch "
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


def display_dir(directory):
    """``directory`` as a message names it: ``$MAMGD_DATA_DIR`` when it is that
    variable's folder, ``data/`` for the project's own, else the path as given.

    Messages end up in executed notebooks and logs; naming the folder by the
    variable keeps the machine's paths out of them."""
    directory = Path(directory)
    if os.environ.get(DATA_DIR_ENV) and directory == resolve_data_dir():
        return f"${DATA_DIR_ENV}"
    if directory == DEFAULT_DATA_DIR:
        return "data/"
    return str(directory)


def _unavailable(entry, directory, url, reason):
    folder = display_dir(directory)
    official = "" if url == entry.origin else f" (Keras's origin: {entry.origin})"
    return DatasetUnavailableError(
        f"Dataset file {entry.fname} (sha256 {entry.sha256}) is not in {folder} "
        f"and could not be downloaded from {url}{official}: {reason}. Put a "
        f"verified copy at {folder.rstrip('/')}/{entry.fname}, or set {DATA_DIR_ENV} "
        f"to a folder that holds it, or run `make data` on a machine with internet access.",
        path=str(directory / entry.fname), url=url,
    )


def _transfer(url, output_file):
    """Copy ``url`` into ``output_file``: pooch's HTTP downloader, or a plain
    copy for a ``file://`` origin (pooch has no downloader for those)."""
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme == "file":
        shutil.copyfile(urllib.request.url2pathname(parsed.path), output_file)
    else:
        pooch.HTTPDownloader(timeout=DOWNLOAD_TIMEOUT)(url, output_file, None)


def _download(entry, directory, origin_base=None):
    """Download ``entry`` into ``directory`` with :func:`pooch.retrieve`.

    Pooch writes to a temporary file in ``directory``; this module's check
    (:func:`verify`) runs on it before pooch moves it into place, and pooch
    checks the sha256 again for files with a single accepted hash. Raises
    :class:`DatasetUnavailableError` when the file cannot be fetched or
    written and :class:`ChecksumError` when what arrived is not the right
    file; in every failure no file is left in ``directory``.
    """
    url = entry.url(origin_base)
    target = directory / entry.fname

    def downloader(url, output_file, _pooch):
        _transfer(url, output_file)
        verify(entry, output_file, label=f"{entry.fname} downloaded from {url}",
               origin_note=(
                   f"That is what {url} served; nothing was saved to {target}. "
                   f"Check the origin ({ORIGIN_ENV} / origin_base) or put a "
                   f"good copy at {target}."
               ))
        os.chmod(output_file, 0o644)  # pooch's temporary file is private; a dataset is not

    # An accepted MNIST re-pack has another file hash: verify() alone decides.
    known_hash = None if entry.arrays else f"sha256:{entry.sha256}"
    logger = pooch.get_logger()
    level = logger.level
    logger.setLevel(logging.WARNING)  # pooch announces every download at INFO
    try:
        pooch.retrieve(url, known_hash, fname=entry.fname, path=directory,
                       downloader=downloader, progressbar=False)
    except PermissionError as exc:
        raise _unavailable(entry, directory, url, f"cannot write there ({exc})") from exc
    except OSError as exc:  # requests' errors are OSErrors too
        raise _unavailable(entry, directory, url, _reason(exc)) from exc
    finally:
        logger.setLevel(level)
    return target


def ensure(entry, data_dir=None, origin_base=None, download=True):
    """``(path, arrays)``: the verified local file for ``entry`` (downloading it
    if missing) and the arrays verification already loaded (a re-packed MNIST),
    else ``None``."""
    directory = resolve_data_dir(data_dir)
    path = directory / entry.fname
    if not path.exists():
        if not download:
            raise _unavailable(entry, directory, entry.url(origin_base),
                               "downloading was disabled")
        _download(entry, directory, origin_base)
    return path, verify(entry, path)


# --------------------------------------------------------------------------
# Fetching


def fetch(name, data_dir=None, *, origin_base=None, download=True):
    """Make sure ``name``'s file is in the data directory and verified.

    Downloads it if missing (unless ``download=False``) and returns its path.
    Raises :class:`ChecksumError` or :class:`DatasetUnavailableError`.
    """
    return ensure(registry_entry(name), data_dir, origin_base, download)[0]


def is_available(name, data_dir=None):
    """True when ``name``'s file is present and verified. Never downloads.

    For notebooks: ``if not is_available("imdb"): print("Table 9 not run: ...")``.
    """
    entry = registry_entry(name)
    path = resolve_data_dir(data_dir) / entry.fname
    if not path.is_file():
        return False
    try:
        verify(entry, path)
    except ChecksumError:
        return False
    return True

