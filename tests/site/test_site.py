"""The browsable site (``make site``, :mod:`mamgd_paper.site`).

The site is built once into a temporary folder (about 20 s). Then:

(a) the index lists every paper table (1-11) and every figure of
    figures/README.md, each with a link to the notebook page that makes it,
    and that page exists;
(b) the site needs nothing from the network: no page loads a script, style
    sheet or image from another host;
(c) a failed build leaves the previous site in place, and missing executed
    notebooks are reported with the command that makes them;
(d) in a real headless browser (Debian's chromium and chromedriver, all other
    hosts unreachable), the index and one notebook page load, every image on
    them has loaded (``naturalWidth > 0``), every same-site link answers 200
    and every ``#fragment`` names an element of its target page; screenshots
    go to ``build/site-screenshot.png`` and ``build/site-notebook-screenshot.png``.
    Without chromium the browser test is skipped with the command to install it.
"""

from __future__ import annotations

import os
import functools
import json
import html.parser
import http.server
import re
import shutil
import threading
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from mamgd_paper.runner import manifest as runner_manifest
from mamgd_paper.site import build, manifest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = next((p for p in ("/usr/bin/chromium", "/usr/bin/chromium-browser")
                 if Path(p).is_file()), None)
CHROMEDRIVER = shutil.which("chromedriver") or (
    "/usr/bin/chromedriver" if Path("/usr/bin/chromedriver").is_file() else None)
NOTEBOOK_PAGE = "notebooks/01_test_functions.html"

pytestmark = pytest.mark.xdist_group("site")


# Session scope: under xdist the module's tests may be interleaved with other
# modules' on one worker, and a module-scoped site would be built again (90 s).
@pytest.fixture(scope="session")
def built(tmp_path_factory):
    output = tmp_path_factory.mktemp("site") / "site"
    build.build(output, root=ROOT)
    return output


class _Anchors(html.parser.HTMLParser):
    """Collect ``<a href>``, ``<img src>``, ``<script src>``, ``<link href>`` and ids."""

    def __init__(self):
        super().__init__()
        self.links, self.images, self.assets, self.ids = [], [], [], set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        elif tag == "img" and attrs.get("src"):
            self.images.append(attrs["src"])
        elif tag in ("script", "iframe") and attrs.get("src"):
            self.assets.append(attrs["src"])
        elif tag == "link" and attrs.get("href") and attrs.get("rel") != ["canonical"]:
            self.assets.append(attrs["href"])


def _parse(path):
    parser = _Anchors()
    parser.feed(Path(path).read_text(encoding="utf-8"))
    return parser


def _index_rows(built):
    """The index page's table rows: (first cell text, hrefs in the row)."""
    text = (built / "index.html").read_text(encoding="utf-8")
    rows = []
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", text, re.S):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        if cells:
            plain = [re.sub(r"<[^>]+>", "", c).strip() for c in cells]
            rows.append((plain, row))
    return rows


def test_index_lists_every_paper_table_with_its_notebook(built):
    rows = {cells[0]: (cells, raw) for cells, raw in _index_rows(built)}
    for table in range(1, 12):
        assert f"Table {table}" in rows, f"the index does not list Table {table}"
        cells, raw = rows[f"Table {table}"]
        notebooks = re.findall(r'href="(notebooks/[^"#]+\.html)', raw)
        assert notebooks, f"Table {table} has no link to a notebook: {cells}"
        for page in notebooks:
            assert (built / page).is_file(), f"Table {table} links to {page}, which is missing"
    # Tables 7-11 are each linked to their own network notebook (04..08).
    for table, stem in zip(range(7, 12), ("04_", "05_", "06_", "07_", "08_")):
        raw = rows[f"Table {table}"][1]
        assert re.findall(r'href="notebooks/([^"#]+)\.html', raw)[0].startswith(stem)


def test_index_lists_every_figure_of_the_figure_index(built):
    rows = manifest.parse_index((ROOT / "figures" / "README.md").read_text(encoding="utf-8"))
    figures = [r for r in rows if r.section == "figures"]
    assert len(figures) >= 20 and any(r.paper == "Figure 1" for r in figures)
    index_rows = _index_rows(built)
    for row in figures:
        names = re.findall(r"`([^`]+)`", row.files)
        key = row.paper if row.in_paper else names[0]
        match = [raw for cells, raw in index_rows
                 if (cells[0] == key if row.in_paper else key in re.sub(r"<[^>]+>", "", raw)
                     .replace("&lt;", "<").replace("&gt;", ">"))]
        assert match, f"the index does not list {key} ({row.files})"
        notebooks = re.findall(r'href="(notebooks/[^"#]+\.html|figures/REPORT\.html)', match[0])
        if not notebooks and not any((ROOT / "notebooks" / "executed").glob(
                f"{row.notebook.strip()}_*.ipynb")):
            # A notebook being added: listed in the index, not executed yet.
            assert "(not executed)" in match[0], f"{key}: {match[0]}"
            continue
        assert notebooks, f"{key} has no link to the notebook that makes it"
        for page in notebooks:
            assert (built / page).is_file(), f"{key} links to {page}, which is missing"
    # Paper figures show a thumbnail of every figure file that exists.
    for number in (1, 7, 11):
        raw = next(raw for cells, raw in index_rows if cells[0] == f"Figure {number}")
        assert re.search(r'<img [^>]*src="_images/fig\d\d_[^"]+\.png"', raw)


def test_every_executed_notebook_has_a_page_titled_with_its_number(built):
    for path in sorted((ROOT / "notebooks" / "executed").glob("[0-9][0-9]_*.ipynb")):
        page = built / "notebooks" / f"{path.stem}.html"
        assert page.is_file(), f"no page for {path.name}"
        title = re.search(r"<title>(.*?)</title>", page.read_text(encoding="utf-8"), re.S)
        assert title and title.group(1).strip().startswith(path.name[:2]), title


def test_site_needs_no_other_host(built):
    for page in built.rglob("*.html"):
        parser = _parse(page)
        external = [a for a in parser.assets + parser.images
                    if urllib.parse.urlsplit(a).netloc]
        assert not external, f"{page.relative_to(built)} loads {external}"


def test_failed_build_keeps_the_previous_site(tmp_path, monkeypatch):
    output = tmp_path / "site"
    output.mkdir()
    (output / "index.html").write_text("previous")
    broken = tmp_path / "conf.py"
    broken.write_text("raise RuntimeError('broken configuration')\n")
    monkeypatch.setattr(build, "CONF", broken)
    with pytest.raises(build.SiteError, match="sphinx-build failed"):
        build.build(output, root=ROOT)
    assert (output / "index.html").read_text() == "previous"
    assert not list(tmp_path.glob(".site.*")), "a failed build left its temporary folder"


def test_no_executed_notebooks_names_the_command(tmp_path):
    for name in ("figures", "docs", "notebooks/executed"):
        (tmp_path / name).mkdir(parents=True)
    for name in ("figures/README.md", "figures/REPORT.md", "docs/protocol.md"):
        (tmp_path / name).write_text("# x\n")
    with pytest.raises(build.SiteError, match=r"make reproduce"):
        build.build(tmp_path / "out", root=tmp_path)
    assert not (tmp_path / "out").exists()


def _fake_root(root):
    """A repository with one executed notebook and an index row that has no file yet."""
    for name in ("figures/tables", "docs", "notebooks/executed"):
        (root / name).mkdir(parents=True)
    (root / "figures" / "README.md").write_text(
        "# Figures\n\n## Figures\n\n| paper | file | caption | notebook |\n|---|---|---|---|\n"
        "| Figure 1 | `fig01_a` | Figure one. | 09 |\n| -- | `new_figure` | Coming. | 11 |\n\n"
        "## Tables\n\n| paper | file | content | notebook |\n|---|---|---|---|\n"
        "| Tables 1-6 | `table01` ... `table06` | Reproduced. | 01 |\n")
    (root / "figures" / "REPORT.md").write_text("# Report\n\nText.\n")
    (root / "docs" / "protocol.md").write_text("# Protocol\n\nText.\n")
    shutil.copy2(ROOT / "figures" / "fig01_quadratic.png", root / "figures" / "fig01_a.png")
    (root / "figures" / "tables" / "table01.md").write_text("| a |\n|---|\n| 1 |\n")
    (root / "figures" / "tables" / "table01.csv").write_text("a\n1\n")
    notebook = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": "# First\n\nHi."}],
                "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (root / "notebooks" / "executed" / "01_first.ipynb").write_text(json.dumps(notebook))
    # the manifest, not the index's "09", says which notebook made fig01_a
    runner_manifest.write(root / "figures", {"fig01_a.png": "01_first",
                                             "tables/table01.csv": "01_first"})


def test_figures_and_notebooks_not_made_yet_are_listed_without_links(tmp_path):
    _fake_root(tmp_path / "repo")
    with pytest.warns(UserWarning) as caught:
        build.build(tmp_path / "out", root=tmp_path / "repo")
    messages = " ".join(str(w.message) for w in caught)
    assert "new_figure" in messages and "notebook 11" in messages
    index = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    row = next(r for r in re.findall(r"<tr[^>]*>(.*?)</tr>", index, re.S) if "new_figure" in r)
    assert "not generated yet" in row and "11 (not executed)" in row and "href" not in row
    assert 'href="notebooks/01_first.html"' in index
    figure = next(r for r in re.findall(r"<tr[^>]*>(.*?)</tr>", index, re.S) if "Figure 1" in r)
    assert 'href="notebooks/01_first.html"' in figure and "not executed" not in figure
    for page in (tmp_path / "out").rglob("*.html"):
        for href in _parse(page).links:
            target = urllib.parse.urlsplit(href)
            if not target.scheme and target.path:
                assert (page.parent / target.path).resolve().is_file(), f"{page}: {href}"


def test_parse_index_expands_ranges_and_wildcards(tmp_path):
    text = ("## Figures\n\n| paper | file (`.pdf`, `.png`) | caption | notebook |\n|---|---|---|---|\n"
            "| Figure 1 | `fig01_a` | A. | 01 |\n| -- | `traj_<slug>` | T. | 03 |\n\n"
            "## Tables (`tables/`)\n\n| paper | file | content | notebook |\n|---|---|---|---|\n"
            "| Tables 1-2 | `table01` ... `table02` (`.csv`) | R. | 01 |\n"
            "| -- | `tableNN_seeds.csv` | S. | 04-05 |\n")
    (tmp_path / "tables").mkdir()
    for name in ("fig01_a.png", "fig01_a_heldout.png", "traj_x.png", "traj_y.png"):
        (tmp_path / name).write_bytes(b"")
    for name in ("table01.csv", "table01.md", "table02.csv", "table07_seeds.csv", "table07.csv"):
        (tmp_path / "tables" / name).write_bytes(b"")
    rows = manifest.match_files(manifest.parse_index(text), tmp_path)
    assert [(r.section, r.paper, r.notebook) for r in rows] == [
        ("figures", "Figure 1", "01"), ("figures", "--", "03"),
        ("tables", "Tables 1-2", "01"), ("tables", "--", "04-05")]
    assert [s for s, _ in rows[0].stems] == ["fig01_a", "fig01_a_heldout"]
    assert [s for s, _ in rows[1].stems] == ["traj_x", "traj_y"]
    assert [s for s, _ in rows[2].stems] == ["table01", "table02"]
    assert [p.name for _, files in rows[2].stems for p in files] == [
        "table01.csv", "table01.md", "table02.csv"]
    assert [s for s, _ in rows[3].stems] == ["table07_seeds"]
    assert manifest.numbers("Tables 7-11") == [7, 8, 9, 10, 11]


def test_rows_take_their_notebook_from_the_manifest():
    text = ("## Figures\n\n| paper | file | caption | notebook |\n|---|---|---|---|\n"
            "| Figure 7 | `fig07_a` | A. | 04 |\n| -- | `later` | Not yet. | 12 |\n\n"
            "## Tables\n\n| paper | file | content | notebook |\n|---|---|---|---|\n"
            "| Tables 7-8 | `table07` ... `table08` | R. | 04-05 |\n")
    rows = manifest.parse_index(text)
    rows[0].stems = [("fig07_a", [Path("fig07_a.png")])]
    rows[2].stems = [("table07", [Path("tables/table07.csv")]),
                     ("table08", [Path("tables/table08.csv")])]
    files = {"fig07_a.png": "06_other", "tables/table07.csv": "04_x",
             "tables/table08.csv": "05_y", "tables/table08_status.csv": "05_y"}
    manifest.apply_manifest(rows, files)
    assert [r.notebook for r in rows] == ["06", "12", "04, 05"]
    assert manifest.table_makers(rows, files) == {7: "04", 8: "05"}
    assert manifest.table_makers(rows, {}) == {7: "04", 8: "05"}  # paired from the index


def test_manifest_from_the_index_and_the_executed_notebooks(tmp_path):
    figures, executed = tmp_path / "figures", tmp_path / "executed"
    (figures / "tables").mkdir(parents=True)
    executed.mkdir()
    (figures / "README.md").write_text(
        "## Figures\n\n| paper | file | caption | notebook |\n|---|---|---|---|\n"
        "| Figure 1 | `fig01_a` | A. | 01 |\n\n"
        "## Tables\n\n| paper | file | content | notebook |\n|---|---|---|---|\n"
        "| Tables 7-8 | `table07` ... `table08` (`.csv`) | R. | 04-05 |\n"
        "| -- | `paper_vs_reproduced.csv` | V. | report |\n")
    for name in ("fig01_a.png", "fig01_a.pdf", "fig01_a_heldout.png", "REPORT.md", "stray.png",
                 "tables/table07.csv", "tables/table07.md", "tables/table08.csv",
                 "tables/table08_status.csv", "tables/paper_vs_reproduced.csv"):
        (figures / name).write_text("x")
    for stem, parameters in (("01_a", {}), ("04_x", {"table": 7}), ("05_y", {"table": 8})):
        (executed / f"{stem}.ipynb").write_text(json.dumps(
            {"cells": [], "metadata": {"papermill": {"parameters": parameters}}}))
    files, unclaimed = manifest.from_index(figures, executed)
    assert files == {
        "fig01_a.png": "01_a", "fig01_a.pdf": "01_a", "fig01_a_heldout.png": "01_a",
        "tables/table07.csv": "04_x", "tables/table07.md": "04_x",
        "tables/table08.csv": "05_y", "tables/table08_status.csv": "05_y",
        "tables/paper_vs_reproduced.csv": "report", "REPORT.md": "report"}
    assert unclaimed == ["stray.png"]


# ---------------------------------------------------------------------------
# In a real browser
# ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def server(built):
    handler = functools.partial(_QuietHandler, directory=str(built))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None or CHROMEDRIVER is None:
        if os.environ.get("MAMGD_REQUIRE_BROWSER"):
            pytest.fail("chromium/chromedriver not found and MAMGD_REQUIRE_BROWSER is set "
                        "(.ci/run installs them: apt-get install chromium chromium-driver)")
        pytest.skip("chromium/chromedriver not found: apt-get install chromium chromium-driver "
                    "(.ci/run installs them, so CI always runs this test)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--disable-gpu", "--window-size=1400,2000", "--hide-scrollbars",
                     # Any other host is unreachable: the site must not need one.
                     "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def _status(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, b""


def _check_page(driver, base, page):
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(base + page)
    WebDriverWait(driver, 30).until(lambda d: d.execute_script(
        "return document.readyState === 'complete' && location.pathname.endsWith(arguments[0])"
        " && Array.from(document.images).every(i => i.complete);", page))
    assert "404" not in driver.title, f"{page}: {driver.title}"
    images = driver.execute_script(
        "return Array.from(document.images).map(i => [i.currentSrc || i.src, i.complete,"
        " i.naturalWidth]);")
    broken = [src for src, complete, width in images if not complete or width == 0]
    assert not broken, f"{page}: images that did not load: {broken}"
    hrefs = driver.execute_script(
        "return Array.from(document.querySelectorAll('a[href]')).map(a => a.href);")
    ids = set(driver.execute_script(
        "return Array.from(document.querySelectorAll('[id]')).map(e => e.id);"))
    origin = urllib.parse.urlsplit(base).netloc
    checked, bodies = 0, {}
    for href in dict.fromkeys(hrefs):
        parts = urllib.parse.urlsplit(href)
        if parts.scheme not in ("http", "https") or parts.netloc != origin:
            continue
        target = urllib.parse.urlunsplit(parts._replace(fragment=""))
        if target not in bodies:
            status, body = _status(target)
            assert status == 200, f"{page}: link {href} answers {status}"
            bodies[target] = body
            checked += 1
        fragment = urllib.parse.unquote(parts.fragment)
        if fragment:
            if target == driver.current_url.split("#")[0]:
                assert fragment in ids, f"{page}: link {href}: no element with id {fragment!r}"
            elif target.endswith(".html"):
                assert f'id="{fragment}"'.encode() in bodies[target], (
                    f"{page}: link {href}: no element with id {fragment!r}")
    return len(images), checked


def test_index_and_a_notebook_page_in_a_browser(built, server, browser):
    build_dir = ROOT / "build"
    build_dir.mkdir(exist_ok=True)
    images, links = _check_page(browser, server, "index.html")
    assert images >= 10, "the index should show the paper figures' thumbnails"
    assert links >= 20
    browser.save_screenshot(str(build_dir / "site-screenshot.png"))
    assert "Table 11" in browser.page_source
    images, links = _check_page(browser, server, NOTEBOOK_PAGE)
    assert images >= 6, "notebook 01 shows Figures 1-6"
    browser.execute_script("document.images[document.images.length - 1].scrollIntoView();")
    browser.save_screenshot(str(build_dir / "site-notebook-screenshot.png"))
    assert (build_dir / "site-screenshot.png").stat().st_size > 10_000
