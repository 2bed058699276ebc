"""The from-scratch references of notebook 10 (docs/protocol.md, section 5).

``softmax`` is the NumPy-only softmax network (784 -> 10) and its Keras twin
with the same weights and batches; ``mnist`` runs it on MNIST with the
from-scratch Adam and MAMGD beside Keras's Adam and summarises the runs;
``bowl`` is the AMSGrad tutorial's bowl f = x^2 + y^2 with every optimizer
of ``mamgd.reference``; ``figures`` draws the notebook's figures; ``outputs``
writes its tables and names the stems of its files; ``findings`` is the
report's section on them.
"""
