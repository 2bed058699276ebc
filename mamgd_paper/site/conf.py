"""Sphinx configuration of the browsable site (``make site``).

:mod:`mamgd_paper.site.build` copies this file as ``conf.py`` into the folder where it
stages the site's sources and runs ``sphinx-build`` there. It is not imported
by the pipeline itself.

The site renders the executed notebooks as they are (MyST-NB, no execution),
the Markdown pages (the index, the report, the figure index, the protocol, the
gallery and the tables) with MyST, in the Jupyter Book look (sphinx-book-theme).
Everything it needs is bundled: no page loads a script, font or style sheet from
another site, and the sources are not copied into the output.
"""

project = "MAMGD companion"
author = "MAMGD companion"
html_title = "MAMGD reproduction companion"

extensions = ["myst_nb"]

# Render the outputs stored in the executed notebooks; never run them.
nb_execution_mode = "off"
nb_merge_streams = True
# ``![..](..){w=..}`` sets the width of the index's thumbnails.
myst_enable_extensions = ["attrs_inline"]
myst_heading_anchors = 3
# Show "--" and quotes as written in the Markdown (no typographic replacement).
smartquotes = False

html_theme = "sphinx_book_theme"
html_theme_options = {
    "home_page_in_toc": True,
    "show_toc_level": 2,
    "use_download_button": False,
    "use_fullscreen_button": False,
}
html_copy_source = False
html_show_sourcelink = False
html_last_updated_fmt = None
html_show_sphinx = False

# Headings in the generated report and the notebooks sometimes skip a level.
suppress_warnings = ["myst.header"]
