"""The quality gate: repeated stratified cross-validation, paired against the active model.

The candidate is trained k times per repeat, each time without one fold of the evaluated rows,
and scored on that fold; the active model is scored on the same rows (paired). Per-label F1
gets a bootstrap interval over rows; `if_better` activates only when, at the configured
confidence, no shared label's F1 drops by more than `label_drop` and macro-F1 by no more than
`macro_margin`. Labels with too little support in the evaluated rows are reported as "not
measured" (never as F1 0.0), labels new to the candidate are reported separately.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from . import pipeline
from .audit.core import splits
from .data import Dataset

WARN_BELOW = 30  # positive rows: fewer gives a warning with the label's measured CV F1


@dataclass(frozen=True)
class GateConfig:
    """How the candidate is evaluated and what it must show to count as not worse."""

    folds: int = 5
    repeats: int = 2
    confidence: float = 0.9
    label_drop: float = 0.05
    macro_margin: float = 0.0
    min_rows: int = 40
    min_support: int = 5
    bootstrap: int = 500
    seed: int = 0

    @classmethod
    def from_params(cls, settings, gate: dict[str, Any] | None) -> "GateConfig":
        """Settings' drop limits, overridden by a job's `gate` options (folds, repeats, min_rows, ...)."""
        base = cls(label_drop=settings.gate_label_drop, macro_margin=settings.gate_macro_margin)
        allowed = {"folds": (2, 10), "repeats": (1, 10), "min_rows": (2, 100000), "min_support": (1, 1000), "bootstrap": (50, 5000)}
        values = {}
        for key, value in (gate or {}).items():
            if key not in allowed or isinstance(value, bool) or not isinstance(value, int) or not allowed[key][0] <= value <= allowed[key][1]:
                raise ValueError(f"gate option {key}={value!r}: known options {', '.join(f'{k} (whole number in [{lo}, {hi}])' for k, (lo, hi) in allowed.items())}")
            values[key] = value
        return cls(**{**base.__dict__, **values})


def _f1(tp, fp, fn):
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), np.nan)


def _interval(values: np.ndarray, confidence: float) -> list[float]:
    if not np.isfinite(values).any():  # cannot happen with support >= 1; never put NaN in JSON
        return [0.0, 1.0]
    lo, hi = np.nanquantile(values, [(1 - confidence) / 2, 1 - (1 - confidence) / 2])
    return [round(float(lo), 4), round(float(hi), 4)]


def evaluate_candidate(
    train: Dataset, eval_idx: list[int], labels: list[str], params: dict[str, Any] | None, taxonomy_path: str | None,
    cfg: GateConfig, active=None, progress: Callable[[int, int], None] | None = None, explain: Callable | None = None,
) -> dict[str, Any]:
    """Repeated k-fold CV of the candidate over eval rows (trained on everything else too), paired with `active`.

    Returns per-label F1 of candidate and active with bootstrap intervals, the out-of-fold
    probabilities of the first repeat (for the audit), and the first repeat's fold models.
    """
    eval_sets = [train.labels[i] for i in eval_idx]
    n = len(eval_idx)
    gold = pipeline.indicator(eval_sets, labels)
    cand = np.zeros((cfg.repeats, n, len(labels)), dtype=int)
    proba = np.full((n, len(labels)), np.nan)
    fold_of = np.full(n, -1)
    models: list = []
    results: list = [None] * n
    eval_pos = {row: pos for pos, row in enumerate(eval_idx)}
    total = cfg.repeats * cfg.folds
    for r in range(cfg.repeats):
        for f, (_, test) in enumerate(splits(eval_sets, cfg.folds, cfg.seed + r)):
            held = {eval_idx[p] for p in test}
            fit_rows = [i for i in range(len(train)) if i not in held]
            subset = Dataset([train.texts[i] for i in fit_rows], [train.labels[i] for i in fit_rows], [train.ids[i] for i in fit_rows])
            model, _ = pipeline.fit(subset, labels, params, taxonomy_path)
            texts = [train.texts[eval_idx[p]] for p in test]
            p_test = model.predict_proba(texts)
            cand[r, test] = model.predict(texts)
            if r == 0:
                proba[test] = p_test
                fold_of[test] = f
                models.append(model)
                if explain:
                    for p, res in zip(test, explain(model, texts)):
                        results[p] = res
            if progress:
                progress(r * cfg.folds + f + 1, total)
    out: dict[str, Any] = {"rows": n, "folds": cfg.folds, "repeats": cfg.repeats, "confidence": cfg.confidence,
                           "oof": (proba, fold_of, models), "results": results}
    rng = np.random.default_rng(cfg.seed)
    weights = rng.multinomial(n, np.full(n, 1.0 / n), size=cfg.bootstrap) if n else np.zeros((cfg.bootstrap, 0))

    def f1_dist(pred: np.ndarray, k: int) -> tuple[float, np.ndarray]:
        """Point F1 (mean over repeats) and its bootstrap distribution for label k."""
        g = gold[:, k]
        point, dist = [], []
        for p in pred:
            tp, fp, fn = g & p, (1 - g) & p, g & (1 - p)
            point.append(_f1(tp.sum(), fp.sum(), fn.sum()))
            dist.append(_f1(weights @ tp, weights @ fp, weights @ fn))
        return float(np.mean(point)), np.mean(dist, axis=0)

    support = gold.sum(axis=0)
    active_labels = [] if active is None else (
        list(active.named_steps["classify"].classes_) if hasattr(active, "named_steps") else list(active.labels))  # Pipeline or LeanScorer
    act = None
    if active is not None and n:
        predicted = pipeline.predict_sets(active, [train.texts[i] for i in eval_idx])
        act = pipeline.indicator(predicted, labels)[None]
    per_label: dict[str, Any] = {}
    macro_c, macro_a, compared = [], [], []
    for k, label in enumerate(labels):
        entry: dict[str, Any] = {"support": int(support[k]), "rows": int(sum(label in s for s in train.labels)),
                                 "status": "new" if active is not None and label not in active_labels else "shared"}
        if support[k] < cfg.min_support:
            entry.update(f1=None, measured=False, note=f"not measured: {int(support[k])} evaluated row(s) tagged {label}, fewer than {cfg.min_support}")
            per_label[label] = entry
            continue
        point, dist = f1_dist(cand[:, :, k], k)
        entry.update(f1=round(point, 4), interval=_interval(dist, cfg.confidence), measured=True)
        if act is not None and entry["status"] == "shared":
            a_point, a_dist = f1_dist(act[:, :, k], k)
            diff = dist - a_dist
            lower = float(np.nanquantile(diff, 1 - cfg.confidence)) if np.isfinite(diff).any() else -1.0  # unknown: assume the worst
            entry.update(active_f1=round(a_point, 4), active_interval=_interval(a_dist, cfg.confidence),
                         diff=round(point - a_point, 4), diff_lower=round(lower, 4))
            macro_c.append(dist)
            macro_a.append(a_dist)
            compared.append(label)
        per_label[label] = entry
    out["per_label"] = per_label
    out["dropped"] = [label for label in active_labels if label not in labels]
    out["compared"] = compared
    if compared:
        diff = np.nanmean(np.array(macro_c), axis=0) - np.nanmean(np.array(macro_a), axis=0)
        out["macro_diff"] = round(float(np.mean([per_label[label]["diff"] for label in compared])), 4)
        out["macro_diff_lower"] = round(float(np.nanquantile(diff, 1 - cfg.confidence)), 4) if np.isfinite(diff).any() else -1.0
    return out


def decide(evaluation: dict[str, Any], cfg: GateConfig, has_active: bool) -> tuple[str, bool, list[str], str]:
    """(decision: better / worse / undecided / no_active, passed, reasons, one-sentence reason)."""
    if not has_active:
        return "no_active", True, [], "No active model to compare with: the candidate is the first model."
    n, compared = evaluation["rows"], evaluation["compared"]
    conf = f"{cfg.confidence:.0%}"
    if n < cfg.min_rows or not compared:
        why = (f"only {n} rows were evaluated (need {cfg.min_rows})" if n < cfg.min_rows
               else f"no shared label has {cfg.min_support} or more evaluated rows")
        return "undecided", False, [f"too few rows to decide: {why}"], f"Too few rows to decide ({why}); the candidate is not claimed better."
    reasons = []
    for label in compared:
        m = evaluation["per_label"][label]
        if m["diff_lower"] < -cfg.label_drop:
            reasons.append(f"{label}: F1 {m['f1']:.3f} vs active {m['active_f1']:.3f}; at {conf} confidence it may drop by "
                           f"{-m['diff_lower']:.3f}, more than {cfg.label_drop}")
    if evaluation["macro_diff_lower"] < -cfg.macro_margin:
        reasons.append(f"macro-F1 over {', '.join(compared)} may drop by {-evaluation['macro_diff_lower']:.3f} at {conf} confidence "
                       f"(margin {cfg.macro_margin})")
    if reasons:
        return "worse", False, reasons, "Not better: " + reasons[0] + "."
    return "better", True, [], (f"Not worse at {conf} confidence on {n} rows, {cfg.repeats}x{cfg.folds}-fold: no shared label "
                                f"({', '.join(compared)}) drops by more than {cfg.label_drop}, macro-F1 change "
                                f"{evaluation['macro_diff']:+.3f} (lower bound {evaluation['macro_diff_lower']:+.3f}).")


def label_warnings(evaluation: dict[str, Any]) -> list[str]:
    """Labels with fewer than WARN_BELOW positive training rows, with their measured CV F1."""
    out = []
    for label, m in evaluation["per_label"].items():
        if m["rows"] < WARN_BELOW:
            f1 = (f"cross-validated F1 {m['f1']:.3f} [{m['interval'][0]:.3f}, {m['interval'][1]:.3f}]" if m.get("measured")
                  else "its F1 could not be measured (too few evaluated rows)")
            out.append(f"label {label!r}: only {m['rows']} positive row(s), fewer than {WARN_BELOW}; {f1}; add rows tagged {label!r}")
    return out
