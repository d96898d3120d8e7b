"""N-gram counting and TF-IDF weighting on plain numpy arrays, shared by training and serving.

`training.vectorize.FastTfidfVectorizer` (fit by scikit-learn) and `training.model.scorer`
(numpy only) both call these functions, so a fitted pipeline and its exported scorer compute
the same numbers in the same order.
"""

from __future__ import annotations

from itertools import repeat
from typing import Callable, NamedTuple

import numpy as np

# Every Unicode code point fits in 21 bits, so an n-gram of up to three characters packs exactly
# (no collisions) into one 63-bit integer.
CODE_BITS = 21
MAX_PACKED_CHARS = 3


class WordTables(NamedTuple):
    """A word vocabulary as integers: token ids, unigram columns, sorted bigram keys."""

    token_ids: dict[str, int]
    unigram_columns: np.ndarray  # column of each token id as a unigram, -1 if none
    bigram_keys: np.ndarray  # first id << 32 | second id, sorted
    bigram_columns: np.ndarray  # column of each bigram key


def code_points(text: str) -> np.ndarray:
    """The text's code points as uint64 (lone surrogates included, as JSON may carry them)."""
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.uint64)


def pack_ngrams(codes: np.ndarray, n: int) -> np.ndarray:
    """Every run of n consecutive code points (n-gram) as one integer, in text order."""
    size = len(codes) - n + 1
    keys = codes[:size].copy()
    for j in range(1, n):
        keys = (keys << np.uint64(CODE_BITS)) | codes[j:j + size]
    return keys


def char_tables(terms: list[str] | None, columns: np.ndarray | None = None, *, codes: np.ndarray | None = None,
                offsets: np.ndarray | None = None) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Per n-gram length: the vocabulary's packed n-grams (sorted) and their columns.

    Give either `terms` (strings, with their `columns`) or `codes` + `offsets` (the terms' code
    points end to end, term k at codes[offsets[k]:offsets[k+1]], column k).
    """
    if terms is not None:
        offsets = np.zeros(len(terms) + 1, dtype=np.int64)
        np.cumsum([len(t) for t in terms], out=offsets[1:])
        codes = code_points("".join(terms))
    else:
        columns = None
    assert codes is not None and offsets is not None
    columns = np.arange(len(offsets) - 1, dtype=np.int64) if columns is None else np.asarray(columns, dtype=np.int64)
    lengths = np.diff(offsets)
    starts = offsets[:-1]
    tables = {}
    for n in np.unique(lengths).tolist():
        which = np.flatnonzero(lengths == n)
        keys = np.zeros(len(which), dtype=np.uint64)
        for j in range(n):
            keys = (keys << np.uint64(CODE_BITS)) | codes[starts[which] + j].astype(np.uint64)
        order = np.argsort(keys)
        tables[int(n)] = (keys[order], columns[which][order])
    return tables


def packed_char_counts(text: str, tables: dict[int, tuple[np.ndarray, np.ndarray]], low: int, high: int) -> tuple[np.ndarray, np.ndarray]:
    """(columns ascending, counts) of the in-vocabulary character n-grams of one whitespace-folded text."""
    codes = code_points(text)
    found_columns, found_counts = [], []
    for n in range(low, min(high, len(codes)) + 1):
        if n not in tables:
            continue
        keys, columns = tables[n]
        # Distinct n-grams first: sorted queries search the table faster, and are counted anyway.
        packed, counts = np.unique(pack_ngrams(codes, n), return_counts=True)
        where = np.minimum(np.searchsorted(keys, packed), len(keys) - 1)
        hit = keys[where] == packed
        found_columns.append(columns[where[hit]])
        found_counts.append(counts[hit])
    if not found_columns:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    columns, counts = np.concatenate(found_columns), np.concatenate(found_counts)
    order = np.argsort(columns)
    return columns[order], counts[order]


def word_tables(terms: list[str], columns: np.ndarray | None = None) -> WordTables:
    """Token ids, unigram columns and packed bigram keys of a word vocabulary (term k at column k by default)."""
    columns = np.arange(len(terms), dtype=np.int64) if columns is None else np.asarray(columns, dtype=np.int64)
    # Comprehensions and C-level maps, not a loop with dict updates: this runs at every model load.
    single = [k for k, term in enumerate(terms) if " " not in term]
    pairs = [(k, parts) for k, parts in ((k, terms[k].split(" ")) for k, term in enumerate(terms) if " " in term)
             if len(parts) == 2 and parts[0] and parts[1]]
    # Only a pair of space-free, non-empty tokens can join to a bigram term; documents with other
    # tokens go down the string path (see `packable`).
    unigram_terms = [terms[k] for k in single]
    firsts = [parts[0] for _, parts in pairs]
    seconds = [parts[1] for _, parts in pairs]
    token_ids = {token: i for i, token in enumerate(dict.fromkeys(unigram_terms + firsts + seconds))}
    unigram_columns = np.full(len(token_ids), -1, dtype=np.int64)
    unigram_columns[np.fromiter(map(token_ids.__getitem__, unigram_terms), dtype=np.int64, count=len(single))] = columns[single]
    first_ids = np.fromiter(map(token_ids.__getitem__, firsts), dtype=np.int64, count=len(pairs))
    second_ids = np.fromiter(map(token_ids.__getitem__, seconds), dtype=np.int64, count=len(pairs))
    keys = first_ids << 32 | second_ids
    order = np.argsort(keys)
    bigram_columns = columns[[k for k, _ in pairs]] if pairs else np.zeros(0, dtype=np.int64)
    return WordTables(token_ids, unigram_columns, keys[order], bigram_columns[order])


def packable(tokens: list[str]) -> bool:
    """Whether the packed word path sees these tokens as the string path does: none empty, none with a space."""
    return "" not in tokens and " " not in "".join(tokens)


def packed_word_counts(tokens: list[str], tables: WordTables, low: int, high: int) -> tuple[np.ndarray, np.ndarray]:
    """(columns ascending, counts) of the in-vocabulary word 1- and 2-grams of one packable token list."""
    ids = np.fromiter(map(tables.token_ids.get, tokens, repeat(-1)), dtype=np.int64, count=len(tokens))
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


def word_ngrams(tokens: list[str], low: int, high: int) -> list[str]:
    """scikit-learn's word n-grams of a token list (same multiset): n-grams joined by one space."""
    grams: list[str] = []
    for n in range(low, min(high, len(tokens)) + 1):
        grams.extend(tokens if n == 1 else map(" ".join, zip(*(tokens[k:] for k in range(n)))))
    return grams


def char_ngrams(text: str, low: int, high: int) -> list[str]:
    """scikit-learn's character n-grams of a whitespace-folded text (same multiset)."""
    size = len(text)
    grams: list[str] = []
    for n in range(low, min(high, size) + 1):
        grams.extend(list(text) if n == 1 else map(text.__getitem__, map(slice, range(size - n + 1), range(n, size + 1))))
    return grams


def term_counts(terms: list[str], lookup: Callable[[str, int], int]) -> tuple[np.ndarray, np.ndarray]:
    """(columns ascending, counts) of the in-vocabulary terms, counted by numpy: no Python-level loop."""
    ids = np.fromiter(map(lookup, terms, repeat(-1)), dtype=np.int64, count=len(terms))
    return np.unique(ids[ids >= 0], return_counts=True)


def tfidf(index_blocks: list[np.ndarray], count_blocks: list[np.ndarray], idf: np.ndarray | None,
          sublinear_tf: bool, binary: bool, norm: str | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CSR parts (data, indices, indptr) of TF-IDF rows from per-document (columns, counts), as scikit-learn weighs them."""
    indptr = np.zeros(len(index_blocks) + 1, dtype=np.int32)
    np.cumsum([len(ids) for ids in index_blocks], out=indptr[1:])
    indices = (np.concatenate(index_blocks) if index_blocks else np.zeros(0, dtype=np.int64)).astype(np.int32)
    data = np.concatenate(count_blocks).astype(np.float64) if count_blocks else np.zeros(0)
    if binary:
        data[:] = 1.0
    if sublinear_tf:
        np.log(data, data)
        data += 1.0
    if idf is not None:
        data *= idf[indices]
    if norm == "l2":
        n_rows = len(indptr) - 1
        rows = np.repeat(np.arange(n_rows), np.diff(indptr))
        norms = np.sqrt(np.bincount(rows, weights=data ** 2, minlength=n_rows))
        norms[norms == 0] = 1.0
        data /= norms[rows]
    elif norm is not None:
        raise ValueError(f"norm={norm!r} is not supported; use 'l2' or None")
    return data, indices, indptr


def stack_blocks(blocks: list[tuple[np.ndarray, np.ndarray, np.ndarray]], widths: list[int],
                 weights: list[float | None]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One CSR (data, indices, indptr) from column blocks side by side, each scaled by its weight."""
    datas, indices, indptrs = [], [], []
    offset = 0
    for (data, index, indptr), width, weight in zip(blocks, widths, weights):
        datas.append(data * weight if weight is not None else data)
        indices.append(index + np.int32(offset))
        indptrs.append(indptr)
        offset += width
    n_rows = len(indptrs[0]) - 1
    indptr = np.sum(indptrs, axis=0, dtype=np.int32)
    data, index = np.concatenate(datas), np.concatenate(indices)
    if n_rows > 1:  # block-major to row-major; a stable sort keeps each row's blocks in order
        rows = np.concatenate([np.repeat(np.arange(n_rows), np.diff(p)) for p in indptrs])
        order = np.argsort(rows, kind="stable")
        data, index = data[order], index[order]
    return data, index, indptr
