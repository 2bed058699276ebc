"""The audit: a verdict for every published number, and the generated REPORT.md.

``python -m mamgd_paper.audit`` (``make report``) writes the report
(``__main__``). Modules: :mod:`~mamgd_paper.audit.compare` (the per-number
verdicts and their counts), :mod:`~mamgd_paper.audit.environment` (package
versions, CPU, dataset checksums, notebook parameters),
:mod:`~mamgd_paper.audit.findings` (the experiments' findings sections, fed
with their tables), :mod:`~mamgd_paper.audit.markdown` (the Markdown helpers
of the findings), :mod:`~mamgd_paper.audit.render`
(``templates/REPORT.md.j2`` and writing every output),
:mod:`~mamgd_paper.audit.calibration` (where each published network run sits
among our seeds) and :mod:`~mamgd_paper.audit.verify` (the regenerated files
against ``published.sha256``; standard library only).
"""
