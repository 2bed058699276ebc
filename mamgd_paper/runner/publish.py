"""Publishing a notebook's outputs all-or-nothing (standard library only).

A notebook publishes many files: figures and tables under the figures
folder, the figure manifest, the executed notebook and its record (the
hash of its inputs and of every file, :mod:`mamgd_paper.runner.inputs`).
:func:`publish` makes them appear together:

1. **prepare**: every new file is copied next to its target under a hidden
   name (``.<name>.<notebook>.publishing``, on the target's file system;
   ``make verify`` and git ignore it). An interrupt here removes the copies:
   all the old files stay.
2. **commit**: the journal ``<records>/.<notebook>.publishing.json`` lists
   every (copy, target) pair, the record last; written atomically, it is the
   point after which the new outputs are published.
3. **move**: each copy is renamed onto its target (:func:`os.replace`), the
   notebook's record last; then the journal is deleted.

SIGINT and SIGTERM are held from the commit to the end of the moves (a few
milliseconds) and acted on afterwards, so an interrupt at any instant leaves
all the old files or all the new ones. A process killed outright (SIGKILL, a
crash) after the commit leaves the journal: :func:`recover` (the runner calls
it before every run, under the same lock) finishes the moves; copies without a
journal are deleted. :func:`pending` lists unfinished journals (``make verify``
names them).
"""

import contextlib
import json
import os
import shutil
import signal
import threading
from pathlib import Path

from mamgd_paper.core.atomic import write_text

#: Suffix of a prepared copy, and of a journal (with ``.json``).
SUFFIX = ".publishing"
JOURNAL = ".{name}" + SUFFIX + ".json"


def _step(kind, path):
    """Called at every file boundary of :func:`publish` (``kind``: ``prepare``,
    ``commit``, ``move``, ``done``). Does nothing; tests replace it to
    interrupt publishing there."""


def journal_path(records, name):
    return Path(records) / JOURNAL.format(name=name)


def _copy_name(target, name):
    target = Path(target)
    return target.parent / f".{target.name}.{name}{SUFFIX}"


@contextlib.contextmanager
def held_signals():
    """Hold SIGINT and SIGTERM while the block runs, then act on the first
    that came (by the handler that was installed). Only in the main thread
    (elsewhere, the block just runs)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received = []
    previous = {}

    def hold(signum, frame):
        received.append((signum, frame))

    for signum in (signal.SIGINT, signal.SIGTERM):
        previous[signum] = signal.signal(signum, hold)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if received:
            signum, frame = received[0]
            handler = previous[signum]
            if callable(handler):
                handler(signum, frame)
            elif handler == signal.SIG_DFL:
                if signum == signal.SIGINT:
                    raise KeyboardInterrupt
                signal.raise_signal(signum)


def _move(pairs):
    for copy, target in pairs:
        copy, target = Path(copy), Path(target)
        if copy.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(copy, target)
        _step("move", target)


def publish(name, files, records, record_text, done=None):
    """Publish ``files`` (``[(new_file, target)]``) and then notebook ``name``'s
    record (``record_text``, written to ``<records>/<name>.json``) all-or-nothing
    (see the module doc). Returns the targets, the record last; ``done`` (a
    list), when given, receives them as soon as they are published, before a
    held interrupt is acted on."""
    records = Path(records)
    records.mkdir(parents=True, exist_ok=True)
    record = records / f"{name}.json"
    pairs = []
    try:
        for source, target in files:
            copy = _copy_name(target, name)
            Path(target).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, copy)
            pairs.append((copy, Path(target)))
            _step("prepare", target)
        copy = _copy_name(record, name)
        write_text(copy, record_text)
        pairs.append((copy, record))
        _step("prepare", record)
    except BaseException:
        for copy, _ in pairs:
            with contextlib.suppress(OSError):
                os.unlink(copy)
        with contextlib.suppress(OSError):
            os.unlink(_copy_name(record, name))
        raise
    journal = journal_path(records, name)
    with held_signals():
        write_text(journal, json.dumps({"notebook": name, "moves": [
            [str(copy), str(target)] for copy, target in pairs]}, indent=1) + "\n")
        _step("commit", journal)
        _move(pairs)
        os.unlink(journal)
        _step("done", journal)
        if done is not None:
            done.extend(target for _, target in pairs)
    return [target for _, target in pairs]


def pending(records):
    """The notebooks whose publishing was cut off after its commit (their
    journals in ``records``)."""
    folder = Path(records)
    if not folder.is_dir():
        return []
    return sorted(p.name[1:-len(SUFFIX + ".json")]
                  for p in folder.glob(JOURNAL.format(name="*")))


def recover(records, folders=()):
    """Finish every publishing of ``records`` cut off after its commit, and
    delete the prepared copies (under ``folders`` and ``records``) that no
    journal lists. Returns the notebooks whose publishing was finished."""
    records = Path(records)
    finished = []
    listed = set()
    for name in pending(records):
        journal = journal_path(records, name)
        try:
            moves = json.loads(journal.read_text(encoding="utf-8"))["moves"]
        except (OSError, ValueError, KeyError):
            moves = None
        if moves is not None:
            with held_signals():
                _move(moves)
                journal.unlink()
            finished.append(name)
        else:  # the journal itself was never completed: nothing was committed
            journal.unlink()
        listed |= {str(Path(copy)) for copy, _ in (moves or [])}
    for folder in (*folders, records):
        if not Path(folder).is_dir():
            continue
        for copy in Path(folder).rglob(f".*{SUFFIX}"):
            if str(copy) not in listed and copy.is_file():
                with contextlib.suppress(OSError):
                    copy.unlink()
    return finished
