"""The page pattern table (patterns.toml): a newspaper's layout conventions, compiled for linear time.

Every regex of the table runs on text users paste, so it is compiled with RE2 (google-re2), an
automaton engine whose matching time is linear in the text whatever the pattern: no input can
make it backtrack. A pattern RE2 cannot run that way (a backreference, a look-ahead or
look-behind) is refused when the table is loaded, with the TOML key that holds it and the fix.

The table is written in Python `re` syntax as far as both engines agree; three differences are
handled here so that a pattern means what it meant under `re`:

* `\\uXXXX` escapes (RE2 has none) become `\\x{XXXX}`;
* `\\d`/`\\D` become `\\p{Nd}`/`\\P{Nd}` (Python's `\\d` matches every Unicode digit, e.g. ３);
* `\\s \\S \\w \\W \\b \\B` and `{,n}` are refused: RE2 gives them another meaning.

A pattern anchored at the start or the end with a bounded match length (its repetitions are
counted, `{1,8}` rather than `+`) is only run on that many characters of the head or the tail of
a line: the cost of a line then does not grow with its length at all.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import re2
from re2 import _re2

from ..normalize import LONE_SURROGATE

PATTERNS_PATH = Path(__file__).with_name("patterns.toml")

_WS = re.compile(r"[\s\u00a0\u3000\u2002-\u200b\ufeff]+")
# A longer bound is no bound worth taking (unbounded repetitions report about 2**32).
_MAX_WINDOW = 10_000
_REFUSED = {
    "s": "whitespace is removed before matching; drop it",
    "S": "write the characters it should match as a class",
    "w": "write the characters it should match as a class, e.g. [0-9A-Za-z\\u4e00-\\u9fff]",
    "W": "write the characters it should not match as a negated class",
    "b": "RE2's \\b only knows ASCII words; use an explicit class or ^/$",
    "B": "RE2's \\B only knows ASCII words; use an explicit class",
}
_UNANCHORED = _re2.RE2.Anchor.UNANCHORED
_ANCHOR_BOTH = _re2.RE2.Anchor.ANCHOR_BOTH


class PatternTableError(ValueError):
    """A page pattern table that cannot be loaded; the message names the key and the fix."""


def _options() -> re2.Options:
    options = re2.Options()
    options.log_errors = False  # the error goes into our message, not to stderr
    return options


def to_re2(source: str, key: str) -> str:
    """Translate one table pattern from Python `re` syntax to RE2 syntax (see the module doc)."""
    out: list[str] = []
    i, n = 0, len(source)
    while i < n:
        ch = source[i]
        if ch == "{" and source.startswith("{,", i):
            raise PatternTableError(f"{key}: {source!r}: write {{0,n}} instead of {{,n}} (RE2 reads {{,n}} as text)")
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        nxt = source[i + 1] if i + 1 < n else ""
        if nxt in ("u", "U"):
            width = 4 if nxt == "u" else 8
            digits = source[i + 2:i + 2 + width]
            if len(digits) != width or any(c not in "0123456789abcdefABCDEF" for c in digits):
                raise PatternTableError(f"{key}: {source!r}: \\{nxt} needs {width} hex digits")
            out.append("\\x{" + digits + "}")
            i += 2 + width
        elif nxt in ("d", "D"):
            out.append("\\p{Nd}" if nxt == "d" else "\\P{Nd}")
            i += 2
        elif nxt in _REFUSED:
            raise PatternTableError(f"{key}: {source!r}: \\{nxt} means something else in RE2; {_REFUSED[nxt]}")
        else:
            out.append(source[i:i + 2])  # \\, \., \[ ... and RE2's own escapes pass through
            i += 2
    return "".join(out)


def _bounds(source: str) -> tuple[str, int | None]:
    """('head' | 'tail' | 'whole' | '', W): where a pattern matches and its longest match W.

    'whole': anchored at both ends; 'head'/'tail': anchored at one end only, so every match lies
    in the first/last W characters. W is None when unbounded. Computed from Python's parse of
    the pattern; when that parser is unavailable the whole text is scanned (still linear: RE2
    guarantees that, the window only makes it cheaper).
    """
    try:
        from re import _parser  # type: ignore[attr-defined]  # Python 3.11+

        parsed = _parser.parse(source)
        width = parsed.getwidth()[1]
        ops = list(parsed)
        anchors = sum(1 for op in _ops(parsed, _parser.SubPattern) if op is _parser.AT)
    except Exception:  # noqa: BLE001 - an optimisation only
        return "", None
    if width > _MAX_WINDOW or not ops:
        return "", None
    starts = ops[0][0] is _parser.AT and ops[0][1] is _parser.AT_BEGINNING
    ends = ops[-1][0] is _parser.AT and ops[-1][1] is _parser.AT_END
    if anchors != starts + ends:
        return "", width  # another anchor inside ((?:^|。)…): a cut text would fake it
    if starts and ends:
        return "whole", width
    return ("head" if starts else "tail" if ends else ""), width


def _ops(parsed, subpattern_type):
    """Every opcode of a parsed pattern, those of nested groups included."""
    for op, arg in parsed:
        yield op
        stack = [arg]
        while stack:
            item = stack.pop()
            if isinstance(item, subpattern_type):
                yield from _ops(item, subpattern_type)
            elif isinstance(item, (list, tuple)):
                stack.extend(item)


class Pattern:
    """One compiled table pattern: RE2, its TOML key, and the part of a text it needs to see.

    Matching goes through the RE2 binding's bytes-level `Match` (what the `re2` module's own str
    API calls): the str wrapper's generator and offset tables cost two to three times the match
    itself on the short lines of a page, and a page runs a dozen patterns per line.
    """

    __slots__ = ("key", "source", "rx", "scope", "width")

    def __init__(self, source: str, key: str):
        if not isinstance(source, str):
            raise PatternTableError(f"{key}: expected a regex string, got {type(source).__name__}")
        self.key, self.source = key, source
        self.rx = _re2.RE2(to_re2(source, key).encode("utf-8"), _options())
        if not self.rx.ok():
            reason = self.rx.error()
            reason = reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)
            raise PatternTableError(
                f"{key}: {source!r} is refused: RE2, which keeps matching linear-time, cannot compile it "
                f"({reason}). RE2 has no backreferences and no look-ahead/look-behind: match the "
                "neighbouring character instead, or test it in code"
            )
        self.scope, self.width = _bounds(source)

    def __repr__(self) -> str:
        return f"Pattern({self.key}={self.source!r})"

    def _match(self, anchor: Any, text: str) -> tuple[bytes, int, int]:
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: no UTF-8 for it; U+FFFD keeps the offsets
            data = LONE_SURROGATE.sub("\ufffd", text).encode("utf-8")
        start, end = self.rx.Match(anchor, data, 0, len(data))[0]
        return data, start, end

    def search(self, text: str) -> tuple[int, int] | None:
        """(start, end) character offsets of the first match in text, or None."""
        offset, w = 0, self.width
        if self.scope and w is not None and len(text) > w:
            if self.scope == "whole":
                return None  # a match spans the whole text, so it is no longer than w
            if self.scope == "head":
                text = text[:w]
            else:
                offset = len(text) - w
                text = text[offset:]
        data, start, end = self._match(_UNANCHORED, text)
        if start < 0:
            return None
        if len(data) != len(text):  # not ASCII: byte offsets to character offsets
            start, end = len(data[:start].decode("utf-8")), len(data[:end].decode("utf-8"))
        return start + offset, end + offset

    def fullmatch(self, text: str) -> bool:
        """Whether the pattern matches all of text."""
        if self.width is not None and len(text) > self.width:
            return False
        return self._match(_ANCHOR_BOTH, text)[1] >= 0


@dataclass(frozen=True)
class PagePatterns:
    """The layout conventions of one newspaper (see patterns.toml for each field)."""

    column_headers: frozenset[str]
    column_patterns: tuple[Pattern, ...]
    noise: tuple[Pattern, ...]
    case_marker: Pattern
    signoff: Pattern
    signoff_inline: Pattern
    byline: tuple[Pattern, ...]
    byline_prefix: tuple[Pattern, ...]
    byline_line_start: Pattern
    caption_credit: tuple[Pattern, ...]
    caption_lead: Pattern
    headline_max_chars: int = 34
    headline_min_chars: int = 2
    headline_max_lines: int = 2
    headline_bad_end: str = "。，、；：,;:"
    headline_bad_inner: str = "。；;"
    headline_pause: str = "，、,"
    headline_pause_ends: str = "！？!?”"
    caption_max_chars: int = 320
    duplicate_min_chars: int = 12
    junction_chars: int = 4
    domain_break: float = 0.5
    domain_min_hits: int = 3
    wrap_width_tolerance: int = 3
    interleave_max_paras: int = 60
    cohesion_paras: int = 8
    resume_margin: float = 0.15
    fragmented_share: float = 0.25
    wrap_max_chars: int = 48

    def is_noise(self, squeezed: str) -> bool:
        return any(p.fullmatch(squeezed) for p in self.noise)

    def is_column(self, squeezed: str) -> bool:
        return squeezed in self.column_headers or any(p.search(squeezed) for p in self.column_patterns)

    def patterns(self) -> list[Pattern]:
        """Every compiled pattern of the table."""
        out: list[Pattern] = []
        for value in vars(self).values():
            if isinstance(value, Pattern):
                out.append(value)
            elif isinstance(value, tuple):
                out.extend(v for v in value if isinstance(v, Pattern))
        return out


def _compile(data: dict, section: str, name: str, many: bool) -> Pattern | tuple[Pattern, ...]:
    try:
        value = data[section][name]
    except (KeyError, TypeError):
        raise PatternTableError(f"[{section}] {name} is missing") from None
    key = f"{section}.{name}"
    if not many:
        return Pattern(value, key)
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list):
        raise PatternTableError(f"{key}: expected a regex string or a list of them")
    return tuple(Pattern(v, f"{key}[{i}]") for i, v in enumerate(values))


# The counts bound how far each search over a page looks: a table may narrow them, but a huge one
# would make splitting quadratic again, so they are capped.
_MAX_COUNT = 1_000


def _check_limit(key: str, value: object, default: object) -> None:
    """A [limits] value of the default's type and in range; PatternTableError naming the key otherwise."""
    if isinstance(default, str):
        ok = isinstance(value, str) and len(value) <= 64
        want = "a string of at most 64 characters"
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= _MAX_COUNT
        want = f"a whole number from 0 to {_MAX_COUNT}"
    else:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 1_000
        want = "a number from 0 to 1000"
    if not ok:
        raise PatternTableError(f"[limits] {key} = {value!r}: expected {want} (default {default!r})")


def load_patterns(path: str | Path | None = None) -> PagePatterns:
    """Read and check a pattern table (default: training/pages/patterns.toml).

    Raises PatternTableError (a ValueError) naming the file, the key and the fix.
    """
    path = Path(path) if path else PATTERNS_PATH
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
        limits = data.get("limits", {})
        if not isinstance(limits, dict):
            raise PatternTableError("[limits] must be a table")
        unknown = set(limits) - set(PagePatterns.__dataclass_fields__)
        if unknown:
            raise PatternTableError(f"unknown [limits] keys {sorted(unknown)}")
        for key, value in limits.items():
            _check_limit(key, value, PagePatterns.__dataclass_fields__[key].default)
        columns = data.get("columns", {})
        return PagePatterns(
            column_headers=frozenset(_WS.sub("", h) for h in columns["headers"]),
            column_patterns=_compile(data, "columns", "patterns", True) if "patterns" in columns else (),
            noise=_compile(data, "noise", "patterns", True) if "noise" in data else (),
            case_marker=_compile(data, "case", "marker", False),
            signoff=_compile(data, "signoff", "standalone", False),
            signoff_inline=_compile(data, "signoff", "inline", False),
            byline=_compile(data, "byline", "standalone", True),
            byline_prefix=_compile(data, "byline", "prefix", True),
            byline_line_start=_compile(data, "byline", "line_start", False),
            caption_credit=_compile(data, "caption", "credit", True),
            caption_lead=_compile(data, "caption", "lead", False),
            **limits,
        )
    except (KeyError, TypeError, ValueError, OSError, tomllib.TOMLDecodeError) as exc:
        raise PatternTableError(f"{path}: invalid page pattern table: {exc}") from None


@lru_cache(maxsize=1)
def default_patterns() -> PagePatterns:
    """The shipped pattern table, loaded once."""
    return load_patterns()
