"""The findings of the ablation (notebook 09) as sections of REPORT.md.

Each function takes the ablation tables it reads (as written to
``figures/tables``; ``None`` when a table is missing) and returns the Markdown
body of one section of the report's "Findings"; :data:`SECTIONS` lists them
in the report's order with their titles and the stems of their tables.
:mod:`mamgd_paper.audit.findings` reads the tables and calls them.
"""

from mamgd_paper.audit import markdown
from mamgd_paper.core.formatting import format_number, relative_change, whole_number
from mamgd_paper.experiments.ablation import ablation
from mamgd_paper.experiments.scratch import outputs as scratch_outputs
from mamgd_paper.paper import registry as reg


def curvature(effects, cells, k_eff, nets, history, bowl):
    """The curvature term: does it help or hurt? (tables of notebook 09; ``bowl``: notebook 10)."""
    if effects is None:
        return markdown.missing([ablation.EFFECTS_STEM], "notebook 09")
    out = []
    if cells is not None:
        c = cells[(cells["table"] == 1) & (cells["epoch"] == 2)].set_index("configuration")
        if {"code+curvature", "code+curvature_from_zero"} <= set(c.index):
            out.append(
                "In the published code the curvature term is identically 0 (its slots are "
                "overwritten before they are read). Switched on, Table 1 at N = 2 becomes "
                f"{c.loc['code+curvature', 'value']:.6f} (c = 0 at t = 1, as Algorithm 6 "
                f"requires) or {c.loc['code+curvature_from_zero', 'value']:.6f} (slots "
                f"starting at 0) instead of the published {c.loc['code+curvature', 'paper']:.6f}.")
    lines = []
    for effect in ("curvature (code)", "curvature (Algorithm 6)"):
        d = effects[effects["effect"] == effect]
        if d.empty:
            continue
        helps_s = int((d["ratio_search_step"] < 1).sum())
        helps_n = int((d["ratio_last_step"] < 1).sum())
        lines.append(
            f"- {effect}: the error is lower with the term on {helps_s}/{len(d)} functions "
            f"at the tuned step S and on {helps_n}/{len(d)} at the last step; error ratio "
            f"with/without at S: {format_number(d['ratio_search_step'].min())} to "
            f"{format_number(d['ratio_search_step'].max())} (median "
            f"{format_number(d['ratio_search_step'].median())}), at the last step "
            f"{format_number(d['ratio_last_step'].min())} to {format_number(d['ratio_last_step'].max())} (median "
            f"{format_number(d['ratio_last_step'].median())}).")
    if k_eff is not None:
        for effect in ("curvature (code)", "curvature (Algorithm 6)"):
            d = k_eff[k_eff["effect"] == effect]
            if len(d):
                lines.append(
                    f"- {effect}, over the whole k grid ({int(d['n_k'].iloc[0])} values of k "
                    f"per function): lower error at the last step for "
                    f"{100 * d['helps_last_step'].mean():.0f}% of (function, k) pairs, at S "
                    f"for {100 * d['helps_search_step'].mean():.0f}%; median error ratio at "
                    f"the last step per function {format_number(d['median_ratio_last_step'].min())} to "
                    f"{format_number(d['median_ratio_last_step'].max())}.")
    if history is not None:
        for table, h in history.groupby("table"):
            for name in (reg.CODE_CURVATURE, reg.ALGORITHM6_LABEL):
                runs = h[h["optimizer"] == name]
                if runs.empty:
                    continue
                first = runs[runs["epoch"] == runs["epoch"].min()]["loss"]
                last = runs[runs["epoch"] == runs["epoch"].max()]["loss"]
                lines.append(
                    f"- Table {table} network task, {name}: training loss "
                    f"{format_number(first.mean(), 4)} after the first epoch and {format_number(last.mean(), 4)} "
                    f"after the last (seed range [{format_number(last.min(), 4)}, {format_number(last.max(), 4)}]): "
                    "training is frozen. With minibatch noise g - g_prev is large while "
                    "theta - theta_prev is small, so sqrt(c) dwarfs sqrt(n) and every step "
                    "is tiny; a weight that did not move gets c = ((g - g_prev)/eps)^2 and "
                    "stays put.")
    if nets is not None:
        for table, d in nets.groupby("table"):
            d = d.set_index("optimizer")
            for name in (reg.CODE_CURVATURE, reg.ALGORITHM6_LABEL):
                if name in d.index:
                    r = d.loc[name]
                    lines.append(
                        f"- Table {table} network task: {name} ends at training loss "
                        f"{format_number(r['final_loss_mean'], 4)} ({relative_change(r['change_vs_reference'])} vs "
                        f"the authors' code's {format_number(d.loc[reg.CODE, 'final_loss_mean'], 4)}"
                        f"; below it on {int(r['wins_vs_reference'])}/{int(r['n_seeds'])} "
                        f"seeds).")
    if bowl is not None:
        b = bowl.set_index("optimizer")
        if {reg.MAMGD, reg.MAMGD_ALGORITHM6} <= set(b.index):
            lines.append(
                "- Where the learning rate may be chosen freely the picture changes: on the "
                "AMSGrad tutorial's bowl (notebook 10, best learning rate of a grid per "
                f"optimizer) Algorithm 6 reaches f = {format_number(b.loc[reg.MAMGD_ALGORITHM6, 'f_final'])}"
                f" at lr {format_number(b.loc[reg.MAMGD_ALGORITHM6, 'learning_rate'])}, the code "
                f"f = {format_number(b.loc[reg.MAMGD, 'f_final'])} at lr {format_number(b.loc[reg.MAMGD, 'learning_rate'])}: "
                "near a minimum the curvature term dominates n, so the step becomes "
                "~ lr m |theta - theta_prev| / |g - g_prev| ~ lr m / |f''|, a damped "
                "Newton step that is slow at the paper's lr 0.1 but tolerates a large lr.")
    verdict = _curvature_answer(effects, nets)
    return "\n".join(out + ([verdict] if verdict else []) + [""] + lines)


def _curvature_answer(effects, nets):
    d = effects[effects["effect"].str.startswith("curvature")]
    if d.empty:
        return ""
    hurts = int((d["ratio_last_step"] > 1).sum())
    hurts_s = int((d["ratio_search_step"] > 1).sum())
    total = len(d)
    net_hurts = net_total = 0
    if nets is not None:
        rows = nets[nets["optimizer"] == reg.CODE_CURVATURE]
        net_total = len(rows)
        net_hurts = int((rows["change_vs_reference"] > 0).sum())
    word = "hurts" if hurts > total / 2 else ("helps" if hurts < total / 2 else "is mixed")
    text = (f"**Answer: at the paper's settings the live curvature term {word}**: it raises "
            f"the error at the tuned step S in {hurts_s} and at the last step in {hurts} of "
            f"{total} (function, variant) cases")
    if net_total:
        text += f" and the final training loss on {net_hurts} of {net_total} network tasks"
    return text + "."


def decay(effects, nets, k_range):
    """The exponential decay of the betas, with and without the warm-up."""
    if effects is None:
        return markdown.missing([ablation.EFFECTS_STEM], "notebook 09")
    lines = ["For the authors' code, k also shortens the warm-up that the missing square "
             "root causes (next section), so code k = 0 vs the paper's k mixes both effects; "
             "Adam vs AdaExp (Adam's square root, no warm-up) isolates the decay.", ""]
    for effect in ("decay (MAMGD code, k = 0 -> paper k)", "decay (Adam -> AdaExp, paper k)"):
        d = effects[effects["effect"] == effect]
        if d.empty:
            continue
        lines.append(
            f"- {effect}: lower error with the decay on {int((d['ratio_search_step'] < 1).sum())}"
            f"/{len(d)} functions at S and {int((d['ratio_last_step'] < 1).sum())}/{len(d)} at "
            f"the last step; ratio with/without at S "
            + ", ".join(f"{r.function} {format_number(r.ratio_search_step)}" for r in d.itertuples())
            + ".")
    if k_range is not None and reg.ADAEXP_FLOAT64 in set(k_range["optimizer"]):
        a32 = k_range[k_range["optimizer"] == "AdaExp"].set_index(["function", "k"])
        a64 = k_range[k_range["optimizer"] == reg.ADAEXP_FLOAT64].set_index(["function", "k"])
        ratio = (a32["error_search_step"] / a64.loc[a32.index, "error_search_step"])
        big = ratio[ratio.index.get_level_values("k") >= 1]
        small = ratio[ratio.index.get_level_values("k") < 1]
        if len(big) and len(small):
            lines.append(
                f"- Caveat: AdaExp in float32 is unreliable for large k (its Keras-form update "
                f"v + (g^2 - v)(1 - b2) cancels once b2 ~ 0): float32 / float64 error at S "
                f"is within [{format_number(small.min())}, {format_number(small.max())}] for k < 1 but reaches "
                f"{format_number(big.max())} for k >= 1.")
    if nets is not None:
        for table, d in nets.groupby("table"):
            d = d.set_index("optimizer")
            pairs = ((reg.CODE_K0, reg.CODE), (reg.ADAM, reg.ADAEXP))
            for without, with_ in pairs:
                if without in d.index and with_ in d.index:
                    a, b = d.loc[without, "final_loss_mean"], d.loc[with_, "final_loss_mean"]
                    lines.append(
                        f"- Table {table} network task: {with_} {format_number(b, 4)} vs {without} "
                        f"{format_number(a, 4)} final training loss ({relative_change(b / a - 1)}).")
    return "\n".join(lines)


def warmup(warm, effects, nets):
    """The missing square root is a learning-rate warm-up."""
    if warm is None:
        return markdown.missing([ablation.WARMUP_STEM], "notebook 09")
    lines = []
    w0 = warm[warm["k"] == 0]
    if len(w0):
        r = w0.iloc[0]
        lines.append(
            f"Both the code and Algorithm 6 divide sqrt(n) (not n) by 1 - b2^t, so their step "
            f"is sqrt(1 - b2^t) times Adam's: at t = 1 the multiplier of lr is "
            f"{format_number(r['mamgd_t1'])} instead of Adam's {format_number(r['adam_t1'])} (ratio "
            f"{format_number(r['ratio_t1'])}); with k = 0 it reaches half of Adam's step after "
            f"{int(r['steps_to_0.5'])} steps and 90% after {int(r['steps_to_0.9'])}: a "
            f"learning-rate warm-up.")
    shown = warm.rename(columns={
        "mamgd_t1": "code's step at t=1", "adam_t1": "Adam's step at t=1",
        "ratio_t1": "ratio at t=1", "steps_to_0.5": "steps to 50% of Adam's",
        "steps_to_0.9": "steps to 90%", "steps_to_0.99": "steps to 99%"})
    lines.append("")
    lines.append(markdown.table(shown, floatfmt=".4g"))
    lines.append("")
    if effects is not None:
        d = effects[effects["effect"] == "square root (code -> code + sqrt)"]
        if len(d):
            lines.append(
                f"- Adding Adam's square root to the code (paper k, lr 0.1): error ratio "
                f"with/without at S " + ", ".join(
                    f"{r.function} {format_number(r.ratio_search_step)}" for r in d.itertuples())
                + "; at the last step " + ", ".join(
                    f"{r.function} {format_number(r.ratio_last_step)}" for r in d.itertuples()) + ".")
    if nets is not None:
        for table, d in nets.groupby("table"):
            d = d.set_index("optimizer")
            if reg.CODE_SQRT in d.index:
                r = d.loc[reg.CODE_SQRT]
                lines.append(
                    f"- Table {table} network task: with the square root the final training "
                    f"loss is {format_number(r['final_loss_mean'], 4)} ({relative_change(r['change_vs_reference'])} "
                    f"vs the authors' code; below it on {int(r['wins_vs_reference'])}/"
                    f"{int(r['n_seeds'])} seeds).")
    return "\n".join(lines)


def sign_descent(summary, lengths):
    """With the tuned k, the authors' code is sign descent (the tables print even steps)."""
    if summary is None:
        return markdown.missing([ablation.FUNCTIONS_STEM], "notebook 09")
    d = summary[summary["optimizer"] == reg.CODE]
    if d.empty:
        return ""
    table = d[["table", "function", "search_step", "error_before_search_step",
               "error_search_step", "error_after_search_step",
               "max_error_even_steps_second_half", "max_error_odd_steps_second_half"]]
    table = table.rename(columns={
        "search_step": "S", "error_before_search_step": "error at S-1",
        "error_search_step": "error at S", "error_after_search_step": "error at S+1",
        "max_error_even_steps_second_half": "max even (2nd half)",
        "max_error_odd_steps_second_half": "max odd (2nd half)"})
    text = ("Once the decayed betas are ~0, m ~ g and sqrt(n) ~ |g|, so the code's step is "
            "lr * m/sqrt(n) ~ lr * sign(g): sign descent with a fixed step of lr = 0.1 per "
            "coordinate, which cannot settle at the target but jumps across it. ")
    if lengths is not None:
        first = [c for c in lengths.columns if c.startswith("first_step_all_ge_")][0]
        level = first.rsplit("_", 1)[-1]
        text += ("Measured step length / lr (authors' code, paper k; mean over coordinates): "
                 + "; ".join(f"{r['function']} (k = {format_number(r['k'])}) {format_number(r['step_1_over_lr'])} "
                             f"at t = 1, >= {level} from step {whole_number(r[first])} on, "
                             f"median {format_number(r['median_over_lr_after_search_step'])} after S"
                             for r in lengths.to_dict("records")) + ". ")
    text += ("The paper's tables print even steps only; on Tables 1-2 the even steps are "
             "tiny while the odd steps are lr^2 = 0.01. The authors'-code MAMGD column "
             "around the tuned step S:\n\n" + markdown.table(table, floatfmt=".3g"))
    return text


def differences(overall, per_table):
    """Each difference between Algorithm 6 and the authors' code, on Tables 1-6."""
    if overall is None:
        return markdown.missing([ablation.DIFFERENCES_STEM], "notebook 09")
    shown = overall[["configuration", "match_460", "match_mamgd_95", "mean_abs_change",
                     "max_abs_change"]].rename(columns={
                         "match_460": "cells matching (of 460)",
                         "match_mamgd_95": "MAMGD cells matching (of 95)",
                         "mean_abs_change": "mean |change|", "max_abs_change": "max |change|"})
    text = ("Starting from the authors' code, one difference at a time switched to the "
            "paper's side (code+...), all four of Algorithm 6, and Algorithm 6 without one "
            "of them; change = |MAMGD column - authors' code| over the published cells:\n\n"
            + markdown.table(shown, floatfmt=".3g"))
    if per_table is not None:
        pivot = per_table.pivot_table(index="configuration", columns="table",
                                      values="max_abs_change", sort=False)
        pivot.columns = [f"T{c} max" for c in pivot.columns]
        pivot = pivot.reset_index()
        text += ("\n\nLargest |change| of the MAMGD column per table:\n\n"
                 + markdown.table(pivot, floatfmt=".2g"))
    return text


def k_specificity(spec):
    """Is the tuned k specific to the step count it was tuned at?"""
    if spec is None:
        return markdown.missing([ablation.K_SPECIFICITY_SUMMARY_STEM], "notebook 09")
    source = spec["grid_source"].iloc[0] if "grid_source" in spec.columns else "n/a"
    shown = spec[["table", "function", "k_tuned", "search_step", "k_best_search_step",
                  "k_best_last_step", "regret_search_step", "regret_last_step",
                  "regret_max", "rise_after_search", "steps_within_10x", "steps"]]
    worst = spec.loc[spec["regret_last_step"].idxmax()]
    return (f"Grid: {source}. Regret = error of the paper's k / the best error on the k grid "
            f"at that step count; rise = error at the last step / error at S (paper's k). "
            f"The paper's k is within a factor 10 of the best k at only "
            f"{int(spec['steps_within_10x'].sum())} of {int(spec['steps'].sum())} "
            f"(function, step) pairs; at the last step its error is up to "
            f"{format_number(worst['regret_last_step'])} times the best ({worst['function']}).\n\n"
            + markdown.table(shown, floatfmt=".3g"))


#: The report's sections from this package: (title, function, {argument: table stem}).
SECTIONS = [
    ("The curvature term: does it help or hurt?", curvature, {
        "effects": ablation.EFFECTS_STEM, "cells": ablation.DIFFERENCES_CELLS_STEM,
        "k_eff": ablation.K_RANGE_EFFECTS_STEM, "nets": ablation.NETWORKS_STEM,
        "history": ablation.NETWORKS_HISTORY_STEM, "bowl": scratch_outputs.BOWL_STEM}),
    ("The exponential decay of the betas", decay, {
        "effects": ablation.EFFECTS_STEM, "nets": ablation.NETWORKS_STEM,
        "k_range": ablation.K_RANGE_STEM}),
    ("The missing square root is a learning-rate warm-up", warmup, {
        "warm": ablation.WARMUP_STEM, "effects": ablation.EFFECTS_STEM,
        "nets": ablation.NETWORKS_STEM}),
    ("With the tuned k, MAMGD is sign descent (and the tables show even steps only)",
     sign_descent, {"summary": ablation.FUNCTIONS_STEM, "lengths": ablation.STEP_LENGTH_STEM}),
    ("Each difference between Algorithm 6 and the authors' code, on Tables 1-6", differences,
     {"overall": ablation.DIFFERENCES_STEM, "per_table": ablation.DIFFERENCES_PER_TABLE_STEM}),
    ("Is the tuned k specific to the step count it was tuned at?", k_specificity,
     {"spec": ablation.K_SPECIFICITY_SUMMARY_STEM}),
]
