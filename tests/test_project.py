"""The project's set-up files agree with each other."""

import re

import yaml

from conftest import ROOT


def _lock_pins():
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[name.lower().replace("_", "-")] = version
    return pins


def _conda_pip_pins():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    return dict(
        (name.lower().replace("_", "-"), version)
        for name, version in (line.split("==") for line in pip_section)
    )


def _pyproject_dependencies():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = project["dependencies"] + project["optional-dependencies"]["dev"]
    return {re.split(r"[\[<>=!~ ]", n)[0].lower().replace("_", "-") for n in names}


def test_environment_yml_pins_equal_the_lock_file():
    lock, conda = _lock_pins(), _conda_pip_pins()
    different = {n: (v, lock.get(n)) for n, v in conda.items() if lock.get(n) != v}
    assert not different, f"environment.yml vs requirements.lock: {different}"


def test_every_declared_dependency_is_pinned_in_both_install_paths():
    lock, conda = _lock_pins(), _conda_pip_pins()
    for name in _pyproject_dependencies():
        assert name in lock, f"{name} missing from requirements.lock (run `make lock`)"
        assert name in conda, f"{name} missing from environment.yml"


def test_installed_versions_are_the_locked_ones():
    from importlib.metadata import version

    lock = _lock_pins()
    for name in ("tensorflow", "keras", "numpy", "optuna", "papermill", "pandas"):
        assert version(name) == lock[name], name


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "make test" in ci
    assert "make test" in readme and "make reproduce" in readme


def test_readme_results_block_is_the_generated_report_summary():
    readme = (ROOT / "README.md").read_text()
    block = readme.split("<!-- report-summary:start -->")[1].split("<!-- report-summary:end -->")[0]
    generated = (ROOT / "figures" / "tables" / "report_summary.md").read_text()
    assert block.strip() == generated.strip(), "README results are stale: paste report_summary.md"
