"""Find likely label errors in a training set from out-of-fold probabilities (confident learning).

Method: Northcutt, Jiang & Chuang, "Confident Learning: Estimating Uncertainty in Dataset
Labels", JAIR 70 (2021), applied to each label as its own binary task (multi-label, one-vs-rest):

1. Out-of-fold probabilities p[i, k]: k-fold cross-validation of the very pipeline we train
   (vectorizers refit per fold), so no row is scored by a model that saw it.
2. Per-label confidence thresholds: t1[k] = mean p over rows given label k, t0[k] = mean (1 - p)
   over rows without it (the class-conditional average self-confidence).
3. The confident joint: a row without label k whose p >= t1[k] (and p > 1 - p) is confidently
   positive: a *missing* label; a row with label k whose 1 - p >= t0[k] (and 1 - p > p) is
   confidently negative: an *extra* label. These off-diagonal entries are the suspects.
4. Rank suspects by self-confidence: the lower the model's probability for the label as given,
   the more suspicious (score = 1 - P(given)).

Written on scikit-learn's cross-validation only; cleanlab (AGPL) is not a dependency.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..data import Dataset, _record, compose, decode, explained_fit, parse_csv, parse_labels
from ..errors import DataError
from .duplicates import duplicate_groups, normalized_key

KINDS = ("missing_label", "extra_label", "duplicate_conflict", "too_short")
MIN_CHARS = 20  # fewer characters of text than this: too short to judge a tag from
AUDIT_PARAMS = {"cv": 2}  # thresholds are not used by the audit: tune them on 2 folds, not 5
EVIDENCE_TOP = 50  # findings that get evidence terms (each needs one feature row)


@dataclass
class Finding:
    """One suspected problem with one row (and one label where it applies)."""

    row: int  # the CSV's data row, 1-based, header not counted
    kind: str
    label: str | None
    score: float
    given: list[str]
    scores: dict[str, float] = field(default_factory=dict)
    evidence: list[str] = field(default_factory=list)
    detail: str = ""
    text: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"row": self.row, "kind": self.kind, "label": self.label, "score": round(float(self.score), 4),
                "given": self.given, "scores": self.scores, "evidence": self.evidence, "detail": self.detail,
                "text": self.text}


@dataclass
class AuditResult:
    """Findings, most suspicious first, with warnings (e.g. labels skipped) and counts."""

    findings: list[Finding]
    warnings: list[str]
    summary: dict[str, Any]

    def to_dict(self, top: int | None = None) -> dict[str, Any]:
        return {"summary": self.summary, "warnings": self.warnings,
                "findings": [f.to_dict() for f in self.findings[:top]]}


def read_rows(source: Path | bytes, name: str | None = None) -> tuple[Dataset, list[int], list[str]]:
    """A CSV read leniently for auditing: (dataset, data row numbers, warnings).

    Unlike read_csv, duplicates with conflicting labels and any label id are kept (they are
    what the audit reports); only unreadable CSV, missing columns and empty rows are problems.
    """
    if isinstance(source, (bytes, bytearray)):
        raw, name = bytes(source), name or "upload"
    else:
        try:
            raw, name = Path(source).read_bytes(), name or str(source)
        except FileNotFoundError:
            raise DataError(f"{source}: no such file") from None
    header_cells, cells = parse_csv(decode(raw, name), name)
    header = [h.strip().lower() for h in header_cells]
    missing = [c for c in ("text", "labels") if c not in header]
    if missing:
        raise DataError(f"{name}: missing column(s) {', '.join(missing)}; the header must include text,labels")
    texts, labels, ids, rows, warnings = [], [], [], [], []
    for number, record in enumerate((_record(header, row) for row in cells if row), start=1):
        body = compose(record.get("title") or "", record.get("text") or "")
        if None in record or not body.strip():
            warnings.append(f"row {number}: {'more cells than header columns' if None in record else 'empty text'}; skipped")
            continue
        texts.append(body)
        labels.append(set(parse_labels(record.get("labels") or "")))
        ids.append((record.get("id") or "").strip() or str(number))
        rows.append(number)
    return Dataset(texts, labels, ids), rows, warnings


def cv_labels(label_sets: list[set[str]], labels: list[str], folds: int) -> tuple[list[str], list[str]]:
    """(labels with enough positive and negative rows for k-fold CV, warnings for the others)."""
    counts = Counter(t for tags in label_sets for t in tags)
    kept, warnings = [], []
    for label in labels:
        pos, neg = counts[label], len(label_sets) - counts[label]
        if pos < folds or neg < folds:
            warnings.append(f"label {label!r}: {pos} positive / {neg} negative row(s), fewer than the {folds} folds; not audited (add rows tagged {label!r})")
        else:
            kept.append(label)
    return kept, warnings


def stratify_keys(label_sets: list[set[str]], folds: int) -> np.ndarray | None:
    """One stratum per row (its rarest label, or none), rare strata merged; None when impossible."""
    counts = Counter(t for tags in label_sets for t in tags)
    keys = [min(tags, key=lambda t: (counts[t], t)) if tags else "" for tags in label_sets]
    size = Counter(keys)
    keys = [k if size[k] >= folds else "~rare" for k in keys]
    size = Counter(keys)
    if size.get("~rare", folds) < folds:
        biggest = max((k for k in size if k != "~rare"), key=lambda k: size[k], default=None)
        if biggest is None:
            return None
        keys = [biggest if k == "~rare" else k for k in keys]
    return np.array(keys) if len(set(keys)) > 1 else None


def splits(label_sets: list[set[str]], folds: int, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """k (train, test) index pairs, stratified by each row's rarest label where possible."""
    # scikit-learn only here: the service imports this module (through the gate) and serves without it.
    from sklearn.model_selection import KFold, StratifiedKFold

    n = len(label_sets)
    keys = stratify_keys(label_sets, folds)
    if keys is None:
        return list(KFold(folds, shuffle=True, random_state=seed).split(np.zeros(n)))
    return list(StratifiedKFold(folds, shuffle=True, random_state=seed).split(np.zeros(n), keys))


def out_of_fold_proba(
    data: Dataset, labels: list[str], folds: int = 5, params: dict[str, Any] | None = None,
    taxonomy_path: str | None = None, seed: int = 0, progress: Callable[[int, int], None] | None = None,
) -> tuple[np.ndarray, np.ndarray, list]:
    """(probabilities (n, len(labels)) from models that never saw the row, fold of each row, fold models)."""
    from .. import pipeline

    proba = np.full((len(data), len(labels)), np.nan)
    fold_of = np.full(len(data), -1)
    models = []
    merged = {**AUDIT_PARAMS, **(params or {})}
    for f, (train, test) in enumerate(splits(data.labels, folds, seed)):
        model = pipeline.build_pipeline(labels, merged, taxonomy_path)
        with explained_fit(data, pipeline.check_params(merged)):
            model.fit([data.texts[i] for i in train], pipeline.indicator([data.labels[i] for i in train], labels))
        proba[test] = model.predict_proba([data.texts[i] for i in test])
        fold_of[test] = f
        models.append(model)
        if progress:
            progress(f + 1, folds)
    return proba, fold_of, models


def rank_label_issues(label_sets: list[set[str]], proba: np.ndarray, labels: list[str]) -> list[tuple[int, str, str, float]]:
    """Confident-learning suspects (row index, kind, label, score), most suspicious first."""
    out = []
    for k, label in enumerate(labels):
        p = proba[:, k]
        y = np.array([label in tags for tags in label_sets])
        ok = ~np.isnan(p)
        if not (y & ok).any() or not (~y & ok).any():
            continue
        t1 = float(p[y & ok].mean())
        t0 = float((1 - p[~y & ok]).mean())
        missing = ok & ~y & (p >= t1) & (p > 1 - p)
        extra = ok & y & (1 - p >= t0) & (1 - p > p)
        out += [(int(i), "missing_label", label, float(p[i])) for i in np.flatnonzero(missing)]
        out += [(int(i), "extra_label", label, float(1 - p[i])) for i in np.flatnonzero(extra)]
    out.sort(key=lambda item: (-item[3], item[0], item[2]))
    return out


def _preview(text: str, n: int = 80) -> str:
    flat = " ".join(text.split())
    return flat[:n] + ("…" if len(flat) > n else "")


def _evidence(models: list, fold_of: np.ndarray, i: int, text: str, label: str | None, labels: list[str]) -> list[str]:
    """Terms of the text that pushed `label` up in the model that held row i out."""
    from ..tagger import Tagger

    if label is None or fold_of[i] < 0 or label not in labels:
        return []
    tagger = Tagger(models[int(fold_of[i])])
    X = tagger.features([text])
    terms, _ = tagger.evidence(X, 0, label, 12, text=text)
    return list(dict.fromkeys(e["term"] for e in terms))[:6]


def audit_rows(
    data: Dataset, rows: list[int] | None = None, labels: list[str] | None = None, folds: int = 5,
    params: dict[str, Any] | None = None, taxonomy_path: str | None = None, min_chars: int = MIN_CHARS,
    oof: tuple[np.ndarray, np.ndarray, list] | None = None, progress: Callable[[int, int], None] | None = None,
) -> AuditResult:
    """Audit rows: label suspects (confident learning), conflicting duplicates, too-short texts.

    `labels`: the labels to audit (default: every label in the data); `oof`: out-of-fold
    (proba, fold_of, models) already computed for these labels (a training job's gate has them).
    """
    rows = rows or list(range(1, len(data) + 1))
    if labels is None:
        labels = sorted({t for tags in data.labels for t in tags})
    audited, warnings = cv_labels(data.labels, labels, folds)
    findings: list[Finding] = []
    if oof is None and audited:
        oof = out_of_fold_proba(data, audited, folds, params, taxonomy_path, progress=progress)
    elif oof is not None:
        full = list(labels)
        keep = [full.index(label) for label in audited]
        oof = (oof[0][:, keep], oof[1], oof[2])
    if oof is not None and audited:
        proba, fold_of, models = oof
        for n, (i, kind, label, score) in enumerate(rank_label_issues(data.labels, proba, audited)):
            scores = {lab: round(float(proba[i, k]), 4) for k, lab in enumerate(audited)}
            shown = label if kind == "missing_label" else max(scores, key=scores.get)
            evidence = _evidence(models, fold_of, i, data.texts[i], shown, audited) if n < EVIDENCE_TOP and models else []
            detail = (f"not tagged {label} but the model gives it {scores[label]:.2f}" if kind == "missing_label"
                      else f"tagged {label} but the model gives it only {scores[label]:.2f}")
            findings.append(Finding(rows[i], kind, label, score, sorted(data.labels[i]), scores, evidence, detail, _preview(data.texts[i])))
    for members, similarity in duplicate_groups(data.texts):
        sets = {frozenset(data.labels[i]) for i in members}
        if len(sets) < 2:
            continue
        for i in members:
            others = ", ".join(f"{rows[j]} ({'|'.join(sorted(data.labels[j])) or 'no label'})" for j in members if j != i)
            what = "same text" if similarity >= 1.0 else f"near-duplicate (character-shingle Jaccard >= {similarity:.2f})"
            findings.append(Finding(rows[i], "duplicate_conflict", None, similarity, sorted(data.labels[i]),
                                    detail=f"{what} as row(s) {others} but different labels", text=_preview(data.texts[i])))
    for i, text in enumerate(data.texts):
        size = len(normalized_key(text))
        if size < min_chars:
            findings.append(Finding(rows[i], "too_short", None, round(1 - size / min_chars, 4), sorted(data.labels[i]),
                                    detail=f"{size} characters; fewer than {min_chars} are too few to judge a tag", text=_preview(text)))
    findings.sort(key=lambda f: (-f.score, KINDS.index(f.kind), f.row, f.label or ""))
    kinds = Counter(f.kind for f in findings)
    summary = {
        "rows": len(data), "folds": folds, "labels_audited": audited,
        "per_label": {label: sum(label in tags for tags in data.labels) for label in labels},
        "by_kind": {kind: kinds[kind] for kind in KINDS},
        "by_label": dict(Counter(f"{f.label}:{f.kind}" for f in findings if f.label)),
    }
    return AuditResult(findings, warnings, summary)
