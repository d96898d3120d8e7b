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

Every article keeps the page ranges it was made of, so its text maps back to the page.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from collections import Counter
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from itertools import accumulate, islice
from operator import add, sub
from typing import Any, Iterator

from ..normalize import LONE_SURROGATE, SENTENCE_END, is_cjk, reflow_text
from .boundary import BoundaryModel, default_model, features as boundary_features
from .boundary import cosine as boundary_cosine, grams as boundary_grams
from .patterns import PagePatterns, default_patterns
from .words import dictionary_jieba

_WS = re.compile(r"[\s\u00a0\u3000\u2002-\u200b\ufeff]+")


@lru_cache(maxsize=1)
def _domain_terms() -> tuple[re.Pattern, ...]:
    """One regex per taxonomy label matching its cue terms (longest first)."""
    from ..config import get_settings
    from ..taxonomy import load_taxonomy

    try:
        labels = load_taxonomy(get_settings().taxonomy_path)
    except Exception:  # no taxonomy: headline decisions fall back to layout alone
        return ()
    return tuple(
        re.compile("|".join(re.escape(t) for t in sorted(label.terms, key=len, reverse=True)))
        for label in labels if label.terms
    )


# --------------------------------------------------------------------------------------------
# Articles


@dataclass
class Article:
    """One article (or photo caption) of a page, with the page ranges it was made of.

    `start`/`end` are offsets into the page (end exclusive): the smallest span start and the
    largest span end. `spans` are the ranges in reading order (title, byline, body parts; several
    body parts when a column was interleaved with another). `repeats` are ranges of paragraphs
    printed a second time inside this article and left out of `text`.
    """

    start: int
    end: int
    title: str
    byline: str
    text: str
    kind: str  # "article" | "caption"
    spans: list[tuple[int, int]]
    repeats: list[tuple[int, int]] = field(default_factory=list)
    # Why it starts here and why headlines inside it were taken as section headings (debug output).
    why: dict | None = field(default=None, repr=False)

    @property
    def classify_text(self) -> str:
        """What the classifier should see: the title, then the body."""
        return f"{self.title}\n{self.text}" if self.title else self.text

    def to_dict(self, debug: bool = False) -> dict:
        out = asdict(self)
        if not debug:
            del out["why"]
        out["spans"] = [list(s) for s in self.spans]
        out["repeats"] = [list(s) for s in self.repeats]
        return out


# --------------------------------------------------------------------------------------------
# Paragraphs

COLUMN, MARKER, SIGNOFF, CREDIT, CAPTION, BYLINE, HEADLINE, BODY, NOISE = (
    "column", "marker", "signoff", "credit", "caption", "byline", "headline", "body", "noise",
)


@dataclass(eq=False)
class _Para:
    start: int
    end: int
    kind: str
    squeezed: str
    lines: int = 1
    width: int = 0  # typical line width of a hard-wrapped paragraph, 0 when unknown
    closes: bool = False  # ends with a sign-off: the article ends here
    credit_at: int = -1  # caption: page offset where its photo credit starts
    duplicate: bool = False
    credit: "_Para | None" = None  # caption: its photo credit printed as a paragraph of its own

    @property
    def open(self) -> bool:
        """Ends without closing a sentence: a hard wrap continues it somewhere."""
        return bool(self.squeezed) and self.squeezed[-1] not in SENTENCE_END


_LINE_BREAK = re.compile(r"\r\n|\r|\n")
# A section number opening a heading ("三、强化落实"): its 、 is not a pause inside a sentence.
_ENUMERATOR = re.compile(r"^[一二三四五六七八九十]{1,3}、|^\d{1,2}、")


def _lines(page: str) -> Iterator[tuple[int, int]]:
    """(start, end) of every line, without its line break."""
    pos = 0
    for m in _LINE_BREAK.finditer(page):
        yield pos, m.start()
        pos = m.end()
    yield pos, len(page)


def _width(squeezed: str) -> int:
    """Printed width of a line in full-width characters: ASCII letters and digits count half."""
    narrow = len(squeezed.encode("ascii", "ignore"))
    return len(squeezed) - narrow // 2


def _squeeze(page: str, start: int, end: int) -> str:
    return _WS.sub("", page[start:end])


def _trim(page: str, start: int, end: int) -> tuple[int, int]:
    while start < end and page[start].isspace():
        start += 1
    while end > start and page[end - 1].isspace():
        end -= 1
    return start, end


def _tidy(text: str) -> str:
    """A short line-wrapped field (headline, byline): lines joined, spaces inside kept as one."""
    out: list[str] = []  # pieces joined once: no quadratic string building on a long field
    last = ""
    for line in text.splitlines():
        line = " ".join(line.split())
        if last and line and last.isascii() and last.isalnum() and line[0].isascii() and line[0].isalnum():
            out.append(" ")
        if line:
            out.append(line)
            last = line[-1]
    return "".join(out)


# A paragraph opening with one of these continues a sentence: it is the tail of a wrapped one.
_CONTINUES = frozenset("，。、；：！？）」』”,.;:!?)")

_PAIRS = {"“": "”", "（": "）", "(": ")", "《": "》", "「": "」", "『": "』", "【": "】"}


def _balanced(text: str) -> bool:
    """No bracket or quote left open or closed without its partner."""
    stack = []
    closers = {v: k for k, v in _PAIRS.items()}
    for ch in text:
        if ch in _PAIRS:
            stack.append(ch)
        elif ch in closers:
            if not stack or stack.pop() != closers[ch]:
                return False
    return not stack


def _offset_of(page: str, start: int, end: int, k: int) -> int:
    """Page offset of the k-th non-whitespace character of page[start:end]."""
    seen = 0
    for i in range(start, end):
        if not page[i].isspace() and not _WS.match(page[i]):
            if seen == k:
                return i
            seen += 1
    return end


class _Splitter:
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
        seen: set[str] = set()
        bylines: set[str] = set()
        for k, p in enumerate(self.paras):
            if p.kind in (BODY, CAPTION) and len(p.squeezed) >= self.pt.duplicate_min_chars:
                if p.squeezed in seen:
                    p.duplicate = True
                    prev = self.paras[k - 1] if k else None
                    if prev is not None and prev.kind == BYLINE and prev.end <= p.start and prev.squeezed in bylines:
                        prev.duplicate = True  # a repeated "本报讯（…）first paragraph": its byline too
                seen.add(p.squeezed)
            elif p.kind == BYLINE:
                bylines.add(p.squeezed)

    def demote_wrapped_headlines(self, paras: list[_Para]) -> None:
        """A 'headline' that is a piece of wrapped text is body text.

        Half of a word split by a wrap is; so is a line with a pause mark inside ("据了解，……设在
        园区正") beside hard-wrapped text or after an unfinished sentence, unless it ends like a
        headline ("！？”"). Among one-paragraph-per-line text, "检察官支持起诉，农民工讨回工钱" is
        a headline.
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
            elif sq[-1] not in pt.headline_pause_ends and any(c in pt.headline_pause for c in _ENUMERATOR.sub("", sq, 1)) and (
                (prev is not None and prev.kind == BODY and (prev.open or abs(_width(sq) - prev.width) <= 1))
                or (nxt is not None and nxt.kind == BODY and (abs(_width(sq) - nxt.width) <= 1 or nxt.squeezed[0] in _CONTINUES))
                or p.lines > 1
            ):
                p.kind = BODY

    def link_wraps(self, paras: list[_Para], after: bool = False) -> dict[int, int]:
        """Glue wrapped body paragraphs; return far links (index of tail -> index of head)."""
        n = len(paras)
        claimed = [False] * n
        link: dict[int, int] = {}
        kind = [p.kind for p in paras]

        def eligible(j: int) -> bool:
            return kind[j] == BODY and not claimed[j] and (j == 0 or kind[j - 1] not in (HEADLINE, BYLINE))

        tails = [i for i in range(n - 1) if kind[i] == BODY and paras[i].open]
        # 1. adjacent junctions that form a word
        for i in tails:
            if kind[i + 1] == BODY and not claimed[i + 1] and self.word_across(paras[i].squeezed, paras[i + 1].squeezed):
                link[i] = i + 1
                claimed[i + 1] = True
        # 2. a word across the junction with a later paragraph: an interleaved column. Where many
        # paragraphs are unfinished (lines cut apart by blank lines), an unfinished paragraph
        # before the far one is no sign of two cut columns.
        bodies = sum(k == BODY for k in kind)
        fragmented = bodies and len(tails) > self.pt.fragmented_share * bodies
        for i in tails:
            if i in link:
                continue
            # A column continues within a page's worth of paragraphs: bounding the search keeps
            # a page of thousands of open paragraphs linear.
            next_is_body = eligible(i + 1)
            for j in range(i + 2, min(n, i + 2 + self.pt.interleave_max_paras)):
                if not eligible(j) or not self.word_across(paras[i].squeezed, paras[j].squeezed):
                    continue
                pred = paras[j - 1]
                if kind[j - 1] == BODY and pred.open and self.word_across(pred.squeezed, paras[j].squeezed):
                    continue  # its own predecessor continues into it
                same_column = pred.width and paras[j].width and abs(pred.width - paras[j].width) <= self.pt.wrap_width_tolerance \
                    and not (paras[i].width and abs(paras[i].width - paras[j].width) <= self.pt.wrap_width_tolerance)
                if kind[j - 1] == BODY and pred.open and same_column:
                    continue  # its open predecessor is wrapped at its width, the far one is not: a plain wrap
                if next_is_body and not (kind[j - 1] == BODY and pred.open and not fragmented) \
                        and paras[j].squeezed[0] not in _CONTINUES:
                    # A body paragraph follows, so the plain reading is that it continues there; a
                    # word formed across a far junction by chance must not beat that unless the far
                    # paragraph, too, interrupts an unfinished one (two columns cut into each other).
                    continue
                link[i] = j
                claimed[j] = True
                break
        # 3. plain wraps into the next paragraph
        for i in tails:
            if i not in link and kind[i + 1] == BODY and not claimed[i + 1]:
                link[i] = i + 1
                claimed[i + 1] = True
        # 4. a later paragraph that cannot start a sentence ("，…", "。…") continues the nearest
        # unfinished paragraph before it that nothing continues yet
        unlinked = set(tails) - set(link)
        for j in range(1, n):
            if not unlinked or not eligible(j) or paras[j].squeezed[0] not in _CONTINUES:
                continue
            for i in range(j - 1, max(-1, j - 2 - self.pt.interleave_max_paras), -1):
                if i in unlinked:
                    link[i] = j
                    claimed[j] = True
                    unlinked.discard(i)
                    break
        # 5. an open paragraph still unlinked, with no body after it (the next article starts
        # there): the first later paragraph of the same line width, when the paragraphs between
        # are wrapped at another width, is where its column goes on.
        # With no other width between (short paragraphs have none), a headline between and more
        # words shared with the open paragraph's article than with the one between must do.
        tol = self.pt.wrap_width_tolerance
        # Where neither width is known, only the second or third body paragraph after the
        # headline between is a candidate, and it must share clearly more words with the open one.
        for i in tails:
            w = paras[i].width
            if i in link or eligible(i + 1):
                continue
            other, headed, between, heads = 0, False, [], []
            for j in range(i + 1, min(n, i + 2 + self.pt.interleave_max_paras)):
                wj = paras[j].width
                headed = headed or kind[j] in (HEADLINE, BYLINE)
                if kind[j] == HEADLINE:
                    heads.append(paras[j])
                if kind[j] != BODY:
                    continue
                mine = paras[max(0, i - 2):i + 1]
                if not (w and wj):
                    # (right after a case marker, the article between has no body yet: its headline speaks for it)
                    if (headed and (1 <= len(between) <= 2 or kind[j - 1] == MARKER) and eligible(j)
                            and not paras[j - 1].open
                            and self.closer_to(paras[j], mine, between + heads, self.pt.resume_margin)):
                        link[i] = j
                        claimed[j] = True
                        break
                    between.append(paras[j])
                    if len(between) > 2 and not w:
                        break
                    continue
                if abs(wj - w) > tol:
                    other = wj
                    between.append(paras[j])
                    continue
                if eligible(j) and not paras[j - 1].open and (other or (headed and self.closer_to(paras[j], mine, between))):
                    link[i] = j
                    claimed[j] = True
                break  # the first paragraph of the same width decides
        # 6. an unfinished paragraph right before a headline or byline that nothing continues yet:
        # its column was cut there. Of the first few paragraphs after the next article's start
        # that follow a finished one, the one sharing most words with it (more than with the
        # article between, and not of another width) is where it goes on.
        # (Not where headlines follow their bodies: there the headline after it is its own.)
        for i in [] if after else tails:
            if i in link or eligible(i + 1) or i + 1 >= n or kind[i + 1] not in (HEADLINE, BYLINE) \
                    or len(paras[i].squeezed) < self.pt.headline_max_chars // 2:
                continue  # (a short unfinished line is more likely a heading than half a column)
            mine = paras[max(0, i - 2):i + 1]
            w = _middle_width([q for q in mine if q.kind == BODY])
            g_mine = boundary_grams("".join(q.squeezed for q in mine))
            theirs: list[_Para] = [q for q in paras[i + 1:i + 3] if q.kind == HEADLINE]
            best, best_j, seen = 0.0, -1, 0
            for j in range(i + 1, min(n, i + 2 + self.pt.interleave_max_paras)):
                if kind[j] in (HEADLINE, BYLINE, COLUMN) and seen:
                    break  # past the next article's first paragraphs
                if kind[j] != BODY:
                    continue
                if eligible(j) and not paras[j - 1].open and kind[j - 1] == BODY:
                    wj = paras[j].width
                    if not (w and wj and abs(w - wj) > self.pt.wrap_width_tolerance):
                        g = boundary_grams(paras[j].squeezed)
                        g_theirs = boundary_grams("".join(q.squeezed for q in theirs))
                        score = boundary_cosine(g, g_mine) - boundary_cosine(g, g_theirs)
                        if score > best:
                            best, best_j = score, j
                theirs.append(paras[j])
                seen += 1
                if seen >= 4:
                    break
            if best_j >= 0:
                link[i] = best_j
                claimed[best_j] = True
        return link

    def closer_to(self, p: _Para, mine: list[_Para], theirs: list[_Para], margin: float = 0.0) -> bool:
        """Whether p shares more words (bigram cosine, by more than margin) with `mine` than with `theirs`."""
        g = boundary_grams(p.squeezed)
        a = boundary_cosine(g, boundary_grams("".join(q.squeezed for q in mine)))
        b = boundary_cosine(g, boundary_grams("".join(q.squeezed for q in theirs[: self.pt.cohesion_paras])))
        return a > b + margin

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

    # ---- pass 4: flows and articles ---------------------------------------------------------

    def flows(self, paras: list[_Para], link: dict[int, int]) -> list[list[list[_Para]]]:
        """Reading flows of units (a unit: paragraphs glued by wraps), in page order of starts.

        An interleaved tail (a far link i -> j) makes two flows: the article cut at i goes on at
        j, and the one printed between them stops before j. Where the tail ends and that article's
        own paragraphs resume (`resume_point`), the page goes back to its flow.
        """
        heads = set(link.values())
        far = [(i, j) for i, j in link.items() if j != i + 1]
        starts = [0] + [i + 1 for i, _ in far]
        resume: dict[int, int] = {}  # a far-link head j -> where the flow interrupted at j goes on
        for i, j in far:
            at = self.resume_point(paras, link, i, j, heads)
            if at is not None:
                resume[j] = at
        cut = set(resume.values())
        visited: set[int] = set()
        flows = []
        for s in sorted(set(starts)) + list(range(len(paras))):
            if s >= len(paras) or s in visited or s in heads:
                continue
            flow: list[list[_Para]] = []
            i = s
            while i < len(paras):
                if i in heads and i != s:
                    i = resume.get(i, -1)  # the interleaved tail ends: this flow resumes after it
                    if i < 0:
                        break
                elif i in cut and i != s and flow and flow[-1][-1] is paras[i - 1]:
                    break  # the tail's own flow stops where the interrupted article resumes
                if i in visited:
                    break
                unit = [i]
                while unit[-1] in link:
                    unit.append(link[unit[-1]])
                visited.update(unit)
                flow.append([paras[k] for k in unit])
                i = unit[-1] + 1
            if flow:
                flows.append(flow)
        return flows

    def resume_point(self, paras: list[_Para], link: dict[int, int], i: int, j: int, heads: set[int]) -> int | None:
        """Where, in the body paragraphs after an interleaved tail j, the interrupted article resumes.

        The units after j up to the next non-body paragraph are split in two: the tail's article
        keeps the first part, the article printed between i and j takes the rest. Each unit votes
        by line width (the same as one side's wrapped paragraphs, not the other's) and shared
        words (bigram cosine with each side); the split with the largest vote for the second part
        wins if it clears `resume_margin`. Bounded to a page's worth of paragraphs (`heads`: the
        link targets, a set): linear time.
        """
        pt, n = self.pt, len(paras)
        run: list[list[int]] = []
        k, seen = j, 0
        # Section headings may stand in the tail; a headline with a byline after it opens another article.
        # A furniture line (责任编辑：…) may end the tail too.
        while k < n and seen < pt.interleave_max_paras and (paras[k].kind in (BODY, COLUMN) or (
                paras[k].kind == HEADLINE and k + 1 < n and paras[k + 1].kind in (BODY, HEADLINE))):
            unit = [k]
            # Paragraphs, not units, are counted: from each far link on a chain of thousands of
            # wraps, walking the rest of the chain would cost the square of its length.
            while unit[-1] in link and seen + len(unit) < pt.interleave_max_paras:
                unit.append(link[unit[-1]])
            seen += len(unit)
            run.append(unit)
            k = unit[-1] + 1
            if unit[-1] in link or k in heads:
                break
        if len(run) < 2:
            return None

        def side(stop: int, extra: list[int]) -> list[_Para]:
            """Up to cohesion_paras body paragraphs of one article: back from stop to its headline or byline."""
            out = [paras[m] for m in extra]
            m = stop
            while m >= 0 and paras[m].kind in (BODY, HEADLINE) and len(out) < pt.cohesion_paras:
                if paras[m].kind == HEADLINE and (m == 0 or paras[m - 1].kind != BODY):
                    break  # the article's own headline, not a section heading
                if paras[m].kind == BODY:
                    out.append(paras[m])
                m -= 1
            return out

        a_side = side(i, run[0])
        b_side = side(j - 1, [])
        if not b_side:
            return None
        wa = next((p.width for p in a_side if p.width), 0)
        wb = next((p.width for p in b_side if p.width), 0)
        ga = boundary_grams("".join(p.squeezed for p in a_side))
        gb = boundary_grams("".join(p.squeezed for p in b_side))

        def width_vote(w: int, ref: int) -> int:
            if not w or not ref:
                return 0
            return 1 if abs(w - ref) <= pt.wrap_width_tolerance else -1

        votes: list[float | None] = []
        for unit in run[1:]:
            if paras[unit[0]].kind != BODY:
                votes.append(None)
                continue
            w = next((paras[m].width for m in unit if paras[m].width), 0)
            g = boundary_grams("".join(paras[m].squeezed for m in unit))
            votes.append(2 * (width_vote(w, wb) - width_vote(w, wa)) + boundary_cosine(g, gb) - boundary_cosine(g, ga))
        best, best_at, total = pt.resume_margin, None, 0.0
        for t in range(len(votes) - 1, -1, -1):  # suffix sums: the rest from unit t on goes back
            if votes[t] is None:
                continue
            total += votes[t]
            if total > best:
                best, best_at = total, t
        if best_at is None:
            return None
        if best_at and votes[best_at - 1] is None and paras[run[best_at][0]].kind == HEADLINE:
            best_at -= 1  # a heading goes with the section below it
        return run[best_at + 1][0]

    def run(self) -> list[Article]:
        for start, end, lines, widths in self.pieces():
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


@dataclass(eq=False)
class _Art:
    kind: str = "article"
    title: list[_Para] = field(default_factory=list)
    byline: _Para | None = None
    parts: list[list[_Para]] = field(default_factory=list)  # units: body, subheadings, markers
    closed: bool = False
    sections: int = 0  # section headings inside its body
    kept: list[dict] = field(default_factory=list)  # the decisions that made them section headings
    why: dict | None = None  # why an article starts here (debug output)
    # Running totals over parts[:i] for each i (kept in step as parts grow, so that asking about
    # an article costs the same however long it is): organ profile of the body paragraphs, line
    # width of the last wrapped body paragraph (0: none), body paragraphs, body or caption units.
    sums: list[tuple[tuple[int, ...], int, int, int]] = field(default_factory=list)


class _Builder:
    """Group the units of each reading flow into articles."""

    def __init__(self, splitter: _Splitter, after: bool):
        self.sp = splitter
        self.pt = splitter.pt
        self.after = after  # this page prints headlines after their bodies
        self.articles: list[_Art] = []

    def walk(self, items: list[list[_Para]]) -> None:
        arts: list[_Art] = []  # this flow's articles, in order
        cur: _Art | None = None
        pending: list[_Para] = []  # headline(s) waiting for the article they open
        consumed: set[int] = set()

        why: dict | None = None  # the decision that made the pending headline(s) open an article
        photo_byline: _Para | None = None  # a byline between a headline and its photo caption

        def new(kind: str = "article", reason: str = "") -> _Art:
            nonlocal pending, why
            if pending and not why and reason == "byline":
                reason = "headline, then a byline"
            art = _Art(kind=kind, title=pending, why=why if pending and why else {"rule": reason})
            pending, why = [], None
            arts.append(art)
            self.articles.append(art)
            return art

        def kind_at(k: int) -> str | None:
            return items[k][0].kind if 0 <= k < len(items) else None

        for k, unit in enumerate(items):
            if k in consumed:
                continue
            p = unit[0]
            kind = p.kind
            if kind == COLUMN:
                if cur is not None:
                    cur.closed = True
                cur = None
            elif kind == CAPTION:
                cap = new(CAPTION, "caption (photo credit or 图为 line)")
                cap.parts.append(unit)
                cap.byline, photo_byline = photo_byline, None
            elif kind == BYLINE:
                if pending and kind_at(k + 1) == CAPTION and not self.after:
                    photo_byline = p  # the caption below takes it with the headline
                elif cur is not None and not cur.closed and not self.has_body(cur) and cur.byline is None:
                    cur.byline = p
                elif cur is not None and not cur.closed and not self.has_body(cur):
                    cur.parts.append(unit)  # a second byline before any body (□本报记者 …, then 本报讯…)
                else:
                    if cur is not None:
                        cur.closed = True
                    cur = new(reason="byline")
                    cur.byline = p
            elif kind in (BODY, MARKER, SIGNOFF):
                if kind == SIGNOFF and kind_at(k - 1) == CAPTION and arts and arts[-1].kind == CAPTION:
                    arts[-1].parts.append(unit)  # a photo news item's source line
                    continue
                if kind == SIGNOFF and (cur is None or cur.closed) and arts:
                    arts[-1].parts.append(unit)  # a late source line
                    continue
                if cur is None or cur.closed:
                    cur = new(reason="headline" if pending else "body after a closed article, a column header or the page start")
                cur.parts.append(unit)
                if kind == SIGNOFF or p.closes or unit[-1].closes:
                    cur.closed = True
            elif kind == HEADLINE:
                nk = kind_at(k + 1)
                if nk == HEADLINE:  # stacked headlines (kicker, title, subtitle) decide together
                    pending.append(p)
                    continue
                group = [*pending, p]
                pending = []
                prev_caption = arts[-1] if arts and arts[-1].kind == CAPTION and kind_at(k - 1) == CAPTION else None
                open_untitled = cur is not None and not cur.closed and not cur.title and self.has_body(cur)
                after_columns = k + 1
                while kind_at(after_columns) == COLUMN:
                    after_columns += 1
                if nk == COLUMN and not self.after and kind_at(after_columns) in (BYLINE, BODY, MARKER):
                    # A column label printed between a headline and its article: the headline
                    # waits for the article below the label.
                    if cur is not None:
                        cur.closed = True
                    pending = group
                elif nk == CAPTION and self.after and open_untitled:
                    cur.title = group  # headlines follow their bodies: a photo below is another item
                    cur.closed = True
                elif nk == CAPTION:
                    pending = group
                elif prev_caption is not None and not prev_caption.title and nk not in (BODY, MARKER) and (
                        nk != BYLINE or self.after):  # headline + byline below a photo: an article's
                    prev_caption.title = group
                elif nk == BYLINE:
                    j = k + 2
                    while kind_at(j) == MARKER:
                        j += 1
                    if kind_at(j) == CAPTION and not self.after:  # photo news: headline, byline, caption
                        if cur is not None:
                            cur.closed = True
                        pending = group
                    elif kind_at(j) == BODY:  # headline + byline + body
                        if open_untitled and self.after:
                            cur.title = group  # a headline printed after its body
                            cur.closed = True
                        else:
                            if cur is not None:
                                cur.closed = True
                            pending = group
                    else:  # headline + byline with no body of their own: they close an earlier body
                        target = self.orphan_target(arts, cur)
                        if target is not None:
                            target.title = group
                            if target.byline is None:
                                target.byline = items[k + 1][0]
                                consumed.add(k + 1)
                            cur = target
                            cur.closed = False
                        else:
                            pending = group
                elif nk in (BODY, MARKER):
                    if cur is None or cur.closed or not self.has_body(cur):
                        if cur is not None and not self.has_body(cur) and not cur.title:
                            cur.title = group
                        else:
                            pending = group
                    else:
                        block = []
                        j = k + 1
                        while kind_at(j) in (BODY, MARKER):
                            block.extend(q for q in items[j] if q.kind == BODY)
                            j += 1
                        decision = self.breaks(cur, block, group)
                        if not decision["new_article"]:  # a section heading inside the article
                            if not self.after and not cur.title:
                                cur.title = group  # a headline printed inside its body
                            else:
                                cur.parts.append(group)
                                cur.sections += 1
                            cur.kept.append(decision)
                        elif self.after and not cur.title:
                            cur.title = group
                            cur.closed = True
                        else:
                            cur.closed = True
                            pending, why = group, decision
                else:  # followed by a column header, another flow or the page end
                    if open_untitled:
                        cur.title = group
                        cur.closed = True
                    # else: page furniture; dropped
        if pending:  # trailing headline(s): close the nearest untitled body, else furniture
            target = self.orphan_target(arts, cur)
            if target is not None:
                target.title = pending

    def sums(self, art: _Art) -> list[tuple[tuple[int, ...], int, int, int]]:
        """art.sums brought up to date with art.parts (see `_Art.sums`)."""
        sums = art.sums
        if not sums or len(sums) > len(art.parts) + 1:  # new, or parts replaced: start again
            sums[:] = [((0,) * len(_domain_terms()), 0, 0, 0)]
        for unit in islice(art.parts, len(sums) - 1, None):
            counts, width, paras, units = sums[-1]
            if unit[0].kind == BODY:
                for p in unit:
                    counts = tuple(map(add, counts, self.sp.hits(p)))
                    width = p.width or width
                paras += len(unit)
            if unit[0].kind in (BODY, CAPTION):
                units += 1
            sums.append((counts, width, paras, units))
        return sums

    def breaks(self, cur: _Art, block: list[_Para], group: list[_Para]) -> dict:
        """Whether the body after a headline starts another article rather than a section, and why.

        With a boundary model the learned decision is taken (its probability and the features that
        weighed most are kept for the debug output); without one, the rules: a change of line width,
        else a change of organ profile.
        """
        counts, w1, paras, _ = self.sums(cur)[-1]
        page, pt = self.sp.page, self.pt
        at = group[0].start
        headline = " ".join(_tidy(page[p.start:p.end]) for p in group)
        if not block or not paras:
            return {"at": at, "headline": headline, "new_article": False, "rule": "no body on one side"}
        # The line width of each side: the middle width of its nearest wrapped paragraphs (short
        # ones have none; one paragraph's measure can be a character off).
        before = self.recent_body(cur, pt.cohesion_paras)
        after = block[: pt.cohesion_paras]
        w1, w2 = _middle_width(before) or w1, _middle_width(after)
        same = self.sp.same_domain(counts, self.sp.domain(block))
        if w1 and w2:
            rule = abs(w1 - w2) > pt.wrap_width_tolerance
        else:
            rule = same is not None and same < pt.domain_break
        model, record = self.sp.model, self.sp.record
        if model is None and record is None:
            return {"at": at, "headline": headline, "new_article": rule,
                    "rule": "line widths" if w1 and w2 else "organ profiles"}
        last = next((q for unit in islice(reversed(cur.parts), 4) if unit[0].kind == BODY for q in reversed(unit)), None)
        title = cur.title[-1] if cur.title else None
        x = boundary_features(
            [page[p.start:p.end] for p in group], "".join(p.squeezed for p in group),
            # Only the title's markup is read from its raw text: a bounded head of it, so that a title
            # padded with spaces costs each decision a constant.
            page[title.start:min(title.end, title.start + 64)] if title else "", title.squeezed if title else "",
            w1, w2, pt.wrap_width_tolerance, same, pt.domain_break, paras, cur.sections,
            len(block), len(block[0].squeezed), bool(last is not None and last.open), self.after,
            "".join(p.squeezed for p in before), "".join(p.squeezed for p in after),
        )
        if record is not None:
            record.append((x, last, block[0]))
        if model is None:
            return {"at": at, "headline": headline, "new_article": rule, "rule": "rules (recording)"}
        if w1 and w2 and abs(w1 - w2) >= 2 * pt.wrap_width_tolerance:
            # Columns of clearly different measure are different articles: no section heading
            # changes the width a text is set in.
            return {"at": at, "headline": headline, "new_article": True, "rule": f"line widths {w1} and {w2}"}
        p = model.prob(x)
        return {"at": at, "headline": headline, "new_article": p >= model.threshold,
                "model": "boundary", "p_new_article": round(p, 3), "because": model.explain(x)}

    def recent_body(self, cur: _Art, n: int) -> list[_Para]:
        """The article's last n body paragraphs, last first (a bounded window)."""
        out: list[_Para] = []
        for unit in islice(reversed(cur.parts), 2 * n):
            if unit[0].kind == BODY:
                out.extend(reversed(unit))
            if len(out) >= n:
                break
        return out[:n]

    def orphan_target(self, arts: list[_Art], cur: _Art | None) -> _Art | None:
        """The untitled body a headline printed after it belongs to (splitting one if need be)."""
        # Looked for from the end, within a page's worth of articles: a page of thousands of
        # orphan headlines must not rescan every article for each of them.
        bodies = (a for a in islice(reversed(arts), self.pt.interleave_max_paras) if a.kind != CAPTION)
        last = next(bodies, None)
        if last is None:
            return None
        if not last.title and self.has_body(last):
            return last
        part = self.split(last, arts)
        if part is not None:
            return part
        for art in bodies:
            if not art.title and self.has_body(art):
                return art
            if art.title:
                break
        return None

    def has_body(self, art: _Art) -> bool:
        return self.sums(art)[-1][3] > 0

    def split(self, art: _Art, arts: list[_Art]) -> _Art | None:
        """Split an article where its organ profile changes most; return the new second part."""
        units, sums = art.parts, self.sums(art)
        total = sums[-1][0]
        best, best_at = 1.0, -1
        # Split points within the last page's worth of units: each orphan headline costs the same
        # however long the article before it grew.
        for s in range(max(1, len(units) - self.pt.interleave_max_paras), len(units)):
            if units[s][0].kind != BODY or units[s - 1][0].kind != BODY or units[s - 1][-1].open:
                continue
            left = sums[s][0]
            score = self.sp.same_domain(left, tuple(map(sub, total, left)))
            if score is not None and score < best:
                best, best_at = score, s
        if best_at < 0 or best >= self.pt.domain_break:
            return None
        part = _Art(parts=units[best_at:])
        del units[best_at:]  # art keeps its list, so its running sums stay valid once cut too
        del sums[best_at + 1:]
        for group in (self.articles, arts):
            group.insert(_last_index(group, art) + 1, part)
        return part

    # ---- output -----------------------------------------------------------------------------

    def articles_out(self) -> list[Article]:
        page = self.sp.page
        # Non-whitespace characters before each offset: whether a gap is blank, in one step.
        ink = [0, *accumulate(not c.isspace() for c in page)]
        out: list[Article] = []
        owner: list[tuple[int, Article]] = []
        for art in self.articles:
            paras: list[_Para] = [*art.title] + ([art.byline] if art.byline else [])
            for unit in art.parts:
                paras.extend(unit)
                paras.extend(p.credit for p in unit if p.credit is not None)
            if not paras:
                continue
            spans: list[tuple[int, int]] = []
            for p in paras:
                if spans and spans[-1][1] <= p.start and ink[p.start] == ink[spans[-1][1]]:
                    spans[-1] = (spans[-1][0], p.end)
                else:
                    spans.append((p.start, p.end))
            title = " ".join(_tidy(page[p.start:p.end]) for p in art.title)
            byline = _tidy(page[art.byline.start:art.byline.end]) if art.byline else ""
            blocks = []
            for unit in art.parts:
                if unit[0].kind == CAPTION:
                    cap = unit[0]
                    cut = cap.credit_at if cap.credit_at > cap.start else cap.end
                    blocks.append(reflow_text(page[cap.start:cut]).strip())
                    credit = page[cut:cap.end] if cut < cap.end else ""
                    if cap.credit is not None:
                        credit = page[cap.credit.start:cap.credit.end]
                    if credit.strip() and not byline:
                        byline = _tidy(credit)
                    continue
                pieces: list[str] = []  # joined once: no quadratic string building
                last = ""
                for p in unit:
                    piece = reflow_text(page[p.start:p.end])
                    if last and piece and last.isascii() and last.isalnum() and piece[0].isascii() and piece[0].isalnum():
                        pieces.append(" ")
                    if piece:
                        pieces.append(piece)
                        last = piece[-1]
                blocks.append("".join(pieces))
            article = Article(
                start=min(s for s, _ in spans), end=max(e for _, e in spans), title=title, byline=byline,
                text="\n".join(b for b in blocks if b), kind=art.kind, spans=spans,
                why={"start": art.why or {"rule": "split where the organ profile changes (a headline printed after its body)"},
                     "sections": art.kept},
            )
            out.append(article)
            if art.kind != CAPTION:
                owner.extend((e, article) for _, e in spans)
        owner.sort(key=lambda x: x[0])
        ends = [e for e, _ in owner]
        for p in self.sp.paras:
            if p.duplicate:  # the article whose span ends last before the repeat
                k = bisect_right(ends, p.start)
                if k:
                    owner[k - 1][1].repeats.append((p.start, p.end))
        out.sort(key=lambda a: (a.start, a.end))
        return out


def _middle_width(paras: list[_Para]) -> int:
    """The median line width of the wrapped paragraphs among paras (0 when none is wrapped)."""
    widths = sorted(p.width for p in paras if p.width)
    return widths[(len(widths) - 1) // 2] if widths else 0


def _last_index(items: list, item: Any) -> int:
    """Index of item in items, looked for from the end (where the article being split is)."""
    for i in range(len(items) - 1, -1, -1):
        if items[i] is item:
            return i
    raise ValueError("not in list")


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

