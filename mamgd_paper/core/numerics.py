"""The floating-point set-up every result is computed under (one definition).

NumPy and TensorFlow choose their machine code by what the CPU can do, and on
x86-64 machines with AVX-512 they take code that rounds some results
differently in the last bit from what an AVX2 machine computes:

* NumPy's float64 ``exp``, ``log``, ``log10`` and ``power`` (dispatch targets
  ``X86_V4``, ``AVX512_ICL``, ``AVX512_SPR``): with them, 9,316 of 200,000
  ``exp`` values differ from the C library's; without them, none.
* XLA (the training engine's compiler, :mod:`mamgd_paper.engine`) picks its
  CPU vector instructions by what the machine offers, and Eigen's matrix
  products inside it block their sums by the number of threads: capped at
  AVX2 and run on one thread, they compute the same bits everywhere.
* TensorFlow switches its oneDNN kernels on by default on CPUs with AVX-512
  VNNI or BF16 (and prints "oneDNN custom operations are on"); they sum in
  another order than the Eigen kernels other CPUs run. Off, TensorFlow's
  matrix products still call oneDNN's sgemm, which takes its AVX-512 kernel
  unless ``ONEDNN_MAX_CPU_ISA`` caps it at AVX2.

Network training and steps to a target are chaotic in those bits. Measured on
an AVX-512 machine against outputs made on an AVX2 machine from the same
commit: 166 of the 327 published files of ``make reproduce`` differed (3,330 of
the 22,824 equal-budget trial values; Table 7's count of published numbers
outside the seed band, 19 instead of 21); with this set-up 59 did, all of
them the Keras runs of Tables 8 and 10 and the MNIST run of notebook 10 (and
the counts computed from them), whose larger matrix products oneDNN blocks by
the machine's caches as well as its instruction set. The pipeline runs with
:data:`ENVIRONMENT` (NumPy without its AVX-512 targets, TensorFlow without
its oneDNN kernels, oneDNN's sgemm at most AVX2; read when the libraries are
imported): the Makefile exports it (notebooks, workers and tests get it), the
notebook runner sets it for its kernels, the equal-budget worker command
starts itself again with it, and the worker API stops without it
(:func:`check`). Machines without AVX-512 compute the same numbers with or without
them.

``python3 -m mamgd_paper.core.numerics NAME`` prints the value of ``NAME``
(standard library only: the Makefile runs it with the system ``python3``).
"""

from __future__ import annotations

import sys

#: NumPy's dispatch targets switched off (NumPy 2.x names): every AVX-512 level.
NUMPY_DISABLED = ("X86_V4", "AVX512_ICL", "AVX512_SPR")
#: The environment variables, and their values, that every result is computed under.
ENVIRONMENT = {
    "NPY_DISABLE_CPU_FEATURES": " ".join(NUMPY_DISABLED),
    "TF_ENABLE_ONEDNN_OPTS": "0",
    "ONEDNN_MAX_CPU_ISA": "AVX2",
    "XLA_FLAGS": "--xla_cpu_max_isa=AVX2 --xla_cpu_multi_thread_eigen=false",
}


def active_targets():
    """The targets of :data:`NUMPY_DISABLED` that this process's NumPy uses."""
    from numpy._core._multiarray_umath import __cpu_features__

    return [name for name in NUMPY_DISABLED if __cpu_features__.get(name)]


def assignments():
    """``NAME='value' ...``: the set-up as shell assignments (for messages)."""
    return " ".join(f"{name}='{value}'" for name, value in ENVIRONMENT.items())


def check(who):
    """Raise ``SystemExit`` naming the fix when NumPy runs its AVX-512 code here."""
    active = active_targets()
    if active:
        raise SystemExit(
            f"{who}: NumPy uses its {'/'.join(active)} code here, whose float64 exp, log and "
            f"power round differently from other machines'. Start it with "
            f"{assignments()} in the environment (the Makefile sets them).")


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in ENVIRONMENT:
        sys.exit(f"usage: python3 -m mamgd_paper.core.numerics {{{','.join(ENVIRONMENT)}}}")
    print(ENVIRONMENT[sys.argv[1]])
