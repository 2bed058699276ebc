"""Progress of long cells, visible wherever the notebook runs.

:func:`track` wraps the loop of a long cell (seeds x optimizers of a network
notebook, the studies of the k search)::

    for task in track(tasks, "k search", total=len(tasks)):
        ...

- In Jupyter or a terminal it is a plain :mod:`tqdm` bar (``tqdm.auto``).
- Under the Makefile's runner (:mod:`mamgd_paper.runner`), which sets
  :data:`CHANNEL` to a file, it writes one JSON event per step to that file
  instead; the runner follows the file and shows a tqdm bar when its own
  output is a terminal and one plain line per step otherwise (CI, logs). The
  executed notebook itself gets no progress output, so it stays byte-stable.
"""

import json
import os
import time

#: Environment variable naming the file the runner follows.
CHANNEL = "MAMGD_PROGRESS_FILE"


def track(iterable, description, total=None):
    """Yield the items of ``iterable`` and report each finished step."""
    if total is None and hasattr(iterable, "__len__"):
        total = len(iterable)
    channel = os.environ.get(CHANNEL)
    if not channel:
        from tqdm.auto import tqdm

        yield from tqdm(iterable, desc=description, total=total)
        return
    _emit(channel, description, 0, total)
    done = 0
    for item in iterable:
        yield item
        done += 1
        _emit(channel, description, done, total)


def _emit(channel, description, done, total):
    event = {"description": description, "done": done, "total": total,
             "time": time.monotonic()}
    with open(channel, "a", encoding="utf-8") as stream:
        stream.write(json.dumps(event) + "\n")
