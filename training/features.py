"""Feature transformers: text normalization and cues for *which organ is the principal actor*."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.pipeline import FeatureUnion

from .normalize import normalize_text
from .taxonomy import load_taxonomy
# Kept importable from here: older code and pickled models refer to these names.
from .model.cues import CUE_NAMES, LEAD_CHARS, TAIL_CHARS, cue_arrays, cue_dense  # noqa: F401
from .model.cues import lead as _lead  # noqa: F401
from .model.ngrams import stack_blocks
from .vectorize import FastTfidfVectorizer  # noqa: F401  (models pickled before 2026-11-23 name it here)


class TextNormalizer(TransformerMixin, BaseEstimator):
    """Apply `normalize_text` to every document (stateless)."""

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return [normalize_text(str(doc)) for doc in X]


class LegalCueFeatures(TransformerMixin, BaseEstimator):
    """Dense per-label cue features from the taxonomy's terms and institution-name patterns.

    These generalize beyond our own corpus's wording: they count *that* an organ acts and
    *where* (headline, first sentence) rather than which exact words a writer used.
    """

    def __init__(self, taxonomy_path: str | None = None):
        self.taxonomy_path = taxonomy_path

    def fit(self, X, y=None):
        from .config import get_settings

        path = Path(self.taxonomy_path) if self.taxonomy_path else get_settings().taxonomy_path
        labels = [label for label in load_taxonomy(path) if label.cue_features]
        self.labels_ = [label.id for label in labels]
        # Longest terms first so the alternation prefers 公安分局 over 公安.
        self.term_patterns_ = [
            "|".join(re.escape(t) for t in sorted(label.terms, key=len, reverse=True)) or "(?!)"
            for label in labels
        ]
        self.institution_patterns_ = [
            "|".join(f"(?:{p})" for p in label.institution_patterns) or "(?!)" for label in labels
        ]
        self._compile()
        return self

    def _compile(self) -> None:
        self._terms = [re.compile(p) for p in self.term_patterns_]
        self._institutions = [re.compile(p) for p in self.institution_patterns_]

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_terms", None)
        state.pop("_institutions", None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        if "term_patterns_" in state:
            self._compile()

    def get_feature_names_out(self, input_features=None):
        names = [f"{label}:{cue}" for label in self.labels_ for cue in CUE_NAMES]
        return np.array(names, dtype=object)

    def transform(self, X):
        return sparse.csr_matrix(cue_dense(X, self._terms, self._institutions))

    def transform_arrays(self, X) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The CSR parts (data, indices, indptr) of `transform`."""
        return cue_arrays(X, self._terms, self._institutions)


def _csr_arrays(block) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    block = sparse.csr_matrix(block)
    block.sort_indices()
    return block.data, block.indices.astype(np.int32), block.indptr.astype(np.int32)


class LeanFeatureUnion(FeatureUnion):
    """FeatureUnion whose transform stacks its blocks' CSR arrays directly: the same matrix.

    Serving transforms one text at a time. There, joblib's dispatch, scikit-learn's output
    wrappers and scipy's per-matrix validation (eight matrices a request) cost more than some of
    the transformers themselves, so blocks that offer `transform_arrays` hand over raw arrays
    and one matrix is built at the end.
    """

    def transform(self, X, **params):
        blocks, widths, weights = [], [], []
        for name, trans, weight in self._iter():
            arrays = getattr(trans, "transform_arrays", None)
            blocks.append(arrays(X) if arrays is not None else _csr_arrays(trans.transform(X)))
            widths.append(self._width(name, trans))
            weights.append(weight)
        data, index, indptr = stack_blocks(blocks, widths, weights)
        return sparse.csr_matrix((data, index, indptr), shape=(len(indptr) - 1, sum(widths)))

    def _width(self, name: str, trans) -> int:
        """Number of output columns of a fitted block (cached: it never changes after fit)."""
        widths = self.__dict__.setdefault("_widths", {})
        if name not in widths:
            widths[name] = len(trans.get_feature_names_out())
        return widths[name]

    def __getstate__(self):
        state = super().__getstate__().copy()
        state.pop("_widths", None)
        return state

    def fit(self, X, y=None, **params):
        self.__dict__.pop("_widths", None)
        return super().fit(X, y, **params)

    def fit_transform(self, X, y=None, **params):
        self.__dict__.pop("_widths", None)
        return super().fit_transform(X, y, **params)
