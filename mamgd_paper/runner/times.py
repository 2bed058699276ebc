"""Each notebook's wall time, as the runner measured it (``build/run-times``, never committed).

:func:`record_run_time` writes one JSON file per notebook after a successful
run; :func:`print_run_times` lists them (``python -m mamgd_paper.runner times``,
``make run-times``). Standard library only.
"""

import json
import sys
from pathlib import Path

from mamgd_paper.core.atomic import write_text
from mamgd_paper.core.storage_url import mask
from mamgd_paper.core.paths import ROOT

#: Where the runner records each notebook's wall time (never committed).
RUN_TIMES = ROOT / "build" / "run-times"


def record_run_time(name, seconds, parameters, folder=RUN_TIMES):
    """Write ``folder/<name>.json``: the notebook, its wall time and parameters
    (a URL's password masked)."""
    shown = {k: mask(v) if isinstance(v, str) else v for k, v in (parameters or {}).items()}
    return write_text(Path(folder) / f"{name}.json",
                      json.dumps({"notebook": name, "seconds": round(seconds, 1),
                                  "parameters": shown}) + "\n")


def print_run_times(folder=RUN_TIMES, stream=None):
    """Print the wall time of every notebook the runner recorded in ``folder``."""
    stream = stream or sys.stdout
    rows = []
    for path in sorted(Path(folder).glob("*.json")):
        rows.append(json.loads(path.read_text(encoding="utf-8")))
    if not rows:
        print(f"No run times recorded in {folder}.", file=stream)
        return rows
    width = max(len(row["notebook"]) for row in rows)
    for row in rows:
        print(f"  {row['notebook']:<{width}}  {row['seconds']:7.0f} s", file=stream)
    print(f"  {'total notebook time':<{width}}  {sum(r['seconds'] for r in rows):7.0f} s",
          file=stream)
    return rows
