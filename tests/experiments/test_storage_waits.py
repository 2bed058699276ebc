"""Nothing hangs on a database that accepts connections and never answers, and
no storage path is ever created.

A local TCP listener accepts every connection and says nothing (as a stuck
server or a wrong port behind a proxy would). ``status`` and ``worker`` stop
within the connect timeout with one line naming the host, the port and the
timeout, the URL's password masked.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SECRET = "pw-never-shown-9931"


@pytest.fixture()
def silent_server():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held, stop = [], threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])  # accepted, never answered
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        for connection in held:
            connection.close()
        server.close()


def _command(*arguments, env=None):
    return subprocess.run([sys.executable, "-m", "mamgd_paper.experiments.equal_budget",
                           *arguments], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, PYTHONPATH=str(ROOT), **(env or {})))


@pytest.mark.parametrize("command", ["status", "worker"])
def test_a_silent_server_stops_the_command_within_its_timeout(silent_server, command):
    url = f"postgresql://user1:{SECRET}@127.0.0.1:{silent_server}/db?connect_timeout=2"
    start = time.monotonic()
    result = _command(command, env={"MAMGD_EQUAL_BUDGET_STORAGE": url})
    elapsed = time.monotonic() - start
    assert result.returncode != 0
    message = result.stderr.strip().splitlines()[-1]
    assert f"127.0.0.1:{silent_server}" in message and "within 2 s" in message, result.stderr
    assert "Traceback" not in result.stderr and SECRET not in result.stdout + result.stderr
    assert elapsed < 30, elapsed  # the interpreter's start, then 2 s


def test_the_default_connect_timeout_is_set():
    from mamgd_paper.core import optuna_utils

    args = optuna_utils.rdb_connect_args("postgresql://u@h/db")
    assert args["connect_timeout"] == optuna_utils.CONNECT_TIMEOUT
    assert "statement_timeout" in args["options"]
    assert "connect_timeout" not in optuna_utils.rdb_connect_args(
        "postgresql://u@h/db?connect_timeout=3")


def test_commands_never_create_a_storage_path(tmp_path):
    where = tmp_path / "nonexistent" / "dir" / "x.journal"
    for command in ("status", "worker"):
        result = _command(command, "--storage", str(where))
        assert result.returncode != 0 and "does not exist" in result.stderr, result.stderr
        assert not where.parent.exists()
        assert "Traceback" not in result.stderr


def test_status_follows_quick(tmp_path):
    quick = _command("status", env={"QUICK": "1", "MAMGD_EQUAL_BUDGET_STORAGE": ""})
    full = _command("status", env={"QUICK": "0", "MAMGD_EQUAL_BUDGET_STORAGE": ""})
    for result, name in ((quick, "equal_budget-quick.journal"), (full, "equal_budget.journal")):
        assert result.returncode == 0 or name in result.stderr, result.stderr
        if result.returncode == 0:
            assert ("quick-" in result.stdout) == (name == "equal_budget-quick.journal")
