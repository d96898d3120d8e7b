"""TfidfVectorizer with a lean serving `transform`; fitting is scikit-learn's, output identical."""

from __future__ import annotations

from itertools import repeat

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

from .model.ngrams import MAX_PACKED_CHARS, WordTables, char_ngrams, char_tables, code_points, pack_ngrams, packed_char_counts, term_counts, tfidf, word_ngrams


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
            token_ids: dict[str, int] = {}
            unigrams: dict[int, int] = {}
            bigram_keys: list[int] = []
            bigram_columns: list[int] = []
            for term, column in self.vocabulary_.items():
                parts = term.split(" ")
                if len(parts) == 1:
                    unigrams[token_ids.setdefault(term, len(token_ids))] = column
                elif len(parts) == 2 and all(parts):
                    # Only a pair of space-free, non-empty tokens can join to this term; transform
                    # sends any document with other tokens down the parent's string path.
                    first = token_ids.setdefault(parts[0], len(token_ids))
                    second = token_ids.setdefault(parts[1], len(token_ids))
                    bigram_keys.append(first << 32 | second)
                    bigram_columns.append(column)
            unigram_columns = np.full(len(token_ids), -1, dtype=np.int64)
            unigram_columns[list(unigrams)] = list(unigrams.values())
            keys = np.asarray(bigram_keys, dtype=np.int64)
            order = np.argsort(keys)
            tables = self._word_tables = WordTables(token_ids, unigram_columns, keys[order], np.asarray(bigram_columns, dtype=np.int64)[order])
        return tables

    def _packed_word_counts(self, tokens: list[str], tables: WordTables) -> tuple[np.ndarray, np.ndarray]:
        """(columns ascending, counts) of the in-vocabulary word n-grams of one token list."""
        ids = np.fromiter(map(tables.token_ids.get, tokens, repeat(-1)), dtype=np.int64, count=len(tokens))
        low, high = self.ngram_range
        found = []
        if low == 1:
            known = tables.unigram_columns[ids[ids >= 0]]
            found.append(known[known >= 0])
        if high == 2 and len(ids) >= 2 and len(tables.bigram_keys):
            first, second = ids[:-1], ids[1:]
            both = (first >= 0) & (second >= 0)
            packed = first[both] << 32 | second[both]
            where = np.minimum(np.searchsorted(tables.bigram_keys, packed), len(tables.bigram_keys) - 1)
            found.append(tables.bigram_columns[where[tables.bigram_keys[where] == packed]])
        if not found:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        return np.unique(np.concatenate(found), return_counts=True)

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

    @staticmethod
    def _packable(tokens: list[str]) -> bool:
        """Whether the packed word path sees these tokens as the parent does: none empty, none with a space."""
        return "" not in tokens and " " not in "".join(tokens)

    def transform(self, raw_documents):
        data, indices, indptr = self.transform_arrays(raw_documents)
        return sparse.csr_matrix((data, indices, indptr), shape=(len(indptr) - 1, len(self.vocabulary_)))
