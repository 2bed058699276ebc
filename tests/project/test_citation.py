"""CITATION.cff is valid CFF 1.2.0 and cites the MAMGD article.

The schema is the one shipped inside the installed ``cffconvert`` package
(``cffconvert/schemas/1.2.0/schema.json``), located without importing
cffconvert (whose own dependencies are not installed); the file is loaded
with PyYAML and validated with ``jsonschema``'s Draft 7 validator.
"""

import importlib.util
import json
from pathlib import Path

import pytest
import yaml

from conftest import ROOT

DOI = "10.3390/technologies12090154"


def _schema():
    spec = importlib.util.find_spec("cffconvert")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("cffconvert (the dev extra) is not installed")
    for location in spec.submodule_search_locations:
        path = Path(location) / "schemas" / "1.2.0" / "schema.json"
        if path.is_file():
            return json.loads(path.read_text(encoding="utf-8"))
    pytest.fail("cffconvert is installed but ships no schemas/1.2.0/schema.json")


@pytest.fixture(scope="module")
def citation():
    # CFF dates are strings; PyYAML would turn an unquoted date into a date object
    return yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))


def test_citation_cff_is_valid_cff_1_2_0(citation):
    jsonschema = pytest.importorskip("jsonschema")
    schema = _schema()
    assert citation["cff-version"] == "1.2.0"
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(citation), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def test_citation_cff_prefers_the_article(citation):
    preferred = citation["preferred-citation"]
    assert preferred["doi"] == DOI
    assert preferred["type"] == "article"
    assert [a["family-names"] for a in preferred["authors"]] == [
        "Sakovich", "Aksenov", "Pleshakova", "Gataullin"]


def test_the_validator_catches_an_invalid_file(citation):
    jsonschema = pytest.importorskip("jsonschema")
    broken = dict(citation)
    broken.pop("title")
    broken["preferred-citation"] = dict(citation["preferred-citation"], doi="not a doi")
    errors = list(jsonschema.Draft7Validator(_schema()).iter_errors(broken))
    assert len(errors) >= 2
