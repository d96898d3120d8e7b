"""Scores for multi-label tagging, honouring gold `optional` tags (neither hit nor miss)."""

from __future__ import annotations

from typing import Sequence


def _prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def score(
    gold: Sequence[set[str]],
    predicted: Sequence[set[str]],
    labels: Sequence[str],
    optional: Sequence[set[str]] | None = None,
) -> dict:
    """Per-label P/R/F1 and support, micro and macro F1, exact-set accuracy.

    A label in a document's `optional` set is skipped for that document: predicting it is not a
    false alarm and missing it is not a miss. Exact-set accuracy compares the prediction minus
    the optional tags with the required gold tags.
    """
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold items but {len(predicted)} predictions")
    optional = optional or [set() for _ in gold]
    per_label: dict[str, dict] = {}
    totals = [0, 0, 0]
    for label in labels:
        tp = fp = fn = 0
        for g, p, o in zip(gold, predicted, optional):
            if label in o and label not in g:
                continue
            tp += label in g and label in p
            fp += label not in g and label in p
            fn += label in g and label not in p
        per_label[label] = {**_prf(tp, fp, fn), "support": tp + fn, "tp": tp, "fp": fp, "fn": fn}
        totals = [totals[0] + tp, totals[1] + fp, totals[2] + fn]
    exact = sum(1 for g, p, o in zip(gold, predicted, optional) if (set(p) - (o - g)) == g)
    # Macro-F1 averages over labels that occur in the gold or were predicted; a label absent from
    # both would otherwise count as 0 and punish a correct "nothing".
    active = [lab for lab in labels if per_label[lab]["support"] or per_label[lab]["fp"]]
    macro = sum(per_label[lab]["f1"] for lab in active) / len(active) if active else 0.0
    return {
        "n": len(gold),
        "per_label": per_label,
        "micro": _prf(*totals),
        "macro_f1": round(macro, 4),
        "exact_set_accuracy": round(exact / len(gold), 4) if gold else 0.0,
    }


def format_report(report: dict, title: str = "") -> str:
    """A plain-text table of a `score` report."""
    lines = [title] if title else []
    lines.append(f"{'label':<18}{'P':>7}{'R':>7}{'F1':>7}{'support':>9}")
    for label, m in report["per_label"].items():
        lines.append(f"{label:<18}{m['precision']:>7.3f}{m['recall']:>7.3f}{m['f1']:>7.3f}{m['support']:>9}")
    lines.append(
        f"macro-F1 {report['macro_f1']:.3f}  micro-F1 {report['micro']['f1']:.3f}  "
        f"exact-set {report['exact_set_accuracy']:.3f}  n={report['n']}"
    )
    return "\n".join(lines)
