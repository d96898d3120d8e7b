"""Text normalization shared by training and serving: reflow hard wraps, fold widths, strip markup."""

from __future__ import annotations

import re
from typing import NamedTuple

# A line that ends with one of these closes a sentence, so the line break after it is kept.
SENTENCE_END = set("。！？!?；;：:…”」』）)】》")
_MARKUP = re.compile(r"(\*\*|__|~~|`+|^\s{0,3}#{1,6}\s+|^\s{0,3}>\s?|<[^<>\n]{1,40}>)", re.M)
_SPACES = re.compile(r"[ \t\u00a0\u3000\u2002-\u200b\ufeff]+")
_BLANKS = re.compile(r"\n{2,}")

# Full-width ASCII letters, digits and space fold to half-width; Chinese punctuation stays as it is.
_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F) if chr(code - 0xFEE0).isalnum()}
_WIDTH.update({0x3000: 0x20})


# A lone UTF-16 surrogate: JSON may carry one as an escape, but no encoder (nor rjieba) accepts it.
LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def is_cjk(ch: str) -> bool:
    """True for a CJK unified ideograph."""
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"


class Reflowed(NamedTuple):
    """Reflowed text and, for each of its characters, the index of its source in the original."""

    text: str
    offsets: list[int]


def _join(prev: str, nxt: str) -> str:
    """What replaces a single line break between two characters."""
    if prev in SENTENCE_END:
        return "\n"
    if prev.isascii() and prev.isalnum() and nxt.isascii() and nxt.isalnum():
        return " "  # an English word wrap
    return ""


def reflow(text: str) -> Reflowed:
    """Join hard-wrapped lines inside sentences; keep paragraph breaks; keep every other character.

    A single line break after sentence-ending punctuation or a blank line is a paragraph break
    ("\\n"); any other line break is a wrap and disappears (or becomes a space between two Latin
    words). Runs of spaces collapse to one space. Every non-whitespace character survives.
    """
    out: list[str] = []
    offsets: list[int] = []
    n = len(text)
    i = 0
    while i < n:
        ch = text[i]
        if ch in "\r\n" or _SPACES.match(ch):
            j = i
            newlines = 0
            first_newline = -1
            while j < n and (text[j] in "\r\n" or _SPACES.match(text[j])):
                if text[j] == "\n" or (text[j] == "\r" and (j + 1 >= n or text[j + 1] != "\n")):
                    newlines += 1
                    if first_newline < 0:
                        first_newline = j
                j += 1
            prev = out[-1] if out else ""
            nxt = text[j] if j < n else ""
            if not prev or not nxt:
                sep, at = "", i
            elif newlines >= 2:
                sep, at = "\n", first_newline
            elif newlines == 1:
                sep, at = _join(prev, nxt), first_newline
            else:
                sep, at = (" " if not (is_cjk(prev) and is_cjk(nxt)) else ""), i
            if sep:
                out.append(sep)
                offsets.append(at)
            i = j
            continue
        out.append(ch)
        offsets.append(i)
        i += 1
    return Reflowed("".join(out), offsets)


_WS_RUN = re.compile("[\r\n \t\u00a0\u3000\u2002-\u200b\ufeff]+")


def _flow(match: re.Match) -> str:
    text, start, end = match.string, match.start(), match.end()
    if start == 0 or end == len(text):
        return ""
    run = match.group()
    newlines = run.count("\n") + sum(
        1 for j in range(start, end) if text[j] == "\r" and (j + 1 >= len(text) or text[j + 1] != "\n")
    )
    prev, nxt = text[start - 1], text[end]
    if newlines >= 2:
        return "\n"
    if newlines == 1:
        return _join(prev, nxt)
    return "" if is_cjk(prev) and is_cjk(nxt) else " "


def reflow_text(text: str) -> str:
    """`reflow(text).text` without the offsets: one regex pass, for the serving hot path."""
    return _WS_RUN.sub(_flow, text)


_FOLDABLE = re.compile("[" + "".join(map(chr, sorted(_WIDTH))) + "]")


def fold_width(text: str) -> str:
    """Fold full-width letters, digits and the ideographic space to their half-width forms."""
    # translate() looks every character up in the table; most articles have nothing to fold.
    return text.translate(_WIDTH) if _FOLDABLE.search(text) else text


def strip_markup(text: str) -> str:
    """Remove Markdown/HTML emphasis marks that e-paper exports leave behind."""
    return _MARKUP.sub("", text)


def normalize_text(text: str) -> str:
    """The canonical form every model sees: markup stripped, widths folded, lines reflowed."""
    text = strip_markup(fold_width(text.replace("\r\n", "\n")))
    return _BLANKS.sub("\n", reflow_text(text)).strip()


def split_title(text: str) -> tuple[str, str]:
    """Split a normalized text into (first line, rest): the first line is often the headline."""
    head, _, rest = text.partition("\n")
    return head, rest
