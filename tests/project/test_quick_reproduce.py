"""``QUICK=1 make -j2 reproduce`` passes end to end (the real command; it writes
only under build/quick/ and the quick journal): every notebook, then the report,
which skips the calibrated run test for a 1-seed smoke run and says so; no
kernel KeyboardInterrupt line, no traceback. About 4 minutes on two cores."""

import os
import shutil
import subprocess

import pytest

from conftest import ROOT


@pytest.mark.heavy
@pytest.mark.xdist_group("notebook-runs")
@pytest.mark.skipif(shutil.which("make") is None, reason="GNU make not installed")
def test_quick_reproduce_passes_end_to_end():
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "SEEDS", "STORAGE", "WORKERS")}
    result = subprocess.run(["make", "-j2", "--no-print-directory", "QUICK=1", "reproduce"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-5000:]
    for noise in ("Traceback", "KeyboardInterrupt caught", "FAILED"):
        assert noise not in log, log[-5000:]
    report = (ROOT / "build" / "quick" / "figures" / "REPORT.md").read_text()
    assert "needs at least 3 seeds" in report and "skipped" in report
