"""What the report says about where it ran: packages, machine, datasets, notebooks.

:func:`environment` (package versions, Python, platform, CPU),
:func:`dataset_checksums` (each registered dataset file and whether it
verifies), :func:`notebook_runs` (each executed notebook's parameters) and
:func:`default_executed_dir` (where the executed notebooks of a figures folder
live). Nothing here reads a clock: the report stays byte-stable.
"""

import ast
import json
import os
import platform
from importlib import metadata
from pathlib import Path

import pandas as pd

from mamgd_paper.core import paths
from mamgd_paper.datasets import files as datasets
from mamgd_paper.datasets.files import sha256_file

#: Packages whose versions the report lists.
PACKAGES = ("tensorflow", "keras", "numpy", "pandas", "matplotlib", "optuna", "papermill")


def folder(path):
    """A folder as the report shows it: repository-relative, else not by its machine path."""
    try:
        return f"`{Path(path).resolve().relative_to(paths.ROOT.resolve()).as_posix()}`"
    except ValueError:
        return "outside the repository (`$MAMGD_DATA_DIR`)"


def package_versions(packages=PACKAGES):
    """``{package: version}`` of ``packages`` (``"not installed"`` when absent)."""
    versions = {}
    for name in packages:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def cpu_model():
    """The CPU's model name (``/proc/cpuinfo``), else what :mod:`platform` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def environment():
    """Package versions, Python, platform, CPU model and core count."""
    return {
        "packages": package_versions(),
        "python": platform.python_version(),
        "platform": f"{platform.system()} {platform.machine()}",
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
    }


def dataset_checksums(data_dir=None):
    """Per dataset of :data:`mamgd_paper.datasets.files.REGISTRY`: Keras's sha256 and, when the
    file is in the data folder, its sha256 and whether it verifies."""
    directory = datasets.resolve_data_dir(data_dir)
    rows = []
    for name, entry in datasets.REGISTRY.items():
        path = directory / entry.fname
        present = path.is_file()
        actual = sha256_file(path) if present else ""
        if not present:
            status = "absent"
        elif actual == entry.sha256:
            status = "verified (Keras's file)"
        elif datasets.is_available(name, directory):
            status = "verified (re-pack; every array's sha256 matches)"
        else:
            status = "CHECKSUM FAILED"
        rows.append({"dataset": name, "file": entry.fname, "keras_sha256": entry.sha256,
                     "sha256": actual, "status": status})
    return directory, pd.DataFrame(rows)


def notebook_runs(executed_dir):
    """Executed notebooks: name and parameters (``figures_dir`` left out: it is
    where the runner published). No run time: the runner keeps executed
    notebooks free of timestamps and durations."""
    rows = []
    if executed_dir is None or not Path(executed_dir).is_dir():
        return pd.DataFrame(columns=["notebook", "parameters"])
    for path in sorted(Path(executed_dir).glob("*.ipynb")):
        if path.name.endswith(".failed.ipynb"):
            continue
        try:
            nb = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        meta = nb.get("metadata", {})
        pm = meta.get("papermill", {})
        params = _default_parameters(nb)
        params.update(pm.get("parameters", {}))
        params = {k: v for k, v in sorted(params.items()) if k != "figures_dir"}
        rows.append({"notebook": path.name,
                     "parameters": ", ".join(f"{k}={v!r}" for k, v in params.items())})
    return pd.DataFrame(rows, columns=["notebook", "parameters"])


def _default_parameters(nb, names=("quick", "seed", "seeds")):
    """``quick``, ``seed``, ``seeds`` as set in the notebook's ``parameters`` cell
    (the defaults Papermill's injected values override); literals only."""
    for cell in nb.get("cells", []):
        if "parameters" not in cell.get("metadata", {}).get("tags", []):
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        found = {}
        try:
            tree = ast.parse(source)
        except SyntaxError:
            return {}
        for node in tree.body:
            if (isinstance(node, ast.Assign) and len(node.targets) == 1
                    and isinstance(node.targets[0], ast.Name)
                    and node.targets[0].id in names):
                try:
                    found[node.targets[0].id] = ast.literal_eval(node.value)
                except ValueError:
                    pass
        return found
    return {}


def default_executed_dir(figures_dir):
    """Where the executed notebooks of ``figures_dir`` live: ``notebooks/executed``
    for the project's ``figures``; ``<parent>/notebooks`` otherwise (the
    Makefile's quick layout ``build/quick/{figures,notebooks}``)."""
    figures_dir = Path(figures_dir).resolve()
    if figures_dir == paths.FIGURES.resolve():
        return paths.EXECUTED
    return figures_dir.parent / "notebooks"

