"""The finding of the from-scratch references (notebook 10) as a section of REPORT.md.

:func:`references` takes the tables ``tables/scratch_bowl.csv`` and
``tables/scratch_mnist_summary.csv`` (``None`` when missing) and returns the
Markdown body of the report's section; :data:`SECTIONS` gives its title and
table stems to :mod:`mamgd_paper.audit.findings`.
"""

import numpy as np

from mamgd_paper.audit import markdown
from mamgd_paper.core.formatting import format_number
from mamgd_paper.experiments.scratch import outputs
from mamgd_paper.paper import registry as reg


def references(bowl, mnist):
    """The from-scratch references: the AMSGrad tutorial's bowl and the MNIST softmax network."""
    lines = []
    if bowl is not None:
        tut = bowl[bowl["optimizer"] == reg.TUTORIAL_AMSGRAD]
        if len(tut):
            r = tut.iloc[0]
            lines.append(
                f"- AMSGrad from scratch on the bowl (100 iterations, alpha "
                f"{format_number(r['learning_rate'])}): final f = {format_number(r['f_final'])} (the tutorial: "
                f"about 2e-6).")
        others = bowl[bowl["optimizer"] != reg.TUTORIAL_AMSGRAD]
        if len(others):
            lines.append("- Every optimizer of mamgd.reference from the same start (final f "
                         "after 100 iterations, learning rate): " + "; ".join(
                             f"{r.optimizer} {format_number(r.f_final)} (lr {format_number(r.learning_rate)})"
                             for r in others.itertuples()) + ".")
    else:
        lines.append(markdown.missing([outputs.BOWL_STEM], "notebook 10"))
    if mnist is not None:
        for r in mnist.itertuples():
            report = ""
            if np.isfinite(r.report_train_accuracy):
                report = f" (course report: {r.report_train_accuracy:.2f}% training"
                report += (f", {r.report_val_accuracy:.2f}% validation)"
                           if np.isfinite(r.report_val_accuracy) else ")")
            lines.append(
                f"- MNIST softmax network, {r.optimizer}, {int(r.epochs)} epochs, "
                f"{int(r.n_seeds)} seed(s): training accuracy {r.train_accuracy_mean:.2f}% "
                f"[{r.train_accuracy_min:.2f}, {r.train_accuracy_max:.2f}], validation "
                f"{r.val_accuracy_mean:.2f}% [{r.val_accuracy_min:.2f}, "
                f"{r.val_accuracy_max:.2f}], final training loss {r.train_loss_mean:.4f}"
                f"{report}.")
    else:
        lines.append(markdown.missing([outputs.MNIST_SUMMARY_STEM], "notebook 10"))
    return "\n".join(lines)


#: The report's sections from this package: (title, function, {argument: table stem}).
SECTIONS = [
    ("From-scratch references", references,
     {"bowl": outputs.BOWL_STEM, "mnist": outputs.MNIST_SUMMARY_STEM}),
]
