"""What the site knows about each figure and table: its files, its caption, its notebook.

Two sources:

* ``figures/manifest.json`` (:mod:`mamgd_paper.runner.manifest`), written by
  the notebook runner and the report: which executed notebook published each
  file. The site takes every file's notebook from it.
* ``figures/README.md``, the hand-written figure index: its tables under
  ``## Figures`` and ``## Tables`` give each figure or table its row, its
  paper number and its caption (no other source holds the captions). A row
  names its files with backticks (```table01` ... `table06``` ranges,
  ``<slug>``, ``NN`` and ``*`` wildcards); its ``notebook`` column (``01``,
  ``04-08``, ``report``) is used only where the manifest knows none of the
  row's files (a figure not generated yet, a figures folder without a
  manifest).

:func:`from_index` writes the manifest's entries from the index, the files
present and the executed notebooks' parameters, for a figures folder whose
notebooks ran before the runner kept a manifest
(``python -m mamgd_paper.runner manifest``). Standard library only.
"""

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from mamgd_paper.runner import manifest as runner_manifest


@dataclass
class Row:
    """One row of a Markdown table of figures/README.md that has a ``notebook`` column."""

    section: str  # "figures" or "tables"
    paper: str  # "Figure 1", "Tables 1-6" or "--"
    files: str  # the raw ``file`` cell
    caption: str
    notebook: str  # "01", "04-08", "report"
    stems: list = field(default_factory=list)  # matched files: [(stem, [paths])]
    missing: list = field(default_factory=list)  # listed names with no file

    @property
    def in_paper(self):
        return self.paper.strip() not in ("", "--", "-")


def cells_of(line):
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def is_separator(line):
    return bool(re.fullmatch(r"\|?(\s*:?-+:?\s*\|)+\s*:?-*:?\s*\|?", line.strip()))


def parse_index(text):
    """The rows of the figure and table index, in order, as :class:`Row` objects.

    Only tables under a ``## Figures`` or ``## Tables`` heading with the
    columns ``paper``, ``file``, a caption/content column and ``notebook``.
    """
    rows, section, header = [], None, None
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("## "):
            title = line[3:].strip().lower()
            section = ("figures" if title.startswith("figures") else
                       "tables" if title.startswith("tables") else None)
            header = None
            continue
        if not line.lstrip().startswith("|"):
            header = None
            continue
        if header is None:
            if i + 1 < len(lines) and is_separator(lines[i + 1]):
                header = [c.lower() for c in cells_of(line)]
            continue
        if is_separator(line) or section is None:
            continue
        if not {"paper", "notebook"} <= set(header) or not any(c.startswith("file") for c in header):
            continue
        cells = dict(zip(header, cells_of(line)))
        file_key = next(c for c in header if c.startswith("file"))
        caption_key = next(c for c in header if c not in ("paper", file_key, "notebook"))
        rows.append(Row(section, cells["paper"], cells[file_key], cells[caption_key],
                        cells["notebook"]))
    return rows


def expand_ranges(cell):
    """```table01` ... `table06``` -> the six names; other backticked names as they are."""

    def expand(match):
        first, last = match.group(1), match.group(2)
        a, b = re.fullmatch(r"(.*?)(\d+)(.*)", first), re.fullmatch(r"(.*?)(\d+)(.*)", last)
        if not a or not b or a.group(1, 3) != b.group(1, 3):
            return match.group(0)
        width = len(a.group(2))
        return " ".join(f"`{a.group(1)}{n:0{width}d}{a.group(3)}`"
                        for n in range(int(a.group(2)), int(b.group(2)) + 1))

    cell = re.sub(r"`([^`]+)`\s*(?:\.\.\.|…)\s*`([^`]+)`", expand, cell)
    return [name for name in re.findall(r"`([^`]+)`", cell) if not name.startswith(".")]


def pattern(name):
    """A listed name as a regular expression (``<slug>``, ``NN``, ``*`` are wildcards)."""
    parts = re.split(r"(<[^>]+>|NN|\*)", name)
    return "".join("[A-Za-z0-9_]+" if p.startswith("<") or p == "*" else r"\d\d" if p == "NN"
                   else re.escape(p) for p in parts)


def match_files(rows, figures_dir):
    """Fill ``stems`` and ``missing`` of every row from the files in ``figures_dir``.

    Figures: the ``.png`` of each listed name (``<slug>`` matches every
    function), plus its variants ``name_*`` that no other row lists (the
    ``_heldout`` figures). Tables: the files of ``tables/`` whose stem (or
    name, when the listed name has an extension) matches.
    """
    figures_dir = Path(figures_dir)
    pngs = sorted(p.stem for p in figures_dir.glob("*.png"))
    table_files = sorted(p for p in (figures_dir / "tables").glob("*") if p.is_file())
    figure_rows = [r for r in rows if r.section == "figures"]
    claimed = set()
    for row in figure_rows:
        for name in expand_ranges(row.files):
            found = [s for s in pngs if re.fullmatch(pattern(name), s)]
            if not found:
                row.missing.append(name)
            claimed.update(found)
            row.stems.extend((s, [figures_dir / f"{s}.png"]) for s in found)
    for row in figure_rows:
        variants = [s for s in pngs if s not in claimed
                    and any(s.startswith(stem + "_") for stem, _ in row.stems)]
        claimed.update(variants)
        row.stems.extend((s, [figures_dir / f"{s}.png"]) for s in variants)
        row.stems.sort()
    for row in rows:
        if row.section != "tables":
            continue
        for name in expand_ranges(row.files):
            has_ext = "." in name
            regex = pattern(name)
            found = [p for p in table_files if re.fullmatch(regex, p.name if has_ext else p.stem)]
            if not found:
                row.missing.append(name)
            for stem in dict.fromkeys(p.stem for p in found):
                row.stems.append((stem, [p for p in found if p.stem == stem]))
    return rows


def numbers(text):
    """``"Tables 1-6"`` -> [1, ..., 6]; ``"04-08"`` -> [4, ..., 8]; ``"01"`` -> [1]."""
    match = re.search(r"(\d+)\s*(?:-|–|\.\.\.)\s*(\d+)", text)
    if match:
        return list(range(int(match.group(1)), int(match.group(2)) + 1))
    return [int(n) for n in re.findall(r"\d+", text)]


def table_makers(rows, files=None):
    """Paper table number -> the ``notebook`` cell of the notebook that makes it.

    From the manifest ``files`` (:func:`mamgd_paper.runner.manifest.read`)
    when it names the notebook of one of the table's files
    (``tables/tableNN.csv``, ``tables/tableNN_status.csv``, ...); else from
    the index: a row ``Tables 7-11 | ... | 04-08`` pairs the ranges in order
    (Table 7 is notebook 04, ..., Table 11 notebook 08); otherwise every table
    of the row gets the row's cell as it is.
    """
    makers = {}
    for row in rows:
        if row.section == "tables" and row.in_paper:
            tables = numbers(row.paper)
            made_by = numbers(row.notebook) if row.notebook.lower() != "report" else []
            for i, table in enumerate(tables):
                paired = len(made_by) == len(tables) > 1
                makers[table] = f"{made_by[i]:02d}" if paired else row.notebook
    for table in list(makers):
        own = re.compile(rf"tables/table{table:02d}[._]")
        found = sorted(maker for name, maker in (files or {}).items() if own.match(name))
        if found:
            makers[table] = notebook_cell(found[:1])
    return makers


# ---------------------------------------------------------------------------
# The manifest
# ---------------------------------------------------------------------------


def row_files(row):
    """The files of a matched row as the manifest names them (relative to figures/)."""
    names = []
    for stem, paths in row.stems:
        if row.section == "figures":
            names += [f"{stem}.png", f"{stem}.pdf"]
        else:
            names += [f"tables/{Path(p).name}" for p in paths]
    return names


def notebook_cell(makers):
    """Manifest makers (executed notebooks' stems, ``report``) as an index cell:
    ``["04_approximation", "05_mnist"]`` -> ``"04, 05"``."""
    cells = dict.fromkeys(m[:2] if m[:2].isdigit() else m for m in sorted(makers))
    return ", ".join(cells)


def apply_manifest(rows, files):
    """Set each matched row's ``notebook`` from the manifest ``files``: the
    notebooks that published the row's files. A row none of whose files the
    manifest names keeps the index's cell. Returns ``rows``."""
    for row in rows:
        makers = {files[name] for name in row_files(row) if name in files}
        if makers:
            row.notebook = notebook_cell(makers)
    return rows


def _executed(executed_dir):
    """``{stem: papermill parameters}`` of the executed notebooks in ``executed_dir``."""
    found = {}
    for path in sorted(Path(executed_dir).glob("[0-9][0-9]_*.ipynb")):
        if path.name.endswith(".failed.ipynb"):
            continue
        try:
            metadata = json.loads(path.read_text(encoding="utf-8")).get("metadata", {})
        except (OSError, ValueError):
            continue
        found[path.stem] = metadata.get("papermill", {}).get("parameters", {})
    return found


def _maker(cell, name, executed):
    """The executed notebook an index cell names for file ``name``, or None.

    ``report`` is the report. A cell naming several notebooks (``04-08``) is
    resolved by the table number in the file's name (``table07_seeds.csv``)
    against each notebook's ``table`` parameter.
    """
    if cell.strip().lower() == runner_manifest.REPORT:
        return runner_manifest.REPORT
    wanted = {f"{n:02d}" for n in numbers(cell)}
    candidates = [stem for stem in executed if stem[:2] in wanted]
    if len(candidates) == 1:
        return candidates[0]
    table = re.match(r"(?:tables/)?table(\d\d)", name)
    if table:
        by_table = [stem for stem in candidates
                    if executed[stem].get("table") == int(table.group(1))]
        if len(by_table) == 1:
            return by_table[0]
    return None


def from_index(figures_dir, executed_dir):
    """The manifest's entries for ``figures_dir`` as it is now, from the index.

    Every file a row of ``figures_dir/README.md`` matches gets the notebook
    of the row's ``notebook`` cell (resolved as in :func:`_maker`); the
    report's ``REPORT.md`` gets ``report``; a file no row names gets the
    notebook of a named file with the same stem (the ``.md`` and ``.tex`` of
    a listed ``.csv``), else, for ``tables/tableNN_*``, the notebook run with
    ``table`` = NN. Returns ``({file: notebook},
    unclaimed)``, ``unclaimed`` being the files of the folder (figures and
    tables, not the index or the manifest) that no row matches.
    """
    figures_dir = Path(figures_dir)
    executed = _executed(executed_dir)
    rows = match_files(parse_index((figures_dir / "README.md").read_text(encoding="utf-8")),
                       figures_dir)
    files = {}
    for row in rows:
        for name in row_files(row):
            if (figures_dir / name).is_file():
                maker = _maker(row.notebook, name, executed)
                if maker is not None:
                    files.setdefault(name, maker)
    if (figures_dir / "REPORT.md").is_file():
        files["REPORT.md"] = runner_manifest.REPORT
    present = sorted(p.relative_to(figures_dir).as_posix()
                     for p in list(figures_dir.glob("*")) + list(figures_dir.glob("tables/*"))
                     if p.is_file() and not p.name.startswith("."))
    by_stem = {name.rsplit(".", 1)[0]: maker for name, maker in files.items()}
    by_table = {parameters["table"]: stem for stem, parameters in executed.items()
                if isinstance(parameters.get("table"), int)}
    unclaimed = []
    for name in present:
        if name in files or name in ("README.md", runner_manifest.NAME):
            continue
        table = re.match(r"tables/table(\d\d)[._]", name)
        if name.rsplit(".", 1)[0] in by_stem:  # the .md/.tex of a listed .csv
            files[name] = by_stem[name.rsplit(".", 1)[0]]
        elif table and int(table.group(1)) in by_table:  # a network notebook's tableNN_*
            files[name] = by_table[int(table.group(1))]
        else:
            unclaimed.append(name)
    return files, unclaimed
