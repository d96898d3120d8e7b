"""A loaded model ready to classify: scores, thresholded labels, evidence terms, key terms."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Mapping, Sequence

import numpy as np
from sklearn.pipeline import Pipeline

from .normalize import is_cjk


@dataclass
class Result:
    """One text's tags: labels over threshold (by score), all scores, optional evidence."""

    labels: list[str]
    scores: dict[str, float]
    explain: dict[str, list[dict[str, Any]]] | None = None
    keywords: list[dict[str, Any]] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"labels": self.labels, "scores": self.scores}
        if self.explain is not None:
            out["explain"] = self.explain
        if self.keywords is not None:
            out["keywords"] = self.keywords
        return out


@dataclass
class Tagger:
    """A fitted pipeline with its metadata."""

    pipeline: Pipeline
    meta: dict = field(default_factory=dict)

    @property
    def version(self) -> str:
        return self.meta.get("version", "unsaved")

    @cached_property
    def labels(self) -> list[str]:
        return [str(x) for x in self.pipeline.named_steps["classify"].classes_]

    @cached_property
    def thresholds(self) -> dict[str, float]:
        values = self.pipeline.named_steps["classify"].thresholds_
        return {label: float(t) for label, t in zip(self.labels, values)}

    @cached_property
    def _feature_names(self) -> np.ndarray:
        return self.pipeline.named_steps["features"].get_feature_names_out()

    def features(self, texts: Sequence[str]):
        """Feature matrix of texts (normalize + feature union), computed once per batch."""
        # Calling the steps directly: slicing the Pipeline would build a new one per request.
        steps = self.pipeline.named_steps
        return steps["features"].transform(steps["normalize"].transform(texts))

    def resolve_thresholds(self, override: float | Mapping[str, float] | None) -> np.ndarray:
        """Tuned thresholds, or a single number for all labels, or a per-label map over the tuned ones."""
        merged = dict(self.thresholds)
        if isinstance(override, (int, float)):
            merged = {label: float(override) for label in self.labels}
        elif override:
            merged.update({k: float(v) for k, v in override.items()})
        return np.array([merged[label] for label in self.labels])

    def classify(
        self,
        texts: Sequence[str],
        threshold: float | Mapping[str, float] | None = None,
        explain: int = 0,
        keywords: int = 0,
    ) -> list[Result]:
        """Classify a batch: one vectorization, one probability matrix."""
        if not texts:
            return []
        X = self.features(texts)
        proba = self.pipeline.named_steps["classify"].predict_proba(X)
        cut = self.resolve_thresholds(threshold)
        results = []
        for i in range(len(texts)):
            row = proba[i]
            order = np.argsort(-row)
            chosen = [self.labels[k] for k in order if row[k] >= cut[k]]
            result = Result(labels=chosen, scores={label: round(float(row[k]), 4) for k, label in enumerate(self.labels)})
            if explain:
                result.explain = {label: self.evidence(X, i, label, explain) for label in chosen}
            if keywords:
                result.keywords = self.key_terms(X, i, keywords)
            results.append(result)
        return results

    def evidence(self, X, i: int, label: str, top: int = 8) -> list[dict[str, Any]]:
        """Words and character n-grams of text i that pushed label's score up most.

        Only features that are literal substrings of the text are returned, so a person can find
        them; the taxonomy cue features act too but are reported by `cue_evidence`.
        """
        k = self.labels.index(label)
        coef = self.pipeline.named_steps["classify"].coef_for(k)
        row = X[i].tocsr()
        contrib = row.data * coef[row.indices]
        order = np.argsort(-contrib)
        out = []
        for j in order:
            if contrib[j] <= 0 or len(out) >= top:
                break
            kind, _, term = str(self._feature_names[row.indices[j]]).partition("__")
            if kind not in ("words", "chars") or not term.strip():
                continue
            if kind == "words":  # a word bigram is stored as "w1 w2"; show it as it reads
                term = term.replace(" ", "") if any(map(is_cjk, term)) else term
            out.append({"term": term, "kind": kind, "weight": round(float(contrib[j]), 4)})
        return out

    def key_terms(self, X, i: int, top: int = 10) -> list[dict[str, Any]]:
        """Top-k words of text i by TF-IDF under the model's own (legal-domain) IDF."""
        row = X[i].tocsr()
        scored = []
        for j, value in zip(row.indices, row.data):
            kind, _, term = str(self._feature_names[j]).partition("__")
            if kind == "words" and " " not in term and len(term) >= 2 and any(map(is_cjk, term)):
                scored.append((value, term))
        scored.sort(reverse=True)
        return [{"term": term, "weight": round(float(v), 4)} for v, term in scored[:top]]
