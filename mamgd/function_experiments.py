"""The paper's test-function experiments (Tables 1-6, Figures 1-6).

Protocol (Sakovich et al. 2024, Section 8.1; PROTOCOL.md section 3): each
optimizer starts from the function's start point with learning rate 0.1 and
Keras defaults otherwise; MAMGD uses the function's tuned ``k``. "Epoch N" in
a table is the error after N update steps, the error being the mean over
coordinates of the squared distance to the target point, in float32.

The authors re-ran every N from scratch; one run recorded after every step
gives the same numbers (an update never looks ahead), so
:func:`keras_trajectory` runs each optimizer once.
"""

import keras
import numpy as np
import pandas as pd

from mamgd import optimizers

#: Learning rate of every optimizer in Tables 1-6.
PAPER_LEARNING_RATE = 0.1

#: Paper column name -> Keras optimizer class (MAMGD gets the function's k).
KERAS_BASELINES = {
    "Adam": keras.optimizers.Adam,
    "Adagrad": keras.optimizers.Adagrad,
    "RMSprop": keras.optimizers.RMSprop,
    "SGD": keras.optimizers.SGD,
}


def paper_optimizer(column, function, learning_rate=PAPER_LEARNING_RATE, **kwargs):
    """Return a fresh Keras optimizer for paper column ``column`` on ``function``.

    ``"MAMGD"`` is :class:`mamgd.MAMGD` (``authors_code``) with the
    function's published k; the others are Keras's built-ins with defaults.
    ``kwargs`` go to the constructor (e.g. ``variant="algorithm6"``).
    """
    if column == "MAMGD":
        kwargs.setdefault("k", function.paper_k)
        return optimizers.MAMGD(learning_rate=learning_rate, **kwargs)
    if column not in KERAS_BASELINES:
        raise ValueError(
            f"Unknown optimizer column {column!r}; expected MAMGD or one of "
            f"{sorted(KERAS_BASELINES)}."
        )
    return KERAS_BASELINES[column](learning_rate=learning_rate, **kwargs)


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
