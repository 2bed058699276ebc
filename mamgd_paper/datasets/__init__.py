"""Offline-first, checksum-verified access to the Keras datasets the paper uses.

``files`` holds the registry of dataset files and their sha256 hashes and
fetches (with pooch) and verifies them in the data directory (``data_dir``,
``$MAMGD_DATA_DIR`` or ``data/``); ``loaders`` returns their arrays exactly as
``keras.datasets.<name>.load_data`` does; ``__main__`` is the command line
``python -m mamgd_paper.datasets fetch`` that ``make data`` runs.
"""
