"""Infrastructure every experiment shares, one definition each.

* :mod:`~mamgd_paper.core.paths`: the repository's folders;
* :mod:`~mamgd_paper.core.atomic`: the one atomic writer (standard library
  only); :mod:`~mamgd_paper.core.artifacts`: tables (CSV, LaTeX, Markdown) and
  figures (PDF, PNG) written through it, and notebook displays;
* :mod:`~mamgd_paper.core.formatting`: how numbers are written;
* :mod:`~mamgd_paper.core.stats`: the bootstrap;
* :mod:`~mamgd_paper.core.optuna_utils`: Optuna storages and the fill-a-study loop;
* :mod:`~mamgd_paper.core.parameters`: notebook parameter checks;
  :mod:`~mamgd_paper.core.make_variables`: the Makefile's variables;
* :mod:`~mamgd_paper.core.progress`: progress of long cells;
* :mod:`~mamgd_paper.core.style` and :mod:`~mamgd_paper.core.plotting`: one
  palette and the shared figure helpers.
"""
