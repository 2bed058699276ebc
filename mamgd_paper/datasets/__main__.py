"""``python -m mamgd_paper.datasets fetch``: verify, and download if missing, the dataset files.

Command line (``make data`` runs it)::

    python -m mamgd_paper.datasets fetch [NAME ...] [--data-dir DIR]
                                   [--origin-base URL] [--no-download]

prints one line per file (``ok``, ``downloaded``, ``unavailable: <reason>`` or
``CHECKSUM FAILED: <reason>``). The exit code is 1 only when a checksum fails;
an unavailable file (e.g. ``imdb.npz`` offline) is reported and exits 0, since
the experiments that need it are skipped with a note.
"""

from __future__ import annotations

import argparse
import sys

from mamgd_paper.datasets.files import (DATA_DIR_ENV, KERAS_ORIGIN_BASE, NAMES, ORIGIN_ENV,
                                        REGISTRY, ChecksumError, DatasetUnavailableError,
                                        fetch, resolve_data_dir)


def main(argv=None):
    """``python -m mamgd_paper.datasets fetch [NAME ...]``: see the module docstring."""
    parser = argparse.ArgumentParser(
        prog="python -m mamgd_paper.datasets",
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
