"""The repository's folders: the one place in the companion that knows them.

The companion runs from a checkout of the repository (``pip install -e .``),
whose root holds ``pyproject.toml``. :data:`ROOT` is that root when this
package sits in a checkout, else the current working directory (so an
installed copy reads and writes relative to where it is run, never inside
``site-packages``).
"""

from pathlib import Path


def _find_root():
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "pyproject.toml").is_file():
        return checkout
    return Path.cwd()


#: The repository root.
ROOT = _find_root()
#: Published figures (PDF + PNG) and, under ``tables/``, every table.
FIGURES = ROOT / "figures"
TABLES = FIGURES / "tables"
#: Executed notebooks (what readers browse).
EXECUTED = ROOT / "notebooks" / "executed"
#: Dataset cache and Optuna study storage (never committed).
DATA = ROOT / "data"
