"""The paper pipeline around the :mod:`mamgd` library.

Everything the numbered notebooks call to regenerate the figures and tables of
Sakovich et al., *Technologies* 2024, 12(9), 154, and to audit them. One
sub-package per layer and per experiment:

* :mod:`mamgd_paper.core`: infrastructure (the repository's folders, the one
  atomic writer, table and figure writers, number formatting, statistics,
  Optuna utilities, notebook and make parameters, progress, plot style);
* :mod:`mamgd_paper.paper`: the published numbers and their verdict rules, and
  the registry of every optimizer the pipeline runs;
* :mod:`mamgd_paper.datasets`: offline-first, checksum-verified dataset files;
* :mod:`mamgd_paper.experiments`: one sub-package per experiment (``functions``,
  ``ksearch``, ``trajectories``, ``networks``, ``ablation``, ``scratch``,
  ``equal_budget``), each with its findings text;
* :mod:`mamgd_paper.audit`: every published number against ours, the run-level
  calibration of the stochastic tables, the report, the published-files check;
* :mod:`mamgd_paper.runner`: the Papermill notebook runner (execution,
  scrubbing, dependency scan, output filter);
* :mod:`mamgd_paper.site`: the static site of the executed notebooks.

It runs from a checkout of the repository (``make`` puts the checkout on the
environment's path); the experiments' protocol is ``docs/protocol.md``. The
library itself (:mod:`mamgd`) needs only keras and numpy and is distributed
alone.

Keras runs on its JAX backend here unless ``KERAS_BACKEND`` says otherwise:
the networks are trained by :mod:`mamgd_paper.engine` (Keras's stateless API
under ``jax.jit``). The one TensorFlow run is the engine's reference
(:mod:`mamgd_paper.engine.keras_reference`).
"""

import os as _os

_os.environ.setdefault("KERAS_BACKEND", "jax")
