"""The k search: MAMGD's decay rate tuned with Optuna on the test functions (notebook 02).

Modules: ``search`` (the reproducible Optuna search of the paper's section
8.1: objective, seeded workers, studies in a storage, file stems, and the
command line ``python -m mamgd_paper.experiments.ksearch.search
{worker,status,dashboard}``), ``sensitivity`` (the error against k and the
step count on a k grid, and how a tuned k transfers to other step counts),
``tables`` (notebook 02's tables and sentences: found k against the paper's,
the ``tableNN_found_k`` tables, the ``k_transfer_summary``) and ``figures``
(the k-sensitivity map and Optuna's plots). The Optuna plumbing shared with
the equal-budget comparison is :mod:`mamgd_paper.core.optuna_utils`.
"""
