"""Notebook parameters, checked before any work is done.

Every notebook's first code cell passes its Papermill parameters through
these checks, so a bad value stops the run at once with a message that names
the parameter, the value given and what is accepted, instead of failing deep
inside a cell (``seeds=0`` used to end in pandas' "No objects to
concatenate").

:func:`output_dir` decides where a notebook writes: the folder it was given
explicitly (the Makefile's runner passes ``figures/`` or a staging folder),
else a scratch folder under ``build/interactive/`` so that a notebook run by
hand in Jupyter never overwrites the published, citable figures.
"""

import numbers
from pathlib import Path

from mamgd_paper.core.make_variables import MAX_SEEDS
from mamgd_paper.core.paths import ROOT

#: Where notebooks run by hand write their figures and tables.
INTERACTIVE = ROOT / "build" / "interactive"


class ParameterError(ValueError):
    """A notebook parameter has a value the notebook cannot run with."""


def _reject(name, value, accepted):
    raise ParameterError(
        f"Notebook parameter {name}={value!r} is not accepted: {name} must be "
        f"{accepted}. Pass another value (papermill: -p {name} VALUE; make: "
        f"see the Makefile's variables).")


def boolean(name, value):
    """``value`` if it is ``True`` or ``False``."""
    if not isinstance(value, bool):
        _reject(name, value, "True or False")
    return value


def integer(name, value, minimum=None, maximum=None):
    """``value`` as an ``int`` if it is a whole number in ``[minimum, maximum]``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        _reject(name, value, _range_text("a whole number", minimum, maximum))
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        _reject(name, value, _range_text("a whole number", minimum, maximum))
    return int(value)


def positive_int(name, value):
    """``value`` if it is a whole number >= 1 (a count: seeds, trials, steps)."""
    return integer(name, value, minimum=1)


def optional_positive_int(name, value):
    """``None`` (the notebook's default) or a whole number >= 1."""
    return None if value is None else integer(name, value, minimum=1)


def positive_number(name, value):
    """``value`` as a ``float`` if it is a finite number > 0."""
    if (isinstance(value, bool) or not isinstance(value, numbers.Real)
            or not value > 0 or value == float("inf")):
        _reject(name, value, "a finite number > 0")
    return float(value)


def choice(name, value, choices):
    """``value`` if it is one of ``choices``."""
    if value not in tuple(choices):
        _reject(name, value, "one of " + ", ".join(repr(c) for c in choices))
    return value


def subset(name, values, choices):
    """``values`` as a list if it is a non-empty list whose items are all in ``choices``."""
    choices = tuple(choices)
    accepted = "a non-empty list of " + ", ".join(repr(c) for c in choices)
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        _reject(name, values, accepted)
    values = list(values)
    if not values or any(v not in choices for v in values):
        _reject(name, values, accepted)
    return values


def optional_path(name, value):
    """``None`` or a path given as a string (or :class:`~pathlib.Path`)."""
    if value is not None and not isinstance(value, (str, Path)):
        _reject(name, value, "None or a folder path (a string)")
    return value


def from_environment(name, value, variable, default):
    """``value`` when given; else the whole number in environment variable
    ``variable`` (how make passes a run-only setting such as the number of
    workers, which then appears in no executed notebook), else ``default``."""
    import os

    if value is not None:
        return value
    text = os.environ.get(variable, "").strip()
    if not text:
        return default
    try:
        return int(text)
    except ValueError:
        _reject(name, text, f"a whole number (from ${variable})")


def standard(notebook, quick, seed, seeds, data_dir, figures_dir):
    """Check the parameters every notebook has; return its output folder.

    ``quick`` a bool, ``seed`` a whole number >= 0, ``seeds`` from 1 to
    :data:`~mamgd_paper.core.make_variables.MAX_SEEDS` (or ``None``: the
    notebook's own number),
    ``data_dir`` ``None`` or a path; the folder is :func:`output_dir`'s.
    """
    boolean("quick", quick)
    integer("seed", seed, minimum=0)
    if seeds is not None:
        integer("seeds", seeds, minimum=1, maximum=MAX_SEEDS)
    optional_path("data_dir", data_dir)
    return output_dir(figures_dir, notebook)


def output_dir(figures_dir, notebook):
    """The folder a notebook writes its figures (and ``tables/``) to.

    ``figures_dir`` given (a path): that folder. ``None`` (a notebook run by
    hand): ``build/interactive/<notebook>/``, never the published ``figures/``.
    """
    optional_path("figures_dir", figures_dir)
    folder = Path(figures_dir) if figures_dir is not None else INTERACTIVE / notebook
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _range_text(kind, minimum, maximum):
    if minimum is not None and maximum is not None:
        return f"{kind} from {minimum} to {maximum}"
    if minimum is not None:
        return f"{kind} >= {minimum}"
    if maximum is not None:
        return f"{kind} <= {maximum}"
    return kind
