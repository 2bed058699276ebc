"""`make lab`, the command the README gives, starts JupyterLab on the project.

The test runs the Makefile target itself in the background (as the user the
tests run as: root in CI and containers), on 127.0.0.1 with Jupyter's own
JUPYTER_PORT and JUPYTER_TOKEN variables, opens a notebook source through the
contents API as a notebook, reads Lab's settings, and stops the server.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import urllib.error
import urllib.request

import pytest

from conftest import ROOT, free_port, wait_for_server

pytestmark = pytest.mark.xdist_group("jupyter")



@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    port, token = free_port(), "lab-test-token"
    env = dict(os.environ, HOME=str(home), JUPYTER_PORT=str(port), JUPYTER_TOKEN=token,
               LAB_IP="127.0.0.1", JUPYTER_RUNTIME_DIR=str(home / "runtime"),
               JUPYTER_CONFIG_DIR=str(home / "config"))
    env.pop("MAKEFLAGS", None)
    log = home / "lab.log"
    with open(log, "w") as out:
        process = subprocess.Popen(["make", "--no-print-directory", "lab"], cwd=ROOT, env=env,
                                   stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_server(f"{base}/api", process, 120, log.read_text)
        yield base, token, log
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _get(base, token, path):
    request = urllib.request.Request(f"{base}{path}",
                                     headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def test_make_lab_opens_a_notebook_source_as_a_notebook(lab):
    base, token, log = lab
    model = _get(base, token, "/api/contents/notebooks/03_trajectories.py?type=notebook")
    assert model["type"] == "notebook"
    cells = model["content"]["cells"]
    assert [c for c in cells if c["cell_type"] == "code"]
    assert any("trajectories" in "".join(c["source"]) for c in cells)
    text = log.read_text()
    assert "--allow-root" in text or os.geteuid() != 0, text[-2000:]


def test_make_lab_refuses_a_wrong_token(lab):
    base, _, _ = lab
    with pytest.raises(urllib.error.HTTPError) as error:
        _get(base, "not-the-token", "/api/contents/notebooks")
    assert error.value.code == 403


def test_lab_settings_open_sources_as_notebooks_and_ask_no_news_question(lab):
    base, token, _ = lab
    # The server applies overrides.json to the settings' defaults (its schema).
    notification = _get(base, token,
                        "/lab/api/settings/@jupyterlab/apputils-extension:notification")
    properties = notification["schema"]["properties"]
    assert properties["fetchNews"]["default"] == "false"
    assert properties["checkForUpdates"]["default"] is False
    docmanager = _get(base, token, "/lab/api/settings/@jupyterlab/docmanager-extension:plugin")
    viewers = docmanager["schema"]["properties"]["defaultViewers"]["default"]
    assert viewers["python"] == "Jupytext Notebook"
