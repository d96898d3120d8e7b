"""Score texts from a model's arrays with numpy alone: the serving half of a fitted pipeline.

normalize → word TF-IDF ⊕ char TF-IDF ⊕ legal cues (weighted, side by side) → one dot product per
label → sigmoid. Every step calls the same functions the training pipeline calls (normalizer,
tokenizer, n-gram counting, TF-IDF weighting, cue rows), so the scores agree with scikit-learn's
to rounding (tests compare both on the whole corpus and the gold texts).
"""

from __future__ import annotations

import re
from functools import cached_property
from typing import Any, Mapping, NamedTuple, Sequence

import numpy as np

from ..errors import ModelError
from ..normalize import normalize_text
from ..tokenize import tokenize
from . import FORMAT
from .cues import CUE_NAMES, cue_arrays
from .ngrams import (
    MAX_PACKED_CHARS, char_ngrams, char_tables, packable, packed_char_counts, packed_word_counts, stack_blocks, term_counts, tfidf,
    word_ngrams, word_tables,
)

# scikit-learn's character analyzer folds runs of whitespace with this pattern; the exporter
# checks that the fitted vectorizer used the same one.
WHITE_SPACES = re.compile(r"\s\s+")
NORMALIZER = "training.normalize.normalize_text"
TOKENIZER = "training.tokenize.tokenize"
MAX_CODE_POINT = 0x10FFFF


class Features(NamedTuple):
    """A batch's feature rows in CSR parts; row i is data[indptr[i]:indptr[i+1]] at columns indices[...]."""

    data: np.ndarray
    indices: np.ndarray
    indptr: np.ndarray

    def row(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """(values, columns) of row i, in stored order."""
        start, end = self.indptr[i], self.indptr[i + 1]
        return self.data[start:end], self.indices[start:end]

    def __len__(self) -> int:
        return len(self.indptr) - 1


def _need(condition: bool, what: str) -> None:
    if not condition:
        raise ModelError(f"model file is inconsistent: {what}; retrain or restore this version")


def decode_terms(codes: np.ndarray, offsets: np.ndarray) -> list[str]:
    """Terms stored end to end as code points: term k is codes[offsets[k]:offsets[k+1]]."""
    joined = np.ascontiguousarray(codes, dtype="<u4").tobytes().decode("utf-32-le", "surrogatepass")
    return list(map(joined.__getitem__, map(slice, offsets[:-1].tolist(), offsets[1:].tolist())))


class TfidfBlock:
    """A fitted word or character TF-IDF vectorizer as arrays: vocabulary (by column) and IDF."""

    def __init__(self, spec: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        self.name = str(spec["name"])
        self.analyzer = spec["analyzer"]
        self.lowercase = bool(spec["lowercase"])
        low, high = (int(n) for n in spec["ngram_range"])
        self.ngram_range = (low, high)
        self.sublinear_tf = bool(spec["sublinear_tf"])
        self.binary = bool(spec["binary"])
        self.norm = spec["norm"]
        self.width = int(spec["width"])
        _need(self.analyzer in ("word", "char"), f"{self.name}: analyzer {self.analyzer!r}")
        _need(self.norm in ("l2", None), f"{self.name}: norm {self.norm!r}")
        _need(1 <= low <= high <= 16, f"{self.name}: ngram_range {self.ngram_range}")
        _need(self.analyzer == "char" or spec.get("tokenizer") == TOKENIZER, f"{self.name}: tokenizer {spec.get('tokenizer')!r}")
        self.codes = np.asarray(arrays[f"{self.name}.codes"])
        self.offsets = np.asarray(arrays[f"{self.name}.offsets"])
        _need(self.codes.dtype == np.uint32 and self.codes.ndim == 1, f"{self.name}.codes dtype")
        _need(self.offsets.dtype == np.int64 and self.offsets.shape == (self.width + 1,), f"{self.name}.offsets shape")
        _need(self.width == 0 or (self.offsets[0] == 0 and self.offsets[-1] == len(self.codes)
                                  and bool(np.all(np.diff(self.offsets) >= 1))), f"{self.name}.offsets order")
        _need(not len(self.codes) or int(self.codes.max()) <= MAX_CODE_POINT, f"{self.name}.codes range")
        self.idf = None
        if spec["use_idf"]:
            self.idf = np.asarray(arrays[f"{self.name}.idf"])
            _need(self.idf.dtype == np.float64 and self.idf.shape == (self.width,), f"{self.name}.idf shape")
        self.packed = self.analyzer == "char" and high <= MAX_PACKED_CHARS
        self.packed_words = self.analyzer == "word" and self.ngram_range in ((1, 1), (1, 2), (2, 2))
        if self.packed:  # character n-grams are looked up as packed integers: no n-gram strings at all
            self.tables = char_tables(None, codes=self.codes, offsets=self.offsets)
        if self.packed_words:  # word pairs too, by token ids; the string lookup stays for odd tokens
            self.word_tables = word_tables(self.terms)

    @cached_property
    def terms(self) -> list[str]:
        """The vocabulary, term k at column k (built on first use for character blocks)."""
        return decode_terms(self.codes, self.offsets)

    @cached_property
    def lookup(self):
        """term -> column (the string path: unpacked n-grams, or tokens the packed path cannot take)."""
        return {term: column for column, term in enumerate(self.terms)}.get

    def _counts(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        if self.lowercase:
            text = text.lower()
        low, high = self.ngram_range
        if self.analyzer == "word":
            tokens = tokenize(text)
            if self.packed_words and packable(tokens):
                return packed_word_counts(tokens, self.word_tables, low, high)
            return term_counts(word_ngrams(tokens, low, high), self.lookup)
        text = WHITE_SPACES.sub(" ", text)
        if self.packed:
            return packed_char_counts(text, self.tables, low, high)
        return term_counts(char_ngrams(text, low, high), self.lookup)

    def transform_arrays(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """CSR parts of the TF-IDF rows of normalized texts."""
        index_blocks, count_blocks = [], []
        for text in texts:
            ids, counts = self._counts(text)
            index_blocks.append(ids)
            count_blocks.append(counts)
        return tfidf(index_blocks, count_blocks, self.idf, self.sublinear_tf, self.binary, self.norm)


class CueBlock:
    """The legal cue features: per label, compiled cue-term and institution-name patterns."""

    def __init__(self, spec: Mapping[str, Any]) -> None:
        self.name = str(spec["name"])
        self.labels = [str(x) for x in spec["labels"]]
        _need(list(spec["cue_names"]) == list(CUE_NAMES), f"{self.name}: cue names {spec['cue_names']}")
        terms, institutions = list(spec["term_patterns"]), list(spec["institution_patterns"])
        _need(len(terms) == len(institutions) == len(self.labels), f"{self.name}: one term and one institution pattern per label")
        try:
            self._terms = [re.compile(p) for p in terms]
            self._institutions = [re.compile(p) for p in institutions]
        except (re.error, TypeError) as exc:
            raise ModelError(f"model file has a bad cue pattern ({exc}); retrain or restore this version") from None
        self.width = len(self.labels) * len(CUE_NAMES)
        _need(int(spec["width"]) == self.width, f"{self.name}: width")

    @cached_property
    def terms(self) -> list[str]:
        return [f"{label}:{cue}" for label in self.labels for cue in CUE_NAMES]

    def transform_arrays(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return cue_arrays(texts, self._terms, self._institutions)


class LeanScorer:
    """A model loaded from format-2 arrays: features, probabilities, thresholds, feature names."""

    def __init__(self, spec: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        try:
            self._build(spec, arrays)
        except ModelError:
            raise
        except (KeyError, TypeError, ValueError, IndexError, UnicodeDecodeError) as exc:
            raise ModelError(f"model file is incomplete or malformed ({type(exc).__name__}: {exc}); retrain or restore this version") from None

    def _build(self, spec: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        _need(isinstance(spec, Mapping) and spec.get("format") == FORMAT, f"format {spec.get('format') if isinstance(spec, Mapping) else spec!r}")
        _need(spec.get("normalizer") == NORMALIZER, f"normalizer {spec.get('normalizer')!r}")
        self.spec = spec
        self.labels = [str(x) for x in spec["labels"]]
        self.blocks: list[TfidfBlock | CueBlock] = []
        self.weights: list[float | None] = []
        for block in spec["blocks"]:
            _need(block["kind"] in ("cues", "tfidf"), f"block kind {block['kind']!r}")
            self.blocks.append(CueBlock(block) if block["kind"] == "cues" else TfidfBlock(block, arrays))
            weight = block.get("weight")
            self.weights.append(None if weight is None else float(weight))
        self.widths = [b.width for b in self.blocks]
        self.starts = np.cumsum([0] + self.widths)
        self.n_features = int(self.starts[-1])
        self.coef = np.asarray(arrays["classifier.coef"])
        self.intercept = np.asarray(arrays["classifier.intercept"])
        self.thresholds = np.asarray(arrays["classifier.thresholds"])
        n = len(self.labels)
        _need(self.coef.dtype == np.float64 and self.coef.shape == (n, self.n_features), "classifier.coef shape")
        _need(self.intercept.dtype == np.float64 and self.intercept.shape == (n,), "classifier.intercept shape")
        _need(self.thresholds.dtype == np.float64 and self.thresholds.shape == (n,), "classifier.thresholds shape")

    def features(self, texts: Sequence[str]) -> Features:
        """Feature rows of raw texts: normalize once, every block, stacked with its weight."""
        normalized = [normalize_text(str(text)) for text in texts]
        blocks = [block.transform_arrays(normalized) for block in self.blocks]
        return Features(*stack_blocks(blocks, self.widths, self.weights))

    def predict_proba_features(self, X: Features) -> np.ndarray:
        """Probability of each label, shape (n_texts, n_labels)."""
        n = len(X)
        rows = np.repeat(np.arange(n), np.diff(X.indptr))
        z = np.empty((n, len(self.labels)))
        for k, coef in enumerate(self.coef):
            # bincount adds each row's products in stored order, as scipy's sparse product does.
            z[:, k] = np.bincount(rows, weights=X.data * coef[X.indices], minlength=n)
        return 1.0 / (1.0 + np.exp(-(z + self.intercept)))

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        return self.predict_proba_features(self.features(texts))

    def block_columns(self, name: str) -> tuple[int, int, list[str]]:
        """(first column, end column, terms) of the block called name; (0, 0, []) if there is none."""
        for block, start in zip(self.blocks, self.starts.tolist()):
            if block.name == name:
                return start, start + block.width, block.terms
        return 0, 0, []

    def feature_name(self, column: int) -> tuple[str, str]:
        """(block name, term) of a feature column."""
        b = int(np.searchsorted(self.starts, column, side="right")) - 1
        block = self.blocks[b]
        return block.name, block.terms[column - int(self.starts[b])]
