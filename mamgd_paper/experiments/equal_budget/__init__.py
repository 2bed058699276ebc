"""Equal tuning budget: does MAMGD beat Adam when every optimizer is tuned alike?

The paper tuned MAMGD's decay rate with Optuna and ran every other optimizer
at one fixed learning rate; this package runs the comparison the way optimizer
benchmarks do it (the protocol of Schneider, Balles & Hennig, "DeepOBS",
ICLR 2019, and of Schmidt, Schneider & Hennig, "Descending through a Crowded
Valley", ICML 2021): every optimizer gets the same number of seeded TPE trials
per problem, is tuned on one thing and reported on another, and is compared
with Adam by a paired bootstrap (docs/protocol.md, section 7; notebook 11).
Modules: ``protocol`` (optimizers, ranges, constants), ``problems`` (the 13
problems, the run's ``Config``), ``objectives`` (test-function runs and
scores), ``network_problems`` (network splits and training), ``studies``
(storage, study names, samplers, filling a study), ``tuning`` (one item:
objective, pruner, best setting, held-out evaluation), ``workers`` (the queue
and its worker processes), ``parent`` (a worker's lifeline), ``results``
(reading a run back), ``statistics`` (paired verdicts, performance profiles),
``table`` (the results table), ``summary`` (verdict counts, the answer
sentence), ``findings`` (the section of REPORT.md), ``figures`` (profiles,
sensitivity, path gallery) and
``__main__`` (``python -m mamgd_paper.experiments.equal_budget
{worker,fill,status,requeue}``).
"""
