"""Exact and near-duplicate rows: normalized text, or character-shingle Jaccard >= 0.9.

Near duplicates are found with MinHash signatures and locality-sensitive hashing (bands of
rows): only texts sharing a band bucket are compared exactly, so the search is close to linear
in the number of rows rather than quadratic. With 16 bands of 4 hashes, a pair at Jaccard 0.9
becomes a candidate with probability 1-(1-0.9^4)^16 > 0.9999, a pair at 0.5 with about 0.64
of being compared (then rejected by the exact check); a pair at 0.3 rarely (0.12). A bucket larger
than MAX_BUCKET (thousands of near-identical texts) is compared only within its first
MAX_BUCKET members, keeping the worst case bounded.
"""

from __future__ import annotations

import zlib
from collections import defaultdict

import numpy as np

from ..normalize import fold_width

SHINGLE = 3
NUM_HASHES = 64
BANDS = 16
MAX_BUCKET = 200
_PRIME = (1 << 61) - 1


def normalized_key(text: str) -> str:
    """Text as compared for exact duplicates: normalized (width, case), whitespace removed."""
    return "".join(fold_width(text).lower().split())


def shingles(text: str, size: int = SHINGLE) -> set[int]:
    """Hashed character shingles of the normalized text (CRC32: the same in every process)."""
    key = normalized_key(text)
    if len(key) <= size:
        return {zlib.crc32(key.encode("utf-8"))} if key else set()
    return {zlib.crc32(key[i:i + size].encode("utf-8")) for i in range(len(key) - size + 1)}


def jaccard(a: set[int], b: set[int]) -> float:
    """|a ∩ b| / |a ∪ b| (0 for two empty sets)."""
    union = len(a | b)
    return len(a & b) / union if union else 0.0


def _signatures(sets: list[set[int]], seed: int = 0) -> np.ndarray:
    """MinHash signatures (n, NUM_HASHES) with universal hashes (a*x + b) mod p."""
    rng = np.random.default_rng(seed)
    a = rng.integers(1, 1 << 31, NUM_HASHES, dtype=np.uint64)
    b = rng.integers(0, 1 << 31, NUM_HASHES, dtype=np.uint64)
    out = np.full((len(sets), NUM_HASHES), np.iinfo(np.uint64).max, dtype=np.uint64)
    for i, s in enumerate(sets):
        if s:
            x = np.fromiter(s, dtype=np.uint64, count=len(s))
            # a < 2^31 and x < 2^32 keep a*x + b below 2^64: no overflow before the modulus.
            out[i] = ((np.outer(a, x) + b[:, None]) % np.uint64(_PRIME)).min(axis=1)
    return out


def duplicate_groups(texts: list[str], threshold: float = 0.9) -> list[tuple[list[int], float]]:
    """Groups of row indices that are exact (score 1.0) or near duplicates (min pair Jaccard >= threshold)."""
    parent = list(range(len(texts)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(i: int, j: int) -> None:
        ri, rj = find(i), find(j)
        if ri != rj:
            parent[max(ri, rj)] = min(ri, rj)

    exact: dict[str, int] = {}
    reps = []
    for i, text in enumerate(texts):
        key = normalized_key(text)
        if key in exact:
            union(exact[key], i)
        else:
            exact[key] = i
            reps.append(i)
    sets = {i: shingles(texts[i]) for i in reps}
    signatures = _signatures([sets[i] for i in reps])
    rows = NUM_HASHES // BANDS
    best: dict[int, float] = {}
    checked: set[tuple[int, int]] = set()
    for band in range(BANDS):
        buckets: dict[bytes, list[int]] = defaultdict(list)
        chunk = signatures[:, band * rows:(band + 1) * rows]
        for pos, i in enumerate(reps):
            if sets[i]:
                buckets[chunk[pos].tobytes()].append(i)
        for members in buckets.values():
            members = members[:MAX_BUCKET]
            for x in range(len(members)):
                for y in range(x + 1, len(members)):
                    pair = (members[x], members[y])
                    if pair in checked:
                        continue
                    checked.add(pair)
                    sim = jaccard(sets[pair[0]], sets[pair[1]])
                    if sim >= threshold:
                        union(*pair)
                        for i in pair:
                            best[i] = min(best.get(i, 1.0), sim)
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(len(texts)):
        groups[find(i)].append(i)
    out = []
    for members in groups.values():
        if len(members) > 1:
            out.append((members, round(min((best.get(i, 1.0) for i in members)), 4)))
    return out
