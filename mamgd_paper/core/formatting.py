"""How numbers are written in tables, findings and notebooks: one home.

Every table writer, finding and notebook display formats its numbers with
these functions, so that one quantity reads the same everywhere.
"""

import math

import pandas as pd

__all__ = ["format_number", "significant", "percent", "relative_change", "whole_number"]


def format_number(value, digits=3):
    """``value`` with ``digits`` significant digits (``"%.3g"``); ``"n/a"`` if missing."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    return f"{value:.{digits}g}"


def significant(frame, digits=9, missing=None):
    """A copy of ``frame`` with its float columns as ``"%.{digits}g"`` strings.

    Quantities that span many decades (errors from 1e-12 to 1e3) are written
    with significant digits instead of fixed decimals; the CSV still reads
    back as numbers. ``missing``: the text of a missing value (``None``: as
    ``"%g"`` writes NaN, ``"nan"``); with ``missing`` given, the result has
    object columns throughout, as the table writers expect of text.
    """
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_float_dtype(out[column]):
            out[column] = [missing if missing is not None and pd.isna(v) else f"%.{digits}g" % v
                           for v in out[column]]
    return out if missing is None else out.astype(object)


def percent(fraction):
    """``0.1234`` as ``"12.3%"`` (three significant digits; whole percent from 100%)."""
    value = 100 * fraction
    return f"{value:.0f}%" if value >= 100 else f"{value:.3g}%"


def relative_change(value):
    """A relative change ``value`` (0.05 = 5% more): ``"+5.0%"``, or a factor
    (``"12.3x"``) once the change is ten-fold or more."""
    if abs(value) >= 10:
        return f"{1 + value:.3g}x"
    return f"{100 * value:+.1f}%"


def whole_number(value, missing="never"):
    """``value`` as a whole number, ``missing`` when there is none (a step
    count that was never reached, say)."""
    try:
        return str(int(value))
    except (TypeError, ValueError):
        return missing
