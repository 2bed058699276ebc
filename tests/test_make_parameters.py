"""The Makefile's parameters: checked before anything runs, and honoured.

Runs the real `make` (with -n where it would run notebooks) on a copy of the
Makefile and the sources: QUICK, SEEDS, WORKERS and STORAGE are rejected with
a message naming the variable and what it accepts; QUICK's spellings all
mean the same; a changed SEEDS makes the notebooks it affects out of date.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from mamgd_paper.core import make_variables
from conftest import ROOT

NETWORK = ("04_approximation", "05_mnist", "06_imdb", "07_reuters", "08_boston_housing")
SEEDED = set(NETWORK) | {"09_curvature_ablation", "10_from_scratch", "11_equal_budget"}
OLD, NEW = 1_000_000_000, 1_100_000_000
#: A notebook run in `make -n` output: the runner, a source, the executed notebook.
RUN = re.compile(r"-m mamgd_paper\.runner \S+\.py \S+/([^/\s]+)\.ipynb")


@pytest.fixture()
def project(tmp_path):
    for name in ("Makefile", "pyproject.toml", "requirements.lock"):
        shutil.copy2(ROOT / name, tmp_path / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "executed", ".ipynb_checkpoints")
    for folder in ("mamgd_paper", "mamgd", "notebooks"):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=ignore)
    executed = tmp_path / "notebooks" / "executed"
    executed.mkdir()
    names = [p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.py")] + list(NETWORK)
    for name in names:
        (executed / f"{name}.ipynb").write_text("{}")
    (tmp_path / "figures" / "tables").mkdir(parents=True)
    (tmp_path / "figures" / "tables" / "k_sensitivity.csv").write_text("function,k\n")
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / ".installed-stamp").write_text("")
    for path in tmp_path.rglob("*"):
        os.utime(path, (OLD, OLD))
    for path in [*executed.iterdir(), tmp_path / "figures" / "tables" / "k_sensitivity.csv",
                 tmp_path / ".venv" / ".installed-stamp"]:
        os.utime(path, (NEW, NEW))
    return tmp_path


def _make(project, *args):
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "QUICK", "SEEDS", "WORKERS",
                        "STORAGE", "MAMGD_DATA_DIR")}
    env["LC_ALL"] = "C"
    return subprocess.run(["make", "--no-print-directory", *args], cwd=project, env=env,
                          capture_output=True, text=True, timeout=120)


def _runs(result):
    """The executed notebooks a `make -n` would write, by name."""
    assert result.returncode == 0, result.stderr
    return {match.group(1) for match in RUN.finditer(result.stdout)}


@pytest.mark.parametrize("variable, value, accepted", [
    ("QUICK", "maybe", "one of 0/1, no/yes, false/true (any case)"),
    ("QUICK", "2", "one of 0/1, no/yes, false/true (any case)"),
    ("SEEDS", "0", "a whole number >= 1"),
    ("SEEDS", "three", "a whole number >= 1"),
    ("WORKERS", "-1", "a whole number >= 1"),
    ("STORAGE", "bogus://x", "postgresql://user@host[:port]/database"),
])
def test_a_bad_parameter_stops_make_before_anything_runs(project, variable, value, accepted):
    result = _make(project, "functions", f"{variable}={value}")
    assert result.returncode != 0
    assert f"{variable}='{value}' is not accepted: {variable} must be" in result.stderr
    assert accepted in result.stderr
    assert ".." not in result.stderr.replace("...", "")  # one period, then make's "Stop."
    assert "mamgd_paper.runner" not in result.stdout  # nothing ran
    assert not (project / "build" / "quick").exists()


@pytest.mark.parametrize("value", ["1", "yes", "YES", "true", "True"])
def test_every_spelling_of_quick_writes_only_under_build_quick(project, value):
    result = _make(project, "-n", "functions", f"QUICK={value}")
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if RUN.search(line)]
    assert len(lines) == 3
    for line in lines:
        assert "build/quick/notebooks/" in line and "--figures-dir build/quick/figures" in line
        assert "-p quick True" in line


@pytest.mark.parametrize("value", ["0", "no", "False"])
def test_quick_off_in_any_spelling_is_the_full_run(project, value):
    result = _make(project, "-n", "-W", "notebooks/01_test_functions.py", "functions",
                   f"QUICK={value}")
    assert result.returncode == 0, result.stderr
    assert "--figures-dir figures -p quick False" in result.stdout


def test_seeds_reruns_the_notebooks_it_affects_and_only_those(project):
    # Nothing to do at the default; SEEDS=3 makes exactly the seeded notebooks
    # out of date, and they are run with 3 seeds.
    assert _runs(_make(project, "-n", "notebooks")) == set()
    assert _runs(_make(project, "-n", "notebooks", "SEEDS=5")) == set()
    changed = _make(project, "-n", "notebooks", "SEEDS=3")
    assert _runs(changed) == SEEDED
    assert all("-p seeds 3" in line for line in changed.stdout.splitlines()
               if RUN.search(line))
    assert (project / "build" / "parameters" / "seeds").read_text() == "3\n"
    # The stamp keeps its date while the value stays.
    stamp = (project / "build" / "parameters" / "seeds").stat().st_mtime
    _make(project, "-n", "notebooks", "SEEDS=3")
    assert (project / "build" / "parameters" / "seeds").stat().st_mtime == stamp


def test_workers_and_storage_do_not_make_anything_out_of_date(project):
    assert _runs(_make(project, "-n", "notebooks", "WORKERS=3",
                       "STORAGE=postgresql://mamgd@db.example.org/studies")) == set()


def test_the_checker_normalises_what_make_passes():
    assert make_variables.check({"QUICK": "True", "SEEDS": "007", "WORKERS": "2",
                                 "STORAGE": " data/x.journal "}) == {
        "QUICK": "1", "SEEDS": "7", "WORKERS": "2", "STORAGE": "data/x.journal"}
    assert make_variables.check({"STORAGE": "postgresql://u@127.0.0.1/db"})["STORAGE"] == \
        "postgresql://u@127.0.0.1/db"
    with pytest.raises(make_variables.MakeVariableError, match="unknown variable"):
        make_variables.check({"SEED": "1"})
