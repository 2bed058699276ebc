"""The browsable site: executed notebooks, figure index and report as static HTML.

``python -m mamgd_paper.site.site --output build/site`` (``make site``)

1. stages the sources in a fresh temporary folder: the executed notebooks
   (``notebooks/executed/*.ipynb``, each page titled with its number), the
   figure index ``figures/README.md`` (its ``notebook`` column made into
   links), ``figures/REPORT.md``, ``docs/protocol.md``, the figures (PNG shown,
   PDF offered for download) and the tables (every ``tables/*.md`` as a page,
   its ``.csv`` and ``.tex`` for download);
2. writes the pages that tie them together: the index (every paper table and
   figure with its caption and a link to the notebook that makes it, then
   the figures and tables beyond the paper), a gallery of every figure and a
   list of the tables;
3. runs ``sphinx-build`` on it (MyST-NB renders the stored outputs, nothing is
   executed; warnings are errors; configuration: ``mamgd_paper/site/conf.py``);
4. replaces the output folder with the result only when the build succeeded,
   so a failed build leaves the previous site in place.

Which notebook makes which figure and table is read from the ``notebook``
column of ``figures/README.md``: ``01`` is the executed notebook whose name
starts with ``01_``, ``04-08`` the notebooks 04 to 08 (paired in order with
"Tables 7-11"), ``report`` the report. A figure the index lists but whose
file does not exist (yet) is shown as missing with a warning, never as a
broken link or image.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from mamgd_paper.core import paths

#: Table Markdown files larger than this are offered for download, not rendered.
MAX_TABLE_PAGE_BYTES = 200_000
#: Width of the paper figures' thumbnails on the index.
THUMBNAIL_WIDTH = "180px"
PAPER_TABLES = range(1, 12)
CONF = Path(__file__).with_name("conf.py")


class SiteError(RuntimeError):
    """The site cannot be built; the message names the problem and the fix."""


# ---------------------------------------------------------------------------
# The figure index (figures/README.md)
# ---------------------------------------------------------------------------


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


def _cells(line):
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _is_separator(line):
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
            if i + 1 < len(lines) and _is_separator(lines[i + 1]):
                header = [c.lower() for c in _cells(line)]
            continue
        if _is_separator(line) or section is None:
            continue
        if not {"paper", "notebook"} <= set(header) or not any(c.startswith("file") for c in header):
            continue
        cells = dict(zip(header, _cells(line)))
        file_key = next(c for c in header if c.startswith("file"))
        caption_key = next(c for c in header if c not in ("paper", file_key, "notebook"))
        rows.append(Row(section, cells["paper"], cells[file_key], cells[caption_key],
                        cells["notebook"]))
    return rows


def _expand_ranges(cell):
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


def _pattern(name):
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
        for name in _expand_ranges(row.files):
            found = [s for s in pngs if re.fullmatch(_pattern(name), s)]
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
        for name in _expand_ranges(row.files):
            has_ext = "." in name
            regex = _pattern(name)
            found = [p for p in table_files if re.fullmatch(regex, p.name if has_ext else p.stem)]
            if not found:
                row.missing.append(name)
            for stem in dict.fromkeys(p.stem for p in found):
                row.stems.append((stem, [p for p in found if p.stem == stem]))
    return rows


def _numbers(text):
    """``"Tables 1-6"`` -> [1, ..., 6]; ``"04-08"`` -> [4, ..., 8]; ``"01"`` -> [1]."""
    match = re.search(r"(\d+)\s*(?:-|–|\.\.\.)\s*(\d+)", text)
    if match:
        return list(range(int(match.group(1)), int(match.group(2)) + 1))
    return [int(n) for n in re.findall(r"\d+", text)]


def table_makers(rows):
    """Paper table number -> the ``notebook`` cell of the notebook that makes it.

    A row ``Tables 7-11 | ... | 04-08`` pairs the ranges in order (Table 7 is
    notebook 04, ..., Table 11 notebook 08); otherwise every table of the row
    gets the row's cell as it is.
    """
    makers = {}
    for row in rows:
        if row.section == "tables" and row.in_paper:
            tables = _numbers(row.paper)
            made_by = _numbers(row.notebook) if row.notebook.lower() != "report" else []
            for i, table in enumerate(tables):
                paired = len(made_by) == len(tables) > 1
                makers[table] = f"{made_by[i]:02d}" if paired else row.notebook
    return makers


# ---------------------------------------------------------------------------
# Staging
# ---------------------------------------------------------------------------


@dataclass
class Notebook:
    number: int
    stem: str
    title: str

    @property
    def doc(self):
        return f"notebooks/{self.stem}"

    @property
    def label(self):
        return f"{self.number:02d} {self.stem.split('_', 1)[-1].replace('_', ' ')}"


def _first_heading(nb):
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "markdown":
            source = "".join(cell.get("source", ""))
            match = re.search(r"^#\s+(.+)$", source, re.M)
            if match:
                return cell, match
    return None, None


def stage_notebooks(executed_dir, target, subtitles=None):
    """Copy the executed notebooks; give each page a title that starts with its number.

    The network notebooks 04-08 share a title (one template), so their pages
    are titled with their name and ``subtitles[number]`` when given (``04
    approximation: Table 7, Approximation using ...``), else the shared title.
    """
    subtitles = subtitles or {}
    sources = sorted(Path(executed_dir).glob("[0-9][0-9]_*.ipynb"))
    if not sources:
        raise SiteError(f"no executed notebooks in {executed_dir}: run `make reproduce` first")
    loaded = []
    for path in sources:
        try:
            nb = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise SiteError(f"{path} is not a readable notebook ({error}): "
                            f"run `make {path}` again") from error
        loaded.append((path, nb))
    titles = [match.group(1).strip() if match else None
              for _, match in (_first_heading(nb) for _, nb in loaded)]
    target.mkdir(parents=True, exist_ok=True)
    notebooks = []
    for (path, nb), title in zip(loaded, titles):
        entry = Notebook(int(path.name[:2]), path.stem, title or path.stem)
        cell, match = _first_heading(nb)  # the title is replaced in place
        if title is None or titles.count(title) > 1:
            subtitle = subtitles.get(entry.number, title)
            new = f"{entry.label}: {subtitle}" if subtitle else entry.label
        elif not title.startswith(f"{entry.number:02d}"):
            new = f"{entry.number:02d} {title}"
        else:
            new = title
        if cell is None:
            nb.setdefault("cells", []).insert(0, {"cell_type": "markdown", "id": "site-title",
                                                  "metadata": {}, "source": f"# {new}"})
        else:
            source = "".join(cell["source"])
            cell["source"] = source[:match.start(1)] + new + source[match.end(1):]
        entry.title = new
        (target / path.name).write_text(json.dumps(nb, indent=1), encoding="utf-8")
        notebooks.append(entry)
    return notebooks


class Links:
    """Markdown links from a page at ``page_dir`` (relative to the site root)."""

    def __init__(self, notebooks, page_dir="."):
        self.by_number = {nb.number: nb for nb in notebooks}
        self.up = "" if page_dir in (".", "") else "../" * len(Path(page_dir).parts)

    def to(self, path, text):
        return f"[{text}]({self.up}{path})"

    def notebooks(self, cell):
        """The ``notebook`` cell as links (``report`` -> the report)."""
        cell = cell.strip()
        if cell.lower() == "report":
            return [self.to("figures/REPORT.md", "report")]
        out = []
        for n in _numbers(cell):
            nb = self.by_number.get(n)
            if nb is None:
                warnings.warn(f"figures/README.md names notebook {n:02d}, which is not executed "
                              f"(run `make reproduce`); listed without a link")
                out.append(f"{n:02d} (not executed)")
            else:
                out.append(self.to(f"{nb.doc}.ipynb", nb.label))
        return out or [cell]


def _escape(text):
    return text.replace("|", "\\|")


def stage_figure_readme(text, links):
    """figures/README.md with every ``notebook`` column cell made into links."""
    out, column, lines = [], None, text.splitlines()
    for i, line in enumerate(lines):
        if not line.lstrip().startswith("|"):
            column = None
        elif column is None and i + 1 < len(lines) and _is_separator(lines[i + 1]):
            header = [c.lower() for c in _cells(line)]
            column = header.index("notebook") if "notebook" in header else -1
        elif column is not None and column >= 0 and not _is_separator(line):
            cells = _cells(line)
            if column < len(cells) and re.fullmatch(r"\d\d(\s*-\s*\d\d)?|report", cells[column]):
                cells[column] = ", ".join(links.notebooks(cells[column]))
                line = "| " + " | ".join(cells) + " |"
        out.append(line)
    return "\n".join(out) + "\n"


def _table_caption(tex):
    if tex.is_file():
        match = re.search(r"\\caption\{(.*)\}", tex.read_text(encoding="utf-8"))
        if match:
            return match.group(1).strip()
    return None


def stage_tables(tables_dir, target):
    """One page per ``tables/*.md`` (with its ``.csv``/``.tex`` for download) and a list page.

    Returns the stems that have a page.
    """
    target.mkdir(parents=True, exist_ok=True)
    pages = []
    for path in sorted(tables_dir.glob("*")):
        if path.suffix in (".csv", ".tex"):
            shutil.copy2(path, target / path.name)
    for md in sorted(tables_dir.glob("*.md")):
        caption = _table_caption(md.with_suffix(".tex"))
        downloads = [f"[{md.stem}{ext}]({md.stem}{ext})" for ext in (".csv", ".tex")
                     if md.with_suffix(ext).is_file()]
        size = md.stat().st_size
        body = (md.read_text(encoding="utf-8") if size <= MAX_TABLE_PAGE_BYTES else
                f"This table ({size / 1e6:.1f} MB of Markdown) is too large to show here; "
                "download it below.\n")
        title = f"{md.stem}: {caption}" if caption else md.stem
        page = [f"# {_escape(title)}", "", f"`figures/tables/{md.name}`" + (
            " · download: " + ", ".join(downloads) if downloads else ""), "", body]
        (target / md.name).write_text("\n".join(page), encoding="utf-8")
        pages.append(md.stem)
    listing = ["# Tables", "", "Every table under `figures/tables/` that has a Markdown "
               "version; the CSV and LaTeX files are linked from each page.", "",
               "```{toctree}", ":maxdepth: 1", ""] + pages + ["```", ""]
    (target / "index.md").write_text("\n".join(listing), encoding="utf-8")
    return set(pages)


def _figure_ref(stem):
    return "fig-" + re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-")


def stage_gallery(rows, links, figures_dir, target):
    """figures/gallery.md: every figure of the index, with its caption and notebook."""
    lines = ["# Figure gallery", "",
             "Every figure of the [figure index](README.md), in its order, as the PNG the "
             "notebook wrote (the vector PDF is linked below each).", ""]
    for row in rows:
        if row.section != "figures" or not row.stems:
            continue
        heading = row.paper if row.in_paper else ", ".join(f"`{n}`" for n in _expand_ranges(row.files))
        lines += [f"## {heading}", "", _escape(row.caption), "",
                  "Made by " + ", ".join(links.notebooks(row.notebook)) + ".", ""]
        for stem, files in row.stems:
            pdf = Path(figures_dir) / f"{stem}.pdf"
            caption = f"`{stem}`" + (f" ([PDF]({stem}.pdf))" if pdf.is_file() else "")
            lines += [f"({_figure_ref(stem)})=", f"```{{figure}} {stem}.png", f":alt: {stem}",
                      ":width: 100%", "", caption, "```", ""]
    (target / "gallery.md").write_text("\n".join(lines), encoding="utf-8")


def _paper_table_titles():
    from mamgd_paper.paper.published import load_paper_tables

    frame = load_paper_tables()
    return {int(t): str(title) for t, title in frame.groupby("table")["title"].first().items()}


def _verdicts(tables_dir):
    path = tables_dir / "paper_vs_reproduced_summary.csv"
    if not path.is_file():
        return {}
    import pandas as pd

    out = {}
    for rec in pd.read_csv(path).to_dict("records"):
        if not str(rec["table"]).isdigit():
            continue
        cells = int(rec["cells"])
        parts = [f"{int(rec[k])} {k}" for k in ("exact", "mismatch", "within-band",
                                                "outside-band", "not-run") if int(rec[k])]
        out[int(rec["table"])] = f"{cells} numbers: " + ", ".join(parts)
    return out


def _table_links(stem_files, table_pages, links):
    out = []
    for stem, files in stem_files:
        if stem in table_pages:
            out.append(links.to(f"figures/tables/{stem}.md", stem))
        else:
            out.extend(links.to(f"figures/tables/{p.name}", p.name) for p in files
                       if p.suffix in (".csv", ".tex"))
    return out


def write_index(rows, notebooks, table_pages, figures_dir, target):
    """index.md: every paper table and figure, then the rest, each with its notebook."""
    links = Links(notebooks)
    tables_dir = Path(figures_dir) / "tables"
    titles, verdicts = _paper_table_titles(), _verdicts(tables_dir)
    table_stems = {}  # every file of tables/ by stem: a paper table's own files, listed or not
    for path in sorted(p for p in tables_dir.glob("*") if p.is_file()):
        table_stems.setdefault(path.stem, []).append(path)
    makers = {t: links.notebooks(cell) for t, cell in table_makers(rows).items()}

    out = ["# MAMGD reproduction companion", "",
           "The executed notebooks, figures and tables of the reproduction of Sakovich et al., "
           "\"MAMGD: Gradient-Based Optimization Method Using Exponential Decay\", "
           "*Technologies* 2024, 12(9), 154, as a static site (`make site`). "
           "Start with the " + links.to("figures/REPORT.md", "report") + " (a verdict for each "
           "of the paper's published numbers), the " + links.to("figures/README.md", "figure index")
           + " (how to regenerate each file), the " + links.to("figures/gallery.md", "figure gallery")
           + " or the " + links.to("docs/protocol.md", "protocol") + ".", "",
           "## The paper's tables", "",
           "| paper | title | reproduced | files | notebook |", "|---|---|---|---|---|"]
    for t in PAPER_TABLES:
        own = [(s, f) for s, f in sorted(table_stems.items())
               if s == f"table{t:02d}" or s.startswith(f"table{t:02d}_")]
        files = _table_links(own, table_pages, links) or ["not produced"]
        out.append(f"| Table {t} | {_escape(titles.get(t, ''))} | {verdicts.get(t, '')} | "
                   f"{', '.join(files)} | {', '.join(makers.get(t, ['--']))} |")

    def figure_table(paper):
        lines = (["| paper | figure | caption | notebook |", "|---|---|---|---|"] if paper else
                 ["| figure | caption | notebook |", "|---|---|---|"])
        for row in rows:
            if row.section != "figures" or row.in_paper != paper:
                continue
            if row.stems:
                shown = []
                for stem, files in row.stems:
                    ref = f"{{ref}}`{stem} <{_figure_ref(stem)}>`"
                    if paper and not stem.endswith("_heldout"):
                        ref = (f"![{stem}](figures/{stem}.png){{w={THUMBNAIL_WIDTH}}}<br>" + ref)
                    shown.append(ref)
                figure = "<br>".join(shown) if paper else ", ".join(shown)
                listed = _expand_ranges(row.files)
                if any(_pattern(n) != re.escape(n) for n in listed):  # <slug>, NN, *
                    figure = ", ".join(f"`{n}`" for n in listed) + ": " + figure
            else:
                figure = ", ".join(f"`{n}`" for n in _expand_ranges(row.files)) or "--"
            if row.missing and row.files.strip() not in ("--", ""):
                figure += " (not generated yet)"
            lines.append(("| " + row.paper if paper else "") + f"| {figure} | "
                         f"{_escape(row.caption)} | {', '.join(links.notebooks(row.notebook))} |")
        return lines

    out += ["", "## The paper's figures", ""] + figure_table(True)
    out += ["", "## Figures beyond the paper", ""] + figure_table(False)
    out += ["", "## Tables beyond the paper", "", "| files | content | notebook |", "|---|---|---|"]
    for row in rows:
        if row.section == "tables" and not row.in_paper:
            files = _table_links(row.stems, table_pages, links) or ["not produced"]
            out.append(f"| {', '.join(files)} | {_escape(row.caption)} | "
                       f"{', '.join(links.notebooks(row.notebook))} |")
    out += ["", "## Notebooks", ""]
    out += [f"- {links.to(nb.doc + '.ipynb', _escape(nb.title))}" for nb in notebooks]
    out += ["", "```{toctree}", ":hidden:", ":caption: Notebooks", ""]
    out += [nb.doc for nb in notebooks]
    out += ["```", "", "```{toctree}", ":hidden:", ":caption: Results", "",
            "figures/REPORT", "figures/README", "figures/gallery", "figures/tables/index",
            "docs/protocol", "```", ""]
    (target / "index.md").write_text("\n".join(out), encoding="utf-8")


def stage(root, staging):
    """Write the site's sources under ``staging``; return the notebooks and index rows."""
    root, staging = Path(root), Path(staging)
    figures_dir = root / "figures"
    readme = figures_dir / "README.md"
    for required, fix in ((readme, "restore it from git"),
                          (figures_dir / "REPORT.md", "run `make report`"),
                          (root / "docs" / "protocol.md", "restore it from git")):
        if not required.is_file():
            raise SiteError(f"{required} is missing: {fix}")
    rows = match_files(parse_index(readme.read_text(encoding="utf-8")), figures_dir)
    titles = _paper_table_titles()
    subtitles = {}
    for table, cell in sorted(table_makers(rows).items()):
        if re.fullmatch(r"\d\d", cell):
            subtitles.setdefault(int(cell), []).append(f"Table {table}, {titles.get(table, '')}")
    notebooks = stage_notebooks(root / "notebooks" / "executed", staging / "notebooks",
                                {n: "; ".join(s) for n, s in subtitles.items()})
    links = Links(notebooks, "figures")
    for row in rows:
        if row.missing and row.section == "figures" and row.files.strip() not in ("--", ""):
            warnings.warn(f"figures/README.md lists {', '.join(row.missing)} but figures/ has no "
                          f"such PNG (run notebook {row.notebook}); shown as not generated yet")
    (staging / "figures").mkdir(parents=True, exist_ok=True)
    for row in rows:
        for stem, _ in (row.stems if row.section == "figures" else []):
            for ext in (".png", ".pdf"):
                if (figures_dir / f"{stem}{ext}").is_file():
                    shutil.copy2(figures_dir / f"{stem}{ext}", staging / "figures" / f"{stem}{ext}")
    (staging / "figures" / "README.md").write_text(
        stage_figure_readme(readme.read_text(encoding="utf-8"), links), encoding="utf-8")
    shutil.copy2(figures_dir / "REPORT.md", staging / "figures" / "REPORT.md")
    (staging / "docs").mkdir(exist_ok=True)
    shutil.copy2(root / "docs" / "protocol.md", staging / "docs" / "protocol.md")
    table_pages = stage_tables(figures_dir / "tables", staging / "figures" / "tables")
    stage_gallery(rows, links, figures_dir, staging / "figures")
    write_index(rows, notebooks, table_pages, figures_dir, staging)
    shutil.copy2(CONF, staging / "conf.py")
    return notebooks, rows


# ---------------------------------------------------------------------------
# Build
# ---------------------------------------------------------------------------


def _replace(new, output):
    """Move the finished site ``new`` to ``output``; the old one goes only after."""
    old = None
    if output.exists():
        old = output.with_name(f".{output.name}.old-{os.getpid()}")
        output.rename(old)
    try:
        new.rename(output)
    except OSError:
        if old is not None:
            old.rename(output)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def build(output, root=None, jobs=1, quiet=True):
    """Build the site into ``output`` (replaced only on success); return the output path.

    ``quiet=False`` shows sphinx-build's own output as it runs.
    """
    root = Path(root) if root is not None else paths.ROOT
    output = Path(output).resolve()
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="mamgd-site-") as tmp:
        staging = Path(tmp) / "src"
        stage(root, staging)
        # Next to the output (same file system, so the final move is a rename); MyST-NB
        # writes the notebooks' images beside the HTML folder, in ``jupyter_execute``.
        work = Path(tempfile.mkdtemp(prefix=f".{output.name}.new-", dir=output.parent))
        html = work / "html"
        command = [sys.executable, "-m", "sphinx", "-b", "html", "-W", "--keep-going", "-E",
                   "-d", str(Path(tmp) / "doctrees"), "-j", str(jobs)]
        command += (["-q"] if quiet else []) + [str(staging), str(html)]
        env = dict(os.environ, SOURCE_DATE_EPOCH=os.environ.get("SOURCE_DATE_EPOCH", "0"),
                   PYTHONHASHSEED="0")
        try:
            result = subprocess.run(command, capture_output=quiet, text=True, env=env)
            if result.returncode != 0:
                log = ((result.stderr or "") + (result.stdout or "")).strip() if quiet else \
                    "(sphinx-build's output above)"
                raise SiteError(f"sphinx-build failed (exit {result.returncode}); the previous "
                                f"site, if any, is unchanged:\n{log[-6000:]}")
            (html / ".buildinfo").unlink(missing_ok=True)  # holds a hash of the configuration
            if (html / "_sources").is_dir() and not any((html / "_sources").iterdir()):
                (html / "_sources").rmdir()
            _replace(html, output)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return output


def _size(path):
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", default="build/site", help="site folder (default build/site)")
    parser.add_argument("--root", default=None, help="repository root (default: this checkout)")
    parser.add_argument("-j", "--jobs", default="1", help="sphinx-build processes (or auto)")
    parser.add_argument("--verbose", action="store_true", help="show sphinx-build's output")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    warnings.simplefilter("default")  # each distinct warning once
    warnings.formatwarning = lambda message, *a, **k: f"warning: {message}\n"
    try:
        output = build(args.output, root=args.root, jobs=args.jobs, quiet=not args.verbose)
    except SiteError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    pages = sum(1 for _ in output.rglob("*.html"))
    print(f"site: {output} ({pages} pages, {_size(output) / 1e6:.1f} MB) in "
          f"{time.perf_counter() - start:.0f} s; open {output / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
