"""docs/protocol.md: the project's own protocol, cited correctly and in step with the code.

(a) No file of the repository points the reader at the paper notes that live
    outside it. Test files may *read* such data (a path literal in code), but
    their comments and docstrings may not cite it, and no other file may name
    the folder next to the checkout at all (the Makefile and the CI script,
    which set the data directory for the tests, are treated as test files).
(b) Every "docs/protocol.md, section N" citation names a section that exists.
(c) The Markdown tables of docs/protocol.md state the numbers that the code
    declares: ``mamgd.functions.PAPER_FUNCTIONS`` in section 3,
    ``mamgd_paper.experiments.networks.tasks.TASKS`` in section 4, and the update-step arithmetic
    of the preamble. The table rows are parsed, so one wrong number fails.
"""

from __future__ import annotations

import ast
import io
import math
import re
import subprocess
import tokenize
from pathlib import Path

import pytest

from mamgd_paper.experiments.networks.tasks import TASKS
from mamgd.functions import PAPER_FUNCTIONS

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "protocol.md"

#: The sections, numbered as the code cites them.
SECTIONS = {
    1: "The update rule behind the published numbers",
    2: "The algorithm as printed (Algorithm 6) and AdaExp (Algorithm 7)",
    3: "Test-function experiments (Tables 1-6, Figures 1-6)",
    4: "Network experiments (Tables 7-11, Figures 7-11)",
    5: "From-scratch references",
    6: "Datasets offline",
    7: "Equal-budget comparison (beyond the paper), protocol version 2",
}

#: Names that no file may use to cite the external notes (test code may read them).
EXTERNAL_NOTES = ("PROTOCOL.md", "shared/paper")
#: The folder next to the checkout: only test files may refer to it.
SHARED_FOLDER = "../shared"
#: Files that run the tests and may therefore read data from outside.
HARNESS_PREFIXES = ("tests/", ".ci/")
HARNESS_FILES = ("Makefile",)
#: Regenerated outputs, not sources.
SKIPPED_PREFIXES = ("notebooks/executed/",)


# --------------------------------------------------------------------------
# helpers


def repository_files():
    """Text files of the working tree that git tracks or would track: (path, text)."""
    try:
        listing = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT, capture_output=True, check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    files = []
    for name in sorted(set(listing.decode().split("\0")) - {""}):
        if name.startswith(SKIPPED_PREFIXES):
            continue
        path = ROOT / name
        if not path.is_file():
            continue  # deleted or renamed in the working tree
        data = path.read_bytes()
        if b"\0" in data:
            continue  # binary
        try:
            files.append((name, data.decode("utf-8")))
        except UnicodeDecodeError:
            continue
    assert files, "git listed no files"
    return files


def is_harness(name):
    return name.startswith(HARNESS_PREFIXES) or name in HARNESS_FILES


def python_prose(text):
    """The parts of Python source a reader reads as text: comments, docstrings
    and string literals that contain whitespace (messages, not paths)."""
    prose = [tok.string for tok in tokenize.generate_tokens(io.StringIO(text).readline)
             if tok.type == tokenize.COMMENT]
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if any(ch.isspace() for ch in node.value):
                prose.append(node.value)
    # Docstrings are string constants too; a one-word docstring is still prose.
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            doc = ast.get_docstring(node, clean=False)
            if doc:
                prose.append(doc)
    return "\n".join(prose)


def external_references(name, text):
    """The forbidden names that file ``name`` uses where it may not."""
    if is_harness(name):
        checked = python_prose(text) if name.endswith(".py") else text
        patterns = EXTERNAL_NOTES
    else:
        checked = text
        patterns = EXTERNAL_NOTES + (SHARED_FOLDER,)
    return [pattern for pattern in patterns if pattern in checked]


#: "docs/protocol.md, section 3", "docs/protocol.md, sections 1 and 2", across a
#: line break with comment markers in between, with or without Markdown code marks.
CITATION = re.compile(
    r"docs/protocol\.md`?,?[\s#:*>`]*\b(sections?)\s+(\d+)"
    r"((?:\s*,\s*\d+)*(?:\s*(?:,\s*)?(?:and|to|-)\s*\d+)?)"
)


def cited_sections(text):
    """Every section number cited in ``text``: [(number, excerpt)]."""
    found = []
    for match in CITATION.finditer(text):
        word, first, rest = match.groups()
        numbers = [int(first)]
        if word == "sections":
            tail = [int(n) for n in re.findall(r"\d+", rest)]
            if re.search(r"\b(to)\b|-", rest) and tail:
                numbers = list(range(int(first), tail[-1] + 1))
            else:
                numbers += tail
        found += [(n, " ".join(match.group(0).split())) for n in numbers]
    return found


def doc_text():
    assert DOC.is_file(), "docs/protocol.md is missing"
    return DOC.read_text(encoding="utf-8")


def headings(text):
    return {int(m.group(1)): m.group(2).strip()
            for m in re.finditer(r"^## (\d+)\. (.+)$", text, re.M)}


def section(text, number):
    """The body of ``## number.`` up to the next ``## `` heading."""
    start = re.search(rf"^## {number}\. .*$", text, re.M)
    assert start, f"docs/protocol.md has no section {number}"
    end = re.search(r"^## ", text[start.end():], re.M)
    return text[start.end():start.end() + end.start()] if end else text[start.end():]


def markdown_tables(text):
    """Every Markdown table in ``text`` as a list of {header: cell} rows."""
    tables, block = [], []
    for line in text.splitlines() + [""]:
        if line.strip().startswith("|"):
            block.append([cell.strip() for cell in line.strip().strip("|").split("|")])
            continue
        if len(block) >= 2 and all(set(c) <= set("-: ") for c in block[1]):
            header = block[0]
            rows = []
            for cells in block[2:]:
                assert len(cells) == len(header), f"ragged table row {cells}"
                rows.append(dict(zip(header, cells)))
            tables.append(rows)
        block = []
    return tables


def table_with(text, *columns):
    """Rows of the single table that has all of ``columns``, keyed by its ``table`` cell."""
    matching = [rows for rows in markdown_tables(text)
                if rows and all(c in rows[0] for c in ("table",) + columns)]
    assert len(matching) == 1, f"expected one table with columns {columns}, found {len(matching)}"
    rows = {}
    for row in matching[0]:
        number = int(row["table"])
        assert number not in rows, f"table {number} has two rows"
        rows[number] = row
    return rows


def plain(cell):
    return cell.replace("`", "").replace("*", "").strip()


def numbers(cell):
    return tuple(float(x) for x in re.findall(r"-?\d+(?:\.\d+)?(?:e[+-]?\d+)?", plain(cell)))


def significant_digits(literal):
    mantissa = re.split(r"[eE]", literal)[0].lstrip("+-").replace(".", "")
    return len(mantissa.lstrip("0"))


# --------------------------------------------------------------------------
# (a) no citation of the external notes


def test_no_file_cites_the_external_notes():
    offenders = []
    for name, text in repository_files():
        for pattern in external_references(name, text):
            lines = [i + 1 for i, line in enumerate(text.splitlines()) if pattern in line]
            offenders.append(f"{name}:{lines or '?'}: {pattern!r}")
    assert not offenders, (
        "cite docs/protocol.md (or the paper) instead of files outside the repository:\n"
        + "\n".join(offenders))


def test_reference_rule_itself():
    outside = "../" + "shared/data/keras"
    code = f'DATA = Path("{outside}")\nNOTES = ROOT / "shared" / "paper" / "{EXTERNAL_NOTES[0]}"\n'
    assert external_references("tests/test_x.py", code) == []
    assert external_references("companion/x.py", code) == list(EXTERNAL_NOTES[:1]) + [SHARED_FOLDER]
    comment = f"# see {EXTERNAL_NOTES[0]}, section 4\nx = 1\n"
    assert external_references("tests/test_x.py", comment) == [EXTERNAL_NOTES[0]]
    docstring = f'"""Facts from {EXTERNAL_NOTES[1]}."""\n'
    assert external_references("tests/test_x.py", docstring) == [EXTERNAL_NOTES[1]]
    assert external_references("Makefile", f"DIR := {outside}\n") == []
    assert external_references("README.md", f"copies in {outside}\n") == [SHARED_FOLDER]


# --------------------------------------------------------------------------
# (b) section citations resolve


def test_doc_has_its_sections():
    assert headings(doc_text()) == SECTIONS


def test_section_citations_exist():
    existing = set(headings(doc_text()))
    citations, missing = 0, []
    for name, text in repository_files():
        for number, excerpt in cited_sections(text):
            citations += 1
            if number not in existing:
                missing.append(f"{name}: {excerpt!r}")
    assert citations >= 20, f"only {citations} citations found: is the pattern broken?"
    assert not missing, "citations of sections that docs/protocol.md does not have:\n" + "\n".join(missing)


def test_anchor_links_exist():
    slugs = set()
    for line in re.findall(r"^#+ (.+)$", doc_text(), re.M):
        slug = re.sub(r"[^\w\- ]", "", line.strip().lower()).replace(" ", "-")
        slugs.add(slug)
    broken = []
    for name, text in repository_files():
        for anchor in re.findall(r"docs/protocol\.md#([\w\-]+)", text):
            if anchor not in slugs:
                broken.append(f"{name}: #{anchor}")
    assert not broken, "links to headings that docs/protocol.md does not have:\n" + "\n".join(broken)


def test_citation_pattern():
    text = ("(docs/protocol.md, section 3) ... docs/protocol.md, sections 1 and 2;\n"
            "# from docs/protocol.md,\n# section 5: ... `docs/protocol.md`, sections 2-4 "
            "docs/protocol.md, section 3, 100 trials")
    assert [n for n, _ in cited_sections(text)] == [3, 1, 2, 5, 2, 3, 4, 3]
    assert [n for n, _ in cited_sections("see docs/protocol.md, section " + "7")] == [7]


# --------------------------------------------------------------------------
# (c) the tables state what the code declares


def test_section3_table_matches_the_functions():
    rows = table_with(section(doc_text(), 3), "start", "target", "steps shown",
                      "MAMGD k", "k-search step")
    assert sorted(rows) == sorted(f.table for f in PAPER_FUNCTIONS)
    for f in PAPER_FUNCTIONS:
        row = rows[f.table]
        printed = plain(row["MAMGD k"])
        digits = significant_digits(printed)
        assert digits >= 4, f"Table {f.table}: k printed with {digits} significant digits"
        assert float(printed) == float(format(f.paper_k, f".{digits}g")), (
            f"Table {f.table}: docs/protocol.md says k = {printed}, the code {f.paper_k!r}")
        assert int(plain(row["k-search step"])) == f.search_steps, f"Table {f.table}: k-search step"
        shown = [int(n) for n in re.findall(r"\d+", row["steps shown"])]
        assert (shown[0], shown[-1]) == (2, f.max_steps), f"Table {f.table}: steps shown"
        assert numbers(row["start"]) == tuple(f.start), f"Table {f.table}: start"
        assert numbers(row["target"]) == tuple(f.target), f"Table {f.table}: target"


def test_section4_table_matches_the_tasks():
    rows = table_with(section(doc_text(), 4), "model", "loss", "epochs", "batch",
                      "MAMGD", "baselines", "y limits")
    assert sorted(rows) == sorted(TASKS)
    losses = {"MSE": "mse", "MSE (metric MAE)": "mse",
              "categorical cross-entropy": "categorical_crossentropy",
              "binary cross-entropy": "binary_crossentropy"}
    for table, task in TASKS.items():
        row = rows[table]
        assert int(plain(row["epochs"])) == task.epochs, f"Table {table}: epochs"
        assert int(plain(row["batch"])) == task.batch_size, f"Table {table}: batch"
        match = re.fullmatch(r"lr ([\d.e+-]+), k ([\d.e+-]+)", plain(row["MAMGD"]))
        assert match, f"Table {table}: MAMGD cell {row['MAMGD']!r}"
        arguments = task.optimizer("MAMGD").arguments
        assert float(match.group(1)) == arguments["learning_rate"], f"Table {table}: MAMGD lr"
        assert float(match.group(2)) == task.k, f"Table {table}: MAMGD k"
        baselines = [name.strip() for name in plain(row["baselines"]).split(",")]
        assert ["MAMGD", *baselines] == task.optimizer_names, f"Table {table}: baselines"
        limits = plain(row["y limits"])
        assert (None if limits == "none" else numbers(limits)) == task.ylim, f"Table {table}: y limits"
        layers = [tuple(part.split()) for part in plain(row["model"]).split(",")]
        assert layers == [(str(layer.units), layer.activation or "linear")
                          for layer in task.layers], f"Table {table}: model"
        assert losses[plain(row["loss"])] == task.loss, f"Table {table}: loss"
        assert ("metric MAE" in row["loss"]) == (task.metrics == ("mae",)), f"Table {table}: metric"


def test_update_step_arithmetic():
    preamble = doc_text().split("\n## 1.")[0]
    rows = table_with(preamble, "training rows", "batch", "updates per epoch")
    assert sorted(rows) == sorted(TASKS)
    columns = list(next(iter(rows.values())))
    total, scale = columns[4], columns[5]
    for table, task in TASKS.items():
        row = rows[table]
        n, batch = int(row["training rows"]), int(row["batch"])
        per_epoch = int(row["updates per epoch"])
        assert batch == task.batch_size, f"Table {table}: batch"
        assert per_epoch == math.ceil(n / batch), f"Table {table}: updates per epoch"
        assert int(row[total]) == per_epoch * task.epochs, f"Table {table}: updates in all"
        expected = math.exp(-task.k * (per_epoch * task.epochs - 1))
        assert float(row[scale]) == pytest.approx(expected, abs=6e-4), f"Table {table}: decay"
