"""The notebook runner: headless, all-or-nothing, byte-stable runs for the Makefile.

``python -m mamgd_paper.runner`` is its command line (``__main__``). Modules:
:mod:`~mamgd_paper.runner.execute` (Papermill execution and publishing),
:mod:`~mamgd_paper.runner.scrub` (byte-stable executed notebooks),
:mod:`~mamgd_paper.runner.follow` (the kernel's progress on the terminal),
:mod:`~mamgd_paper.runner.manifest` (``figures/manifest.json``: which notebook
published each file), :mod:`~mamgd_paper.runner.deps` (the Makefile's
dependency scanner), :mod:`~mamgd_paper.runner.times` (wall-time records) and
:mod:`~mamgd_paper.runner.quiet` (filtering TensorFlow's start-up noise). All
of them import only the standard library at module level, so the system
``python3`` runs ``deps`` before the virtual environment exists.
"""
