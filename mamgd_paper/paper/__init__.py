"""What the paper publishes and which optimizers the companion runs.

``published`` holds the paper's numbers (``paper_tables.csv``: every cell of
Tables 1-11) and the rules that compare ours with them (exact at 6 decimals
for Tables 1-6, a seed band for Tables 7-11); ``registry`` lists every
optimizer by its label, with its Keras constructor and its NumPy reference.
"""
