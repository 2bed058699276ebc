"""Shared test set-up: quiet TensorFlow, the project root, the dataset folder."""

import os
import socket
import subprocess
import time
import urllib.request
import sys
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("MPLBACKEND", "Agg")
# The pipeline's Keras backend (mamgd_paper/__init__.py), whichever test module
# imports Keras first; tests of another backend run it in a child process.
os.environ.setdefault("KERAS_BACKEND", "jax")

ROOT = Path(__file__).resolve().parents[1]
#: The published numbers as the package ships them, and the copy typed from the
#: paper that tests compare it with when it sits beside the repository.
PAPER_TABLES = ROOT / "mamgd_paper" / "paper" / "paper_tables.csv"
SOURCE_PAPER_TABLES = ROOT.parent / "shared" / "paper" / "paper_tables.csv"


def run_python(code, env=None, timeout=600):
    """Run ``code`` in a fresh Python process (own backend / devices) and return stdout.

    Fails the test with the child's stderr if it exits non-zero.
    """
    child_env = dict(os.environ, PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="3")
    child_env.update(env or {})
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True,
        env=child_env, timeout=timeout, cwd=ROOT,
    )
    if result.returncode != 0:
        pytest.fail(f"child process failed ({result.returncode}):\n{result.stderr[-4000:]}")
    return result.stdout


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on now (for test servers)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_server(url, process, timeout, describe):
    """Poll ``url`` until it answers; fail the test with ``describe()`` (the
    server's log) if ``process`` exits first or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"the server at {url} did not start (exit {process.poll()}):\n"
                            f"{describe()[-3000:]}")
            time.sleep(0.3)


@pytest.fixture(scope="session")
def root():
    return ROOT
