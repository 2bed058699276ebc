"""Publishing is all-or-nothing: an interrupt at every file boundary leaves all the
old files or all the new ones (checked with ``make verify``'s comparison).

A notebook's publishing (:func:`mamgd_paper.runner.publish.publish`) is cut at
each of its steps (every prepared copy, the commit, every move, the end):

* by a real SIGINT, sent to this process at that boundary, with the runner's
  handler installed (KeyboardInterrupt): right afterwards the files are all
  old (before the commit) or all new (after it: the interrupt is held);
* by a kill (a forked child leaves with ``os._exit`` there, no clean-up):
  after :func:`~mamgd_paper.runner.publish.recover` (what the next run does
  first) they are all old or all new, and before it ``pending`` names the
  notebook.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from mamgd_paper.audit import verify
from mamgd_paper.runner import publish
from mamgd_paper.runner.__main__ import _terminate_as_interrupt

N = 6


def _tree(tmp_path):
    """An old published state (figures/ and notebooks/executed/ with a
    manifest of it), the new files of a run, and the two manifests."""
    root = tmp_path / "root"
    figures, executed = root / "figures", root / "notebooks" / "executed"
    (figures / "tables").mkdir(parents=True)
    executed.mkdir(parents=True)
    new = tmp_path / "new"
    (new / "tables").mkdir(parents=True)
    pairs = []
    for i in range(N):
        name = f"tables/t{i}.csv" if i % 2 else f"fig{i}.png"
        (figures / name).write_text(f"old {i}\n")
        (new / name).write_text(f"new {i}\n")
        pairs.append((new / name, figures / name))
    (executed / "nb.ipynb").write_text("old notebook\n")
    (new / "nb.ipynb").write_text("new notebook\n")
    pairs.append((new / "nb.ipynb", executed / "nb.ipynb"))
    (new / "brand_new.csv").write_text("a file the old run did not have\n")
    pairs.append((new / "brand_new.csv", figures / "brand_new.csv"))
    verify.write_manifest(root)
    old = (root / verify.MANIFEST).read_text()
    return root, pairs, old


def _state(root, old, pairs):
    """``"old"`` or ``"new"`` when every file is one or the other (verify's
    comparison against each manifest), else the differing files."""
    (root / verify.MANIFEST).write_text(old)
    before = verify.compare(root)
    if not (before["differ"] or before["missing"] or before["new"]):
        return "old"
    expected = {target: source.read_text() for source, target in pairs}
    now = {target: target.read_text() if target.is_file() else None for target in expected}
    if now == expected and not before["missing"]:
        return "new"
    return before


def _boundaries(tmp_path):
    """How many times publishing calls its step hook."""
    root, pairs, _ = _tree(tmp_path / "count")
    calls = []
    original = publish._step
    publish._step = lambda kind, path: calls.append(kind)
    try:
        publish.publish("nb", pairs, root / "notebooks" / "records", "{}\n")
    finally:
        publish._step = original
    return len(calls)


def test_every_boundary_sigint(tmp_path, monkeypatch):
    count = _boundaries(tmp_path)
    assert count >= 2 * (N + 2) + 2  # prepare and move every file, the record, commit, done
    seen = set()
    previous = signal.signal(signal.SIGINT, _terminate_as_interrupt)
    try:
        for cut in range(count):
            root, pairs, old = _tree(tmp_path / f"sigint{cut}")
            calls = []

            def step(kind, path, cut=cut, calls=calls):
                calls.append(kind)
                if len(calls) == cut + 1:
                    os.kill(os.getpid(), signal.SIGINT)

            monkeypatch.setattr(publish, "_step", step)
            done = []
            with pytest.raises(KeyboardInterrupt):
                publish.publish("nb", pairs, root / "notebooks" / "records", "{}\n", done=done)
            state = _state(root, old, pairs)
            assert state in ("old", "new"), (cut, calls[-1], state)
            assert (state == "new") == bool(done), cut  # the stop message's source
            assert publish.pending(root / "notebooks" / "records") == []
            assert not list(root.rglob(f"*{publish.SUFFIX}")), cut
            seen.add(state)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert seen == {"old", "new"}


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_every_boundary_killed_then_recovered(tmp_path):
    count = _boundaries(tmp_path)
    seen = set()
    for cut in range(count):
        root, pairs, old = _tree(tmp_path / f"kill{cut}")
        records = root / "notebooks" / "records"
        pid = os.fork()
        if pid == 0:  # the child dies at boundary `cut`, no clean-up at all
            calls = []

            def step(kind, path):
                calls.append(kind)
                if len(calls) == cut + 1:
                    os._exit(9)

            publish._step = step
            try:
                publish.publish("nb", pairs, records, "{}\n")
            finally:
                os._exit(0)
        _, status = os.waitpid(pid, 0)
        assert os.WEXITSTATUS(status) == 9
        committed = bool(publish.pending(records))
        publish.recover(records, [root / "figures", root / "notebooks" / "executed"])
        state = _state(root, old, pairs)
        assert state in ("old", "new"), (cut, state)
        if committed:
            assert state == "new"
        assert not list(root.rglob(f"*{publish.SUFFIX}*")), cut
        seen.add(state)
    assert seen == {"old", "new"}


def test_verify_names_an_unfinished_publishing(tmp_path):
    root, pairs, _ = _tree(tmp_path)
    records = root / "notebooks" / "records"
    records.mkdir(parents=True)
    publish.journal_path(records, "nb").write_text('{"moves": []}\n')
    assert publish.pending(records) == ["nb"]
    lines = verify.summary_lines(verify.compare(root))
    assert any("nb" in line and "unfinished" in line for line in lines), lines
