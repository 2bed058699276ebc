"""The browsable static site of the executed notebooks, figures, tables and report.

``python -m mamgd_paper.site --output build/site`` (``make site``) builds it
(``__main__``). Modules: :mod:`~mamgd_paper.site.manifest` (each figure's and
table's files, notebook and caption: the runner's ``figures/manifest.json``
and the figure index ``figures/README.md``), :mod:`~mamgd_paper.site.pages`
(the pages it stages), :mod:`~mamgd_paper.site.build` (staging,
``sphinx-build``, swapping the result in) and :mod:`~mamgd_paper.site.conf`
(the Sphinx configuration, copied into the staging folder, never imported).
"""
