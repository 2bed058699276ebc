"""The TensorFlow-backend tests of the Keras classes, in a process of their own.

``make test`` runs Keras on JAX in its processes (the pipeline's backend); the
tests of ``test_optimizers.py`` need TensorFlow tensors, so they run here under
``KERAS_BACKEND=tensorflow`` and must all pass.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.heavy
def test_keras_classes_on_the_tensorflow_backend():
    env = dict(os.environ, KERAS_BACKEND="tensorflow", TF_CPP_MIN_LOG_LEVEL="3")
    env.pop("PYTEST_XDIST_WORKER", None)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
         str(ROOT / "tests" / "library" / "test_optimizers.py")],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=900)
    tail = result.stdout[-3000:] + result.stderr[-2000:]
    assert result.returncode == 0, tail
    assert " passed" in result.stdout and "skipped" not in result.stdout.splitlines()[-1], tail
