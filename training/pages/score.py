"""How well a split matches a page's gold units: matched articles and boundary precision/recall.

A gold unit (its non-whitespace characters) is matched by the predicted article that overlaps it
most; it is found when coverage >= 0.80 and purity >= 0.70 (bench.segment_eval's rule). Boundaries
are compared on the page's owned characters in reading order: a boundary is a character whose
owner differs from the previous owned character's.
"""

from __future__ import annotations

from dataclasses import dataclass

from .segment import Article

MIN_COVERAGE, MIN_PURITY = 0.80, 0.70


@dataclass
class Match:
    unit: int
    article: int  # index into the predicted articles, -1 when none overlaps
    coverage: float
    purity: float

    @property
    def found(self) -> bool:
        return self.coverage >= MIN_COVERAGE and self.purity >= MIN_PURITY


def predicted_owner(page: str, articles: list[Article]) -> list[int]:
    """For each page offset, the predicted article holding it (spans and repeats), -1 when none."""
    owner = [-1] * len(page)
    for k, art in enumerate(articles):
        for a, b in (*art.spans, *art.repeats):
            for i in range(a, b):
                owner[i] = k
    return owner


def match_units(page: str, gold: list[list[int]], articles: list[Article]) -> list[Match]:
    """The best predicted match of each gold unit (a list of non-whitespace page offsets)."""
    pred = predicted_owner(page, articles)
    sizes = [0] * len(articles)
    for i, k in enumerate(pred):
        if k >= 0 and not page[i].isspace():
            sizes[k] += 1
    out = []
    for u, chars in enumerate(gold):
        counts: dict[int, int] = {}
        for i in chars:
            if pred[i] >= 0:
                counts[pred[i]] = counts.get(pred[i], 0) + 1
        if not counts or not chars:
            out.append(Match(u, -1, 0.0, 0.0))
            continue
        best = max(counts, key=lambda k: (counts[k], -k))
        out.append(Match(u, best, counts[best] / len(chars), counts[best] / max(sizes[best], 1)))
    return out


def boundaries(page: str, gold: list[list[int]], articles: list[Article]) -> tuple[int, int, int]:
    """(true positives, predicted boundaries, gold boundaries) over the gold-owned characters."""
    gold_owner = {i: u for u, chars in enumerate(gold) for i in chars}
    pred = predicted_owner(page, articles)
    tp = n_pred = n_gold = 0
    last_g = last_p = None
    for i in sorted(gold_owner):
        g, p = gold_owner[i], pred[i]
        if last_g is not None:
            gb, pb = g != last_g, p != last_p
            n_gold += gb
            n_pred += pb
            tp += gb and pb
        last_g, last_p = g, p
    return tp, n_pred, n_gold
