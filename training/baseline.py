"""Keyword-count baseline: a label applies when its taxonomy terms occur at least k times.

k is chosen per label on the training data (the value that maximizes F1). This is the rule a
user could write by hand; the model must beat it.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from .normalize import normalize_text
from .taxonomy import load_taxonomy


class KeywordCounter(ClassifierMixin, BaseEstimator):
    """Counts each label's taxonomy terms; per-label minimum count tuned on the training set."""

    def __init__(self, taxonomy_path: str | None = None, max_count: int = 10):
        self.taxonomy_path = taxonomy_path
        self.max_count = max_count

    def _patterns(self):
        from .config import get_settings

        path = Path(self.taxonomy_path) if self.taxonomy_path else get_settings().taxonomy_path
        labels = load_taxonomy(path)
        return [label.id for label in labels], [
            re.compile("|".join(re.escape(t) for t in sorted(label.terms, key=len, reverse=True))) for label in labels
        ]

    def counts(self, texts) -> np.ndarray:
        """Term counts, shape (n_texts, n_labels)."""
        _, patterns = self._patterns()
        return np.array([[len(p.findall(normalize_text(t))) for p in patterns] for t in texts])

    def fit(self, texts, Y):
        self.classes_, _ = self._patterns()
        counts, Y = self.counts(texts), np.asarray(Y)
        self.min_counts_ = []
        for k in range(Y.shape[1]):
            best, best_f1 = 1, -1.0
            for cut in range(1, self.max_count + 1):
                pred = counts[:, k] >= cut
                tp = np.sum(pred & (Y[:, k] == 1))
                f1 = 2 * tp / (pred.sum() + Y[:, k].sum()) if pred.sum() + Y[:, k].sum() else 0.0
                if f1 > best_f1:
                    best, best_f1 = cut, f1
            self.min_counts_.append(best)
        return self

    def predict(self, texts) -> np.ndarray:
        return (self.counts(texts) >= np.array(self.min_counts_)).astype(int)
