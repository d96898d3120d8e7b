"""The paragraphs of a page and the articles made of them: kinds, offsets, and small text helpers.

Shared by the splitter passes (training/pages/segment.py), the reading flows
(training/pages/reading.py) and the article builder (training/pages/builder.py).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Iterator

from ..normalize import SENTENCE_END

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
    repeat_of: "_Para | None" = None  # a duplicate: the paragraph it reprints

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



def _middle_width(paras: list[_Para]) -> int:
    """The median line width of the wrapped paragraphs among paras (0 when none is wrapped)."""
    widths = sorted(p.width for p in paras if p.width)
    return widths[(len(widths) - 1) // 2] if widths else 0


