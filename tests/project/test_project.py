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


def _declared_dependencies():
    """The library's dependencies (pyproject.toml) and the pipeline's and tests'
    (requirements.in), by name."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = list(project["dependencies"])
    for line in (ROOT / "requirements.in").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            names.append(line.strip())
    return {re.split(r"[\[<>=!~ ]", n)[0].lower().replace("_", "-") for n in names}


def test_requirements_in_lists_only_what_the_lock_pins():
    lock = _lock_pins()
    missing = sorted(name for name in _declared_dependencies() if name not in lock)
    assert not missing, f"pin these in requirements.lock (make lock): {missing}"


def test_environment_yml_pins_equal_the_lock_file():
    lock, conda = _lock_pins(), _conda_pip_pins()
    different = {n: (v, lock.get(n)) for n, v in conda.items() if lock.get(n) != v}
    assert not different, f"environment.yml vs requirements.lock: {different}"


def test_every_declared_dependency_is_pinned_in_both_install_paths():
    lock, conda = _lock_pins(), _conda_pip_pins()
    for name in _declared_dependencies():
        assert name in lock, f"{name} missing from requirements.lock (run `make lock`)"
        assert name in conda, f"{name} missing from environment.yml"


def test_installed_versions_are_the_locked_ones():
    from importlib.metadata import version

    lock = _lock_pins()
    for name in ("tensorflow", "keras", "numpy", "optuna", "papermill", "pandas"):
        assert version(name) == lock[name], name


def _commands(text):
    """The command lines of a shell script: no comments, blank lines or
    continuation breaks."""
    text = text.replace("\\\n", " ")
    return [line.strip() for line in text.splitlines()
            if line.strip() and not line.strip().startswith("#")]


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    # The README's first shell block gives the two commands.
    block = readme.split("```sh\n", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in block.splitlines()]
    assert commands[:2] == ["make test", "make reproduce"], commands
    ci = _commands((ROOT / ".ci" / "run").read_text())
    # `set -e` makes any failing command fail CI; the README's command is the
    # last one, run as it is written, so its exit status is CI's.
    assert ci[0] == "set -euo pipefail", ci[0]
    assert ci[-1] == commands[0], f"CI's last command is {ci[-1]!r}, not {commands[0]!r}"
    # the heavy end-to-end tests that make test leaves out run in CI too
    assert "make test-heavy" in ci, ci


def test_readme_results_block_is_the_generated_report_summary():
    readme = (ROOT / "README.md").read_text()
    block = readme.split("<!-- report-summary:start -->")[1].split("<!-- report-summary:end -->")[0]
    generated = (ROOT / "figures" / "tables" / "report_summary.md").read_text()
    assert block.strip() == generated.strip(), "README results are stale: paste report_summary.md"
