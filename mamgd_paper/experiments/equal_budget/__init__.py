"""Equal tuning budget: does MAMGD beat Adam when every optimizer is tuned alike?

The paper tuned MAMGD's decay rate with Optuna and ran every other optimizer
at one fixed learning rate; this package runs the comparison the way the
optimizer-benchmark literature does (DeepOBS; Schmidt, Schneider & Hennig,
"Descending through a Crowded Valley"; AlgoPerf): replicated quasi-random
tuning studies with the same budget for every arm, held-out evaluation,
failures counted as failures, exact tests over studies with a correction for
the family, an equivalence margin, and an A/A arm (docs/protocol.md, section 7,
protocol version 2; notebook 11).

Modules: ``protocol`` (every declared choice), ``problems`` (the 14 problems,
the run's ``Config``), ``objectives`` (batched test-function runs, tuning
scores), ``network_problems`` (network splits, training runs through the
engine, :mod:`mamgd_paper.engine`), ``studies``
(storage, study names, the quasi-random designs, claiming trials, dead
workers), ``tuning`` (evaluating a batch of claimed trials), ``workers`` (the
worker loop and the local run), ``parent`` (a worker's lifeline), ``results``
(reading a run back), ``statistics`` (profiles, verdicts), ``table`` (the
results table), ``summary`` (verdict counts, the A/A check, the answer),
``findings`` (the section of REPORT.md), ``figures`` (profiles, sensitivity,
path galleries) and ``__main__`` (``python -m
mamgd_paper.experiments.equal_budget {worker,status}``).
"""
