"""``make all`` reruns exactly the notebooks whose inputs changed; ``make reproduce`` all of them.

A copy of the Makefile, the notebook sources, ``mamgd_paper/`` and ``mamgd/`` goes
to a temporary folder with every executed notebook (an empty stand-in), notebook
02's k-sensitivity table and a record per notebook saying that its inputs are
those of the copy; then ``make -n`` (never a real run) says which notebooks it
would rerun after one file's content changed. File times play no part: the
copy's files get random times. The staleness check (``python3 -m
mamgd_paper.runner stale``) runs for real, as make runs it while reading its
rules.
"""

from __future__ import annotations

import ast
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
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
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "executed", "records",
                                    ".ipynb_checkpoints")
    for folder in ("mamgd_paper", "mamgd", "notebooks"):
        shutil.copytree(ROOT / folder, dest / folder, ignore=ignore)
    for name in ALL:
        (dest / "notebooks" / "executed").mkdir(parents=True, exist_ok=True)
        (dest / "notebooks" / "executed" / f"{name}.ipynb").write_text("{}")
    (dest / SENSITIVITY).parent.mkdir(parents=True)
    (dest / SENSITIVITY).write_text("function,k\n")
    (dest / ".venv").mkdir()
    (dest / ".venv" / ".installed-stamp").write_text("")
    _write_records(dest)


def _write_records(project, seeds=None):
    """A record per notebook: made from the copy's files as they are now, with
    the parameters make passes (``seeds``: the SEEDS given)."""
    from mamgd_paper.runner import inputs

    for name in ALL:
        source = "notebooks/network_task.py" if name in NETWORK else f"notebooks/{name}.py"
        parameters = {"quick": False}
        if seeds is not None and name in SEEDED:
            parameters["seeds"] = seeds
        if name in NETWORK:
            parameters["table"] = NETWORK[name]
        extra = [project / SENSITIVITY] if name == "09_curvature_ablation" else []
        digest = inputs.inputs_hash(project / source, parameters, extra, project)
        executed = project / "notebooks" / "executed" / f"{name}.ipynb"
        path = inputs.record_path(project / "notebooks" / "records", name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(inputs.record_text(name, digest, parameters, [(executed, executed)],
                                           project))


def _make_env():
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "QUICK",
                        "SEEDS", "PYTHON", "MAMGD_DATA_DIR")}
    env["LC_ALL"] = "C"
    return env


def _shuffle_times(project, seed=0):
    """Every file a random time: out of date is decided by content alone."""
    import random

    rng = random.Random(seed)
    for path in project.rglob("*"):
        when = SOURCES_AT + rng.randrange(0, OUTPUTS_AT - SOURCES_AT)
        os.utime(path, (when, when))
    stamp = project / ".venv" / ".installed-stamp"
    os.utime(stamp, (OUTPUTS_AT, OUTPUTS_AT))  # the venv is not what is tested


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    project = tmp_path_factory.mktemp("project")
    _copy_project(project)
    _shuffle_times(project)
    return project


def _make(project, *args):
    """``make -n ARGS`` in ``project``; returns its output (the recipes it would run)."""
    result = subprocess.run(
        [MAKE, "-n", "--no-print-directory", "PYTHON=" + sys.executable, *args],
        cwd=project, env=_make_env(), capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _runs(project, *args, edit=None, seed=0):
    """The notebook runs ``make -n ARGS`` lists: {name: (source, line)};
    ``edit``: a file whose content is changed (a line appended) meanwhile."""
    _shuffle_times(project, seed)
    original = (project / edit).read_bytes() if edit else None
    try:
        if edit:
            (project / edit).write_bytes(original + b"\n# edited\n")
        output = _make(project, *args)
    finally:
        if edit:
            (project / edit).write_bytes(original)
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


def test_nothing_to_do_when_up_to_date_whatever_the_file_times(project):
    for seed in range(3):
        _shuffle_times(project, seed)
        output = _make(project, "all")
        assert not RUN.search(output), output
        assert "k_sensitivity" not in output, output
        assert not RUN.search(_make(project, "networks")), seed


def test_report_modules_rerun_no_notebook(project):
    for module in ("mamgd_paper/audit/render.py", "mamgd_paper/audit/templates/REPORT.md.j2",
                   "mamgd_paper/experiments/ablation/findings.py"):
        assert _runs(project, "all", edit=module) == {}, module


def test_runner_change_reruns_no_notebook(project):
    for module in ("mamgd_paper/runner/execute.py", "mamgd_paper/runner/manifest.py"):
        assert _runs(project, "all", edit=module) == {}, module


def test_networks_module_reruns_its_importers(project):
    runs = set(_runs(project, "all", edit="mamgd_paper/experiments/networks/tasks.py"))
    assert set(NETWORK) <= runs
    assert "09_curvature_ablation" in runs  # mamgd_paper.experiments.ablation.ablation imports it
    assert not runs & FUNCTION


def test_template_reruns_the_five_network_notebooks(project):
    runs = _runs(project, "all", edit="notebooks/network_task.py")
    assert set(runs) == set(NETWORK)
    for name, (source, line) in runs.items():
        assert source == "notebooks/network_task.py"
        assert re.search(rf"-p table {NETWORK[name]}\b", line), line
        assert "--figures-dir figures" in line and "-p quick False" in line


def test_own_source_reruns_only_that_notebook(project):
    assert set(_runs(project, "all", edit="notebooks/03_trajectories.py")) == {
        "03_trajectories"}


def test_library_reruns_every_notebook(project):
    assert set(_runs(project, "all", edit="mamgd/reference.py")) == ALL


def test_reproduce_starts_the_longest_notebooks_first(project):
    """-j2 starts notebooks in this order: MNIST (the longest), 02 (09 needs its
    table), then the longest, with the short 01 in between so that 09 finds 02 done."""
    order = list(_runs(project, "all", edit="mamgd/reference.py"))
    long_first = [n for n in ("05_mnist", "02_decay_search", "11_equal_budget",
                              "01_test_functions", "09_curvature_ablation", "07_reuters")
                  if n in ALL]
    assert order[:len(long_first)] == long_first, order
    assert order.index("05_mnist") < order.index("06_imdb")


def test_a_library_module_no_notebook_imports_reruns_nothing(project):
    """Out of date by what a notebook imports: mamgd/torch.py is imported by none."""
    assert _runs(project, "all", edit="mamgd/torch.py") == {}


def test_paper_tables_rerun_the_notebooks_that_read_them(project):
    runs = set(_runs(project, "all", edit="mamgd_paper/paper/paper_tables.csv"))
    assert set(NETWORK) | {"01_test_functions"} <= runs  # they import mamgd_paper.paper.published


def test_changed_sensitivity_table_reruns_notebook_09(project):
    assert set(_runs(project, "all", edit=SENSITIVITY)) == {"09_curvature_ablation"}


def test_notebook_02_rerun_reruns_notebook_09(project):
    runs = _runs(project, "all", edit="notebooks/02_decay_search.py")
    assert set(runs) == {"02_decay_search", "09_curvature_ablation"}
    assert "--if-stale" in runs["09_curvature_ablation"][1]  # skipped if 02's table is the same


def test_reverting_an_edit_makes_nothing_out_of_date(project):
    assert set(_runs(project, "all", edit="notebooks/03_trajectories.py")) == {"03_trajectories"}
    assert _runs(project, "all") == {}  # same content again, whatever its new time


def test_goals_functions_and_networks(project):
    _shuffle_times(project)
    # every notebook imports mamgd.reference (the registry does)
    (project / "mamgd" / "reference.py").write_text(
        (project / "mamgd" / "reference.py").read_text() + "\n# edited\n")
    try:
        functions = {m.group(3) for m in RUN.finditer(_make(project, "functions"))}
        networks = {m.group(3) for m in RUN.finditer(_make(project, "networks"))}
    finally:
        (project / "mamgd" / "reference.py").write_text(
            (project / "mamgd" / "reference.py").read_text()[:-len("\n# edited\n")])
    assert functions == FUNCTION and networks == set(NETWORK)


def test_quick_layout(project):
    _shuffle_times(project)
    output = _make(project, "QUICK=1", "SEEDS=2", "reproduce")
    runs = {m.group(3): m for m in RUN.finditer(output)}
    assert set(runs) == ALL  # nothing of build/quick exists yet
    for name, match in runs.items():
        assert match.group(2) == "build/quick/notebooks"
        assert match.group(4) == "build/quick/figures"
        assert "-p quick True" in match.group(5)
        assert ("-p seeds 2" in match.group(5)) == (name in SEEDED), match.group(5)
    assert "-p table 9" in runs["06_imdb"].group(5)
    assert "build/quick/figures/tables/k_sensitivity.csv" in output
    assert "--figures-dir build/quick/figures --executed-dir build/quick/notebooks" in output


def test_goals_without_notebooks_skip_the_staleness_check(project):
    _shuffle_times(project)
    (project / "mamgd_paper" / "runner" / "inputs.py").rename(project / "inputs.py.away")
    try:  # the check would fail without its module: report does not run it
        output = _make(project, "report")
        assert "mamgd_paper.runner.quiet mamgd_paper.audit" in output
    finally:
        (project / "inputs.py.away").rename(project / "mamgd_paper" / "runner" / "inputs.py")


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
                      "mamgd_paper.core.atomic", "mamgd_paper.core.numerics",
                      "mamgd_paper.core.storage_url", "mamgd_paper.core.make_variables"}
    modules = ["mamgd_paper/__init__.py", "mamgd_paper/core/__init__.py",
               "mamgd_paper/core/progress.py", "mamgd_paper/core/paths.py",
               "mamgd_paper/core/atomic.py", "mamgd_paper/core/numerics.py",
               "mamgd_paper/core/storage_url.py", "mamgd_paper/core/make_variables.py"]
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


def test_runner_publishes_and_records_what_it_published(tmp_path):
    pytest.importorskip("papermill")
    pytest.importorskip("jupytext")
    from mamgd_paper.runner import inputs, manifest
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
    # the figure manifest names the notebook that published each file
    assert manifest.read(tmp_path / "figures") == {"b.txt": "tiny", "tables/a.csv": "tiny"}
    record = inputs.read_record(tmp_path / "records", "tiny")
    assert record["inputs"] == inputs.inputs_hash(source, {}, (), ROOT)
    assert len(record["files"]) == 3 and all(len(v) == 64 for v in record["files"].values())
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith((".tmp", ".publishing"))]
    assert inputs.why_stale("tiny", source, {}, output, tmp_path / "records", (), ROOT) is None
    source.write_text(source.read_text() + "\n# edited\n")
    assert inputs.why_stale("tiny", source, {}, output, tmp_path / "records", (),
                            ROOT) == "its inputs changed"


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
    _shuffle_times(tmp_path)
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
    ("SEEDS", "0", "a whole number from 1 to 100"),
    ("SEEDS", "three", "a whole number from 1 to 100"),
    ("SEEDS", "99999999999999999999", "a whole number from 1 to 100"),
    ("SEEDS", "101", "a whole number from 1 to 100"),
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
    assert not (fresh_project / "build").exists()  # no stamp, no record, nothing written
    assert not list(fresh_project.rglob("*.publishing*"))


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
    result = _run_make(fresh_project, "-n", "REBUILD=1", "functions",
                   f"QUICK={value}")
    assert result.returncode == 0, result.stderr
    assert "--figures-dir figures -p quick False" in result.stdout


def test_seeds_reruns_the_notebooks_it_affects_and_only_those(fresh_project):
    # Nothing to do at the default; SEEDS=3 makes exactly the seeded notebooks
    # out of date, and they are run with 3 seeds; a rejected value changes nothing.
    assert _planned(_run_make(fresh_project, "-n", "notebooks")) == set()
    changed = _run_make(fresh_project, "-n", "notebooks", "SEEDS=3")
    assert _planned(changed) == SEEDED
    assert all("-p seeds 3" in line for line in changed.stdout.splitlines()
               if PLANNED.search(line))
    rejected = _run_make(fresh_project, "-n", "notebooks", "SEEDS=99999999999999999999")
    assert rejected.returncode != 0 and "from 1 to 100" in rejected.stderr
    assert _planned(_run_make(fresh_project, "-n", "notebooks")) == set()
    _write_records(fresh_project, seeds=3)  # as if run with SEEDS=3
    assert _planned(_run_make(fresh_project, "-n", "notebooks", "SEEDS=3")) == set()
    assert _planned(_run_make(fresh_project, "-n", "notebooks")) == SEEDED


def test_workers_and_storage_do_not_make_anything_out_of_date(fresh_project):
    assert _planned(_run_make(fresh_project, "-n", "notebooks", "WORKERS=3",
                       "STORAGE=postgresql://mamgd@db.example.org/studies")) == set()


def test_storage_is_never_on_a_command_line_or_in_make_output(fresh_project):
    secret = "s3cret-pw-4711"
    url = f"postgresql://user1:{secret}@127.0.0.1:54329/secretdb"
    env = {k: v for k, v in _make_env().items() if k not in ("WORKERS",)}
    env["STORAGE"] = url
    out = subprocess.run([MAKE, "--no-print-directory", "-n", "REBUILD=1",
                          "equal-budget"], cwd=fresh_project, env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "11_equal_budget" in out.stdout and secret not in out.stdout + out.stderr
    assert "storage" not in out.stdout and "workers" not in out.stdout  # not parameters
    bad = subprocess.run([MAKE, "--no-print-directory", "-n", "equal-budget"], cwd=fresh_project,
                         env=dict(env, STORAGE=url.replace("postgresql", "bogus")),
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0 and "bogus://user1:***@127.0.0.1" in bad.stderr
    assert secret not in bad.stdout + bad.stderr
    assert not [p for p in Path(tempfile.gettempdir()).glob("tmp*")
                if p.is_file() and secret in p.read_text(errors="replace")]


def test_a_journal_in_a_missing_folder_is_rejected_and_not_created(fresh_project, tmp_path):
    where = tmp_path / "nonexistent" / "dir" / "x.journal"
    result = _run_make(fresh_project, "-n", "equal-budget", f"STORAGE={where}")
    assert result.returncode != 0 and "a folder that exists" in result.stderr
    assert not where.parent.exists()


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
                       re.M).group(1)
    recipe = shlex.split(recipe)
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
