"""The library (`mamgd/`) stands alone: keras and numpy only, no experiment code.

`import mamgd` is what a user of the optimizer pays for; the paper pipeline
(`mamgd_paper/`, with TensorFlow, pandas, Matplotlib, Optuna, Papermill,
jupytext) must never come with it, neither at import time nor in the wheel.
"""

import ast
import os
import subprocess
import sys
import textwrap
import tomllib
import zipfile

import pytest

from conftest import ROOT

#: Packages the library must not need (the companion's tools and TensorFlow).
PIPELINE_PACKAGES = ("tensorflow", "pandas", "matplotlib", "optuna", "papermill", "jupytext")


def _run(code, backend):
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env,
                            capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip().splitlines()[-1]


def test_import_mamgd_on_jax_loads_none_of_the_pipeline_packages():
    # Keras itself imports pandas and Matplotlib when they are installed (its
    # data adapters); what matters is that mamgd adds none of them and that
    # TensorFlow, Optuna, Papermill and jupytext are not loaded at all.
    out = _run(f"""
        import sys
        import keras
        before = set(sys.modules)
        import mamgd
        added = sorted(m for m in set(sys.modules) - before
                       if m.split(".")[0] in {PIPELINE_PACKAGES!r})
        loaded = sorted(m for m in ("tensorflow", "optuna", "papermill", "jupytext")
                        if m in sys.modules)
        print(keras.backend.backend(), added, loaded)
    """, "jax")
    assert out == "jax [] []"


def test_mamgd_trains_on_jax_with_the_pipeline_packages_unavailable():
    # With every pipeline package made unimportable, `import mamgd` still works
    # and an update step runs: the library does not need them.
    out = _run(f"""
        import importlib.abc, sys
        class Block(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path, target=None):
                if name.split(".")[0] in {PIPELINE_PACKAGES!r}:
                    raise ImportError("blocked: " + name)
        sys.meta_path.insert(0, Block())
        import numpy as np, keras, mamgd
        v = keras.Variable(np.ones(2, "float32"))
        mamgd.MAMGD(0.1, k=0.1).apply([keras.ops.ones(2)], [v])
        ref = mamgd.reference.mamgd(0.1, k=0.1, dtype=np.float32)
        expected, _ = ref.update(np.ones(2, np.float32), np.ones(2, np.float32),
                                 ref.init(np.ones(2, np.float32)))
        print(bool(np.array_equal(keras.ops.convert_to_numpy(v), expected)))
    """, "jax")
    assert out == "True"


def test_declared_dependencies_are_keras_and_numpy():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = sorted(dep.split(">")[0].split("=")[0].split("[")[0].strip()
                   for dep in project["dependencies"])
    assert names == ["keras", "numpy"]
    # The extras name Keras backends and optax (mamgd.optax), never the pipeline's tools.
    extras = project["optional-dependencies"]
    assert set(extras) == {"tensorflow", "jax", "torch", "optax"}
    names = {dep.split(">")[0].split("=")[0].split("[")[0].strip()
             for deps in extras.values() for dep in deps}
    assert names <= {"tensorflow", "jax", "torch", "optax"}


_BLOCK_BACKENDS = """
import sys
for blocked in BLOCKED:
    sys.modules[blocked] = None  # import fails, find_spec says absent
try:
    import mamgd
    print("import mamgd: ok")
    mamgd.MAMGD
except ImportError as error:
    print(type(error).__name__, error)
"""


def _without(blocked, env, tmp_path):
    child_env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    child_env.update(env, KERAS_HOME=str(tmp_path))
    result = subprocess.run([sys.executable, "-c", f"BLOCKED = {blocked!r}\n" + _BLOCK_BACKENDS],
                            env=child_env, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.strip().splitlines()
    assert lines[0] == "import mamgd: ok"  # the Keras classes load lazily
    return lines[-1]


def test_without_a_backend_the_error_names_the_selected_one_and_its_install_command(tmp_path):
    message = _without(("tensorflow", "jax", "torch"), {"KERAS_BACKEND": "tensorflow"}, tmp_path)
    assert message.startswith("ImportError mamgd's Keras optimizers need Keras's backend "
                              "'tensorflow' (KERAS_BACKEND)"), message
    assert "`pip install tensorflow`" in message
    assert '`pip install "jax[cpu]"` with KERAS_BACKEND=jax' in message


def test_the_backend_error_follows_keras_json_and_names_jax_cpu(tmp_path):
    (tmp_path / "keras.json").write_text('{"backend": "jax"}')
    message = _without(("tensorflow", "jax", "torch"), {}, tmp_path)
    assert f"backend 'jax' ({tmp_path / 'keras.json'})" in message, message
    assert '`pip install "jax[cpu]"`' in message


def test_the_backend_error_with_keras_default_points_to_an_installed_backend(tmp_path):
    # KERAS_BACKEND unset, no keras.json, TensorFlow missing, JAX installed:
    # install TensorFlow, or select the JAX that is there.
    # (Keras writes its default keras.json on first import, before it fails)
    message = _without(("tensorflow",), {}, tmp_path)
    assert (f"backend 'tensorflow' ({tmp_path / 'keras.json'})" in message
            or "backend 'tensorflow' (Keras's default" in message), message
    assert "`pip install tensorflow`" in message
    assert "set KERAS_BACKEND=jax" in message and "pip install jax" not in message


def test_reference_and_functions_import_with_numpy_alone():
    code = """
import sys
for blocked in ("keras", "tensorflow", "jax", "torch", "optax", "mamgd_paper"):
    sys.modules[blocked] = None
import mamgd.reference, mamgd.functions
import numpy as np
f = mamgd.functions.get(1)
path = mamgd.reference.run(mamgd.reference.mamgd(0.1, k=f.paper_k), f, f.start, 2)
print(f"{float(f.error(path[2])):.6f}")
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "1.959703"  # Table 1, MAMGD, N = 2


def test_import_keras_then_mamgd_registers_the_optimizers():
    out = _run("""
        import keras, mamgd
        print(sorted(k for k in keras.saving.get_custom_objects() if k.startswith("mamgd>")))
    """, "jax")
    assert out == "['mamgd>AdaExp', 'mamgd>MAMGD']"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """The wheel `pip wheel --no-deps .` builds from the repository."""
    out = tmp_path_factory.mktemp("wheel")
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
                             "-w", str(out), str(ROOT)], capture_output=True, text=True,
                            timeout=600, cwd=out)
    assert result.returncode == 0, result.stderr[-3000:]
    (path,) = out.glob("mamgd-*.whl")
    return path


def test_the_wheel_holds_the_library_and_its_metadata_only(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = archive.read(next(n for n in names if n.endswith(".dist-info/METADATA")))
        top_level = archive.read(next(n for n in names if n.endswith("top_level.txt")))
    assert top_level.decode().split() == ["mamgd"]
    assert {name.split("/")[0] for name in names} == {"mamgd", "mamgd-0.1.0.dist-info"}
    package = sorted(n for n in names if n.startswith("mamgd/"))
    assert package == sorted(f"mamgd/{p.name}" for p in (ROOT / "mamgd").glob("*.py"))
    text = metadata.decode()
    # The long description is the library's own readme, not the pipeline's README.
    assert "Description-Content-Type: text/markdown" in text
    long_description = text.split("\n\n", 1)[1]
    assert long_description.strip() == (ROOT / "mamgd" / "README.md").read_text().strip()
    assert "make reproduce" not in long_description
    for field in ("Project-URL: Paper, https://doi.org/10.3390/technologies12090154",
                  "Project-URL: Citation, CITATION.cff in the source repository",
                  "Project-URL: Documentation, mamgd/README.md in the source repository",
                  "Provides-Extra: torch", "Provides-Extra: optax",
                  "License-Expression: MIT", "Classifier: Programming Language :: Python :: 3",
                  "Requires-Dist: keras>=3.10", "Requires-Dist: numpy"):
        assert field in text, field


#: What each module of the library may import at its top (the standard
#: library's modules it uses, its own framework, the package itself).
ALLOWED_IMPORTS = {
    "__init__.py": {"importlib", "sys", "mamgd"},
    "_checks.py": {"math", "numbers"},
    "_backend.py": {"importlib", "json", "os"},
    "functions.py": {"numpy", "dataclasses", "typing", "__future__"},
    "reference.py": {"numpy", "math", "typing", "__future__", "mamgd"},
    "optimizers.py": {"keras", "mamgd"},
    # numpy (a dependency of the wheel): its float32 square root is correctly rounded
    "torch.py": {"torch", "numpy", "math", "struct", "mamgd"},
    "optax.py": {"jax", "optax", "typing", "mamgd"},
}


def test_library_modules_import_only_what_they_use():
    assert {p.name for p in (ROOT / "mamgd").glob("*.py")} == set(ALLOWED_IMPORTS)
    for path in sorted((ROOT / "mamgd").glob("*.py")):
        allowed = ALLOWED_IMPORTS[path.name]
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                roots = [alias.name.split(".")[0] for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                roots = [(node.module or "").split(".")[0]]
                private = [a.name for a in node.names if a.name.startswith("_")]
                assert not private, f"{path.name} imports private names {private}"
            else:
                continue
            assert set(roots) <= allowed, f"{path.name} imports {roots}"
        functions = [n for n in ast.walk(tree)
                     if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
        for function in functions:
            nested = [n for n in ast.walk(function) if isinstance(n, (ast.Import, ast.ImportFrom))]
            assert not nested, f"{path.name}: import inside {function.name}()"


def test_the_pipeline_uses_no_private_names_of_the_library():
    for path in sorted((ROOT / "mamgd_paper").rglob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("mamgd"):
                assert not [a for a in node.names if a.name.startswith("_")], path.name
            if (isinstance(node, ast.Attribute) and node.attr.startswith("_")
                    and not node.attr.startswith("__")
                    and isinstance(node.value, ast.Name) and node.value.id in ("R", "reference")):
                raise AssertionError(f"{path.name} uses mamgd.reference.{node.attr}")
