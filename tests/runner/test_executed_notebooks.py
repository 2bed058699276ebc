"""The committed executed notebooks are clean and byte-stable.

What readers browse must not depend on who ran it or when: no machine path,
no random id, no warning the reader did not cause, no transport noise of a
stopped kernel, and the parameters `make` passes.
"""

import json
import re

import pytest

from conftest import ROOT

EXECUTED = sorted((ROOT / "notebooks" / "executed").glob("*.ipynb"))
#: Absolute paths of the kinds a machine puts into a notebook.
MACHINE_PATH = re.compile(r"(?<![\w.])/(?:work|root|home|tmp|usr|opt|var|Users)/")
#: pandas Styler ids are random unless set (``T_3ee8f``).
STYLER_ID = re.compile(r"\bT_[0-9a-f]{5}\b")
NOISE = ("TqdmWarning", "KeyboardInterrupt caught in kernel", "ZMQError", "DeadKernelError")


def _outputs(path):
    notebook = json.loads(path.read_text(encoding="utf-8"))
    for cell in notebook["cells"]:
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        yield "source", source
        for output in cell.get("outputs", []):
            text = output.get("text", "")
            yield "output", "".join(text) if isinstance(text, list) else text
            for kind, data in output.get("data", {}).items():
                if kind.startswith("text/"):
                    yield "output", "".join(data) if isinstance(data, list) else data


def test_there_are_executed_notebooks():
    assert len(EXECUTED) >= 11


@pytest.mark.parametrize("path", EXECUTED, ids=lambda p: p.stem)
def test_no_machine_path_random_id_or_noise(path):
    for _, text in _outputs(path):
        assert not MACHINE_PATH.search(text), (path.name, MACHINE_PATH.search(text).group(0),
                                               text[:300])
        assert not STYLER_ID.search(text), (path.name, STYLER_ID.search(text).group(0))
        for noise in NOISE:
            assert noise not in text, (path.name, noise)


@pytest.mark.parametrize("path", EXECUTED, ids=lambda p: p.stem)
def test_parameters_are_the_ones_make_passes(path):
    # The Makefile's defaults: full run, each notebook's own number of seeds (make
    # passes none), the equal-budget workers through the environment.
    notebook = json.loads(path.read_text(encoding="utf-8"))
    injected = [c for c in notebook["cells"]
                if "injected-parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(injected) == 1, path.name
    source = "".join(injected[0]["source"])
    assert "quick = False" in source and "seeds =" not in source, source
    # run-only settings never land in an executed notebook (make passes them in the
    # environment): a storage URL may hold a password
    assert "storage =" not in source, source
