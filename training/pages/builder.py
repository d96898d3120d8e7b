"""Pass 4 of the splitter: group each reading flow's paragraphs into articles.

A headline goes to the caption beside it, to the untitled body just before it (headline after
body), or to the body after it; when a headline sits between two bodies, the boundary model (or
the rules) decides between a section heading and a new article. Every article keeps the page
ranges it was made of, so its text maps back to the page.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from itertools import accumulate, islice
from operator import add, sub
from typing import TYPE_CHECKING, Any

from ..normalize import reflow_text
from .boundary import features as boundary_features
from .paragraphs import (_LINE_BREAK, _WS, BODY, BYLINE, CAPTION, COLUMN, HEADLINE, MARKER, SIGNOFF, Article,
                         _Para, _domain_terms, _middle_width, _tidy)

if TYPE_CHECKING:
    from .segment import _Splitter


def _reflowed(page: str, start: int, end: int, joined: bool) -> str:
    """One paragraph's text, reflowed: a blank line inside it (a wrap across a blank line, see
    _Splitter.joined_pieces) is a line break like any other, not a paragraph break. Only a page
    where pieces were joined (`joined`) can have one, so other pages skip the check."""
    text = page[start:end]
    lines = _LINE_BREAK.split(text) if joined else ()
    if len(lines) > 2 and not all(_WS.sub("", line) for line in lines):
        text = "\n".join(line for line in lines if _WS.sub("", line))
    return reflow_text(text)


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
        p, because = model.decide(x)
        return {"at": at, "headline": headline, "new_article": p >= model.threshold,
                "model": "boundary", "p_new_article": round(p, 3), "because": because}

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
        page, joined = self.sp.page, bool(self.sp._joined)
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
                    blocks.append(_reflowed(page, cap.start, cut, joined).strip())
                    credit = page[cut:cap.end] if cut < cap.end else ""
                    if cap.credit is not None:
                        credit = page[cap.credit.start:cap.credit.end]
                    if credit.strip() and not byline:
                        byline = _tidy(credit)
                    continue
                pieces: list[str] = []  # joined once: no quadratic string building
                last = ""
                for p in unit:
                    piece = _reflowed(page, p.start, p.end, joined)
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
                owner.extend((e, s, article) for s, e in spans)
        owner.sort(key=lambda x: x[0])
        ends = [e for e, _, _ in owner]
        for p in self.sp.paras:
            if p.duplicate:
                # The article that printed the original (a reprint belongs with it), else the one
                # whose span ends last before the repeat. (Spans of articles do not overlap: the
                # first span ending after a position holds it if it starts at or before it.)
                orig = p.repeat_of
                k = bisect_right(ends, orig.start) if orig is not None else len(owner)
                if k < len(owner) and owner[k][1] <= orig.start:
                    owner[k][2].repeats.append((p.start, p.end))
                    continue
                k = bisect_right(ends, p.start)
                if k:
                    owner[k - 1][2].repeats.append((p.start, p.end))
        out.sort(key=lambda a: (a.start, a.end))
        return out




def _last_index(items: list, item: Any) -> int:
    """Index of item in items, looked for from the end (where the article being split is)."""
    for i in range(len(items) - 1, -1, -1):
        if items[i] is item:
            return i
    raise ValueError("not in list")


_SHIPPED: Any = object()
