"""Writing tables and figures atomically and deterministically.

Every output goes first to a temporary file in the destination folder and is
then moved into place with :func:`os.replace` (:func:`atomic_path` and
:func:`write_text`, defined in the standard-library-only
:mod:`mamgd_paper.core.atomic`), so a reader (or a crashed run) never sees a
half-written file. Figures carry no creation date or software
stamp, so regenerating them gives byte-identical files.
"""

import io
from pathlib import Path


from mamgd_paper.core.atomic import atomic_path, write_text  # noqa: F401 (re-exported)


#: Resolution of the PNG copies of every figure.
PNG_DPI = 300
#: Resolution of the PNG copies in a notebook's quick (smoke) run: smaller, faster.
QUICK_PNG_DPI = 100


def write_table(frame, directory, stem, decimals=6, caption=None, index=False):
    """Write ``frame`` as ``stem.csv``, ``stem.tex`` (booktabs) and ``stem.md``.

    Floats are written with ``decimals`` decimals in all three files, as in
    the paper. The LaTeX file is a ``table`` environment ready for
    ``\\input`` (needs ``\\usepackage{booktabs}``); the Markdown file is a
    pipe table. Returns the three paths.
    """
    directory = Path(directory)
    fmt = f"%.{decimals}f"
    csv_path = write_text(
        directory / f"{stem}.csv", frame.to_csv(index=index, float_format=fmt, lineterminator="\n")
    )
    latex = frame.to_latex(
        index=index,
        float_format=lambda v: fmt % v,
        caption=caption,
        label=f"tab:{stem}",
        na_rep="--",
    )
    tex_path = write_text(directory / f"{stem}.tex", latex)
    markdown = frame.astype(object).to_markdown(index=index, floatfmt=f".{decimals}f")
    md_path = write_text(directory / f"{stem}.md", markdown + "\n")
    return csv_path, tex_path, md_path


def save_figure(fig, directory, stem, dpi=PNG_DPI):
    """Save ``fig`` as ``stem.pdf`` and ``stem.png`` (``dpi``), atomically.

    Creation dates and software stamps are left out so that the bytes depend
    on the figure alone. Returns the two paths.
    """
    directory = Path(directory)
    paths = []
    for suffix, metadata in ((".pdf", {"CreationDate": None, "Producer": None}),
                             (".png", {"Software": None})):
        path = directory / f"{stem}{suffix}"
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=suffix[1:], dpi=dpi, metadata=metadata,
                        bbox_inches="tight")
        paths.append(path)
    return paths


def display_figures(paths, width=1100):
    """Show saved PNG figures inline in a notebook, as downscaled copies.

    The executed notebooks are what readers browse; embedding the 300-dpi
    files would make them tens of megabytes, so each PNG is shown at
    ``width`` pixels (the files on disk are untouched). Other files are
    skipped. Returns the paths shown.
    """
    from IPython.display import Image, display
    from PIL import Image as PILImage

    shown = []
    for path in sorted(Path(p) for p in paths):
        if path.suffix != ".png":
            continue
        with PILImage.open(path) as image:
            image.thumbnail((width, 10 * width))
            buffer = io.BytesIO()
            image.save(buffer, format="PNG", optimize=True)
        display(Image(data=buffer.getvalue()))
        shown.append(path)
    return shown


def png_dpi(quick=False):
    """The resolution of a notebook's PNG figures: :data:`PNG_DPI`, or
    :data:`QUICK_PNG_DPI` in a quick run."""
    return QUICK_PNG_DPI if quick else PNG_DPI


def display_table(frame, decimals=6):
    """Show ``frame`` in a notebook as a Markdown table (no index, floats with
    ``decimals`` decimals, as the written tables): rendered in Lab and on the
    site, and byte-stable in the executed notebook (a pandas Styler gets a
    random id every run). Returns the Markdown text."""
    from IPython.display import Markdown, display

    text = frame.astype(object).to_markdown(index=False, floatfmt=f".{decimals}f")
    display(Markdown(text))
    return text


def show_table(frame, digits=4):
    """Print ``frame`` in a notebook as plain text: no index, every float with
    ``digits`` significant digits (``"%.4g"``), missing values as ``NaN``."""
    print(frame.to_string(index=False, float_format=lambda v: f"{v:.{digits}g}"))
