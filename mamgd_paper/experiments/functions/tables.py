"""The paper's test-function experiments (Tables 1-6, Figures 1-6).

Protocol (Sakovich et al. 2024, Section 8.1; docs/protocol.md, section 3): each
optimizer starts from the function's start point with learning rate 0.1 and
Keras defaults otherwise; MAMGD uses the function's tuned ``k``. "Epoch N" in
a table is the error after N update steps, the error being the mean over
coordinates of the squared distance to the target point, in float32.

The authors re-ran every N from scratch; one run recorded after every step
gives the same numbers (an update never looks ahead), so
:func:`keras_trajectory` runs each optimizer once.
"""

import math

import keras
import numpy as np
import pandas as pd

from mamgd import functions as test_functions
from mamgd_paper.paper import registry
from mamgd_paper.paper.published import PRINT_RESOLUTION, as_printed

#: Learning rate of every optimizer in Tables 1-6.
PAPER_LEARNING_RATE = 0.1


def paper_optimizer(column, function, learning_rate=PAPER_LEARNING_RATE, **kwargs):
    """Return a fresh Keras optimizer for paper column ``column`` on ``function``.

    ``"MAMGD"`` is :class:`mamgd.MAMGD` (``authors_code``) with the
    function's published k; the others are Keras's built-ins with defaults
    (see :mod:`mamgd_paper.paper.registry`). ``kwargs`` go to the constructor (e.g.
    ``variant="algorithm6"``).
    """
    return registry.paper_column(column, function, learning_rate, keras_backend=True,
                                 **kwargs)


def keras_trajectory(optimizer, function, steps, start=None):
    """Run ``optimizer`` on ``function`` for ``steps`` updates.

    The parameter is one float32 vector variable; the gradient is the
    function's analytic gradient evaluated in float32. Returns a float32 array
    of shape ``(steps + 1, dim)``: row 0 is the start, row N the point after
    N updates.
    """
    point = np.asarray(function.start if start is None else start, dtype=np.float32)
    variable = keras.Variable(point, dtype="float32", name="x")
    path = np.empty((steps + 1, point.size), dtype=np.float32)
    path[0] = point
    for step in range(1, steps + 1):
        x = keras.ops.convert_to_numpy(variable)
        gradient = np.asarray(function.gradient(x), dtype=np.float32)
        optimizer.apply([keras.ops.convert_to_tensor(gradient)], [variable])
        path[step] = keras.ops.convert_to_numpy(variable)
    return path


def trajectory_errors(function, path):
    """The paper's error (float32) at every row of a trajectory ``path``."""
    path = np.asarray(path, dtype=np.float32)
    return np.asarray(function.error(path.T), dtype=np.float32)


def error_curves(function, steps=None, columns=None, **optimizer_kwargs):
    """Error after 0..steps updates for each paper optimizer on ``function``.

    Returns a DataFrame indexed by ``step`` (0..steps) with one float32
    column per optimizer (default: the paper's columns for this function).
    """
    steps = function.max_steps if steps is None else steps
    columns = function.optimizers if columns is None else columns
    curves = {}
    for column in columns:
        optimizer = paper_optimizer(column, function, **optimizer_kwargs.get(column, {}))
        curves[column] = trajectory_errors(function, keras_trajectory(optimizer, function, steps))
    frame = pd.DataFrame(curves)
    frame.index.name = "step"
    return frame


def paper_layout(curves, epochs):
    """Pick the rows ``epochs`` of ``curves`` in the paper's layout (``epoch`` first)."""
    table = curves.loc[list(epochs)].reset_index().rename(columns={"step": "epoch"})
    return table


def reproduce_table(function):
    """Our version of the paper's table for ``function``: even steps 2..max_steps."""
    curves = error_curves(function)
    return paper_layout(curves, range(2, function.max_steps + 1, 2))


# ---------------------------------------------------------------------------
# Notebook 01: tables, checks and figures around reproduce_table
# ---------------------------------------------------------------------------

#: The paper's y limits of Figures 1-6 (figure number = table number); the
#: others take the data's range from 0.
PAPER_FIGURE_YLIM = {3: (0.0, 1.0), 4: (0.0, 1.0), 6: (0.0, 1.0)}


class TableMismatch(AssertionError):
    """A reproduced cell differs from the published one at 6 decimals."""


def even_epochs(function):
    """The step counts the paper's table shows for ``function``: 2, 4, ..., max."""
    return list(range(2, function.max_steps + 1, 2))


def table_stem(function):
    """File stem of the function's table: ``table01`` ... ``table06``."""
    return f"table{function.table:02d}"


def curves_stem(function):
    """File stem of the function's full per-step curves: ``curves01`` ..."""
    return f"curves{function.table:02d}"


def figure_stem(function):
    """File stem of the function's figure: ``fig01_quadratic`` ..."""
    return f"fig{function.table:02d}_{function.name}"


def reproduce(function):
    """Per-step curves (Keras, 0..max_steps) and the paper-layout table.

    Returns ``(curves, table)``; ``table`` equals :func:`reproduce_table`.
    """
    curves = error_curves(function)
    return curves, paper_layout(curves, even_epochs(function))


def side_by_side(published, ours):
    """Published and reproduced table next to each other.

    ``published`` and ``ours`` are wide tables (``epoch`` + optimizer
    columns). Returns a DataFrame indexed by epoch whose columns are
    ``(optimizer, "paper" | "ours")``, ours printed to 6 decimals as the
    paper prints.
    """
    published = published.set_index("epoch")
    ours = ours.set_index("epoch").loc[published.index]
    columns = {}
    for name in published.columns:
        columns[(name, "paper")] = published[name].to_numpy()
        columns[(name, "ours")] = as_printed(ours[name].to_numpy(dtype=float))
    frame = pd.DataFrame(columns, index=published.index)
    frame.columns = pd.MultiIndex.from_tuples(frame.columns, names=["optimizer", ""])
    return frame


def check_comparisons(comparisons):
    """Raise :class:`TableMismatch` listing every cell whose ``match`` is false.

    ``comparisons`` is one long frame of :func:`mamgd_paper.paper.published.compare_exact`
    (or several concatenated). Returns the number of cells checked.
    """
    bad = comparisons[~comparisons["match"]]
    if len(bad):
        lines = [f"Table {r.table}, epoch {r.epoch}, {r.optimizer}: paper {r.paper:.6f}, "
                 f"ours {r.reproduced:.6f}" for r in bad.itertuples(index=False)]
        shown = "\n  ".join(lines[:20]) + ("\n  ..." if len(lines) > 20 else "")
        raise TableMismatch(
            f"{len(bad)} of {len(comparisons)} cells differ from the paper at 6 "
            f"decimals:\n  {shown}")
    return len(comparisons)


def parity_summary(curves, tail=5):
    """What the even-step tables hide: the error at odd vs even steps.

    For each optimizer (column of ``curves``), over the last ``tail`` odd and
    the last ``tail`` even step counts: the largest error at even steps, the
    largest at odd steps and their ratio. A limit cycle of period 2 (MAMGD on
    Tables 1 and 2) shows as a large odd/even ratio.
    """
    steps = np.asarray(curves.index)
    last = steps.max()
    even = [s for s in steps if s % 2 == 0 and s > 0][-tail:]
    odd = [s for s in steps if s % 2 == 1][-tail:]
    rows = []
    for name in curves.columns:
        e = float(curves.loc[even, name].max())
        o = float(curves.loc[odd, name].max())
        rows.append({"optimizer": name, "steps": f"{min(odd + even)}-{last}",
                     "max_even": e, "max_odd": o,
                     "odd_over_even": o / e if e > 0 else np.inf})
    return pd.DataFrame(rows)


def parity_table(curves, functions=test_functions.PAPER_FUNCTIONS):
    """:func:`parity_summary` of every function, stacked: columns ``table, function,
    optimizer, steps, max_even, max_odd, odd_over_even``.

    ``curves``: function name -> the curves of :func:`reproduce`.
    """
    parity = pd.concat([parity_summary(curves[f.name]).assign(table=f.table, function=f.name)
                        for f in functions], ignore_index=True)
    return parity[["table", "function", "optimizer", "steps", "max_even", "max_odd",
                   "odd_over_even"]]


def match_counts(comparisons):
    """Per table of :func:`mamgd_paper.paper.published.compare_exact` rows: the
    published cells, how many we match, and the function's title."""
    counts = comparisons.groupby("table")["match"].agg(cells="size", matching="sum")
    counts["function"] = [test_functions.get(int(t)).title for t in counts.index]
    return counts


#: The functions whose MAMGD column ends in a period-2 cycle (Tables 1 and 2).
PERIOD_TWO_FUNCTIONS = (test_functions.QUADRATIC, test_functions.SPHERE)


def cycle_start(curve, resolution=PRINT_RESOLUTION):
    """The first step at which the error ``curve`` (a Series indexed by step) is
    below ``resolution`` (default: the tables' print resolution, 5e-7); ``None``
    if it never is.

    For MAMGD at the tuned k on Tables 1 and 2 this is where the iterate first
    lands next to the minimiser: from there on it jumps back and forth by the
    learning rate (a period-2 cycle, :func:`period_two`).
    """
    below = np.asarray(curve.index)[np.asarray(curve) < resolution]
    return int(below[0]) if below.size else None


def period_two(curve, start=None):
    """The error at even and at odd steps from ``start`` (default :func:`cycle_start`) on.

    Returns a dict with ``start`` and the smallest and largest error over the
    even steps (``even_min``, ``even_max``) and over the odd steps
    (``odd_min``, ``odd_max``), in the dtype of ``curve``.
    """
    start = cycle_start(curve) if start is None else int(start)
    tail = curve.loc[start:]
    even, odd = tail[tail.index % 2 == 0], tail[tail.index % 2 == 1]
    return {"start": start, "even_min": even.min(), "even_max": even.max(),
            "odd_min": odd.min(), "odd_max": odd.max()}


def period_two_line(function, curve):
    """The Markdown bullet of notebook 01 on MAMGD's period-2 cycle on ``function``.

    ``curve``: MAMGD's error after every step (the ``MAMGD`` column of
    :func:`reproduce`'s curves). The distances to the minimiser per
    coordinate are the square roots of the errors; the decayed beta_1 after
    one step is ``0.9 exp(-k)`` (Keras's default beta_1).
    """
    cycle = period_two(curve)
    even_min, even_max = cycle["even_min"], cycle["even_max"]
    odd_min, odd_max = cycle["odd_min"], cycle["odd_max"]
    return (
        f"- **Table {function.table} ({function.title}, k = {function.paper_k:.4f})**: from step "
        f"{cycle['start']} on, MAMGD's error is {even_min:.2e}-{even_max:.2e} at every even step "
        f"but {odd_min:.5f}-{odd_max:.5f} at every odd step: the iterate jumps between a point "
        f"{even_max ** 0.5:.1e} and a point {odd_min ** 0.5:.4f} away from the minimiser "
        f"per coordinate (square root of the error), a period-2 limit cycle of amplitude 0.1, "
        f"the learning rate. With k = {function.paper_k:.2f} the decayed betas are "
        f"{0.9 * math.exp(-function.paper_k):.3f} (beta_1) after one step and below "
        f"0.01 after two, so m = g and n = g^2: MAMGD becomes sign-gradient descent with step "
        f"0.1, which cannot settle. The table's even steps, which the k search tuned for "
        f"(step {function.search_steps}), all land on the good half of the cycle.")
