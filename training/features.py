"""Feature transformers: text normalization and cues for *which organ is the principal actor*."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.pipeline import FeatureUnion

from .normalize import normalize_text
from .taxonomy import load_taxonomy
from .vectorize import FastTfidfVectorizer  # noqa: F401  (models pickled before 2026-11-23 name it here)

_SENTENCE = re.compile(r"[。！？!?\n]")
LEAD_CHARS = 120

CUE_NAMES = (
    "terms",  # log count of the label's cue terms in the whole text
    "lead_terms",  # cue terms in the headline / first sentence
    "institutions",  # log count of institution names (…人民检察院, …派出所)
    "lead_institution",  # an institution name in the headline / first sentence
    "share",  # this label's share of all labels' cue hits: who dominates the text
    "first_position",  # how early the label's first cue appears (1 = at the start)
    "density",  # cue hits per 100 characters, squashed
    "tail_terms",  # cue terms in the last sentences: source lines such as "（某某检察院供稿）"
)
TAIL_CHARS = 80


class TextNormalizer(TransformerMixin, BaseEstimator):
    """Apply `normalize_text` to every document (stateless)."""

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return [normalize_text(str(doc)) for doc in X]


def _lead(text: str) -> str:
    """Headline plus first sentence: where news puts its principal actor."""
    first_line, _, rest = text.partition("\n")
    if len(first_line) <= 40 and rest:  # a short first line is a headline; add the next sentence
        match = _SENTENCE.search(rest)
        return (first_line + "\n" + rest[: match.start() if match else LEAD_CHARS])[: LEAD_CHARS + 40]
    match = _SENTENCE.search(first_line)
    return first_line[: match.start() if match else LEAD_CHARS][:LEAD_CHARS]


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

    def _row(self, text: str) -> list[float]:
        lead = _lead(text)
        tail = text[-TAIL_CHARS:]
        size = max(len(text), 1)
        counts, firsts = [], []
        for pattern in self._terms:
            first, n = -1, 0
            for n, match in enumerate(pattern.finditer(text), start=1):
                if first < 0:
                    first = match.start()
            counts.append(n)
            firsts.append(first)
        total = sum(counts) or 1
        row: list[float] = []
        for k in range(len(self.labels_)):
            n_terms = counts[k]
            row += [
                math.log1p(n_terms) / 2,
                math.log1p(len(self._terms[k].findall(lead))),
                math.log1p(len(self._institutions[k].findall(text))) / 2,
                1.0 if self._institutions[k].search(lead) else 0.0,
                n_terms / total,
                1.0 - firsts[k] / size if firsts[k] >= 0 else 0.0,
                math.tanh(100.0 * n_terms / size),
                math.log1p(len(self._terms[k].findall(tail))),
            ]
        return row

    def transform(self, X):
        rows = [self._row(str(doc)) for doc in X]
        return sparse.csr_matrix(np.asarray(rows, dtype=np.float64).reshape(len(rows), -1))

    def transform_arrays(self, X) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The CSR parts (data, indices, indptr) of `transform`."""
        dense = np.asarray([self._row(str(doc)) for doc in X], dtype=np.float64).reshape(len(X), len(self.labels_) * len(CUE_NAMES))
        rows, columns = np.nonzero(dense)
        indptr = np.zeros(len(dense) + 1, dtype=np.int32)
        np.cumsum(np.bincount(rows, minlength=len(dense)), out=indptr[1:])
        return dense[rows, columns], columns.astype(np.int32), indptr


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
        datas, indices, indptrs, widths = [], [], [], []
        for name, trans, weight in self._iter():
            arrays = getattr(trans, "transform_arrays", None)
            data, index, indptr = arrays(X) if arrays is not None else _csr_arrays(trans.transform(X))
            datas.append(data * weight if weight is not None else data)
            indices.append(index + np.int32(sum(widths)))
            indptrs.append(indptr)
            widths.append(self._width(name, trans))
        n_rows = len(indptrs[0]) - 1
        indptr = np.sum(indptrs, axis=0, dtype=np.int32)
        data, index = np.concatenate(datas), np.concatenate(indices)
        if n_rows > 1:  # block-major to row-major; a stable sort keeps each row's blocks in order
            rows = np.concatenate([np.repeat(np.arange(n_rows), np.diff(p)) for p in indptrs])
            order = np.argsort(rows, kind="stable")
            data, index = data[order], index[order]
        return sparse.csr_matrix((data, index, indptr), shape=(n_rows, sum(widths)))

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
