"""TfidfVectorizer with a lean serving `transform`; fitting is scikit-learn's, output identical."""

from __future__ import annotations

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

from .model.ngrams import (
    MAX_PACKED_CHARS, WordTables, char_ngrams, char_tables, code_points, pack_ngrams, packable, packed_char_counts,
    packed_word_counts, term_counts, tfidf, word_ngrams, word_tables,
)


# Shared with the numpy-only serving scorer (training.model), so both count and weigh alike.
_code_points, _pack_ngrams = code_points, pack_ngrams
_MAX_PACKED_CHARS = MAX_PACKED_CHARS


class FastTfidfVectorizer(TfidfVectorizer):
    """TfidfVectorizer with a leaner `transform` for serving; fitting is the parent's.

    The parent counts terms by catching a KeyError for every out-of-vocabulary n-gram and then
    re-validates the count matrix; on one article that overhead was most of the transform.
    Character n-grams of up to three characters are looked up as packed integers in sorted
    arrays, so no n-gram string is ever built. Output is identical (tests compare both).
    """

    # The vocabulary pickles as one joined string and one index array instead of ~10^5 dict
    # entries: joblib's pure-Python unpickler took most of a cold start on the entries.
    _VOCAB_SEPARATOR = "\x1f"

    def __getstate__(self):
        state = dict(super().__getstate__())  # a copy: the parent may hand back self.__dict__ itself
        state.pop("_char_tables", None)  # derived from the vocabulary; rebuilt on load
        state.pop("_word_tables", None)
        vocabulary = state.get("vocabulary_")
        if isinstance(vocabulary, dict) and not any(self._VOCAB_SEPARATOR in term for term in vocabulary):
            state["vocabulary_"] = (
                self._VOCAB_SEPARATOR.join(vocabulary),
                np.fromiter(vocabulary.values(), dtype=np.int64, count=len(vocabulary)),
            )
        return state

    def __setstate__(self, state):
        vocabulary = state.get("vocabulary_")
        if isinstance(vocabulary, tuple):
            joined, indices = vocabulary
            terms = joined.split(self._VOCAB_SEPARATOR) if joined else []
            state["vocabulary_"] = dict(zip(terms, indices.tolist()))
        super().__setstate__(state)

    def _drop_tables(self) -> None:
        # A refit invalidates the lookup tables derived from the vocabulary.
        self.__dict__.pop("_char_tables", None)
        self.__dict__.pop("_word_tables", None)

    def fit(self, raw_documents, y=None):
        self._drop_tables()
        return super().fit(raw_documents, y)

    def fit_transform(self, raw_documents, y=None):
        self._drop_tables()
        return super().fit_transform(raw_documents, y)

    def _char_ngrams(self, text_document: str) -> list[str]:
        """The parent's character n-grams (same multiset), sliced by C-level map instead of a loop."""
        return char_ngrams(self._white_spaces.sub(" ", text_document), *self.ngram_range)

    def _word_ngrams(self, tokens: list[str], stop_words=None) -> list[str]:
        """The parent's word n-grams (same multiset), joined by C-level map instead of a loop."""
        if stop_words is not None:
            tokens = [w for w in tokens if w not in stop_words]
        return word_ngrams(tokens, *self.ngram_range)

    def _packed_char_tables(self) -> dict[int, tuple[np.ndarray, np.ndarray]] | None:
        """Per n-gram length: the vocabulary's packed n-grams (sorted) and their columns; None if not applicable."""
        if self.analyzer != "char" or self.ngram_range[1] > _MAX_PACKED_CHARS:
            return None
        tables = getattr(self, "_char_tables", None)
        if tables is None:  # built once per fitted or loaded vectorizer; racing threads build equal tables
            tables = self._char_tables = char_tables(list(self.vocabulary_), np.fromiter(self.vocabulary_.values(), dtype=np.int64, count=len(self.vocabulary_)))
        return tables

    def _packed_char_counts(self, text: str, tables: dict[int, tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
        """(columns ascending, counts) of the in-vocabulary character n-grams of one preprocessed text."""
        return packed_char_counts(self._white_spaces.sub(" ", text), tables, *self.ngram_range)

    def _packed_word_tables(self) -> WordTables | None:
        """Token ids, unigram columns and packed bigram keys of the vocabulary; None if not applicable."""
        if self.analyzer != "word" or self.stop_words is not None or self.ngram_range not in ((1, 1), (1, 2), (2, 2)):
            return None
        tables = getattr(self, "_word_tables", None)
        if tables is None:  # built once per fitted or loaded vectorizer; racing threads build equal tables
            vocabulary = self.vocabulary_
            tables = self._word_tables = word_tables(list(vocabulary), np.fromiter(vocabulary.values(), dtype=np.int64, count=len(vocabulary)))
        return tables

    def _packed_word_counts(self, tokens: list[str], tables: WordTables) -> tuple[np.ndarray, np.ndarray]:
        """(columns ascending, counts) of the in-vocabulary word n-grams of one token list."""
        return packed_word_counts(tokens, tables, *self.ngram_range)

    def transform_arrays(self, raw_documents) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The CSR parts (data, indices, indptr) of `transform`: for unions that stack blocks themselves."""
        if isinstance(raw_documents, str):
            raise ValueError("Iterable over raw text documents expected, string object received.")
        tables = self._packed_char_tables()
        word_tables = self._packed_word_tables() if tables is None else None
        preprocess = self.build_preprocessor()  # built once per call, not per document of a batch
        tokenizer = self.build_tokenizer() if word_tables is not None else None
        analyze = None if tables is not None else self.build_analyzer()
        index_blocks, count_blocks = [], []
        for doc in raw_documents:
            if tables is not None:
                ids, counts = self._packed_char_counts(preprocess(self.decode(doc)), tables)
            elif tokenizer is not None and self._packable(tokens := tokenizer(preprocess(self.decode(doc)))):
                ids, counts = self._packed_word_counts(tokens, word_tables)
            else:
                ids, counts = term_counts(analyze(doc), self.vocabulary_.get)  # sorted, as CSR wants
            index_blocks.append(ids)
            count_blocks.append(counts)
        idf = self.idf_ if self.use_idf else None
        return tfidf(index_blocks, count_blocks, idf, self.sublinear_tf, self.binary, self.norm)

    _packable = staticmethod(packable)

    def transform(self, raw_documents):
        data, indices, indptr = self.transform_arrays(raw_documents)
        return sparse.csr_matrix((data, indices, indptr), shape=(len(indptr) - 1, len(self.vocabulary_)))
