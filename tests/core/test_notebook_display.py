"""The notebook helpers of mamgd_paper.core.artifacts: the PNG resolution rule
and the plain-text table display (notebooks 09 and 10)."""

import numpy as np
import pandas as pd

from mamgd_paper.core import artifacts


def test_png_dpi_is_300_for_the_paper_and_100_for_a_quick_run():
    assert artifacts.png_dpi() == artifacts.png_dpi(False) == 300
    assert artifacts.png_dpi(True) == 100


def test_show_table_prints_significant_digits_without_index(capsys):
    frame = pd.DataFrame({"name": ["a", "b"], "x": [0.123456, np.nan], "n": [3, 4],
                          "y": [12345.678, 1e-7]})
    artifacts.show_table(frame)
    assert capsys.readouterr().out == ("name      x  n         y\n"
                                       "   a 0.1235  3 1.235e+04\n"
                                       "   b    NaN  4     1e-07\n")
    artifacts.show_table(pd.DataFrame({"x": [2 / 3]}), digits=2)
    assert capsys.readouterr().out == "   x\n0.67\n"


def test_display_table_is_markdown_with_fixed_decimals_and_no_random_id(capsys):
    frame = pd.DataFrame({"epoch": [2, 4], "MAMGD": [1.9597031, 0.25]})
    text = artifacts.display_table(frame, decimals=6)
    assert text.splitlines() == ["|   epoch |    MAMGD |", "|--------:|---------:|",
                                 "|       2 | 1.959703 |", "|       4 | 0.250000 |"]
    assert artifacts.display_table(frame, decimals=6) == text  # the same bytes every time
