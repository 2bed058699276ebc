"""One sub-package per experiment of the paper and beyond it.

``functions`` (Tables 1-6, Figures 1-6), ``ksearch`` (the decay-rate search),
``trajectories`` (optimizer paths), ``networks`` (Tables 7-11), ``ablation``
(the curvature term and the other differences), ``scratch`` (the from-scratch
references) and ``equal_budget`` (every optimizer tuned alike). Each owns its
protocol constants, its runs, its figures and its findings text.
"""
