"""Split a pasted newspaper page into articles: titles, bylines, captions, offsets into the page.

A page of a Chinese 法治 section, extracted from PDF or e-paper, holds several articles, photo
captions and page furniture, with hard line wraps (sometimes across a blank line), headlines
printed after their bodies, paragraphs printed twice, and columns whose tail continues far
below the start of the next article. `segment` undoes that in four passes, every rule a row of
training/pages/patterns.toml rather than code:

1. Cut the page into paragraphs (blank lines; a byline, column header, case marker or sign-off
   line is a paragraph of its own) and classify each by the pattern table.
2. Drop the second copy of a repeated paragraph.
3. Re-join hard wraps: a body paragraph that does not end a sentence continues in the next body
   paragraph, or, when a dictionary word forms across the junction with a later paragraph
   only ("…隐患排" + "查等方面…"), in that later one: the page then holds two reading flows.
4. Walk each flow and group paragraphs into articles. A headline goes to the caption beside it,
   to the untitled body just before it (headline after body), or to the body after it; when a
   headline sits between two bodies, the line width of the columns (hard-wrapped text) or the
   organ profile of the two sides (cue terms of labels/taxonomy.toml: a procuratorate report,
   then a legal-publicity one) decides between a section heading and an article boundary.

Every article keeps the page ranges it was made of, so its text maps back to the page. The
paragraphs and articles are in paragraphs.py, pass 3 and the reading flows in reading.py, pass 4
in builder.py.
"""

from __future__ import annotations

import math
from collections import Counter
from operator import add
from typing import Any, Iterator

from ..normalize import LONE_SURROGATE, SENTENCE_END, is_cjk
from .boundary import BoundaryModel, default_model
from .builder import _Builder
from .paragraphs import (BODY, BYLINE, CAPTION, COLUMN, CREDIT, HEADLINE, MARKER, NOISE, SIGNOFF, Article,
                         _CONTINUES, _ENUMERATOR, _LINE_BREAK, _Para, _balanced, _domain_terms, _lines,
                         _offset_of, _squeeze, _trim, _width)
from .patterns import PagePatterns, default_patterns
from .reading import _Reading
from .words import dictionary_jieba

__all__ = ["Article", "segment"]


class _Splitter(_Reading):
    """The four passes over one page."""

    def __init__(self, page: str, patterns: PagePatterns, model: BoundaryModel | None = None,
                 record: list | None = None):
        self.page = page
        self.pt = patterns
        self.model = model  # the learned headline decision; None: the width/organ-profile rules
        self.record = record  # training: (features, last paragraph before, first after) of each decision
        self.paras: list[_Para] = []
        self._hits: dict[int, tuple[int, ...]] = {}
        self._junctions: dict[tuple[str, str], bool] = {}  # the same junction is often tried again
        self._joined: dict[int, list[tuple[int, int]]] = {}  # joined piece's start -> its parts so far

    # ---- pass 1: paragraphs and their kinds ------------------------------------------------

    def line_kind(self, squeezed: str) -> str:
        pt = self.pt
        if pt.is_noise(squeezed):
            return NOISE
        if pt.is_column(squeezed):
            return COLUMN
        if pt.case_marker.search(squeezed):
            return MARKER
        if pt.signoff.search(squeezed):
            return SIGNOFF
        if any(p.search(squeezed) for p in pt.byline):
            return BYLINE  # a complete byline line
        if len(squeezed) <= 30 and any(p.fullmatch(squeezed) for p in pt.caption_credit):
            return CREDIT
        if pt.byline_line_start.search(squeezed):
            return "bystart"
        return "text"

    def pieces(self) -> Iterator[tuple[int, int, int, list[int]]]:
        """(start, end, lines, line widths) of each paragraph-sized piece of the page."""
        page = self.page
        # (start, end, width, ends a sentence) of the lines of the open piece
        cur: list[tuple[int, int, int, bool]] = []

        def flush() -> Iterator[tuple[int, int, int, list[int]]]:
            if cur:
                yield cur[0][0], cur[-1][1], len(cur), [w for _, _, w, _ in cur]
                cur.clear()

        top = 0  # the widest line of the open piece
        tol = self.pt.wrap_width_tolerance
        for ls, le in _lines(page):
            squeezed = _squeeze(page, ls, le)
            if not squeezed:
                yield from flush()
                continue
            s, e = _trim(page, ls, le)
            kind = self.line_kind(squeezed)
            w = _width(squeezed)
            if kind in (NOISE, COLUMN, MARKER, SIGNOFF, BYLINE, CREDIT):
                yield from flush()
                yield s, e, 1, [w]
            else:
                wide = self.pt.wrap_max_chars
                if kind == "bystart" or (cur and (w > wide or cur[-1][2] > wide)):
                    yield from flush()  # a line wider than any hard wrap is a paragraph of its own
                elif cur and cur[-1][2] + tol < max(top, w) and (
                        cur[-1][3] or (len(cur) == 1 and 5 * cur[-1][2] < 3 * w)):
                    # Only the last line of a hard-wrapped paragraph is short: after a short line
                    # that ends a sentence, or a much shorter first line (a headline over its
                    # text), a new paragraph starts. (A first line only a little short is just
                    # how some extractions break a paragraph's first line.)
                    yield from flush()
                elif cur and cur[-1][3] and self.headline_like(squeezed, 1):
                    # A line that ends a sentence, then a shorter one that does not and looks like
                    # a headline: a paragraph's end, then the next article's headline.
                    yield from flush()
                if not cur:
                    top = 0
                top = max(top, w)
                cur.append((s, e, w, squeezed[-1] in SENTENCE_END or squeezed.endswith(("。”", "！”", "？”"))))
        yield from flush()

    def joined_pieces(self) -> Iterator[tuple[int, int, int, list[int]]]:
        """pieces(), with a blank line that falls inside a word taken as the hard wrap it is.

        Some extractions print a wrapped paragraph's line breaks as blank lines: the piece before
        such a blank line has two or more lines and ends mid-sentence on a line as wide as its
        others, and the junction splits a word ("…隐患排" + "查工作…"). One word test per blank
        line; the widths of the piece being joined are kept as running maxima and its last line
        is looked for in its last part only, so a paragraph of thousands of such lines costs its
        length.
        """
        page, tol = self.page, self.pt.wrap_width_tolerance
        held: list | None = None  # [start, end, lines, widths, widest line but the last, last part's start]
        for start, end, lines, widths in self.pieces():
            if held is not None and held[2] >= 2 and held[3][-1] + tol >= held[4] \
                    and len(_LINE_BREAK.findall(page, held[1], start)) >= 2 \
                    and self._word_across_blank(held[5], held[1], start, end):
                held[4] = max(held[4], held[3][-1], *widths[:-1])
                # its parts, for drop_repeats: a reprint may be of one of them
                self._joined.setdefault(held[0], []).append((held[5], held[1]))
                held[1], held[5] = end, start
                held[2] += lines
                held[3].extend(widths)
                continue
            if held is not None:
                yield from self._close(held)
            held = [start, end, lines, list(widths), max(widths[:-1], default=0), start]
        if held is not None:
            yield from self._close(held)

    def _close(self, held: list) -> Iterator[tuple[int, int, int, list[int]]]:
        if held[0] in self._joined:
            self._joined[held[0]].append((held[5], held[1]))
        yield held[0], held[1], held[2], held[3]

    def _word_across_blank(self, a_start: int, a_end: int, b_start: int, b_end: int) -> bool:
        """Whether the last line of page[a_start:a_end] runs on into the first text line of
        page[b_start:b_end], inside a word."""
        page = self.page
        last = _squeeze(page, max(page.rfind("\n", a_start, a_end), page.rfind("\r", a_start, a_end)) + 1, a_end)
        nl = _LINE_BREAK.search(page, b_start, b_end)
        first = _squeeze(page, b_start, nl.start() if nl else b_end)
        if not last or not first or last[-1] in SENTENCE_END or self.line_kind(first) != "text":
            return False
        return self.word_across(last, first)

    def classify(self, start: int, end: int, lines: int, widths: list[int]) -> list[_Para]:
        page, pt = self.page, self.pt
        sq = _squeeze(page, start, end)
        width = 0
        if lines >= 3:  # the line width of a wrapped paragraph: its most common full line
            width = Counter(widths[:-1]).most_common(1)[0][0]

        def para(kind: str, **kw: Any) -> _Para:
            return _Para(start, end, kind, sq, lines=lines, width=width, **kw)

        if pt.is_noise(sq):
            return [para(NOISE)]
        if pt.is_column(sq):
            return [para(COLUMN)]
        if pt.case_marker.search(sq):
            return [para(MARKER)]
        if pt.signoff.search(sq):
            return [para(SIGNOFF)]
        if len(sq) <= 30 and any(p.fullmatch(sq) for p in pt.caption_credit):
            return [para(CREDIT, credit_at=start)]
        if len(sq) <= pt.caption_max_chars:
            for p in pt.caption_credit:
                m = p.search(sq)
                if m is not None and m[0] > 0:
                    return [para(CAPTION, credit_at=_offset_of(page, start, end, m[0]))]
            if pt.caption_lead.search(sq):
                return [para(CAPTION)]
        if any(p.search(sq) for p in pt.byline):
            return [para(BYLINE)]
        for p in pt.byline_prefix:
            m = p.search(sq)
            if m:
                cut = _offset_of(page, start, end, m[1])
                if cut >= end:
                    return [para(BYLINE)]
                by = _Para(start, cut, BYLINE, sq[: m[1]], lines=1)
                rest_start, rest_end = _trim(page, cut, end)
                return [by, *self.classify_rest(rest_start, rest_end, lines, width)]
        if self.headline_like(sq, lines, pauses=True):
            return [para(HEADLINE)]
        return [para(BODY, closes=bool(pt.signoff_inline.search(sq)))]

    def classify_rest(self, start: int, end: int, lines: int, width: int) -> list[_Para]:
        sq = _squeeze(self.page, start, end)
        if not sq:
            return []
        return [_Para(start, end, BODY, sq, lines=lines, width=width,
                      closes=bool(self.pt.signoff_inline.search(sq)))]

    def headline_like(self, sq: str, lines: int, pauses: bool = False) -> bool:
        pt = self.pt
        return (
            pt.headline_min_chars <= len(sq) <= pt.headline_max_chars
            and lines <= pt.headline_max_lines
            and sq[-1] not in pt.headline_bad_end
            and not any(c in pt.headline_bad_inner for c in sq)
            and not (len(sq) >= 2 and sq[-1] in "”」』" and sq[-2] in "。！？!?…")
            # A pause inside: a headline only if it ends like one, or (pauses=True) if its
            # neighbours say so (demote_wrapped_headlines checks them).
            and (pauses or sq[-1] in pt.headline_pause_ends or not any(c in pt.headline_pause for c in _ENUMERATOR.sub("", sq, 1)))
            and _balanced(sq)
            and sum(map(is_cjk, sq)) >= 2
        )

    # ---- words --------------------------------------------------------------------------------

    def word_across(self, left: str, right: str) -> bool:
        """Whether the junction of left + right splits a dictionary word ("…排" + "查…").

        A compound of two whole words ("应用" + "服务") does not count: the junction may fall
        between them.
        """
        if not left or not right or not is_cjk(left[-1]) or not is_cjk(right[0]):
            return False
        k = self.pt.junction_chars
        a, b = left[-k:], right[:k]
        known = self._junctions.get((a, b))
        if known is None:
            known = self._junctions[(a, b)] = self._cuts_word(a, b)
        return known

    @staticmethod
    def _cuts_word(a: str, b: str) -> bool:
        jb = dictionary_jieba()
        pos = 0
        # A lone surrogate cannot be encoded for the cutter: the same-length U+FFFD stands in for it.
        for token in jb.cut(LONE_SURROGATE.sub("\ufffd", a + b), False):
            if pos < len(a) < pos + len(token):
                x, y = token[: len(a) - pos], token[len(a) - pos:]
                return not (len(x) >= 2 and len(y) >= 2 and jb.has_word(x) and jb.has_word(y))
            pos += len(token)
        return False

    def hits(self, p: _Para) -> tuple[int, ...]:
        """How often each label's cue terms (labels/taxonomy.toml) occur in one paragraph."""
        hits = self._hits.get(id(p))
        if hits is None:
            hits = self._hits[id(p)] = tuple(len(rx.findall(p.squeezed)) for rx in _domain_terms())
        return hits

    def domain(self, paras: list[_Para]) -> tuple[int, ...]:
        """The organ profile of some paragraphs: the sum of their `hits`."""
        counts = (0,) * len(_domain_terms())
        for p in paras:
            counts = tuple(map(add, counts, self.hits(p)))
        return counts

    def same_domain(self, a: tuple[int, ...], b: tuple[int, ...]) -> float | None:
        """Cosine of two organ profiles; None when either side has too few cues."""
        if sum(a) < self.pt.domain_min_hits or sum(b) < self.pt.domain_min_hits:
            return None
        dot = sum(x * y for x, y in zip(a, b))
        return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))

    # ---- passes 2 and 3 -----------------------------------------------------------------------

    def drop_repeats(self) -> None:
        seen: dict[str, _Para] = {}  # text -> the paragraph that printed it first
        bylines: set[str] = set()
        for k, p in enumerate(self.paras):
            if p.kind in (BODY, CAPTION) and len(p.squeezed) >= self.pt.duplicate_min_chars:
                if p.squeezed in seen:
                    p.duplicate = True
                    p.repeat_of = seen[p.squeezed]
                    prev = self.paras[k - 1] if k else None
                    if prev is not None and prev.kind == BYLINE and prev.end <= p.start and prev.squeezed in bylines:
                        prev.duplicate = True  # a repeated "本报讯（…）first paragraph": its byline too
                seen.setdefault(p.squeezed, p)
                # A paragraph joined across blank lines: a reprint may be of the piece before one.
                for a, b in self._joined.get(p.start, ()):
                    seen.setdefault(_squeeze(self.page, a, b), p.repeat_of or p)
            elif p.kind == BYLINE:
                bylines.add(p.squeezed)

    def demote_wrapped_headlines(self, paras: list[_Para]) -> None:
        """A 'headline' that is a piece of wrapped text is body text.

        Half of a word split by a wrap is; so is a line with a pause mark inside ("据了解，……设在
        园区正") beside hard-wrapped text or after an unfinished sentence, unless it ends like a
        headline ("！？”") or stands on one line right over a byline. Among one-paragraph-per-line
        text, "检察官支持起诉，农民工讨回工钱" is a headline.
        """
        pt = self.pt
        for i, p in enumerate(paras):
            if p.kind != HEADLINE:
                continue
            prev = paras[i - 1] if i else None
            nxt = paras[i + 1] if i + 1 < len(paras) else None
            sq = p.squeezed
            if (prev is not None and prev.kind == BODY and prev.open and self.word_across(prev.squeezed, sq)) or (
                nxt is not None and nxt.kind == BODY and self.word_across(sq, nxt.squeezed)
                and any(c in "，、" for c in sq)
            ):
                p.kind = BODY
            elif prev is not None and prev.kind == BODY and prev.open and p.lines == 1 and (
                    nxt is not None and nxt.kind == BODY) and (
                    abs(_width(sq) - (prev.width or _width(prev.squeezed) // prev.lines)) <= 1):
                # A line as wide as the lines of the unfinished paragraph before it, with body text
                # after: the paragraph's next line, cut off by a blank line.
                p.kind = BODY
            elif sq[-1] not in pt.headline_pause_ends and any(c in pt.headline_pause for c in _ENUMERATOR.sub("", sq, 1)) and not (
                nxt is not None and nxt.kind == BYLINE and p.lines == 1) and (  # (over a byline: a headline)
                (prev is not None and prev.kind == BODY and (prev.open or abs(_width(sq) - prev.width) <= 1))
                or (nxt is not None and nxt.kind == BODY and (abs(_width(sq) - nxt.width) <= 1 or nxt.squeezed[0] in _CONTINUES))
                or p.lines > 1
            ):
                p.kind = BODY

    def attach_credits(self, paras: list[_Para]) -> None:
        """A photo credit printed alone makes the paragraph before it a caption."""
        for i, p in enumerate(paras):
            if p.kind != CREDIT:
                continue
            prev = paras[i - 1] if i else None
            if prev is not None and prev.kind == BODY and len(prev.squeezed) <= self.pt.caption_max_chars:
                prev.kind, prev.credit = CAPTION, p
                p.kind = "absorbed"
            else:
                p.kind = CAPTION

    def run(self) -> list[Article]:
        for start, end, lines, widths in self.joined_pieces():
            self.paras.extend(self.classify(start, end, lines, widths))
        self.drop_repeats()
        kept = [p for p in self.paras if not p.duplicate and p.kind != NOISE]
        self.demote_wrapped_headlines(kept)
        self.attach_credits(kept)
        kept = [p for p in kept if p.kind != "absorbed"]
        first = next((p.kind for p in kept if p.kind not in (COLUMN, CAPTION, CREDIT)), HEADLINE)
        after = first in (BYLINE, BODY)  # this page prints headlines after their bodies
        link = self.link_wraps(kept, after)
        builder = _Builder(self, after=after)
        for flow in self.flows(kept, link):
            builder.walk(flow)
        return builder.articles_out()


_SHIPPED: Any = object()


def segment(page: str, patterns: PagePatterns | None = None, model: BoundaryModel | None = _SHIPPED) -> list[Article]:
    """Split a pasted page into its articles and photo captions, in reading order.

    `model` decides whether a headline between two bodies opens another article: the shipped
    boundary model by default, None for the rules alone.
    """
    if not page or not page.strip():
        return []
    if model is _SHIPPED:
        model = default_model()
    return _Splitter(page, patterns or default_patterns(), model).run()


