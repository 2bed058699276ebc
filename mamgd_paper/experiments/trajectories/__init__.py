"""Optimizer paths on the test functions (notebook 03).

``trajectories`` runs every optimizer from each function's start point with
the float32 NumPy references and tabulates the paths and where they end; the
figures are :func:`mamgd_paper.experiments.functions.figures.contour_paths`.
"""
