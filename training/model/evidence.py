"""Evidence as word spans: a label's score attributed to whole words and phrases of the text.

A linear model's score is a sum of per-feature contributions (value × coefficient). Each one is
handed to the words of the text it came from:
- a word unigram to each occurrence of the word; a word bigram to the two-word phrase (or, when
  punctuation separates the pair, half to each word);
- a character n-gram to the words it overlaps, in proportion to its characters inside them (an
  n-gram over punctuation or across a word boundary still belongs to whole words);
- a cue feature (taxonomy terms, institution names) to the spans its pattern matched, widened to
  whole words.
Terms are then whole tokens (rjieba with the legal dictionary) or runs of consecutive tokens, with
character offsets into the text as submitted. Name-like tokens (王某), function words (a stop list
in labels/) and single characters that are not legal-dictionary words are left out, and the share
of the label's positive contribution that the shown terms carry is reported as `explained`.
Every loop is over tokens, characters or pattern matches: linear in the text's length.
"""

from __future__ import annotations

import re
import sys
from bisect import bisect_right
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from ..normalize import LONE_SURROGATE, _WIDTH, normalize_text
from ..tokenize import _ASCII_PIECE, _KEEP, get_cutter, read_user_dict
from .cues import CUE_NAMES, TAIL_CHARS, lead
from .ngrams import code_points, pack_ngrams
from .scorer import CueBlock

# 王某, 李某某, 张某甲, 刘某1: a surname (one or two characters) and 某 stand-ins for a name.
NAME_LIKE = re.compile(r"^[\u4e00-\u9fff]{1,2}某+[甲乙丙丁0-9a-z]?$")
# A cue pattern's span is widened to whole words; a run of whole words longer than this is not a "term".
MAX_PHRASE_TOKENS = 3
MAX_PHRASE_CHARS = 16
COVER = 0.5
_SPACE_RUN = re.compile(r"\s\s+")
_IS_SPACE = re.compile(r"\s")


@lru_cache(maxsize=4)
def _stoplist(path: str) -> frozenset[str]:
    """Words that never count as evidence: function words and words that say nothing about a label."""
    p = Path(path)
    if not p.is_file():
        return frozenset()
    words = (line.split("#", 1)[0].strip() for line in p.read_text(encoding="utf-8").splitlines())
    return frozenset(w for w in words if w)


@lru_cache(maxsize=4)
def _dictionary_words(path: str) -> frozenset[str]:
    p = Path(path)
    return frozenset(word for word, _, _ in read_user_dict(p)) if p.is_file() else frozenset()


def hidden_reason(term: str, stoplist: frozenset[str], dictionary: frozenset[str]) -> str | None:
    """Why a term is not shown (None: shown): a name stand-in, a stop word, or a lone character."""
    if NAME_LIKE.match(term):
        return "name"
    if term in stoplist:
        return "stop"
    if len(term) == 1 and term not in dictionary:
        return "single"
    return None


def align(original: str, normalized: str) -> list[int]:
    """For each character of normalized, the index of its source character in original.

    Normalization only removes characters (markup, whitespace), folds widths one to one and turns
    whitespace runs into one space or line break, so a greedy left-to-right match finds each source.
    """
    out: list[int] = []
    i, n = 0, len(original)
    for ch in normalized:
        space = ch.isspace()
        j = i
        while j < n:
            src = original[j]
            if (space and src.isspace()) or src == ch or chr(_WIDTH.get(ord(src), ord(src))) == ch:
                break
            j += 1
        if j >= n:  # cannot happen for normalize_text's output; stop rather than rescan (linear time)
            out += [max(n - 1, 0)] * (len(normalized) - len(out))
            break
        out.append(j)
        i = j + 1
    return out


@dataclass
class Token:
    """A cleaned token (as the word vectorizer sees it) and its [start, end) in the analysed text."""

    term: str
    start: int
    end: int


@dataclass
class Analysis:
    """One text prepared for attribution: normalized form, its tokens, and offsets back to the original."""

    original: str
    text: str  # normalized and lowercased as the model sees it (one character per character)
    tokens: list[Token]
    source: list[int]  # source[i]: index in original of text[i]
    owner: np.ndarray  # owner[c]: the token index covering character c, -1 for punctuation/space
    cache: dict = field(default_factory=dict)

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        if not self.source:
            return 0, 0
        return self.source[start], self.source[end - 1] + 1


def _lower_each(text: str) -> str:
    """Lowercase, but keep each character one character (a few lowercase to two)."""
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)


def analyse(original: str, lowercase: bool = True) -> Analysis:
    """Normalize, lowercase and cut the text; keep every token's span and the way back to the original."""
    normalized = normalize_text(original)
    text = _lower_each(normalized) if lowercase else normalized
    text = LONE_SURROGATE.sub("\ufffd", text)
    raw = get_cutter()(text)
    tokens: list[Token] = []
    owner = np.full(len(text), -1, dtype=np.int64)
    position = 0
    for word in raw:
        found = text.find(word, position) if word else position
        start = position if found < 0 else found
        position = start + len(word)
        if not _KEEP.search(word):
            continue
        if word.isascii():
            for piece in _ASCII_PIECE.finditer(word.lower()):
                term = "<num>" if piece.group().isdigit() else piece.group()
                tokens.append(Token(term, start + piece.start(), start + piece.end()))
        else:
            stripped = word.strip()
            offset = start + (len(word) - len(word.lstrip()))
            tokens.append(Token(stripped.lower(), offset, offset + len(stripped)))
    for k, token in enumerate(tokens):
        owner[token.start:token.end] = k
    return Analysis(original, text, tokens, align(original, normalized), owner)


class Attribution:
    """Per-token, per-phrase and per-cue-span contributions of one label for one text."""

    def __init__(self, n_tokens: int) -> None:
        self.tokens = np.zeros(n_tokens)
        self.pairs = np.zeros(max(n_tokens - 1, 0))  # pairs[j]: the phrase tokens j, j+1
        self.cues: dict[tuple[int, int], float] = {}  # (first token, last token + 1) -> weight
        self.lost = 0.0  # positive contribution that no word span can carry (e.g. n-grams of punctuation only)


def _word_block(analysis: Analysis, contrib: dict[int, float], block, start: int, out: Attribution) -> None:
    tokens = analysis.tokens
    if not tokens:
        return
    lookup = block.lookup
    low, high = block.ngram_range
    terms = [t.term for t in tokens]
    if low <= 1 <= high:
        columns = [lookup(term, -1) for term in terms]
        counts: dict[int, int] = {}
        for c in columns:
            if c >= 0:
                counts[c] = counts.get(c, 0) + 1
        for j, c in enumerate(columns):
            if c >= 0 and (start + c) in contrib:
                out.tokens[j] += contrib[start + c] / counts[c]
    if low <= 2 <= high and len(tokens) > 1:
        columns = [lookup(f"{a} {b}", -1) for a, b in zip(terms, terms[1:])]
        counts = {}
        for c in columns:
            if c >= 0:
                counts[c] = counts.get(c, 0) + 1
        for j, c in enumerate(columns):
            if c < 0 or (start + c) not in contrib:
                continue
            share = contrib[start + c] / counts[c]
            if tokens[j].end == tokens[j + 1].start:  # adjacent in the text: a phrase
                out.pairs[j] += share
            else:  # punctuation between them: each word carries half
                out.tokens[j] += share / 2
                out.tokens[j + 1] += share / 2


def contrib_arrays(contrib: dict[int, float]) -> tuple[np.ndarray, np.ndarray]:
    """The row's (columns ascending, contributions), for vectorized lookups."""
    columns = np.fromiter(contrib.keys(), dtype=np.int64, count=len(contrib))
    values = np.fromiter(contrib.values(), dtype=np.float64, count=len(contrib))
    order = np.argsort(columns)
    return columns[order], values[order]


def _char_block(analysis: Analysis, contrib: dict[int, float], block, start: int, out: Attribution) -> None:
    if not block.packed:  # n-grams longer than 3 characters: not attributed (counted as lost)
        out.lost += sum(v for c, v in contrib.items() if start <= c < start + block.width and v > 0)
        return
    # The character analyzer folds whitespace runs to one space; map its positions back.
    text = analysis.text
    keep = np.ones(len(text), dtype=bool)
    for match in _SPACE_RUN.finditer(text):
        keep[match.start() + 1:match.end()] = False
    position = np.flatnonzero(keep)
    folded = _SPACE_RUN.sub(" ", text)
    if len(folded) != len(position):  # \s\s+ → " " keeps the first character of each run
        return
    owner = analysis.owner[position]
    inside = (owner >= 0).astype(np.float64)
    codes = code_points(folded)
    low, high = block.ngram_range
    columns_with, values_with = contrib_arrays(contrib)
    for n in range(low, min(high, len(codes)) + 1):
        if n not in block.tables:
            continue
        keys, columns = block.tables[n]
        packed = pack_ngrams(codes, n)
        if not len(keys) or not len(packed):
            continue
        where = np.minimum(np.searchsorted(keys, packed), len(keys) - 1)
        hit = np.flatnonzero(keys[where] == packed)
        if not len(hit):
            continue
        cols = columns[where[hit]] + start
        where_c = np.minimum(np.searchsorted(columns_with, cols), max(len(columns_with) - 1, 0))
        value = np.where(columns_with[where_c] == cols, values_with[where_c], 0.0) if len(columns_with) else np.zeros(len(cols))
        uniq, inverse, counts = np.unique(cols, return_inverse=True, return_counts=True)
        per = value / counts[inverse]  # a feature's contribution, shared by its occurrences
        # Spread each occurrence over its characters that lie inside words.
        window = np.stack([inside[hit + j] for j in range(n)], axis=1)
        words = window.sum(axis=1)
        none = words == 0
        out.lost += float(per[none & (per > 0)].sum())
        spread = np.where(none, 0.0, per / np.maximum(words, 1))
        for j in range(n):
            chars = owner[hit + j]
            ok = chars >= 0
            np.add.at(out.tokens, chars[ok], spread[ok] * window[ok, j])


def _token_range(analysis: Analysis, start: int, end: int) -> tuple[int, int] | None:
    """The tokens a text span [start, end) touches, as (first, last + 1); None if only punctuation."""
    owned = analysis.owner[start:end]
    owned = owned[owned >= 0]
    if not len(owned):
        return None
    return int(owned.min()), int(owned.max()) + 1


def _institution_spans(analysis: Analysis) -> list[tuple[int, int]]:
    """[start, end) of the full institution names in the text (乌兰察布市集宁区公安分局), computed once."""
    if "institutions" not in analysis.cache:
        from ..pages.entities import institutions

        analysis.cache["institutions"] = sorted((a, a + len(name)) for a, name in institutions(analysis.text))
    return analysis.cache["institutions"]


def _widen(spans: list[tuple[int, int]], names: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Each cue match (a term, or a fixed tail such as 公安分局) widened to the full institution name holding it."""
    out = []
    for a, b in spans:
        k = bisect_right(names, (a, sys.maxsize)) - 1  # the last name starting at or before a
        out.append(names[k] if k >= 0 and names[k][1] >= b else (a, b))
    return out


def _cue_block(analysis: Analysis, contrib: dict[int, float], block, start: int, out: Attribution) -> None:
    text = analysis.text
    head = lead(text)
    tail_from = max(len(text) - TAIL_CHARS, 0)
    width = len(CUE_NAMES)
    for k in range(len(block.labels)):
        weights = {name: contrib.get(start + k * width + c, 0.0) for c, name in enumerate(CUE_NAMES)}
        term_w = sum(weights[n] for n in ("terms", "share", "first_position", "density"))
        if not any(weights.values()):
            continue
        term_matches = [m.span() for m in block._terms[k].finditer(text) if m.end() > m.start()]
        inst_matches = [m.span() for m in block._institutions[k].finditer(text) if m.end() > m.start()]
        groups = [
            (term_matches, term_w),
            ([s for s in term_matches if s[1] <= len(head)], weights["lead_terms"]),
            ([s for s in term_matches if s[0] >= tail_from], weights["tail_terms"]),
            (inst_matches, weights["institutions"]),
            ([s for s in inst_matches if s[1] <= len(head)], weights["lead_institution"]),
        ]
        for spans, weight in groups:
            if weight == 0:
                continue
            # A cue inside an institution's full name points at the name: 包头市昆都仑区人民检察院.
            spans = _widen(spans, _institution_spans(analysis))
            ranges = [r for r in (_token_range(analysis, a, b) for a, b in spans) if r]
            if not ranges:
                out.lost += max(weight, 0.0)
                continue
            for r in ranges:
                out.cues[r] = out.cues.get(r, 0.0) + weight / len(ranges)


def attribute(scorer, X, i: int, k: int, analysis: Analysis) -> Attribution:
    """Attribution of label k's score for row i to the tokens, phrases and cue spans of the text."""
    data, indices = X.row(i)
    values = data * scorer.coef[k][indices]
    contrib = dict(zip(indices.tolist(), values.tolist()))
    out = Attribution(len(analysis.tokens))
    for block, start in zip(scorer.blocks, scorer.starts.tolist()):
        if isinstance(block, CueBlock):
            _cue_block(analysis, contrib, block, start, out)
        elif block.analyzer == "word":
            _word_block(analysis, contrib, block, start, out)
        else:
            _char_block(analysis, contrib, block, start, out)
    return out


def _phrases(analysis: Analysis, att: Attribution, shown: list[bool]) -> Iterable[tuple[int, int, float]]:
    """(first token, end token, weight): runs of adjacent shown tokens joined by a positive phrase weight.

    A phrase weight that does not join two tokens (negative, or next to a hidden word such as 的)
    is split between its two words, so no contribution is dropped.
    """
    tokens = analysis.tokens
    n = len(tokens)
    weights = att.tokens.copy()
    joined = np.zeros(len(att.pairs), dtype=bool)
    for j in range(n - 1):
        if (att.pairs[j] > 0 and shown[j] and shown[j + 1] and tokens[j + 1].start == tokens[j].end):
            joined[j] = True
        else:
            weights[j] += att.pairs[j] / 2
            weights[j + 1] += att.pairs[j] / 2
    j = 0
    while j < n:
        end = j + 1
        weight = weights[j]
        while (end < n and joined[end - 1] and end - j < MAX_PHRASE_TOKENS
               and tokens[end].end - tokens[j].start <= MAX_PHRASE_CHARS):
            weight += att.pairs[end - 1] + weights[end]
            end += 1
        if end < n and joined[end - 1]:  # a cut phrase: its weight goes half to each side
            weight += att.pairs[end - 1] / 2
            weights[end] += att.pairs[end - 1] / 2
        yield j, end, weight
        j = end


def evidence_terms(analysis: Analysis, att: Attribution, top: int, stoplist: frozenset[str],
                   dictionary: frozenset[str]) -> tuple[list[dict[str, Any]], float]:
    """The shown evidence (words and cue spans, by weight) and the share of the positive evidence it carries.

    The positive evidence is what the label's score rests on, counted in the units a person sees:
    the sum of every span's positive net weight (a span's features can push both ways), plus
    positive contributions no span can carry.
    """
    text = analysis.text
    tokens = analysis.tokens
    units: dict[str, dict[str, Any]] = {}

    def add(kind: str, first: int, end: int, weight: float) -> None:
        # One unit per distinct term: a word the cue patterns also matched is one line, not two.
        a, b = tokens[first].start, tokens[end - 1].end
        term = text[a:b]
        unit = units.setdefault(term, {"term": term, "weight": 0.0, "words": 0.0, "cues": 0.0, "span": (a, b)})
        unit["weight"] += weight
        unit[kind] += weight

    shown_token = [hidden_reason(text[t.start:t.end], stoplist, dictionary) is None for t in tokens]
    for first, end, weight in _phrases(analysis, att, shown_token):
        add("words", first, end, weight)
    for (first, end), weight in att.cues.items():
        add("cues", first, end, weight)
    candidates = sorted((u for u in units.values() if u["weight"] >= 5e-5), key=lambda u: -u["weight"])  # > 0 at 4 decimals
    total = sum(u["weight"] for u in units.values() if u["weight"] > 0) + att.lost
    denominator = max(total, 1e-12)
    shown, explained = [], 0.0
    for unit in candidates:
        # `top` terms, then more until they carry COVER of the evidence: a label the model reads
        # from many small words (普法 often) gets a longer list rather than a misleading short one.
        if len(shown) >= top and explained >= COVER * denominator:
            break
        if hidden_reason(unit["term"], stoplist, dictionary):
            continue
        start, end = analysis.original_span(*unit["span"])
        kind = "cues" if unit["cues"] > unit["words"] else "words"
        shown.append({"term": unit["term"], "kind": kind, "weight": round(float(unit["weight"]), 4),
                      "start": start, "end": end})
        explained += unit["weight"]
    return shown, round(min(explained / denominator, 1.0), 4)


def explain_label(scorer, X, i: int, k: int, analysis: Analysis, top: int, stoplist_path: Path,
                  dict_path: Path) -> tuple[list[dict[str, Any]], float]:
    """Evidence terms of label k for text i and the share of its positive contribution they explain."""
    att = attribute(scorer, X, i, k, analysis)
    return evidence_terms(analysis, att, top, _stoplist(str(stoplist_path)), _dictionary_words(str(dict_path)))
