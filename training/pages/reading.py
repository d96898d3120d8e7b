"""Reading flows: which paragraph a hard-wrapped or interleaved paragraph continues in.

A mixin of the splitter (training/pages/segment.py). `link_wraps` glues a paragraph that ends
mid-sentence to the one it continues in: the next one, or, when a column was cut and the next
article printed in between, a later one (a word across the cut, the same line width, shared
words). `flows` turns the links into reading orders, and `resume_point` says where the page goes
back to the article an interleaved tail interrupted. Every search is bounded by the limits of
training/pages/patterns.toml, so a page of any length is read in linear time.
"""

from __future__ import annotations

from .boundary import cosine as boundary_cosine, grams as boundary_grams
from .paragraphs import (BODY, BYLINE, CAPTION, COLUMN, CREDIT, HEADLINE, MARKER, _CONTINUES, _Para,
                         _middle_width)


class _Reading:
    """Pass 3 and the start of pass 4 of the splitter: wraps, interleaved columns, flows."""

    def link_wraps(self, paras: list[_Para], after: bool = False) -> dict[int, int]:
        """Glue wrapped body paragraphs; return far links (index of tail -> index of head)."""
        n = len(paras)
        claimed = [False] * n
        link: dict[int, int] = {}
        kind = [p.kind for p in paras]

        def eligible(j: int) -> bool:
            return kind[j] == BODY and not claimed[j] and (j == 0 or kind[j - 1] not in (HEADLINE, BYLINE))

        def free(j: int) -> bool:
            # Right under a headline or byline a paragraph is that article's first, unless it
            # cannot be: it completes a word or a sentence cut elsewhere.
            return kind[j] == BODY and not claimed[j]

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
                if not free(j) or not self.word_across(paras[i].squeezed, paras[j].squeezed):
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
            if not unlinked or not free(j) or paras[j].squeezed[0] not in _CONTINUES:
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
            other, headed, between, heads, near = 0, False, [], [], -1
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
                    # (how much more p shares with the cut article than with the one between:
                    # computed once, for both tests below)
                    lean = self.leaning(paras[j], mine, between + heads) \
                        if headed and eligible(j) and not paras[j - 1].open else None
                    if (lean is not None and (1 <= len(between) <= 2 or kind[j - 1] == MARKER)
                            and lean > self.pt.resume_margin):
                        # The paragraph right before, closer to the cut article too (if by less),
                        # is where its column goes on: a tail's paragraphs come together.
                        at = j - 1 if near == j - 1 else j
                        link[i] = at
                        claimed[at] = True
                        break
                    near = j if between and lean is not None and lean > 0 else -1
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
        # that follow a finished one, those sharing more words with it than with the article
        # between (and not of another width) are its tail: it goes on at the first of the run
        # that holds the one sharing most.
        # (Not where headlines follow their bodies: there the headline after it is its own.)
        for i in [] if after else tails:
            if i in link or eligible(i + 1) or i + 1 >= n or kind[i + 1] not in (HEADLINE, BYLINE) \
                    or len(paras[i].squeezed) < self.pt.headline_max_chars // 2:
                continue  # (a short unfinished line is more likely a heading than half a column)
            mine = paras[max(0, i - 2):i + 1]
            w = _middle_width([q for q in mine if q.kind == BODY])
            g_mine = boundary_grams("".join(q.squeezed for q in mine))
            theirs: list[_Para] = [q for q in paras[i + 1:i + 3] if q.kind == HEADLINE]
            best, best_j, seen, run_start = 0.0, -1, 0, -1
            for j in range(i + 1, min(n, i + 2 + self.pt.interleave_max_paras)):
                if kind[j] in (HEADLINE, BYLINE, COLUMN) and seen:
                    break  # past the next article's first paragraphs
                if kind[j] != BODY:
                    continue
                score = 0.0
                if eligible(j) and not paras[j - 1].open and kind[j - 1] == BODY:
                    wj = paras[j].width
                    if not (w and wj and abs(w - wj) > self.pt.wrap_width_tolerance):
                        g = boundary_grams(paras[j].squeezed)
                        g_theirs = boundary_grams("".join(q.squeezed for q in theirs))
                        score = boundary_cosine(g, g_mine) - boundary_cosine(g, g_theirs)
                # A tail of several paragraphs all share the cut article's words: it starts at the
                # first of a run of candidates that do, not at the one that shares most.
                at = run_start if score > 0 and run_start >= 0 else j
                run_start = at if score > 0 else -1
                if score > best:
                    best, best_j = score, at
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
        return self.leaning(p, mine, theirs) > margin

    def leaning(self, p: _Para, mine: list[_Para], theirs: list[_Para]) -> float:
        """Bigram cosine of p with `mine` minus that with `theirs` (its first cohesion_paras)."""
        g = boundary_grams(p.squeezed)
        a = boundary_cosine(g, boundary_grams("".join(q.squeezed for q in mine)))
        b = boundary_cosine(g, boundary_grams("".join(q.squeezed for q in theirs[: self.pt.cohesion_paras])))
        return a - b


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

        The units after j up to the next headline that opens an article (section headings, column
        labels and photo captions stay in the run; captions do not vote) are split in two: the
        tail's article keeps the first part, the article printed between i and j takes the rest.
        Each unit votes by line width (unlike the tail's, or like the other side's when that is
        known) and shared words (bigram cosine with each side, the interrupted article's headline
        included); the split with the largest vote for the second part wins if it clears
        `resume_margin`, else a stretch of units voting clearly for the interrupted article (the
        run may reach into the next articles). Bounded to a page's worth of paragraphs (`heads`:
        the link targets, a set): linear time.
        """
        pt, n = self.pt, len(paras)
        run: list[list[int]] = []
        k, seen = j, 0
        # Section headings may stand in the tail; a headline with a byline after it opens another article.
        # A furniture line (责任编辑：…) may end the tail too, and a photo caption may stand between
        # the tail and the resumed article (it is an item of its own: it does not vote).
        while k < n and seen < pt.interleave_max_paras and (paras[k].kind in (BODY, COLUMN, CAPTION, CREDIT) or (
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
        # The interrupted article has printed little before the tail (often one paragraph, or
        # none): its headline (the nearest before j) speaks for it too.
        head = next((paras[m] for m in range(j - 1, max(i, j - 4), -1) if paras[m].kind == HEADLINE), None)
        if head is not None:
            b_side.append(head)
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
            # With the other side's width unknown, a width like the tail's own says little (the two
            # columns may be set alike); one unlike it says the unit is not the tail's.
            by_width = width_vote(w, wb) - width_vote(w, wa) if wb else max(0, -width_vote(w, wa))
            votes.append(2 * by_width + boundary_cosine(g, gb) - boundary_cosine(g, ga))
        # Suffix sums: the rest of the run from unit t on goes back to the interrupted article.
        best, best_at, total = pt.resume_margin, None, 0.0
        for t in range(len(votes) - 1, -1, -1):
            if votes[t] is None:
                continue
            total += votes[t]
            if total > best:
                best, best_at = total, t
        if best_at is None:
            # The run may go on past the interrupted article into the next ones (their headlines
            # read as section headings here) that lean the other way: a stretch of units that
            # votes clearly for the interrupted article (a maximum-sum segment worth more than the
            # shared words of one unit can give: in practice, line widths agree) is where it resumes.
            best, total, start = 1.0 + pt.resume_margin, 0.0, None
            for t, v in enumerate(votes):
                if v is None:
                    continue
                if start is None or total <= 0:
                    total, start = v, t
                else:
                    total += v
                if total > best:
                    best, best_at = total, start
        if best_at is None:
            return None
        if best_at and votes[best_at - 1] is None and paras[run[best_at][0]].kind == HEADLINE:
            best_at -= 1  # a heading goes with the section below it
        return run[best_at + 1][0]

