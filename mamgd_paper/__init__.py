"""The paper pipeline around the :mod:`mamgd` library.

Everything the numbered notebooks call to regenerate the figures and tables of
Sakovich et al., *Technologies* 2024, 12(9), 154, and to audit them: dataset
loaders, experiment runners, the k search, the ablation, the table, figure and
report writers. The experiments' protocol is written out in
``docs/protocol.md``.

Install with the ``companion`` extra (``pip install -e ".[companion]"``); the
library itself (:mod:`mamgd`) needs only keras and numpy.
"""
