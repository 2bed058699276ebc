"""The two Markdown pieces every finding of REPORT.md uses: a table and a "not available" note."""


def table(frame, floatfmt=".3g"):
    """``frame`` as a Markdown pipe table without its index, floats as ``floatfmt``."""
    return frame.to_markdown(index=False, floatfmt=floatfmt)


def missing(stems, notebook):
    """The note a finding shows when its tables (``stems`` under ``tables/``) do not exist."""
    return (f"*Not available: {', '.join(f'tables/{s}.csv' for s in stems)} not found "
            f"(run {notebook}).*")
