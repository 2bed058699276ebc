"""``make all`` reruns exactly the notebooks whose inputs changed; ``make reproduce`` all of them.

A copy of the Makefile, the notebook sources, ``mamgd_paper/`` and ``mamgd/`` goes
to a temporary folder with every executed notebook (an empty stand-in) and
notebook 02's k-sensitivity table up to date; then ``make -n`` (never a real
run) says which notebooks it would rerun after one file changed (``-W FILE``:
"pretend FILE was just modified", or a real newer mtime). The dependency
scanner (``python3 -m mamgd_paper.runner deps``) runs for real, as make
rewrites its include file even under ``-n``.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mamgd_paper.core import make_variables

ROOT = Path(__file__).resolve().parents[2]
MAKE = shutil.which("make")
pytestmark = pytest.mark.skipif(MAKE is None, reason="GNU make not installed")

NETWORK = {"04_approximation": 7, "05_mnist": 8, "06_imdb": 9, "07_reuters": 10,
           "08_boston_housing": 11}
FUNCTION = {"01_test_functions", "02_decay_search", "03_trajectories"}
# every executed notebook: one per numbered source, one per network table
ALL = FUNCTION | set(NETWORK) | {p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.py")}
SENSITIVITY = "figures/tables/k_sensitivity.csv"
SOURCES_AT, OUTPUTS_AT = 1_000_000_000, 1_100_000_000  # seconds since the epoch
RUN = re.compile(r"-m mamgd_paper\.runner (\S+) (\S+)/([^/\s]+)\.ipynb --figures-dir (\S+)(.*)")


def _copy_project(dest):
    for name in ("Makefile", "pyproject.toml", "requirements.lock"):
        shutil.copy2(ROOT / name, dest / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "executed", ".ipynb_checkpoints")
    for folder in ("mamgd_paper", "mamgd", "notebooks"):
        shutil.copytree(ROOT / folder, dest / folder, ignore=ignore)
    for name in ALL:
        (dest / "notebooks" / "executed").mkdir(parents=True, exist_ok=True)
        (dest / "notebooks" / "executed" / f"{name}.ipynb").write_text("{}")
    (dest / SENSITIVITY).parent.mkdir(parents=True)
    (dest / SENSITIVITY).write_text("function,k\n")
    (dest / ".venv").mkdir()
    (dest / ".venv" / ".installed-stamp").write_text("")


def _make_env():
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "QUICK",
                        "SEEDS", "PYTHON", "MAMGD_DATA_DIR")}
    env["LC_ALL"] = "C"
    return env


def _set_times(project):
    """Sources (and folders) old, every output newer: all up to date."""
    for path in project.rglob("*"):
        os.utime(path, (SOURCES_AT, SOURCES_AT))
    outputs = [project / "notebooks" / "executed" / f"{name}.ipynb" for name in ALL]
    outputs += [project / SENSITIVITY, project / ".venv" / ".installed-stamp",
                project / "build" / "notebook-deps.mk"]
    for path in outputs:
        if path.exists():
            os.utime(path, (OUTPUTS_AT, OUTPUTS_AT))


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    project = tmp_path_factory.mktemp("project")
    _copy_project(project)
    _set_times(project)
    # write build/notebook-deps.mk once (make does it before anything else)
    _make(project, "all")
    assert (project / "build" / "notebook-deps.mk").is_file()
    return project


def _make(project, *args):
    """``make -n ARGS`` in ``project``; returns its output (the recipes it would run)."""
    result = subprocess.run(
        [MAKE, "-n", "--no-print-directory", "PYTHON=" + sys.executable, *args],
        cwd=project, env=_make_env(), capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _runs(project, *args, touch=None):
    """The notebook runs ``make -n ARGS`` lists: {name: (source, line)}."""
    _set_times(project)
    if touch:
        os.utime(project / touch, (OUTPUTS_AT + 100, OUTPUTS_AT + 100))
    output = _make(project, *args)
    runs = {}
    for line in output.splitlines():
        match = RUN.search(line)
        if match:
            source, _, name, _, _ = match.groups()
            assert name not in runs, f"{name} run twice:\n{output}"
            runs[name] = (source, line)
    return runs


def test_reproduce_reruns_every_notebook_even_when_up_to_date(project):
    runs = _runs(project, "reproduce")
    assert set(runs) == ALL
    assert all("--figures-dir figures" in line for _, line in runs.values())


def test_nothing_to_do_when_up_to_date(project):
    output = _make(project, "all")
    assert not RUN.search(output), output
    assert "k_sensitivity" not in output, "the table looked older than notebook 02"


def test_report_modules_rerun_no_notebook(project):
    for module in ("mamgd_paper/audit/render.py", "mamgd_paper/audit/templates/REPORT.md.j2",
                   "mamgd_paper/experiments/ablation/findings.py"):
        assert _runs(project, "-W", module, "all") == {}, module


def test_runner_change_reruns_no_notebook(project):
    for module in ("mamgd_paper/runner/execute.py", "mamgd_paper/runner/manifest.py"):
        assert _runs(project, "-W", module, "all") == {}, module


def test_networks_module_reruns_its_importers(project):
    runs = set(_runs(project, "-W", "mamgd_paper/experiments/networks/tasks.py", "all"))
    assert set(NETWORK) <= runs
    assert "09_curvature_ablation" in runs  # mamgd_paper.experiments.ablation.ablation imports it
    assert not runs & FUNCTION


def test_template_reruns_the_five_network_notebooks(project):
    runs = _runs(project, "-W", "notebooks/network_task.py", "all")
    assert set(runs) == set(NETWORK)
    for name, (source, line) in runs.items():
        assert source == "notebooks/network_task.py"
        assert re.search(rf"-p table {NETWORK[name]}\b", line), line
        assert "--figures-dir figures" in line and "-p quick False" in line


def test_own_source_reruns_only_that_notebook(project):
    assert set(_runs(project, "-W", "notebooks/03_trajectories.py", "all")) == {
        "03_trajectories"}


def test_library_reruns_every_notebook(project):
    assert set(_runs(project, "-W", "mamgd/reference.py", "all")) == ALL


def test_reproduce_starts_the_longest_notebooks_first(project):
    """-j2 starts notebooks in this order: 02 (09 needs its table), then the
    longest, with the short 01 in between so that 09 finds 02 done."""
    order = list(_runs(project, "-W", "mamgd/reference.py", "all"))
    long_first = [n for n in ("02_decay_search", "11_equal_budget", "01_test_functions",
                              "09_curvature_ablation", "05_mnist", "07_reuters")
                  if n in ALL]
    assert order[:len(long_first)] == long_first, order
    assert order.index("05_mnist") < order.index("06_imdb")


def test_paper_tables_rerun_the_notebooks_that_read_them(project):
    runs = set(_runs(project, "-W", "mamgd_paper/paper/paper_tables.csv", "all"))
    assert set(NETWORK) | {"01_test_functions"} <= runs  # they import mamgd_paper.paper.published


def test_newer_sensitivity_table_reruns_notebook_09(project):
    assert set(_runs(project, "all", touch=SENSITIVITY)) == {"09_curvature_ablation"}


def test_notebook_02_rerun_reruns_notebook_09(project):
    runs = _runs(project, "-W", "notebooks/02_decay_search.py", "all")
    assert set(runs) == {"02_decay_search", "09_curvature_ablation"}


def test_sensitivity_table_published_with_notebook_02_is_not_stale(project):
    """The runner gives 02's outputs its notebook's mtime (see
    test_runner_gives_published_files_the_notebook_mtime): 09 reruns once
    after 02, then never again."""
    executed = project / "notebooks" / "executed"
    _set_times(project)
    for path in (executed / "02_decay_search.ipynb", project / SENSITIVITY):
        os.utime(path, (OUTPUTS_AT + 10, OUTPUTS_AT + 10))
    output = _make(project, "all")
    assert [m.group(3) for m in RUN.finditer(output)] == ["09_curvature_ablation"]
    os.utime(executed / "09_curvature_ablation.ipynb", (OUTPUTS_AT + 20, OUTPUTS_AT + 20))
    assert not RUN.search(_make(project, "all"))


def test_goals_functions_and_networks(project):
    _set_times(project)
    functions = {m.group(3) for m in RUN.finditer(
        _make(project, "-W", "mamgd/functions.py", "functions"))}
    networks = {m.group(3) for m in RUN.finditer(
        _make(project, "-W", "mamgd/functions.py", "networks"))}
    assert functions == FUNCTION and networks == set(NETWORK)


def test_quick_layout(project):
    _set_times(project)
    output = _make(project, "QUICK=1", "SEEDS=2", "reproduce")
    runs = {m.group(3): m for m in RUN.finditer(output)}
    assert set(runs) == ALL  # nothing of build/quick exists yet
    for name, match in runs.items():
        assert match.group(2) == "build/quick/notebooks"
        assert match.group(4) == "build/quick/figures"
        assert "-p quick True -p seeds 2" in match.group(5)
    assert "-p table 9" in runs["06_imdb"].group(5)
    assert "build/quick/figures/tables/k_sensitivity.csv" in output
    assert "--figures-dir build/quick/figures --executed-dir build/quick/notebooks" in output


def test_goals_without_notebooks_skip_the_scanner(project):
    _set_times(project)
    include = project / "build" / "notebook-deps.mk"
    include.unlink()
    output = _make(project, "-W", "mamgd_paper/experiments/networks/tasks.py", "report")
    assert "mamgd_paper.runner deps" not in output and not include.exists()
    _make(project, "all")  # writes it again
    assert include.is_file()


# ---- the scanner -----------------------------------------------------------


def test_scanner_follows_imports_and_data_files(tmp_path):
    from mamgd_paper.runner.deps import notebook_dependencies

    pkg = tmp_path / "pkg"
    (pkg / "data").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from . import b\nfrom .sub import leaf\n")
    (pkg / "b.py").write_text("def f():\n    import pkg.c  # lazy imports count\n")
    (pkg / "c.py").write_text("NAME = 'data/table.csv'\nOTHER = 'data/missing.csv'\n")
    (pkg / "data" / "table.csv").write_text("x\n")
    (pkg / "sub").mkdir()
    (pkg / "sub" / "__init__.py").write_text("from ..d import g\n")
    (pkg / "sub" / "leaf.py").write_text("import numpy\n")
    (pkg / "d.py").write_text("")
    (pkg / "unused.py").write_text("")
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "__init__.py").write_text("")
    (tmp_path / "lib" / "core.py").write_text("")
    (tmp_path / "nb").mkdir()
    (tmp_path / "nb" / "note.py").write_text(
        "# %% [markdown]\n# import pkg.unused (a comment)\n\n# %%\nfrom pkg.a import x\n")
    deps = notebook_dependencies(tmp_path / "nb" / "note.py", root=tmp_path,
                                 packages=("pkg",), libraries=("lib",))
    assert deps == ["nb/note.py", "lib/__init__.py", "lib/core.py", "pkg/__init__.py",
                    "pkg/a.py", "pkg/b.py", "pkg/c.py", "pkg/d.py", "pkg/data/table.csv",
                    "pkg/sub/__init__.py", "pkg/sub/leaf.py"]


def test_scanner_on_the_project():
    from mamgd_paper.runner.deps import notebook_dependencies

    deps = notebook_dependencies("notebooks/network_task.py", root=ROOT)
    assert deps[0] == "notebooks/network_task.py"
    for path in ("mamgd_paper/experiments/networks/tasks.py", "mamgd_paper/experiments/networks/figures.py",
                 "mamgd_paper/paper/published.py", "mamgd_paper/paper/paper_tables.csv",
                 "mamgd_paper/__init__.py", "mamgd/reference.py"):
        assert path in deps
    assert "mamgd_paper/audit/render.py" not in deps and "mamgd_paper/experiments/ksearch/search.py" not in deps
    assert "mamgd_paper/experiments/networks/tasks.py" in notebook_dependencies(
        "notebooks/09_curvature_ablation.py", root=ROOT)


def test_scanner_needs_only_the_standard_library(tmp_path):
    # the runner's modules and the pipeline modules they import at the top
    runner_imports = {"mamgd_paper.core.progress", "mamgd_paper.core.paths",
                      "mamgd_paper.core.atomic", "mamgd_paper.core.numerics"}
    modules = ["mamgd_paper/__init__.py", "mamgd_paper/core/__init__.py",
               "mamgd_paper/core/progress.py", "mamgd_paper/core/paths.py",
               "mamgd_paper/core/atomic.py", "mamgd_paper/core/numerics.py"]
    modules += sorted(p.relative_to(ROOT).as_posix()
                      for p in (ROOT / "mamgd_paper" / "runner").glob("*.py"))
    assert "mamgd_paper/runner/deps.py" in modules
    for module in modules:
        tree = ast.parse((ROOT / module).read_text())
        for node in tree.body:  # module level: what `python3 -m` imports
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module]
            else:
                continue
            if isinstance(node, ast.ImportFrom) and node.module in (
                    "mamgd_paper.core", "mamgd_paper.runner"):
                names = [f"{node.module}.{alias.name}" for alias in node.names]
            for name in names:
                top = name.split(".")[0]
                assert (top == "__future__" or top in sys.stdlib_module_names
                        or name in runner_imports or name.startswith("mamgd_paper.runner")
                        ), (module, name)
    # -S: no site-packages at all (no venv, no numpy)
    output = tmp_path / "deps.mk"
    subprocess.run([sys.executable, "-S", "-m", "mamgd_paper.runner", "deps", "--output",
                    str(output), "$(EXECUTED)/05_mnist.ipynb=notebooks/network_task.py"],
                   cwd=ROOT, check=True, timeout=60, env={"PATH": os.environ.get("PATH", "")})
    text = output.read_text()
    assert "$(EXECUTED)/05_mnist.ipynb: \\\n    notebooks/network_task.py \\\n" in text
    assert "    mamgd_paper/experiments/networks/tasks.py \\\n" in text


# ---- the runner ------------------------------------------------------------


def test_runner_gives_published_files_the_notebook_mtime(tmp_path):
    pytest.importorskip("papermill")
    pytest.importorskip("jupytext")
    from mamgd_paper.runner import manifest
    from mamgd_paper.runner.execute import execute

    source = tmp_path / "tiny.py"
    source.write_text(
        "# %% tags=[\"parameters\"]\nfigures_dir = 'out'\n\n"
        "# %%\nimport pathlib\n"
        "root = pathlib.Path(figures_dir)\n(root / 'tables').mkdir(parents=True)\n"
        "(root / 'tables' / 'a.csv').write_text('a\\n')\n"
        "(root / 'b.txt').write_text('b\\n')\n")
    output = tmp_path / "executed" / "tiny.ipynb"
    published = execute(source, output, tmp_path / "figures")
    assert sorted(p.name for p in published) == ["a.csv", "b.txt"]
    mtime = output.stat().st_mtime_ns
    assert [p.stat().st_mtime_ns for p in published] == [mtime, mtime]
    # the figure manifest names the notebook that published each file
    assert manifest.read(tmp_path / "figures") == {"b.txt": "tiny", "tables/a.csv": "tiny"}
    assert not [p for p in (tmp_path / "figures").rglob("*") if p.name.endswith(".tmp")]


def test_manifest_replaces_a_notebooks_entries_and_stays_deterministic(tmp_path):
    from mamgd_paper.runner import manifest

    figures = tmp_path / "figures"
    (figures / "tables").mkdir(parents=True)
    manifest.record(figures, "01_a", [figures / "x.png", figures / "tables" / "t.csv"])
    manifest.record(figures, "02_b", [figures / "y.png", figures / manifest.NAME])
    first = manifest.path_of(figures).read_bytes()
    manifest.record(figures, "01_a", [figures / "tables" / "t.csv", figures / "z.pdf"])
    assert manifest.read(figures) == {"tables/t.csv": "01_a", "y.png": "02_b", "z.pdf": "01_a"}
    text = manifest.path_of(figures).read_text()
    assert str(tmp_path) not in text and list(manifest.read(figures)) == sorted(
        manifest.read(figures))
    manifest.record(figures, "01_a", [figures / "x.png", figures / "tables" / "t.csv"])
    assert manifest.path_of(figures).read_bytes() == first  # same files, same bytes
    with pytest.raises(ValueError):
        manifest.record(figures, "03_c", [tmp_path / "elsewhere.png"])
    with pytest.raises(ValueError):
        manifest.write(figures, {"../up.png": "03_c"})

# --------------------------------------------------------------------------
# The parameters: checked before anything runs, and honoured (the real make,
# with -n where it would run notebooks, on a fresh copy per test)

#: Notebooks whose results depend on SEEDS.
SEEDED = set(NETWORK) | {"09_curvature_ablation", "10_from_scratch"}
#: A notebook run in `make -n` output: the runner, a source, the executed notebook.
PLANNED = re.compile(r"-m mamgd_paper\.runner \S+\.py \S+/([^/\s]+)\.ipynb")


@pytest.fixture()
def fresh_project(tmp_path):
    _copy_project(tmp_path)
    _set_times(tmp_path)
    return tmp_path


def _run_make(project, *args):
    env = {k: v for k, v in _make_env().items() if k not in ("WORKERS", "STORAGE")}
    return subprocess.run([MAKE, "--no-print-directory", *args], cwd=project, env=env,
                          capture_output=True, text=True, timeout=120)


def _planned(result):
    """The executed notebooks a `make -n` would write, by name."""
    assert result.returncode == 0, result.stderr
    return {match.group(1) for match in PLANNED.finditer(result.stdout)}


@pytest.mark.parametrize("variable, value, accepted", [
    ("QUICK", "maybe", "one of 0/1, no/yes, false/true (any case)"),
    ("QUICK", "2", "one of 0/1, no/yes, false/true (any case)"),
    ("SEEDS", "0", "a whole number >= 1"),
    ("SEEDS", "three", "a whole number >= 1"),
    ("WORKERS", "-1", "a whole number >= 1"),
    ("STORAGE", "bogus://x", "postgresql://user@host[:port]/database"),
])
def test_a_bad_parameter_stops_make_before_anything_runs(fresh_project, variable, value, accepted):
    result = _run_make(fresh_project, "functions", f"{variable}={value}")
    assert result.returncode != 0
    assert f"{variable}='{value}' is not accepted: {variable} must be" in result.stderr
    assert accepted in result.stderr
    assert ".." not in result.stderr.replace("...", "")  # one period, then make's "Stop."
    assert "mamgd_paper.runner" not in result.stdout  # nothing ran
    assert not (fresh_project / "build" / "quick").exists()


@pytest.mark.parametrize("value", ["1", "yes", "YES", "true", "True"])
def test_every_spelling_of_quick_writes_only_under_build_quick(fresh_project, value):
    result = _run_make(fresh_project, "-n", "functions", f"QUICK={value}")
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if PLANNED.search(line)]
    assert len(lines) == 3
    for line in lines:
        assert "build/quick/notebooks/" in line and "--figures-dir build/quick/figures" in line
        assert "-p quick True" in line


@pytest.mark.parametrize("value", ["0", "no", "False"])
def test_quick_off_in_any_spelling_is_the_full_run(fresh_project, value):
    result = _run_make(fresh_project, "-n", "-W", "notebooks/01_test_functions.py", "functions",
                   f"QUICK={value}")
    assert result.returncode == 0, result.stderr
    assert "--figures-dir figures -p quick False" in result.stdout


def test_seeds_reruns_the_notebooks_it_affects_and_only_those(fresh_project):
    # Nothing to do at the default; SEEDS=3 makes exactly the seeded notebooks
    # out of date, and they are run with 3 seeds.
    assert _planned(_run_make(fresh_project, "-n", "notebooks")) == set()
    assert _planned(_run_make(fresh_project, "-n", "notebooks", "SEEDS=5")) == set()
    changed = _run_make(fresh_project, "-n", "notebooks", "SEEDS=3")
    assert _planned(changed) == SEEDED
    assert all("-p seeds 3" in line for line in changed.stdout.splitlines()
               if PLANNED.search(line))
    assert (fresh_project / "build" / "parameters" / "seeds").read_text() == "3\n"
    # The stamp keeps its date while the value stays.
    stamp = (fresh_project / "build" / "parameters" / "seeds").stat().st_mtime
    _run_make(fresh_project, "-n", "notebooks", "SEEDS=3")
    assert (fresh_project / "build" / "parameters" / "seeds").stat().st_mtime == stamp


def test_workers_and_storage_do_not_make_anything_out_of_date(fresh_project):
    assert _planned(_run_make(fresh_project, "-n", "notebooks", "WORKERS=3",
                       "STORAGE=postgresql://mamgd@db.example.org/studies")) == set()


def test_the_checker_normalises_what_make_passes():
    assert make_variables.check({"QUICK": "True", "SEEDS": "007", "WORKERS": "2",
                                 "STORAGE": " data/x.journal "}) == {
        "QUICK": "1", "SEEDS": "7", "WORKERS": "2", "STORAGE": "data/x.journal"}
    assert make_variables.check({"STORAGE": "postgresql://u@127.0.0.1/db"})["STORAGE"] == \
        "postgresql://u@127.0.0.1/db"
    with pytest.raises(make_variables.MakeVariableError, match="unknown variable"):
        make_variables.check({"SEED": "1"})


# --------------------------------------------------------------------------
# make verify: the published files against published.sha256


@pytest.fixture(scope="module")
def published_copy(tmp_path_factory):
    copy = tmp_path_factory.mktemp("published")
    for name in ("Makefile", "published.sha256"):
        shutil.copy2(ROOT / name, copy / name)
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(ROOT / "mamgd_paper", copy / "mamgd_paper", ignore=ignore)
    shutil.copytree(ROOT / "figures", copy / "figures")
    shutil.copytree(ROOT / "notebooks" / "executed", copy / "notebooks" / "executed")
    return copy


def test_make_verify_passes_on_the_committed_files_and_names_an_edited_one(published_copy):
    clean = _run_make(published_copy, "verify")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert clean.stdout.startswith("verify: ") and ", 0 differ" in clean.stdout
    table = published_copy / "figures" / "tables" / "table01.csv"
    table.write_text(table.read_text().replace("1.959703", "1.959704", 1))
    edited = _run_make(published_copy, "verify")
    assert edited.returncode != 0
    assert "1 differ" in edited.stdout
    assert "  differs: figures/tables/table01.csv" in edited.stdout


def test_make_tests_distribution_keeps_an_xdist_group_on_one_worker(tmp_path):
    # the options of `make test`'s pytest line, on a probe whose four tests share a group
    # (pytest 9.2 with pytest-xdist 3.8 spread them over both workers)
    recipe = re.search(r"^test: .*\n\t\$\(PY\) -m pytest (.*)$", (ROOT / "Makefile").read_text(),
                       re.M).group(1).split()
    (tmp_path / "test_probe.py").write_text(
        "import os, pytest\npytestmark = pytest.mark.xdist_group('probe')\n"
        + "".join(f"def test_{i}():\n    print(os.environ['PYTEST_XDIST_WORKER'])\n"
                  for i in range(4)))
    out = subprocess.run([sys.executable, "-m", "pytest", *recipe, "-vv", "-p", "no:cacheprovider",
                          "-o", "addopts=", "test_probe.py"], cwd=tmp_path, text=True,
                         capture_output=True, timeout=120)
    assert out.returncode == 0, out.stdout[-2000:]
    workers = set(re.findall(r"^\[(gw\d+)\] .*PASSED", out.stdout, re.M))
    assert len(workers) == 1, out.stdout[-2000:]
