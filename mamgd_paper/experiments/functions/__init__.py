"""The test-function experiments: the paper's Tables 1-6 and Figures 1-6 (notebook 01).

``tables`` runs the Keras optimizers on the six test functions, lays the
errors out as the paper's tables, checks every published cell and finds what
the even-step tables hide (the period-2 cycle of MAMGD on Tables 1 and 2);
``figures`` draws the error figures and optimizer paths on contour plots.
"""
