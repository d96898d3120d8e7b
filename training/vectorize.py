"""TfidfVectorizer with a lean serving `transform`; fitting is scikit-learn's, output identical."""

from __future__ import annotations

from itertools import repeat
from typing import NamedTuple

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer


class WordTables(NamedTuple):
    """A word vectorizer's vocabulary as integers: token ids, unigram columns, sorted bigram keys."""

    token_ids: dict[str, int]
    unigram_columns: np.ndarray  # column of each token id as a unigram, -1 if none
    bigram_keys: np.ndarray  # first id << 32 | second id, sorted
    bigram_columns: np.ndarray  # column of each bigram key


# Every Unicode code point fits in 21 bits, so an n-gram of up to three characters packs exactly
# (no collisions) into one 63-bit integer.
_CODE_BITS = 21
_MAX_PACKED_CHARS = 3


def _code_points(text: str) -> np.ndarray:
    """The text's code points as uint64 (lone surrogates included, as JSON may carry them)."""
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.uint64)


def _pack_ngrams(codes: np.ndarray, n: int) -> np.ndarray:
    """Every run of n consecutive code points (n-gram) as one integer, in text order."""
    size = len(codes) - n + 1
    keys = codes[:size].copy()
    for j in range(1, n):
        keys = (keys << np.uint64(_CODE_BITS)) | codes[j:j + size]
    return keys


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
        text = self._white_spaces.sub(" ", text_document)
        size = len(text)
        low, high = self.ngram_range
        grams: list[str] = []
        for n in range(low, min(high, size) + 1):
            grams.extend(list(text) if n == 1 else map(text.__getitem__, map(slice, range(size - n + 1), range(n, size + 1))))
        return grams

    def _word_ngrams(self, tokens: list[str], stop_words=None) -> list[str]:
        """The parent's word n-grams (same multiset), joined by C-level map instead of a loop."""
        if stop_words is not None:
            tokens = [w for w in tokens if w not in stop_words]
        low, high = self.ngram_range
        grams: list[str] = []
        for n in range(low, min(high, len(tokens)) + 1):
            grams.extend(tokens if n == 1 else map(" ".join, zip(*(tokens[k:] for k in range(n)))))
        return grams

    def _packed_char_tables(self) -> dict[int, tuple[np.ndarray, np.ndarray]] | None:
        """Per n-gram length: the vocabulary's packed n-grams (sorted) and their columns; None if not applicable."""
        if self.analyzer != "char" or self.ngram_range[1] > _MAX_PACKED_CHARS:
            return None
        tables = getattr(self, "_char_tables", None)
        if tables is None:  # built once per fitted or loaded vectorizer; racing threads build equal tables
            by_length: dict[int, tuple[list[str], list[int]]] = {}
            for term, column in self.vocabulary_.items():
                terms, columns = by_length.setdefault(len(term), ([], []))
                terms.append(term)
                columns.append(column)
            tables = {}
            for n, (terms, columns) in by_length.items():
                keys = _pack_ngrams(_code_points("".join(terms)), n)[::n]  # the terms sit end to end
                order = np.argsort(keys)
                tables[n] = (keys[order], np.asarray(columns, dtype=np.int64)[order])
            self._char_tables = tables
        return tables

    def _packed_char_counts(self, text: str, tables: dict[int, tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
        """(columns ascending, counts) of the in-vocabulary character n-grams of one preprocessed text."""
        text = self._white_spaces.sub(" ", text)
        codes = _code_points(text)
        low, high = self.ngram_range
        found_columns, found_counts = [], []
        for n in range(low, min(high, len(codes)) + 1):
            if n not in tables:
                continue
            keys, columns = tables[n]
            # Distinct n-grams first: sorted queries search the table faster, and are counted anyway.
            packed, counts = np.unique(_pack_ngrams(codes, n), return_counts=True)
            where = np.minimum(np.searchsorted(keys, packed), len(keys) - 1)
            hit = keys[where] == packed
            found_columns.append(columns[where[hit]])
            found_counts.append(counts[hit])
        if not found_columns:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        columns, counts = np.concatenate(found_columns), np.concatenate(found_counts)
        order = np.argsort(columns)
        return columns[order], counts[order]

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
        lookup = self.vocabulary_.get
        indptr, index_blocks, count_blocks = [0], [], []
        for doc in raw_documents:
            if tables is not None:
                ids, counts = self._packed_char_counts(preprocess(self.decode(doc)), tables)
            elif tokenizer is not None and self._packable(tokens := tokenizer(preprocess(self.decode(doc)))):
                ids, counts = self._packed_word_counts(tokens, word_tables)
            else:
                terms = analyze(doc)
                # Vocabulary ids for every term (-1 = unknown), counted by numpy: no Python-level loop.
                ids = np.fromiter(map(lookup, terms, repeat(-1)), dtype=np.int64, count=len(terms))
                ids, counts = np.unique(ids[ids >= 0], return_counts=True)  # sorted, as CSR wants
            index_blocks.append(ids)
            count_blocks.append(counts)
            indptr.append(indptr[-1] + len(ids))
        indices = (np.concatenate(index_blocks) if index_blocks else np.zeros(0, dtype=np.int64)).astype(np.int32)
        data = np.concatenate(count_blocks).astype(np.float64) if count_blocks else np.zeros(0)
        indptr_array = np.asarray(indptr, dtype=np.int32)
        if self.binary:
            data[:] = 1.0
        if self.sublinear_tf:
            np.log(data, data)
            data += 1.0
        if self.use_idf:
            data *= self.idf_[indices]
        if self.norm == "l2":
            rows = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr_array))
            norms = np.sqrt(np.bincount(rows, weights=data ** 2, minlength=len(indptr) - 1))
            norms[norms == 0] = 1.0
            data /= norms[rows]
        elif self.norm is not None:
            raise ValueError(f"FastTfidfVectorizer supports norm='l2' or None, not {self.norm!r}")
        return data, indices, indptr_array

    @staticmethod
    def _packable(tokens: list[str]) -> bool:
        """Whether the packed word path sees these tokens as the parent does: none empty, none with a space."""
        return "" not in tokens and " " not in "".join(tokens)

    def transform(self, raw_documents):
        data, indices, indptr = self.transform_arrays(raw_documents)
        return sparse.csr_matrix((data, indices, indptr), shape=(len(indptr) - 1, len(self.vocabulary_)))
