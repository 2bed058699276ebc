"""``python -m mamgd_paper.audit``: write the comparison and REPORT.md (``make report``).

::

    python -m mamgd_paper.audit --figures-dir figures [--executed-dir notebooks/executed]
        [--data-dir DIR]

reads the artefacts the notebooks wrote and writes the files listed in
:mod:`mamgd_paper.audit.render`; exits 1 (with the reason) when an input table
contradicts itself or the published numbers.
"""

import argparse
import sys

from mamgd_paper.audit.compare import InconsistentInput
from mamgd_paper.audit.render import COMMAND, write_report
from mamgd_paper.paper.published import VERDICTS


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog=COMMAND,
        description="Write figures/tables/paper_vs_reproduced.csv and figures/REPORT.md.")
    parser.add_argument("--figures-dir", default="figures")
    parser.add_argument("--executed-dir", default=None,
                        help="executed notebooks (default: notebooks/executed for the "
                             "project's figures/, else <figures-dir>/../notebooks)")
    parser.add_argument("--data-dir", default=None,
                        help="dataset folder (default: $MAMGD_DATA_DIR or data/)")
    args = parser.parse_args(argv)
    try:
        result = write_report(args.figures_dir, args.executed_dir, args.data_dir)
    except InconsistentInput as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    total = result["counts"].iloc[-1]
    print(f"report: {int(total['cells'])} published numbers: " + ", ".join(
        f"{int(total[v])} {v}" for v in VERDICTS) + f"; wrote {result['paths']['report']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
