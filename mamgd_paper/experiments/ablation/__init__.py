"""The curvature-term ablation: what each code-vs-paper difference of MAMGD does (notebook 09).

``switched`` is the MAMGD rule with every difference as a switch (NumPy and
Keras); ``ablation`` holds the file stems, the float32 runs and the ablation
on the test functions at the paper's k (curves, single effects, step length);
``differences`` each difference on Tables 1-6, cell by cell; ``k_range`` a
range of k and how specific the tuned k is; ``warmup`` the missing square
root as a learning-rate warm-up; ``network_runs`` the paper's network tasks;
``figures`` the figures; ``findings`` the report's text on the ablation.
"""
