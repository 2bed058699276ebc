"""Building the static site: stage the sources, run ``sphinx-build``, swap the result in.

:func:`build` (``python -m mamgd_paper.site --output build/site``, ``make site``)

1. stages the sources in a fresh temporary folder (:func:`stage`): the
   executed notebooks, the figure index ``figures/README.md``,
   ``figures/REPORT.md``, ``docs/protocol.md``, the figures (PNG shown, PDF
   offered for download) and the tables, and the index and gallery pages
   (:mod:`mamgd_paper.site.pages`); which notebook made each file comes from
   the figure manifest, the captions from the figure index
   (:mod:`mamgd_paper.site.manifest`);
2. runs ``sphinx-build`` on it (MyST-NB renders the stored outputs, nothing is
   executed; warnings are errors; configuration: ``mamgd_paper/site/conf.py``);
3. replaces the output folder with the result only when the build succeeded,
   so a failed build leaves the previous site in place.

A figure the index lists but whose file does not exist (yet) is shown as
missing with a warning, never as a broken link or image.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

from mamgd_paper.core import paths
from mamgd_paper.runner import manifest as runner_manifest
from mamgd_paper.site.manifest import apply_manifest, match_files, parse_index, table_makers
from mamgd_paper.site.pages import (Links, SiteError, paper_table_titles, stage_figure_readme,
                                    stage_gallery, stage_notebooks, stage_tables, write_index)

#: The Sphinx configuration copied into the staging folder.
CONF = Path(__file__).with_name("conf.py")


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
    files = runner_manifest.read(figures_dir)
    rows = apply_manifest(
        match_files(parse_index(readme.read_text(encoding="utf-8")), figures_dir), files)
    titles = paper_table_titles()
    subtitles = {}
    for table, cell in sorted(table_makers(rows, files).items()):
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
    write_index(rows, notebooks, table_pages, figures_dir, staging, files)
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


