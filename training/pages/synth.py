"""Whole newspaper pages generated from our own corpus, with the exact answer: which characters
belong to which article.

    from training.pages.synth import generate
    for page in generate(seed=0, count=1000): page.text, page.units

A page lays out articles of labels/corpus.csv in one layout style of training/pages/styles.toml
(headline before or after the body, markdown or bold headlines, two-line headlines, kickers,
every byline form, captions with or without 摄, column headers, 【案情】 markers, 下转/上接 lines,
hard wraps at 12-40 characters inside words and across blank lines, repeated paragraphs,
interleaved columns, one-paragraph briefs, PDF noise). The same seed gives the same pages.
"""

from __future__ import annotations

import csv
import random
import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

STYLES_PATH = Path(__file__).with_name("styles.toml")
_SENT_END = "。！？"
_OWN_BYLINE = re.compile(r"[□■]|[^。，！？]{0,16}(?:讯|电)|(?:记者|通讯员)")


@dataclass
class Unit:
    """One gold unit of a page: an article or a photo caption, its labels and its characters."""

    id: str
    kind: str  # "article" | "caption"
    labels: list[str]
    title: str
    text: str  # the article as written in the corpus (title excluded)
    chars: list[int] = field(default_factory=list)  # page offsets of its non-whitespace characters


@dataclass
class Page:
    style: str
    text: str
    units: list[Unit]

    def owner(self) -> list[int]:
        """For each page offset, the index of the unit that owns it (-1: furniture or whitespace)."""
        out = [-1] * len(self.text)
        for k, unit in enumerate(self.units):
            for i in unit.chars:
                out[i] = k
        return out


@lru_cache(maxsize=4)
def load_styles(path: Path = STYLES_PATH) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """(style name -> settings with defaults filled in, word lists) from a styles table."""
    with open(path, "rb") as fh:
        table = tomllib.load(fh)
    default = table.get("default", {})
    styles = {name: {**default, **spec} for name, spec in table.get("styles", {}).items()}
    return styles, table.get("words", {})


@lru_cache(maxsize=2)
def corpus_articles(path: Path | None = None) -> tuple[tuple[str, str, str, tuple[str, ...]], ...]:
    """(id, title, paragraphs joined by newline, labels) of the corpus rows with a title and text."""
    if path is None:
        from ..config import get_settings

        path = get_settings().corpus_path
    rows = []
    with open(path, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            title, text = (row.get("title") or "").strip(), (row.get("text") or "").strip()
            paras = [p.strip() for p in text.splitlines() if p.strip()]
            if title and paras and len(title) <= 34:
                labels = tuple(x for x in (row.get("labels") or "").split("|") if x)
                rows.append((row.get("id") or str(len(rows)), title, "\n".join(paras), labels))
    return tuple(rows)


class _Writer:
    """Builds the page text and records the owner of every character."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.pos = 0
        self.owned: dict[int, list[int]] = {}

    def put(self, text: str, owner: int) -> None:
        if owner >= 0:
            self.owned.setdefault(owner, []).extend(self.pos + i for i, c in enumerate(text) if not c.isspace())
        self.parts.append(text)
        self.pos += len(text)


class _Layout:
    def __init__(self, rng: random.Random, style: dict[str, Any], words: dict[str, Any]):
        self.rng, self.st, self.w = rng, style, words

    def chance(self, key: str) -> bool:
        return self.rng.random() < float(self.st.get(key, 0.0))

    def name(self) -> str:
        r = self.rng
        return r.choice(self.w["surnames"]) + "".join(r.choice(self.w["given"]) for _ in range(r.choice((1, 2))))

    def names(self, lo: int = 1, hi: int = 2) -> str:
        return " ".join(self.name() for _ in range(self.rng.randint(lo, hi)))

    def marked(self, text: str, markup: str) -> str:
        if markup == "**":
            return f"**{text}**"
        return f"{markup} {text}" if markup else text

    def headline(self, title: str) -> list[str]:
        """The headline paragraphs: kicker, title (one or two lines)."""
        out = []
        if self.chance("kicker"):
            out.append(self.rng.choice(self.w["kickers"]))
        cut = title.find(" ")
        if cut <= 0 and len(title) >= 12:
            cut = len(title) // 2
        if self.chance("two_line") and 2 <= cut <= len(title) - 3:
            out.append(self.marked(title[:cut].strip(), self.st["markup"]))
            out.append(self.marked(title[cut:].strip(), self.st["sub_markup"] or self.st["markup"]))
        else:
            out.append(self.marked(title, self.st["markup"]))
        return out

    def byline(self) -> tuple[str, str]:
        """(form, text) of one byline."""
        form = self.rng.choice(self.st["bylines"])
        n = self.names
        text = {
            "box_reporter": f"□本报记者 {n()}" + (f" 通讯员 {n()}" if self.rng.random() < 0.4 else ""),
            "box_name": f"□ {n(1, 1)}",
            "bao_xun": f"本报讯（记者 {n()}" + (f" 通讯员 {n(1, 1)}" if self.rng.random() < 0.4 else "") + "）",
            "paper_xun": f"{self.rng.choice(self.w['papers'])}讯",
            "reporter_report": f"记者 {n()} 报道",
            "signoff": f"（{self.rng.choice(('通讯员', '记者', ''))}{n(1, 1).replace(' ', '')}）",
            "none": "",
        }[form]
        return form, text

    def topical(self, stock: str, section: str) -> str:
        """A section heading made of words of the section it opens ("平安建设 提质效"-like)."""
        runs = [m for m in re.findall(r"[\u4e00-\u9fff]{4,}", section[:120])]
        if not runs:
            return stock
        run = self.rng.choice(runs)
        size = self.rng.randint(4, min(8, len(run)))
        at = self.rng.randint(0, len(run) - size)
        phrase = run[at:at + size]
        lead = stock.split(" ")[0] if " " in stock else ""
        return f"{lead} {phrase}" if lead and self.rng.random() < 0.5 else phrase

    def wrap(self, text: str, width: int) -> str:
        """Hard-wrap a paragraph at `width` characters, sometimes with a blank line after a wrap."""
        if width <= 0 or len(text) <= width:
            return text
        # Real extractions are not exact: a paragraph's measure drifts by a character (justified
        # text, hanging punctuation), and so does a line now and then.
        r = self.rng
        width = max(4, width + r.choice((-1, 0, 0, 0, 1)))
        lines, line, used, limit = [], [], 0.0, width
        for ch in text:  # by printed width, as a PDF lays it out: ASCII letters and digits are half
            w = 0.5 if ch.isascii() else 1.0
            if used + w > limit:
                lines.append("".join(line))
                line, used = [], 0.0
                limit = width + (r.choice((-1, 1)) if r.random() < 0.15 else 0)
            line.append(ch)
            used += w
        lines.append("".join(line))
        out = [lines[0]]
        for line in lines[1:]:
            out.append("\n\n" if self.chance("wrap_blank") else "\n")
            out.append(line)
        return "".join(out)


def _article_blocks(lay: _Layout, idx: int, title: str, text: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(head blocks, body blocks) of one article; a block is (kind, text)."""
    r, st = lay.rng, lay.st
    paras = text.split("\n")
    if lay.chance("brief"):  # a brief: its first paragraph(s), enough for one news item
        size = 0
        for k, para in enumerate(paras):
            size += len(para)
            if size >= 80:
                paras = paras[:k + 1]
                break
    form, by = lay.byline()
    if any(_OWN_BYLINE.match(p) for p in paras[:2]):
        # the corpus text brings its own byline (perhaps under a kicker or its title repeated):
        # a page never prints two
        form, by = "none", ""
    body = [("body", p) for p in paras]
    if lay.chance("case_markers") and len(body) >= 2:
        markers = lay.w["markers"]
        body.insert(0, ("marker", markers[0]))
        body.insert(len(body) - 1 if len(body) > 2 else 1, ("marker", markers[r.randrange(1, len(markers))]))
    if form in ("bao_xun", "paper_xun"):
        k = next(i for i, (kind, _) in enumerate(body) if kind == "body")
        body[k] = ("body", by + body[k][1])
    elif form == "signoff":
        k = max(i for i, (kind, _) in enumerate(body) if kind == "body")
        if body[k][1][-1:] in _SENT_END and r.random() < 0.5:
            body[k] = ("body", body[k][1] + by)
        else:
            body.append(("signoff", by))
    if len(paras) >= 4 and lay.chance("subheads"):  # section headings inside a long article
        heads = r.sample(lay.w["subheads"], 3)
        # After the first paragraph of running text: a section heading never opens the body.
        first = next((i for i, (kind, t) in enumerate(body) if kind == "body" and len(t) >= 40), len(body))
        spots = range(first + 1, len(body))
        for at in sorted(r.sample(spots, min(2, len(spots))), reverse=True):
            head = heads.pop()
            if body[at][0] == "body" and r.random() < 0.6:  # a real section heading names what follows
                head = lay.topical(head, body[at][1])
            body.insert(at, ("subhead", lay.marked(head, st["subhead_markup"])))
    if lay.chance("repeat") and len(body) >= 2:
        k = r.randrange(len(body))
        if body[k][0] == "body" and len(body[k][1]) >= 12:
            body.insert(k + 1, body[k])
    if lay.chance("continuation"):
        body.append(("furniture", f"（下转第{r.randint(2, 8)}版）"))
    head = [("headline", h) for h in lay.headline(title)]
    if form in ("box_reporter", "box_name", "reporter_report"):
        if st["headline"] == "before":
            head.append(("byline", by))
        else:  # headline printed after the body: the byline still opens the article
            body.insert(0, ("byline", by))
    return head, body


def make_page(rng: random.Random, style_name: str, style: dict[str, Any], words: dict[str, Any],
              articles: list[tuple[str, str, str, tuple[str, ...]]]) -> Page:
    """One page of `articles` in one style."""
    lay = _Layout(rng, style, words)
    units: list[Unit] = []
    # Each unit is a list of (owner, kind, text) blocks in reading order.
    streams: list[list[tuple[int, str, str, int]]] = []
    lo, hi = style["wrap"]
    for art_id, title, text, labels in articles:
        k = len(units)
        units.append(Unit(art_id, "article", list(labels), title, text))
        width = rng.randint(lo, hi) if hi else 0
        head, body = _article_blocks(lay, k, title, text)
        blocks: list[tuple[int, str, str, int]] = []
        if lay.chance("column"):
            blocks.append((-1, "furniture", rng.choice(words["columns"]), 0))
        if lay.chance("continuation") and style["headline"] == "before":
            body.insert(0, ("furniture", f"（上接第{rng.randint(1, 8)}版）"))
        ordered = head + body if style["headline"] == "before" else body + head
        blocks += [(-1 if kind == "furniture" else k, kind, t, width if kind == "body" else 0) for kind, t in ordered]
        streams.append(blocks)
        if lay.chance("caption"):
            c = len(units)
            scene = rng.choice(words["caption_scenes"])
            cap = f"{rng.choice(words['caption_leads'])}{scene}。"
            if lay.chance("credit"):
                cap += f" 本报记者 {lay.name()} 摄"
            units.append(Unit(f"{art_id}-caption", "caption", [], "", cap))
            streams.append([(c, "caption", cap, 0)])
    # Interleaved columns: an article's tail printed after the next stream's first body block.
    order: list[tuple[int, str, str, int]] = []
    carry: list[tuple[int, str, str, int]] = []
    for blocks in streams:
        if carry:
            first = next((i for i, b in enumerate(blocks) if b[1] == "body"), None)
            if first is not None:
                blocks = blocks[:first + 1] + carry + blocks[first + 1:]
            else:
                blocks = carry + blocks
            carry = []
        # A column is cut inside running text, not inside a short heading of the corpus text.
        bodies = [i for i, b in enumerate(blocks) if b[1] == "body" and len(b[2]) >= 40]
        if style["headline"] == "before" and len(bodies) >= 3 and lay.chance("interleave"):
            cut = bodies[len(bodies) // 2 + 1] if len(bodies) // 2 + 1 < len(bodies) else bodies[-1]
            owner, _, text, width = blocks[cut]
            at = rng.randint(len(text) // 3, max(len(text) // 3, 2 * len(text) // 3))
            if text[at - 1:at] not in _SENT_END and at > 0:  # a sentence broken mid-way, like a real column
                carry = [(owner, "body", text[at:], width)] + blocks[cut + 1:]
                blocks = blocks[:cut] + [(owner, "body", text[:at], width)]
        order += blocks
    order += carry
    writer = _Writer()
    gap = "\n" * (1 + int(style["para_gap"]))
    for n, (owner, kind, text, width) in enumerate(order):
        if n:
            writer.put(gap, -1)
        if lay.chance("noise"):
            if rng.random() < 0.5:
                writer.put(f"{rng.randint(1, 16)}{gap}", -1)
            else:
                writer.put("\u3000\u3000", -1)
        writer.put(lay.wrap(text, width) if kind == "body" else text, owner)
    for k, unit in enumerate(units):
        unit.chars = writer.owned.get(k, [])
    return Page(style_name, "".join(writer.parts), [u for u in units if u.chars])


def generate(seed: int = 0, count: int = 100, styles: list[str] | None = None,
             corpus: Path | None = None, styles_path: Path = STYLES_PATH) -> Iterator[Page]:
    """`count` pages, cycling over `styles` (default: all), reproducible from `seed`."""
    table, words = load_styles(styles_path)
    names = styles or sorted(table)
    unknown = [s for s in names if s not in table]
    if unknown:
        raise ValueError(f"unknown style {unknown[0]!r}; styles: {', '.join(sorted(table))}")
    rows = corpus_articles(corpus)
    rng = random.Random(seed)
    for i in range(count):
        name = names[i % len(names)]
        lo, hi = table[name]["articles"]
        picked = rng.sample(rows, rng.randint(lo, hi))
        yield make_page(rng, name, table[name], words, picked)
