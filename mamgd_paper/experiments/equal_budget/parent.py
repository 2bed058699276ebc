"""The lifeline of a worker process: stop when the process that started it is gone.

:func:`mamgd_paper.experiments.equal_budget.workers.run` starts its workers
with ``--parent PID``; the CLI calls :func:`watch` with it, and the long loops
(trials, items, re-runs) call :func:`check` between steps, so a killed
notebook leaves no workers behind. In any other process :func:`check` does
nothing.
"""

from __future__ import annotations

import os

_parent_pid = None


def watch(pid):
    """From now on, :func:`check` stops this process when ``pid`` is no longer its parent
    (``None``: never)."""
    global _parent_pid
    _parent_pid = pid


def check():
    """Raise ``SystemExit`` when the watched parent is gone (the item is queued again
    by the next run)."""
    if _parent_pid is not None and os.getppid() != _parent_pid:
        raise SystemExit(f"worker {os.getpid()}: the process that started it is gone; "
                         "stopping (the item is queued again by the next run)")
