"""The site's pages: the executed notebooks, the index, the gallery and the tables.

Each ``stage_*`` function writes one kind of source page into the staging
folder that :func:`mamgd_paper.site.build.build` hands to ``sphinx-build``:
the executed notebooks (each page titled with its number), the figure index
``figures/README.md`` (its ``notebook`` column made into links), one page per
table, the gallery of every figure and the index page that ties them
together. What each row shows comes from :mod:`mamgd_paper.site.manifest`.
"""

import json
import re
import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path

from mamgd_paper.site.manifest import (cells_of, expand_ranges, is_separator, numbers, pattern,
                                       table_makers)

#: Table Markdown files larger than this are offered for download, not rendered.
MAX_TABLE_PAGE_BYTES = 200_000
#: Width of the paper figures' thumbnails on the index.
THUMBNAIL_WIDTH = "180px"
PAPER_TABLES = range(1, 12)


class SiteError(RuntimeError):
    """The site cannot be built; the message names the problem and the fix."""


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
        for n in numbers(cell):
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
        elif column is None and i + 1 < len(lines) and is_separator(lines[i + 1]):
            header = [c.lower() for c in cells_of(line)]
            column = header.index("notebook") if "notebook" in header else -1
        elif column is not None and column >= 0 and not is_separator(line):
            cells = cells_of(line)
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
        heading = row.paper if row.in_paper else ", ".join(f"`{n}`" for n in expand_ranges(row.files))
        lines += [f"## {heading}", "", _escape(row.caption), "",
                  "Made by " + ", ".join(links.notebooks(row.notebook)) + ".", ""]
        for stem, files in row.stems:
            pdf = Path(figures_dir) / f"{stem}.pdf"
            caption = f"`{stem}`" + (f" ([PDF]({stem}.pdf))" if pdf.is_file() else "")
            lines += [f"({_figure_ref(stem)})=", f"```{{figure}} {stem}.png", f":alt: {stem}",
                      ":width: 100%", "", caption, "```", ""]
    (target / "gallery.md").write_text("\n".join(lines), encoding="utf-8")


def paper_table_titles():
    """``{table number: title}`` of the paper's Tables 1-11."""
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


def write_index(rows, notebooks, table_pages, figures_dir, target, files=None):
    """index.md: every paper table and figure, then the rest, each with its notebook
    (``files``: the figure manifest, :func:`mamgd_paper.runner.manifest.read`)."""
    links = Links(notebooks)
    tables_dir = Path(figures_dir) / "tables"
    titles, verdicts = paper_table_titles(), _verdicts(tables_dir)
    table_stems = {}  # every file of tables/ by stem: a paper table's own files, listed or not
    for path in sorted(p for p in tables_dir.glob("*") if p.is_file()):
        table_stems.setdefault(path.stem, []).append(path)
    makers = {t: links.notebooks(cell) for t, cell in table_makers(rows, files).items()}

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
                listed = expand_ranges(row.files)
                if any(pattern(n) != re.escape(n) for n in listed):  # <slug>, NN, *
                    figure = ", ".join(f"`{n}`" for n in listed) + ": " + figure
            else:
                figure = ", ".join(f"`{n}`" for n in expand_ranges(row.files)) or "--"
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


