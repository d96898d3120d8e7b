"""A loaded model ready to classify: scores, thresholded labels, evidence terms, key terms.

Numpy only: serving never imports scikit-learn (training.model.scorer does the arithmetic).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Mapping, Sequence

import numpy as np

from .config import get_settings
from .model import evidence
from .model.scorer import Features, LeanScorer
from .normalize import is_cjk


@dataclass
class Result:
    """One text's tags: labels over threshold (by score), all scores, optional evidence."""

    labels: list[str]
    scores: dict[str, float]
    explain: dict[str, list[dict[str, Any]]] | None = None
    keywords: list[dict[str, Any]] | None = None
    explained: dict[str, float] | None = None  # per label: share of its positive evidence the shown terms carry

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"labels": self.labels, "scores": self.scores}
        if self.explain is not None:
            out["explain"] = self.explain
            out["explained"] = self.explained or {}
        if self.keywords is not None:
            out["keywords"] = self.keywords
        return out


@dataclass
class Tagger:
    """A model (lean scorer) with its metadata; a fitted Pipeline is exported to one on construction."""

    model: Any
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.model, LeanScorer):  # a freshly fitted Pipeline: score it as it will be served
            from .model.export import scorer_from_pipeline

            self.model = scorer_from_pipeline(self.model)

    @property
    def version(self) -> str:
        return self.meta.get("version", "unsaved")

    @cached_property
    def labels(self) -> list[str]:
        return list(self.model.labels)

    @cached_property
    def thresholds(self) -> dict[str, float]:
        return {label: float(t) for label, t in zip(self.labels, self.model.thresholds)}

    def features(self, texts: Sequence[str]) -> Features:
        """Feature rows of texts (normalize + every feature block), computed once per batch."""
        return self.model.features(texts)

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
        proba = self.model.predict_proba_features(X)
        cut = self.resolve_thresholds(threshold)
        results = []
        for i in range(len(texts)):
            row = proba[i]
            order = np.argsort(-row)
            chosen = [self.labels[k] for k in order if row[k] >= cut[k]]
            result = Result(labels=chosen, scores={label: round(float(row[k]), 4) for k, label in enumerate(self.labels)})
            if explain:
                analysis = evidence.analyse(str(texts[i]))
                found = {label: self.evidence(X, i, label, explain, analysis) for label in chosen}
                result.explain = {label: terms for label, (terms, _) in found.items()}
                result.explained = {label: share for label, (_, share) in found.items()}
            if keywords:
                result.keywords = self.key_terms(X, i, keywords)
            results.append(result)
        return results

    def evidence(self, X: Features, i: int, label: str, top: int = 8,
                 analysis: evidence.Analysis | None = None, text: str | None = None) -> tuple[list[dict[str, Any]], float]:
        """Whole words, phrases and cue spans of text i that pushed label's score up, and the share they explain.

        Each term is one or more consecutive tokens of the text, with [start, end) offsets into the
        text as submitted (see training.model.evidence).
        """
        if analysis is None:
            if text is None:
                raise ValueError("evidence needs the text (or its analysis) to point at")
            analysis = evidence.analyse(text)
        settings = get_settings()
        return evidence.explain_label(self.model, X, i, self.labels.index(label), analysis, top,
                                      settings.evidence_stoplist_path, settings.legal_dict_path)

    def key_terms(self, X: Features, i: int, top: int = 10) -> list[dict[str, Any]]:
        """Top-k words of text i by TF-IDF under the model's own (legal-domain) IDF."""
        data, indices = X.row(i)
        start, end, terms = self.model.block_columns("words")
        inside = (indices >= start) & (indices < end)
        scored = []
        for j, value in zip((indices[inside] - start).tolist(), data[inside].tolist()):
            term = terms[j]
            if " " not in term and len(term) >= 2 and any(map(is_cjk, term)):
                scored.append((value, term))
        scored.sort(reverse=True)
        return [{"term": term, "weight": round(float(v), 4)} for v, term in scored[:top]]
