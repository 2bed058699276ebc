"""Which Keras backend is selected, and the error when it is not installed.

Standard library only: it runs when ``import keras`` has just failed.
"""

import importlib.util
import json
import os

#: The exact install command of each Keras backend (CPU builds).
INSTALL_COMMANDS = {
    "tensorflow": "pip install tensorflow",
    "jax": 'pip install "jax[cpu]"',
    "torch": "pip install torch",
}


def _keras_dir():
    # As keras/src/backend/config.py: $KERAS_HOME, else ~/.keras (/tmp/.keras
    # when the home folder is not writable).
    if "KERAS_HOME" in os.environ:
        return os.environ["KERAS_HOME"]
    base = os.path.expanduser("~")
    if not os.access(base, os.W_OK):
        base = "/tmp"
    return os.path.join(base, ".keras")


def selected_backend():
    """``(backend, how)``: the backend Keras selects and where that choice came from.

    Keras reads ``KERAS_BACKEND`` first, then ``keras.json`` in ``$KERAS_HOME``
    or ``~/.keras``, and defaults to TensorFlow.
    """
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"], "KERAS_BACKEND"
    path = os.path.join(_keras_dir(), "keras.json")
    try:
        with open(path) as handle:
            backend = json.load(handle).get("backend")
    except (OSError, ValueError, AttributeError):
        backend = None
    if backend:
        return backend, path
    return "tensorflow", "Keras's default: KERAS_BACKEND is unset and no keras.json names one"


def _installed(module):
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def missing_backend_error(missing):
    """The ImportError for ``import keras`` failing on the missing module ``missing``."""
    backend, how = selected_backend()
    command = INSTALL_COMMANDS.get(backend, f"pip install {backend}")
    others = [name for name in INSTALL_COMMANDS if name != backend and _installed(name)]
    message = (
        f"mamgd's Keras optimizers need Keras's backend {backend!r} ({how}), and "
        f"{missing!r} is not installed. Install it with `{command}`"
    )
    if others:
        choices = " or ".join(f"KERAS_BACKEND={name}" for name in others)
        message += f", or use the installed backend instead: set {choices}."
    else:
        message += (
            ", or install another backend and select it: "
            + "; ".join(f"`{INSTALL_COMMANDS[name]}` with KERAS_BACKEND={name}"
                        for name in INSTALL_COMMANDS if name != backend)
            + "."
        )
    message += (" mamgd.reference, mamgd.functions, mamgd.torch and mamgd.optax "
                "do not need Keras.")
    return ImportError(message)
