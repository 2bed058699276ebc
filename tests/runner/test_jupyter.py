"""The notebooks as Jupyter users meet them.

- JupyterLab is installed and its server opens the jupytext sources as
  notebooks (the contents API, on a real server on 127.0.0.1); saving one back
  leaves the source byte-identical (jupytext.toml).
- A notebook run by hand (Papermill without ``figures_dir``) writes to
  ``build/interactive/``, never to the published ``figures/``.
- The runner's executed notebooks are byte-stable: two runs, the same bytes.
- A bad parameter stops the notebook in its first code cell, naming it.
- A run stopped with SIGTERM or Ctrl-C leaves no scratch folder behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from mamgd_paper.runner import execute, scrub
from mamgd_paper.core import parameters
from conftest import ROOT, free_port, wait_for_server

BIN = Path(sys.executable).parent
SOURCES = sorted((ROOT / "notebooks").glob("*.py"))



# --------------------------------------------------------------------------
# JupyterLab and the contents API


def test_jupyter_lab_is_installed():
    result = subprocess.run([str(BIN / "jupyter"), "lab", "--version"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    major = int(result.stdout.strip().split(".")[0])
    assert major >= 4


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A real Jupyter server on a copy of the project's notebooks and jupytext.toml."""
    root = tmp_path_factory.mktemp("lab")
    shutil.copy2(ROOT / "jupytext.toml", root / "jupytext.toml")
    shutil.copytree(ROOT / "notebooks", root / "notebooks",
                    ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
    home = tmp_path_factory.mktemp("home")
    port, token = free_port(), "test-token"
    env = dict(os.environ, HOME=str(home), JUPYTER_RUNTIME_DIR=str(home / "runtime"),
               JUPYTER_CONFIG_DIR=str(home / "config"), JUPYTER_DATA_DIR=str(home / "data"))
    command = [sys.executable, "-m", "jupyter", "server", "--no-browser",
               f"--port={port}", "--ServerApp.ip=127.0.0.1", "--ServerApp.port_retries=0",
               f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    wait_for_server(f"{base}/api", process, 90, process.stderr.read)
    try:
        yield root, base, token
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def _api(server, path, method="GET", body=None):
    _, base, token = server
    request = urllib.request.Request(
        f"{base}/api/contents/{path}", method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"token {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_contents_api_opens_a_source_as_a_notebook_and_saves_it_unchanged(server, source):
    root = server[0]
    path = f"notebooks/{source.name}"
    model = _api(server, f"{path}?type=notebook&content=1")
    assert model["type"] == "notebook"
    cells = model["content"]["cells"]
    assert cells[0]["cell_type"] == "markdown" and cells[0]["source"].startswith("# ")
    code = [c for c in cells if c["cell_type"] == "code"]
    parameter_cells = [c for c in code if "parameters" in c["metadata"].get("tags", [])]
    assert len(parameter_cells) == 1 and "figures_dir = None" in parameter_cells[0]["source"]
    before = (root / path).read_bytes()
    _api(server, path, "PUT", {"type": "notebook", "format": "json",
                               "content": model["content"]})
    assert (root / path).read_bytes() == before, "saving in JupyterLab rewrote the source"
    paired = (root / path).with_suffix(".ipynb")
    assert paired.exists(), "jupytext.toml pairs each source with an .ipynb copy"


def test_contents_api_opens_an_executed_notebook(server):
    root = server[0]
    executed = sorted((root / "notebooks" / "executed").glob("*.ipynb"))
    assert executed, "no executed notebook to open"
    model = _api(server, f"notebooks/executed/{executed[0].name}?content=1")
    assert model["type"] == "notebook"
    assert any(c.get("outputs") for c in model["content"]["cells"])


def test_paired_copies_are_ignored_by_git():
    result = subprocess.run(["git", "check-ignore", "notebooks/01_test_functions.ipynb"],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, "notebooks/*.ipynb (hand-run copies) must be git-ignored"


# --------------------------------------------------------------------------
# Hand runs write to build/interactive


def _tree_digest(folder):
    digest = hashlib.sha256()
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


@pytest.mark.xdist_group("notebook-runs")
def test_hand_run_writes_to_build_interactive_not_figures(tmp_path):
    import jupytext
    import papermill

    published = _tree_digest(ROOT / "figures")
    scratch = parameters.INTERACTIVE / "03_trajectories"
    shutil.rmtree(scratch, ignore_errors=True)
    # what JupyterLab runs: the source as a notebook, here without figures_dir
    jupytext.write(jupytext.read(ROOT / "notebooks" / "03_trajectories.py"),
                   tmp_path / "03_trajectories.ipynb")
    papermill.execute_notebook(
        str(tmp_path / "03_trajectories.ipynb"), str(tmp_path / "run.ipynb"),
        parameters={"quick": True}, cwd=str(ROOT / "notebooks"), kernel_name="python3",
        progress_bar=False, log_output=False)
    assert _tree_digest(ROOT / "figures") == published, "a hand run changed figures/"
    written = {p.name for p in scratch.rglob("*") if p.is_file()}
    assert "traj_sphere.png" in written and "trajectories.csv" in written, written


def test_output_dir():
    assert parameters.output_dir(None, "07_x") == parameters.INTERACTIVE / "07_x"
    assert parameters.INTERACTIVE.is_relative_to(ROOT / "build")


# --------------------------------------------------------------------------
# Byte-stable executed notebooks


@pytest.mark.xdist_group("notebook-runs")
def test_executed_notebook_is_byte_stable():
    # inside the repository (build/ is git-ignored), as make runs it
    base = ROOT / "build" / "test-byte-stable"
    shutil.rmtree(base, ignore_errors=True)
    output = base / "executed" / "03_trajectories.ipynb"
    runs = []
    for index in range(2):
        execute.execute(ROOT / "notebooks" / "03_trajectories.py", output,
                        base / "figures", {"quick": True})
        runs.append(output.read_bytes())
    shutil.rmtree(base, ignore_errors=True)
    assert runs[0] == runs[1]
    text = runs[0].decode()
    for leak in (str(ROOT), "/tmp/", "start_time", "end_time", "duration",
                 "iopub.execute_input", "absl::InitializeLog", "oneDNN"):
        assert leak not in text, leak
    notebook = json.loads(text)
    assert [c["id"] for c in notebook["cells"]] == [
        f"cell-{i:03d}" for i in range(len(notebook["cells"]))]
    assert "jupytext" not in notebook["metadata"]
    assert (notebook["metadata"]["papermill"]["parameters"]["figures_dir"]
            == "../build/test-byte-stable/figures")


def test_make_stable_replaces_paths_and_drops_noise():
    import nbformat

    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "figures_dir = '/scratch/x/outputs'", outputs=[
            nbformat.v4.new_output("stream", name="stderr", text=(
                "WARNING: All log messages before absl::InitializeLog() is called are "
                "written to STDERR\nI0000 00:00:1795274203.859835    9349 port.cc:153] "
                "oneDNN custom operations are on.\nreal warning\n")),
            nbformat.v4.new_output("stream", name="stderr", text=(
                "I0000 00:00:1795274205.900366    9349 cudart_stub.cc:31] Could not "
                "find cuda drivers\n")),
            nbformat.v4.new_output("stream", name="stdout", text="wrote /scratch/x/outputs/a\n"),
            # a print that arrived in a later flush of the same stream
            nbformat.v4.new_output("stream", name="stdout", text="and b\n"),
            nbformat.v4.new_output("display_data", data={"text/plain": "x"}),
            nbformat.v4.new_output("stream", name="stdout", text="after\n"),
        ])])
    notebook.cells[0].metadata["execution"] = {"iopub.status.busy": "2026-01-01T00:00:00"}
    scrub.make_stable(notebook, {"/scratch/x/outputs": "../figures"})
    cell = notebook.cells[0]
    assert cell["id"] == "cell-000" and "execution" not in cell.metadata
    assert cell["source"] == "figures_dir = '../figures'"
    assert [o.get("text") for o in cell["outputs"]] == [
        "real warning\n", "wrote ../figures/a\nand b\n", None, "after\n"]


# --------------------------------------------------------------------------
# Parameters


@pytest.mark.parametrize("check, args, message", [
    (parameters.positive_int, ("seeds", 0), "seeds=0"),
    (parameters.positive_int, ("seeds", -1), "whole number >= 1"),
    (parameters.positive_int, ("seeds", 2.5), "seeds=2.5"),
    (parameters.positive_int, ("seeds", True), "seeds=True"),
    (parameters.boolean, ("quick", "yes"), "True or False"),
    (parameters.choice, ("table", 12, (7, 8, 9, 10, 11)), "one of 7, 8, 9, 10, 11"),
    (parameters.subset, ("network_tables", [], (7, 11)), "non-empty list"),
    (parameters.subset, ("network_tables", [7, 3], (7, 11)), "network_tables=[7, 3]"),
    (parameters.positive_number, ("learning_rate", 0.0), "finite number > 0"),
    (parameters.optional_path, ("data_dir", 3), "folder path"),
])
def test_bad_parameters_are_named(check, args, message):
    with pytest.raises(parameters.ParameterError, match=message.replace("[", r"\[")
                       .replace("]", r"\]").replace("+", r"\+")):
        check(*args)


def test_good_parameters_pass():
    assert parameters.positive_int("seeds", 5) == 5
    assert parameters.integer("seed", 0, minimum=0) == 0
    assert parameters.subset("t", (7, 11), (7, 11)) == [7, 11]
    assert parameters.positive_number("lr", 1e-3) == 1e-3
    assert parameters.choice("verbose", None, (None, 0, 1)) is None


@pytest.mark.xdist_group("notebook-runs")
def test_seeds_zero_stops_in_the_first_code_cell(tmp_path):
    with pytest.raises(execute.NotebookFailed) as failure:
        execute.execute(ROOT / "notebooks" / "network_task.py", tmp_path / "04.ipynb",
                        tmp_path / "figures", {"quick": True, "table": 7, "seeds": 0})
    message = str(failure.value)
    assert "ParameterError" in message and "seeds=0" in message
    assert "whole number from 1 to" in message
    failed = json.loads((tmp_path / "04.failed.ipynb").read_text())
    code = [c for c in failed["cells"] if c["cell_type"] == "code"]
    # parameters, injected parameters, then the first code cell: the one that failed
    errors = [i for i, c in enumerate(code)
              if any(o.get("output_type") == "error" for o in c.get("outputs", []))]
    assert errors == [2]
    assert not (tmp_path / "figures").exists() or not any((tmp_path / "figures").iterdir())


# --------------------------------------------------------------------------
# Stopping a run


SLEEPER = """\
# %% tags=["parameters"]
figures_dir = None

# %%
import pathlib, time
pathlib.Path(figures_dir, "partial.txt").write_text("half")
time.sleep(120)
"""


@pytest.mark.xdist_group("notebook-runs")
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stopped_run_leaves_nothing_behind(tmp_path, stop):
    source = tmp_path / "sleeper.py"
    source.write_text(SLEEPER)
    scratch_root = tmp_path / "tmp"
    scratch_root.mkdir()
    figures = tmp_path / "figures"
    output = tmp_path / "executed" / "sleeper.ipynb"
    env = dict(os.environ, TMPDIR=str(scratch_root), PYTHONPATH=str(ROOT))
    process = subprocess.Popen(
        [sys.executable, "-m", "mamgd_paper.runner", str(source), str(output),
         "--figures-dir", str(figures), "--run-times", str(tmp_path / "times")],
        env=env, cwd=ROOT, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not list(scratch_root.glob(f"{execute.SCRATCH_PREFIX}*/outputs/partial.txt")):
        assert process.poll() is None, process.stderr.read()
        assert time.monotonic() < deadline, "the notebook never reached its sleeping cell"
        time.sleep(0.2)
    process.send_signal(stop)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "stopped" in stderr
    # a clean stop: no traceback of the kernel's transport
    for noise in ("Traceback", "ZMQError", "DeadKernelError", "KeyboardInterrupt caught"):
        assert noise not in stderr, stderr[-3000:]
    assert list(scratch_root.iterdir()) == [], "the scratch folder was left behind"
    assert not output.exists() and not figures.exists()
    assert not (tmp_path / "times").exists()


def test_the_quiet_filter_runs_a_script_and_drops_only_start_up_noise(tmp_path):
    # `make benchmark` runs its scripts this way: TensorFlow's absl start-up
    # lines go, a real warning and the script's output and exit status stay.
    script = tmp_path / "noisy.py"
    script.write_text(
        "import sys\n"
        "sys.stderr.write('WARNING: All log messages before absl::InitializeLog() is called "
        "are written to STDERR\\n')\n"
        "sys.stderr.write('I0000 00:00:1796151070.162562   28420 cudart_stub.cc:31] "
        "Could not find cuda drivers on your machine, GPU will not be used.\\n')\n"
        "sys.stderr.write('To enable the following instructions: AVX2 FMA, in other "
        "operations, rebuild TensorFlow with the appropriate compiler flags.\\n')\n"
        "sys.stderr.write('UserWarning: a real warning\\n')\n"
        "print('result', sys.argv[1:])\n"
        "sys.exit(3)\n")
    result = subprocess.run([sys.executable, "-m", "mamgd_paper.runner.quiet", str(script),
                             "--rounds", "2"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 3
    assert result.stdout == "result ['--rounds', '2']\n"
    assert result.stderr == "UserWarning: a real warning\n"
