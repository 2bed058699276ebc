"""The paper's neural-network experiments (Tables 7-11, Figures 7-11).

``tasks`` declares the five tables as data (model, data, loss, optimizers,
notebook prose); ``data`` holds the split containers and each task's data
preparation; ``training`` trains one run or all seeds and optimizers of a
task, deterministically; ``cache`` keeps finished runs for reuse across
notebooks; ``verdicts`` compares our seed band with every published number
and summarises the held-out metrics; ``describe`` writes the notebook's prose
and protocol table; ``outputs`` writes the tables and the status line;
``figures`` draws Figures 7-11.
"""
