"""The pinned floating-point set-up (mamgd_paper.core.numerics).

The reference is the C library: under the set-up NumPy's float64 exp, log,
log10, power, sin and cos return what Python's ``math`` (the C library's libm)
returns, bit for bit, as on machines without AVX-512. On a machine with
AVX-512 NumPy without the set-up differs, the worker API stops without it, and
the worker command starts itself again with it.
"""

import math
import os
import subprocess
import sys

import numpy as np
import pytest

from mamgd_paper.core import numerics

from conftest import ROOT

FUNCTIONS = {
    "exp": (np.exp, math.exp, (-20.0, 20.0)),
    "log": (np.log, math.log, (1e-3, 50.0)),
    "log10": (np.log10, math.log10, (1e-3, 50.0)),
    "power": (lambda x: np.power(x, 0.37), lambda v: v ** 0.37, (1e-3, 50.0)),
    "sin": (np.sin, math.sin, (-20.0, 20.0)),
    "cos": (np.cos, math.cos, (-20.0, 20.0)),
}


def _avx512_machine():
    from numpy._core._multiarray_umath import __cpu_dispatch__

    with open("/proc/cpuinfo", encoding="utf-8") as info:
        flags = info.read()
    return "avx512f" in flags and "X86_V4" in __cpu_dispatch__


def test_this_process_runs_pinned():
    for name, value in numerics.ENVIRONMENT.items():
        assert os.environ.get(name) == value, "run the tests with `make test` (it exports them)"
    assert numerics.active_targets() == []


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_numpy_float64_equals_the_c_library(name):
    vectorised, scalar, (low, high) = FUNCTIONS[name]
    x = np.random.default_rng(0).uniform(low, high, 20000)
    ours = vectorised(x)
    libm = np.array([scalar(float(v)) for v in x])
    assert np.array_equal(ours, libm), f"{int((ours != libm).sum())} of {len(x)} differ"


def _unpinned_env():
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for name in numerics.ENVIRONMENT:
        env.pop(name, None)
    return env


@pytest.mark.skipif(not os.path.exists("/proc/cpuinfo") or not _avx512_machine(),
                    reason="needs an x86-64 machine with AVX-512")
def test_without_the_set_up_numpy_differs_and_the_worker_api_stops(tmp_path):
    code = ("import math, numpy as np; x = np.random.default_rng(0).uniform(-20, 20, 20000); "
            "print(int((np.exp(x) != np.array([math.exp(v) for v in x])).sum()))")
    differ = subprocess.run([sys.executable, "-c", code], env=_unpinned_env(), text=True,
                            capture_output=True, check=True).stdout
    assert int(differ) > 0
    code = ("from mamgd_paper.experiments.equal_budget import workers; "
            f"workers.run_worker({str(tmp_path / 'run.journal')!r})")
    worker = subprocess.run([sys.executable, "-c", code], env=_unpinned_env(), text=True,
                            capture_output=True, cwd=ROOT, timeout=300)
    assert worker.returncode != 0
    assert numerics.assignments() in worker.stderr
    assert "Traceback" not in worker.stderr
    assert not (tmp_path / "run.journal").exists()


def test_the_worker_command_starts_itself_again_under_the_set_up(monkeypatch, tmp_path):
    from mamgd_paper.experiments.equal_budget import __main__ as cli

    for name in numerics.ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    started = []

    def execve(path, args, env):
        started.append((path, args, env))
        raise SystemExit(0)

    monkeypatch.setattr(cli.os, "execve", execve)
    argv = ["worker", "--storage", str(tmp_path / "run.journal")]
    with pytest.raises(SystemExit):
        cli.main(argv)
    (path, args, env), = started
    assert path == sys.executable and args == [sys.executable, "-m", cli.MODULE, *argv]
    assert all(env[name] == value for name, value in numerics.ENVIRONMENT.items())
    assert not (tmp_path / "run.journal").exists()


def test_the_makefile_exports_the_set_up():
    out = subprocess.run(["make", "-s", "-p", "help"], cwd=ROOT, text=True,
                         capture_output=True, check=True).stdout
    for name, value in numerics.ENVIRONMENT.items():
        assert f"{name} := {value}" in out.splitlines()
