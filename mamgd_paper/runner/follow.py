"""Showing a running notebook's progress on the runner's terminal.

The kernel reports each finished step of a long cell to a file
(:mod:`mamgd_paper.core.progress`); :func:`progress_shown` names that file in
the environment the kernel inherits and follows it while the notebook runs: a
tqdm bar per loop on a terminal, else one plain line per finished step (CI,
log files). Standard library only (tqdm is imported when a terminal shows it).
"""

import contextlib
import json
import os
import sys
import threading
from pathlib import Path

from mamgd_paper.core import progress


@contextlib.contextmanager
def progress_shown(channel, name, stream=None):
    """Let the kernel report progress to ``channel`` (:mod:`mamgd_paper.core.progress`)
    and show it on ``stream`` (standard error) while the block runs."""
    stream = stream or sys.stderr
    channel = Path(channel)
    channel.touch()
    previous = os.environ.get(progress.CHANNEL)
    os.environ[progress.CHANNEL] = str(channel)  # inherited by the kernel
    follower = ProgressFollower(channel, name, stream)
    follower.start()
    try:
        yield
    finally:
        follower.stop()
        if previous is None:
            os.environ.pop(progress.CHANNEL, None)
        else:
            os.environ[progress.CHANNEL] = previous


class ProgressFollower(threading.Thread):
    """Follows a progress file: a tqdm bar per loop on a terminal, else one
    plain line per finished step (CI and log files)."""

    def __init__(self, path, name, stream, interval=0.5):
        super().__init__(daemon=True)
        self.path, self.name, self.stream, self.interval = path, name, stream, interval
        self.terminal = hasattr(stream, "isatty") and stream.isatty()
        self.bars = {}
        self._stopped = threading.Event()
        self._offset = 0

    def run(self):
        while not self._stopped.wait(self.interval):
            self._read()
        self._read()
        for bar in self.bars.values():
            bar.close()

    def stop(self):
        self._stopped.set()
        self.join()

    def _read(self):
        try:
            with open(self.path, encoding="utf-8") as stream:
                stream.seek(self._offset)
                lines = stream.readlines()
                # keep a half-written last line for the next read
                if lines and not lines[-1].endswith("\n"):
                    lines.pop()
                self._offset += sum(len(line.encode("utf-8")) for line in lines)
        except OSError:
            return
        for line in lines:
            try:
                self._show(json.loads(line))
            except ValueError:
                continue

    def _show(self, event):
        description, done, total = event["description"], event["done"], event["total"]
        if self.terminal:
            from tqdm import tqdm

            bar = self.bars.get(description)
            if bar is None or done == 0:
                if bar is not None:
                    bar.close()
                bar = self.bars[description] = tqdm(
                    total=total, desc=f"{self.name}: {description}", file=self.stream,
                    dynamic_ncols=True, leave=True)
            bar.update(done - bar.n)
            if total is not None and done >= total:
                bar.close()
                del self.bars[description]
        elif done:
            count = f"{done}/{total}" if total else f"{done}"
            print(f"{self.name}: {description} {count}", file=self.stream, flush=True)
