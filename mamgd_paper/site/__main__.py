"""``python -m mamgd_paper.site``: build the static site (``make site``).

::

    python -m mamgd_paper.site --output build/site [--root DIR] [-j N] [--verbose]

See :mod:`mamgd_paper.site.build`. Exits 1 with the reason when the site
cannot be built; the previous site then stays in place.
"""

import argparse
import sys
import time
import warnings
from pathlib import Path

from mamgd_paper.site.build import SiteError, build


def size(path):
    """The bytes of every file under ``path``."""
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file())


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m mamgd_paper.site",
        description="The browsable site: executed notebooks, figure index and report as "
                    "static HTML.")
    parser.add_argument("--output", default="build/site", help="site folder (default build/site)")
    parser.add_argument("--root", default=None, help="repository root (default: this checkout)")
    parser.add_argument("-j", "--jobs", default="1", help="sphinx-build processes (or auto)")
    parser.add_argument("--verbose", action="store_true", help="show sphinx-build's output")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    warnings.simplefilter("default")  # each distinct warning once
    warnings.formatwarning = lambda message, *a, **k: f"warning: {message}\n"
    try:
        output = build(args.output, root=args.root, jobs=args.jobs, quiet=not args.verbose)
    except SiteError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    pages = sum(1 for _ in output.rglob("*.html"))
    print(f"site: {output} ({pages} pages, {size(output) / 1e6:.1f} MB) in "
          f"{time.perf_counter() - start:.0f} s; open {output / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
